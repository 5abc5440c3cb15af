/*
 * decode_tcp.c: the TCP header (RFC 9293 §3.1) and its checksum.
 * Bad checksums are counted but the segment is kept: captures taken on a
 * sending host carry offloaded, never-filled checksums.
 */
#include <string.h>

#include "decode_int.h"

/* Eight 32-bit lanes: two SSE2 registers, or one AVX2 register. */
typedef uint32_t csum_v8 __attribute__((vector_size(32)));

/*
 * RFC 1071 ones' complement sum of n bytes, in network byte order.
 * Each 32-bit native word is split into its two 16-bit halves, added in
 * 32-bit vector lanes that cannot overflow within a block of 4096 steps
 * (4096 * 0xffff < 2^32), then folded. Summing byte-swapped words gives
 * the byte-swapped sum (RFC 1071 §2(B)), undone at the end. Built twice,
 * for AVX2 and for the x86-64 baseline; the CPU picks at load time.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static uint32_t
csum_partial(const uint8_t *p, size_t n)
{
	csum_v8 lo, hi, w;
	uint64_t s = 0;
	size_t i = 0, steps;
	uint8_t tail[32];
	int k;

	while (i + 32 <= n) {
		lo = (csum_v8){ 0, 0, 0, 0, 0, 0, 0, 0 };
		hi = lo;
		for (steps = 0; steps < 4096 && i + 32 <= n; steps++, i += 32) {
			memcpy(&w, p + i, 32);
			lo += w & 0xffff;
			hi += w >> 16;
		}
		for (k = 0; k < 8; k++)
			s += (uint64_t)lo[k] + hi[k];
	}
	if (i < n) {
		memset(tail, 0, sizeof(tail));
		memcpy(tail, p + i, n - i);
		memcpy(&w, tail, 32);
		for (k = 0; k < 8; k++)
			s += (w[k] & 0xffff) + (w[k] >> 16);
	}
	/* Fold to 16 bits with end-around carries. */
	s = (s >> 32) + (s & 0xffffffffu);
	s = (s >> 16) + (s & 0xffff);
	s = (s >> 16) + (s & 0xffff);
	s = (s >> 16) + (s & 0xffff);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = __builtin_bswap16((uint16_t)s);
#endif
	return (uint32_t)s;
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
