/*
 * decode_tcp.c: the TCP header (RFC 9293 §3.1) and its checksum.
 * Bad checksums are counted but the segment is kept: captures taken on a
 * sending host carry offloaded, never-filled checksums.
 */
#include <string.h>

#include "decode_int.h"

/*
 * RFC 1071 ones' complement sum of n bytes, in network byte order.
 * Native 8-byte loads are summed with end-around carry; the sum of the
 * byte-swapped words is the byte-swapped sum (RFC 1071 §2(B)).
 */
static uint32_t
csum_partial(const uint8_t *p, size_t n)
{
	uint64_t s = 0, w;
	uint32_t w4;
	size_t i = 0;
	uint8_t tail[8] = { 0 };

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		s += w;
		if (s < w)
			s++;
	}
	if (i < n) {
		memcpy(tail, p + i, n - i);
		memcpy(&w, tail, 8);
		s += w;
		if (s < w)
			s++;
	}
	/* Fold 64 -> 16 bits. */
	w4 = (uint32_t)(s >> 32) + (uint32_t)s;
	if (w4 < (uint32_t)s)
		w4++;
	w4 = (w4 >> 16) + (w4 & 0xffff);
	w4 = (w4 >> 16) + (w4 & 0xffff);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w4 = (uint32_t)__builtin_bswap16((uint16_t)w4);
#endif
	return w4;
}

static bool
tcp_csum_ok(const struct pkt *p, struct span seg)
{
	uint8_t ph[40];
	size_t phlen, alen = p->af == 4 ? 4 : 16;
	uint32_t s;

	/* Pseudo-header: RFC 9293 §3.1 (IPv4), RFC 8200 §8.1 (IPv6). */
	memcpy(ph, p->src, alen);
	memcpy(ph + alen, p->dst, alen);
	phlen = 2 * alen;
	if (p->af == 4) {
		ph[phlen++] = 0;
		ph[phlen++] = IPPROTO_TCP_;
		ph[phlen++] = (uint8_t)(seg.len >> 8);
		ph[phlen++] = (uint8_t)seg.len;
	} else {
		ph[phlen++] = (uint8_t)(seg.len >> 24);
		ph[phlen++] = (uint8_t)(seg.len >> 16);
		ph[phlen++] = (uint8_t)(seg.len >> 8);
		ph[phlen++] = (uint8_t)seg.len;
		memset(ph + phlen, 0, 3);
		phlen += 3;
		ph[phlen++] = IPPROTO_TCP_;
	}
	s = csum_partial(ph, phlen) + csum_partial(seg.p, seg.len);
	s = (s >> 16) + (s & 0xffff);
	s = (s >> 16) + (s & 0xffff);
	return s == 0xffff;
}

enum decode_result
decode_tcp(struct decoder *d, struct span seg, size_t seg_len,
    bool check_csum, struct pkt *p)
{
	struct cur c = cur_make(seg.p, seg.len);
	size_t off;
	uint8_t doff;

	p->sport = cur_be16(&c);
	p->dport = cur_be16(&c);
	p->seq = cur_be32(&c);
	p->ack = cur_be32(&c);
	doff = cur_u8(&c);
	p->flags = cur_u8(&c);
	p->win = cur_be16(&c);
	cur_skip(&c, 4);			/* checksum, urgent pointer */
	if (c.err)
		return DECODE_ERR_TCP_TRUNCATED;
	off = (size_t)(doff >> 4) * 4;
	if (off < 20 || off > seg_len)
		return DECODE_ERR_TCP_HEADER;
	if (off > seg.len) {
		/*
		 * The snaplen cut into the options: the fixed header is all
		 * we need, and every payload byte is missing.
		 */
		p->payload.p = seg.p + seg.len;
		p->payload.len = 0;
		p->payload_cut = (uint32_t)(seg_len - off);
		d->stats.csum_unverified++;
		return DECODE_TCP;
	}
	p->payload.p = seg.p + off;
	p->payload.len = seg.len - off;
	p->payload_cut = (uint32_t)(seg_len - seg.len);
	if (p->payload_cut != 0 || !check_csum)
		d->stats.csum_unverified++;
	else if (!tcp_csum_ok(p, seg))
		d->stats.tcp_csum_bad++;
	return DECODE_TCP;
}
