/*
 * pktbuild.c: frame builder and flow recorder for the unit tests.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktbuild.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
sum(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Link header for an IP packet of family af; returns its length. */
static size_t
link_header(uint8_t *b, const struct pb *pb, int af)
{
	size_t n = 0;
	int i;
	uint16_t et = af == 6 ? 0x86dd : 0x0800;

	switch (pb->link) {
	case 0:
	case CAPTURE_LINK_EN10MB:
		memcpy(b, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02",
		    12);
		n = 12;
		for (i = 0; i < pb->nvlan; i++) {
			put16(b + n, i + 1 < pb->nvlan ? 0x88a8 : 0x8100);
			if (pb->nvlan == 1)
				put16(b + n, 0x8100);
			put16(b + n + 2, pb->vlan[i]);
			n += 4;
		}
		put16(b + n, et);
		return n + 2;
	case CAPTURE_LINK_LINUX_SLL:
		memset(b, 0, 14);
		put16(b + 2, 1);
		put16(b + 14, et);
		return 16;
	case CAPTURE_LINK_LINUX_SLL2:
		memset(b, 0, 20);
		put16(b, et);
		return 20;
	case PB_LINK_NULL:
		b[0] = af == 6 ? 30 : 2;	/* little-endian host */
		b[1] = b[2] = b[3] = 0;
		return 4;
	case CAPTURE_LINK_LOOP:
		put32(b, af == 6 ? 24 : 2);
		return 4;
	default:	/* raw */
		return 0;
	}
}

/* The TCP segment (header + payload) with its checksum. */
static size_t
tcp_segment(uint8_t *b, const struct pb *pb, const uint8_t *src,
    const uint8_t *dst, int af)
{
	size_t alen = af == 6 ? 16 : 4, n = 20 + pb->len;
	uint32_t s;
	uint8_t ph[40];

	put16(b, pb->sport);
	put16(b + 2, pb->dport);
	put32(b + 4, pb->seq);
	put32(b + 8, pb->ack);
	b[12] = 5 << 4;
	b[13] = pb->flags;
	put16(b + 14, 65535);
	put16(b + 16, 0);
	put16(b + 18, 0);
	if (pb->len)
		memcpy(b + 20, pb->payload, pb->len);
	memcpy(ph, src, alen);
	memcpy(ph + alen, dst, alen);
	s = sum(ph, 2 * alen, 0);
	s += 6 + (uint32_t)n;
	s = sum(b, n, s);
	put16(b + 16, (uint16_t)(fold(s) ^ (pb->bad_csum ? 0x5555 : 0)));
	return n;
}

static size_t
ip_packet(uint8_t *b, const struct pb *pb, int af)
{
	uint8_t src[16] = { 0 }, dst[16] = { 0 };
	size_t n;
	uint8_t proto = pb->proto ? pb->proto : 6;

	if (af == 6) {
		inet_pton(AF_INET6, pb->src ? pb->src : "2001:db8::1", src);
		inet_pton(AF_INET6, pb->dst ? pb->dst : "2001:db8::2", dst);
		n = tcp_segment(b + 40, pb, src, dst, 6);
		put32(b, 0x60000000);
		put16(b + 4, (uint16_t)n);
		b[6] = proto;
		b[7] = 64;
		memcpy(b + 8, src, 16);
		memcpy(b + 24, dst, 16);
		return 40 + n;
	}
	inet_pton(AF_INET, pb->src ? pb->src : "10.0.0.1", src);
	inet_pton(AF_INET, pb->dst ? pb->dst : "10.0.0.2", dst);
	n = tcp_segment(b + 20, pb, src, dst, 4);
	b[0] = 0x45;
	b[1] = 0;
	put16(b + 2, (uint16_t)(20 + n));
	put16(b + 4, 1);
	put16(b + 6, 0x4000);	/* DF */
	b[8] = 64;
	b[9] = proto;
	put16(b + 10, 0);
	memcpy(b + 12, src, 4);
	memcpy(b + 16, dst, 4);
	put16(b + 10, fold(sum(b, 20, 0)));
	return 20 + n;
}

int
pb_link(const struct pb *pb)
{
	if (pb->link == 0)
		return CAPTURE_LINK_EN10MB;
	if (pb->link == PB_LINK_NULL)
		return CAPTURE_LINK_NULL;
	return pb->link;
}

