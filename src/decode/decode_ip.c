/*
 * decode_ip.c: IPv4 (RFC 791) and IPv6 (RFC 8200) headers, options and
 * extension headers, and the hand-off of fragments to decode_frag.c.
 * A frame cut by the snaplen is used up to the cut: the length the header
 * declares is passed on so that TCP knows how many bytes are missing.
 * A total length of 0 is taken as "what was captured" (segmentation
 * offload writes it so in captures taken on the sending host).
 */
#include <string.h>

#include "decode_int.h"

/* RFC 1071 sum of a header, for the IPv4 header checksum. */
static uint32_t
sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

enum decode_result
decode_ip4(struct decoder *d, struct cur *c, bool cut, struct pkt *p)
{
	struct cur h;
	const uint8_t *hdr = c->p;
	size_t avail = c->len, ihl, total, have;
	uint16_t id, frag;
	uint8_t vihl, proto;
	struct span data, whole;
	int rc;

	vihl = cur_u8(c);
	if (c->err)
		return DECODE_ERR_IP4_TRUNCATED;
	ihl = (size_t)(vihl & 0x0f) * 4;
	if (vihl >> 4 != 4 || ihl < 20)
		return DECODE_ERR_IP4_HEADER;
	if (ihl > avail)
		return DECODE_ERR_IP4_TRUNCATED;
	h = cur_make(hdr, ihl);
	cur_skip(&h, 2);
	total = cur_be16(&h);
	id = cur_be16(&h);
	frag = cur_be16(&h);
	cur_skip(&h, 1);			/* TTL */
	proto = cur_u8(&h);
	cur_skip(&h, 2);			/* checksum */
	cur_copy(&h, p->src, 4);
	cur_copy(&h, p->dst, 4);
	if (h.err)
		return DECODE_ERR_IP4_TRUNCATED;
	if (total == 0)
		total = avail;			/* offload: see above */
	if (total < ihl)
		return DECODE_ERR_IP4_HEADER;
	if (sum16(hdr, ihl) != 0xffff)
		d->stats.ip4_csum_bad++;
	/* Ethernet pads short frames: the IP length says where data ends. */
	have = total < avail ? total : avail;
	data.p = hdr + ihl;
	data.len = have - ihl;
	p->af = 4;
	memset(p->src + 4, 0, 12);
	memset(p->dst + 4, 0, 12);

	if ((frag & 0x3fff) != 0) {
		/* More-fragments set or a non-zero offset: RFC 791 §3.2. */
		if (have < total) {
			d->stats.frag_cut++;
			return DECODE_FRAGMENT;
		}
		rc = frag_table_add(d->frags, &d->stats, p, proto, id,
		    (uint32_t)(frag & 0x1fff) * 8, (frag & 0x2000) != 0, data,
		    &whole);
		if (rc == -1)
			return DECODE_ERR_FRAG_INVALID;
		if (rc == 0)
			return DECODE_FRAGMENT;
		if (proto != IPPROTO_TCP_)
			return DECODE_NOT_TCP;
		return decode_tcp(d, whole, whole.len, true, p);
	}
	if (proto != IPPROTO_TCP_)
		return DECODE_NOT_TCP;
	(void)cut;
	return decode_tcp(d, data, total - ihl, true, p);
}

enum decode_result
decode_ip6(struct decoder *d, struct cur *c, bool cut, struct pkt *p)
{
	struct cur body;
	size_t plen, declared, hlen, have;
	uint32_t vtf, id;
	uint16_t offlg;
	uint8_t nxt, nh, hl;
	bool check = true;
	struct span whole, data;
	int rc, n;

	vtf = cur_be32(c);
	plen = cur_be16(c);
	nxt = cur_u8(c);
	cur_skip(c, 1);				/* hop limit */
	cur_copy(c, p->src, 16);
	cur_copy(c, p->dst, 16);
	if (c->err)
		return DECODE_ERR_IP6_TRUNCATED;
	if (vtf >> 28 != 6)
		return DECODE_ERR_IP6_HEADER;
	if (plen == 0)
		plen = c->len;		/* jumbogram or offload */
	have = plen < c->len ? plen : c->len;
	body = cur_sub(c, have);
	declared = plen;
	p->af = 6;
	(void)cut;

	for (n = 0; n <= LIMIT_IP6_EXT_HEADERS; n++) {
		switch (nxt) {
		case IPPROTO_TCP_:
			data = cur_rest(&body);
			return decode_tcp(d, data, declared, check, p);
		case 0:		/* hop-by-hop options */
		case 60:	/* destination options */
		case 43:	/* routing */
		case 135:	/* mobility */
		case 139:	/* HIP */
		case 140:	/* shim6 */
			if (!cur_has(&body, 2))
				return DECODE_ERR_IP6_TRUNCATED;
			nh = body.p[0];
			hlen = ((size_t)body.p[1] + 1) * 8;
			/*
			 * RFC 8200 §8.1: with segments left, the checksum
			 * uses the final destination, which we do not track.
			 */
			if (nxt == 43 && body.len >= 4 && body.p[3] != 0)
				check = false;
			if (!cur_skip(&body, hlen))
				return DECODE_ERR_IP6_TRUNCATED;
			if (hlen > declared)
				return DECODE_ERR_IP6_HEADER;
			declared -= hlen;
			nxt = nh;
			break;
		case 51:	/* AH, RFC 4302 §2.2: length in 4-byte units */
			if (!cur_has(&body, 2))
				return DECODE_ERR_IP6_TRUNCATED;
			nh = body.p[0];
			hl = body.p[1];
			hlen = ((size_t)hl + 2) * 4;
			if (!cur_skip(&body, hlen))
				return DECODE_ERR_IP6_TRUNCATED;
			if (hlen > declared)
				return DECODE_ERR_IP6_HEADER;
			declared -= hlen;
			nxt = nh;
			break;
		case 44:	/* fragment, RFC 8200 §4.5 */
			nh = cur_u8(&body);
			cur_skip(&body, 1);
			offlg = cur_be16(&body);
			id = cur_be32(&body);
			if (body.err)
				return DECODE_ERR_IP6_TRUNCATED;
			if (declared < 8)
				return DECODE_ERR_IP6_HEADER;
			declared -= 8;
			if ((offlg & 0xfff9) == 0) {
				/* Atomic fragment (RFC 6946): not a fragment. */
				nxt = nh;
				break;
			}
			if (body.len < declared) {
				d->stats.frag_cut++;
				return DECODE_FRAGMENT;
			}
			data = cur_rest(&body);
			rc = frag_table_add(d->frags, &d->stats, p, nh, id,
			    offlg & 0xfff8, (offlg & 1) != 0, data, &whole);
			if (rc == -1)
				return DECODE_ERR_FRAG_INVALID;
			if (rc == 0)
				return DECODE_FRAGMENT;
			body = cur_make(whole.p, whole.len);
			declared = whole.len;
			nxt = nh;
			break;
		default:	/* UDP, ICMPv6, ESP, no next header, ... */
			return DECODE_NOT_TCP;
		}
	}
	return DECODE_ERR_IP6_EXT_CHAIN;
}
