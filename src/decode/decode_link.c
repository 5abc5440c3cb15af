/*
 * decode_link.c: link layers. Ethernet II (IEEE 802.3 length frames are
 * not IP), 802.1Q and 802.1ad tags (outer ids first, LIMIT_VLAN_TAGS
 * kept), MPLS label stacks, PPPoE sessions (RFC 2516), Linux cooked
 * captures v1 and v2, raw IP and BSD null/loopback.
 */
#include "decode_int.h"

/* BSD AF_INET6 differs per system; AF_INET is 2 everywhere. */
static enum decode_result
decode_af(struct decoder *d, uint32_t af, struct cur *c, bool cut,
    struct pkt *p)
{
	switch (af) {
	case 2:
		return decode_ip4(d, c, cut, p);
	case 10:	/* Linux */
	case 24:	/* NetBSD, OpenBSD */
	case 28:	/* FreeBSD */
	case 30:	/* macOS */
		return decode_ip6(d, c, cut, p);
	default:
		return DECODE_NOT_TCP;
	}
}

/* By the version nibble, for raw IP and the payload of MPLS. */
static enum decode_result
decode_raw(struct decoder *d, struct cur *c, bool cut, struct pkt *p)
{
	if (!cur_has(c, 1))
		return DECODE_ERR_LINK_TRUNCATED;
	switch (c->p[0] >> 4) {
	case 4:
		return decode_ip4(d, c, cut, p);
	case 6:
		return decode_ip6(d, c, cut, p);
	default:
		return DECODE_NOT_TCP;
	}
}

/*
 * Dispatch on an ethertype; VLAN tags, MPLS and PPPoE loop back here.
 * The number of layers is bounded by the frame length (each takes >= 4).
 */
enum decode_result
decode_ethertype(struct decoder *d, uint16_t type, struct cur *c, bool cut,
    struct pkt *p)
{
	uint16_t tci, ppp;
	uint32_t label;

	for (;;) {
		switch (type) {
		case ETH_IP4:
			return decode_ip4(d, c, cut, p);
		case ETH_IP6:
			return decode_ip6(d, c, cut, p);
		case ETH_VLAN:
		case ETH_QINQ:
		case ETH_QINQ_OLD1:
		case ETH_QINQ_OLD2:
			tci = cur_be16(c);
			type = cur_be16(c);
			if (c->err)
				return DECODE_ERR_LINK_TRUNCATED;
			if (p->nvlan < LIMIT_VLAN_TAGS)
				p->vlan[p->nvlan++] = tci & 0x0fff;
			else
				d->stats.vlan_deep++;
			continue;
		case ETH_MPLS:
		case ETH_MPLS_MC:
			/* RFC 3032 §2.1: labels until bottom of stack. */
			do {
				label = cur_be32(c);
				if (c->err)
					return DECODE_ERR_LINK_TRUNCATED;
			} while ((label & 0x100) == 0);
			return decode_raw(d, c, cut, p);
		case ETH_PPPOE_SESS:
			/* RFC 2516 §4: ver/type, code, session, length. */
			if (!cur_skip(c, 6))
				return DECODE_ERR_LINK_TRUNCATED;
			ppp = cur_be16(c);	/* RFC 1661 protocol */
			if (c->err)
				return DECODE_ERR_LINK_TRUNCATED;
			if (ppp == 0x0021)
				return decode_ip4(d, c, cut, p);
			if (ppp == 0x0057)
				return decode_ip6(d, c, cut, p);
			return DECODE_NOT_TCP;
		default:
			return DECODE_NOT_TCP;
		}
	}
}

enum decode_result
decode_link(struct decoder *d, const struct capture_pkt *cp, struct pkt *p)
{
	struct cur c = cur_make(cp->data, cp->caplen);
	bool cut = cp->caplen < cp->wirelen;
	uint16_t type;
	uint32_t af;

	switch (cp->link) {
	case CAPTURE_LINK_EN10MB:
		cur_skip(&c, 12);		/* destination, source */
		type = cur_be16(&c);
		if (c.err)
			return DECODE_ERR_LINK_TRUNCATED;
		if (type < 0x0600)		/* 802.3 length: LLC */
			return DECODE_NOT_TCP;
		return decode_ethertype(d, type, &c, cut, p);
	case CAPTURE_LINK_LINUX_SLL:
		/* type, ARPHRD, address length, address[8], protocol */
		cur_skip(&c, 14);
		type = cur_be16(&c);
		if (c.err)
			return DECODE_ERR_LINK_TRUNCATED;
		return decode_ethertype(d, type, &c, cut, p);
	case CAPTURE_LINK_LINUX_SLL2:
		/* protocol, reserved, ifindex, ARPHRD, type, addrlen, addr */
		type = cur_be16(&c);
		cur_skip(&c, 18);
		if (c.err)
			return DECODE_ERR_LINK_TRUNCATED;
		return decode_ethertype(d, type, &c, cut, p);
	case CAPTURE_LINK_NULL:
		/* The AF is in the capturing host's byte order. */
		af = cur_le32(&c);
		if (c.err)
			return DECODE_ERR_LINK_TRUNCATED;
		if (af > 0xffff)
			af = __builtin_bswap32(af);
		return decode_af(d, af, &c, cut, p);
	case CAPTURE_LINK_LOOP:
		af = cur_be32(&c);
		if (c.err)
			return DECODE_ERR_LINK_TRUNCATED;
		return decode_af(d, af, &c, cut, p);
	case CAPTURE_LINK_RAW:
	case CAPTURE_LINK_RAW_OPENBSD:
		return decode_raw(d, &c, cut, p);
	case CAPTURE_LINK_IPV4:
		return decode_ip4(d, &c, cut, p);
	case CAPTURE_LINK_IPV6:
		return decode_ip6(d, &c, cut, p);
	default:
		return DECODE_ERR_LINK_UNSUPPORTED;
	}
}