size_t
pb_build(uint8_t *buf, size_t cap, const struct pb *pb)
{
	int af = pb->af ? pb->af : 4;
	size_t n;

	if (cap < 128 + pb->len)
		abort();
	n = link_header(buf, pb, af);
	return n + ip_packet(buf + n, pb, af);
}

size_t
pb_build_frag(uint8_t *buf, size_t cap, const struct pb *pb, int which,
    int count, uint32_t id)
{
	uint8_t ip[70000];
	int af = pb->af ? pb->af : 4;
	size_t hl = af == 6 ? 40 : 20, n, plen, part, off, len;

	if (cap < 128 + pb->len)
		abort();
	n = ip_packet(ip, pb, af);
	plen = n - hl;
	part = (plen / (size_t)count) & ~(size_t)7;
	off = part * (size_t)which;
	len = which == count - 1 ? plen - off : part;
	n = link_header(buf, pb, af);
	if (af == 4) {
		memcpy(buf + n, ip, 20);
		put16(buf + n + 2, (uint16_t)(20 + len));
		put16(buf + n + 4, (uint16_t)id);
		put16(buf + n + 6, (uint16_t)((off / 8) |
		    (which == count - 1 ? 0 : 0x2000)));
		put16(buf + n + 10, 0);
		put16(buf + n + 10, fold(sum(buf + n, 20, 0)));
		memcpy(buf + n + 20, ip + 20 + off, len);
		return n + 20 + len;
	}
	memcpy(buf + n, ip, 40);
	put16(buf + n + 4, (uint16_t)(8 + len));
	buf[n + 6] = 44;
	buf[n + 40] = 6;
	buf[n + 41] = 0;
	put16(buf + n + 42, (uint16_t)(off | (which == count - 1 ? 0 : 1)));
	put32(buf + n + 44, id);
	memcpy(buf + n + 48, ip + 40 + off, len);
	return n + 48 + len;
}

static struct rec_flow *
rec_of(struct flow *f)
{
	return flow_get_user(f);
}

static void
rec_open(void *arg, struct flow *f)
{
	struct rec *r = arg;

	if (r->n >= REC_MAX_FLOWS)
		abort();
	flow_set_user(f, &r->f[r->n++]);
}

static void
rec_data(void *arg, struct flow *f, enum flow_dir d, const uint8_t *p,
    size_t n)
{
	struct rec_flow *rf = rec_of(f);

	if (rf->len[d] + n > sizeof(rf->data[d]))
		abort();
	memcpy(rf->data[d] + rf->len[d], p, n);
	rf->len[d] += n;
	rf->events++;
}

static void
rec_gap(void *arg, struct flow *f, enum flow_dir d, uint64_t n)
{
	struct rec_flow *rf = rec_of(f);

	rf->gaps[d]++;
	rf->gap_bytes[d] += n;
	rf->events++;
}

static void
rec_close(void *arg, struct flow *f, enum flow_end why)
{
	struct rec *r = arg;
	struct rec_flow *rf = rec_of(f);

	rf->closed = true;
	rf->end = why;
	rf->info = *flow_get_info(f);
	rf->st[0] = *flow_get_dir_stats(f, FLOW_C2S);
	rf->st[1] = *flow_get_dir_stats(f, FLOW_S2C);
	r->close_order[r->nclosed++] = (int)(rf - r->f);
}

const struct flow_ops rec_ops = { rec_open, rec_data, rec_gap, rec_close };

struct flow_table *
rec_table(struct rec *r, struct flow_config *cfg)
{
	struct flow_config def;

	memset(r, 0, sizeof(*r));
	if (cfg == NULL) {
		flow_config_default(&def);
		def.max_flows = 64;
		cfg = &def;
	}
	return flow_table_new(cfg, &rec_ops, r);
}

enum decode_result
rec_feed(struct decoder *d, struct flow_table *ft, const struct pb *pb,
    double t)
{
	static uint8_t buf[70000];
	struct capture_pkt cp;
	struct pkt p;
	enum decode_result r;

	cp.caplen = cp.wirelen = (uint32_t)pb_build(buf, sizeof(buf), pb);
	cp.ts_ns = (uint64_t)(t * 1e9);
	cp.link = pb_link(pb);
	cp.data = buf;
	r = decoder_decode(d, &cp, &p);
	if (r == DECODE_TCP)
		flow_table_packet(ft, &p);
	return r;
}
