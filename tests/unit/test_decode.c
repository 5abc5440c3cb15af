/*
 * test_decode.c: link, IP and TCP decoding, fragments and truncation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "pktbuild.h"

static uint8_t frame[70000];

static enum decode_result
decode_frame(struct decoder *d, int link, size_t caplen, size_t wirelen,
    struct pkt *p)
{
	struct capture_pkt cp = { 1000000000ull, (uint32_t)caplen,
	    (uint32_t)wirelen, link, frame };

	return decoder_decode(d, &cp, p);
}

static enum decode_result
build_decode(struct decoder *d, const struct pb *pb, struct pkt *p)
{
	size_t n = pb_build(frame, sizeof(frame), pb);

	return decode_frame(d, pb_link(pb), n, n, p);
}

static void
test_ethernet_ipv4_tcp_fields_decoded(void **state)
{
	struct decoder *d = decoder_new();
	struct pb pb = { .src = "192.0.2.1", .dst = "198.51.100.25",
	    .sport = 40000, .dport = 25, .seq = 1000, .ack = 2000,
	    .flags = TCP_ACK | TCP_PSH, .payload = "EHLO x\r\n", .len = 8 };
	struct pkt p;
	const uint8_t want_src[4] = { 192, 0, 2, 1 };

	assert_int_equal(build_decode(d, &pb, &p), DECODE_TCP);
	assert_int_equal(p.af, 4);
	assert_memory_equal(p.src, want_src, 4);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 25);
	assert_int_equal(p.seq, 1000);
	assert_int_equal(p.ack, 2000);
	assert_int_equal(p.flags, TCP_ACK | TCP_PSH);
	assert_int_equal(p.payload.len, 8);
	assert_memory_equal(p.payload.p, "EHLO x\r\n", 8);
	assert_int_equal(p.payload_cut, 0);
	assert_int_equal(p.nvlan, 0);
	assert_int_equal(decoder_stats(d)->tcp_csum_bad, 0);
	assert_int_equal(decoder_stats(d)->ip4_csum_bad, 0);
	decoder_free(d);
}

static void
test_vlan_and_qinq_ids_kept_outer_first(void **state)
{
	struct decoder *d = decoder_new();
	struct pb pb = { .sport = 1, .dport = 25, .flags = TCP_SYN,
	    .vlan = { 100, 200, 300 }, .nvlan = 2 };
	struct pkt p;

	assert_int_equal(build_decode(d, &pb, &p), DECODE_TCP);
	assert_int_equal(p.nvlan, 2);
	assert_int_equal(p.vlan[0], 100);
	assert_int_equal(p.vlan[1], 200);
	/* Three tags: the outer two kept, the third counted. */
	pb.nvlan = 3;
	assert_int_equal(build_decode(d, &pb, &p), DECODE_TCP);
	assert_int_equal(p.nvlan, 2);
	assert_int_equal(p.vlan[0], 100);
	assert_int_equal(decoder_stats(d)->vlan_deep, 1);
	decoder_free(d);
}

static void
test_every_link_type_gives_the_same_segment(void **state)
{
	static const int links[] = { CAPTURE_LINK_EN10MB,
	    CAPTURE_LINK_LINUX_SLL, CAPTURE_LINK_LINUX_SLL2, PB_LINK_NULL,
	    CAPTURE_LINK_LOOP, CAPTURE_LINK_RAW, CAPTURE_LINK_IPV4 };
	struct decoder *d = decoder_new();
	struct pb pb = { .sport = 5555, .dport = 25, .seq = 7,
	    .flags = TCP_ACK, .payload = "QUIT\r\n", .len = 6 };
	struct pkt p;
	size_t i;
	int af;

	for (af = 4; af <= 6; af += 2) {
		pb.af = af;
		for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
			if (links[i] == CAPTURE_LINK_IPV4 && af == 6)
				pb.link = CAPTURE_LINK_IPV6;
			else
				pb.link = links[i];
			assert_int_equal(build_decode(d, &pb, &p), DECODE_TCP);
			assert_int_equal(p.af, af);
			assert_int_equal(p.sport, 5555);
			assert_int_equal(p.seq, 7);
			assert_int_equal(p.payload.len, 6);
			assert_memory_equal(p.payload.p, "QUIT\r\n", 6);
		}
	}
	assert_int_equal(decoder_stats(d)->tcp_csum_bad, 0);
	decoder_free(d);
}

static void
test_bsd_null_big_endian_af_accepted(void **state)
{
	struct decoder *d = decoder_new();
	struct pb pb = { .link = CAPTURE_LINK_LOOP, .sport = 1, .dport = 25,
	    .flags = TCP_SYN };
	struct pkt p;
	size_t n = pb_build(frame, sizeof(frame), &pb);

	/* A LOOP header (network order) read as NULL (host order). */
	assert_int_equal(decode_frame(d, CAPTURE_LINK_NULL, n, n, &p),
	    DECODE_TCP);
	decoder_free(d);
}

static void
test_ethernet_padding_is_not_payload(void **state)
{
	struct decoder *d = decoder_new();
	struct pb pb = { .sport = 1, .dport = 25, .flags = TCP_ACK };
	struct pkt p;
	size_t n = pb_build(frame, sizeof(frame), &pb);

	/* 54-byte frame padded to the 60-byte Ethernet minimum. */
	memset(frame + n, 0xee, 6);
	assert_int_equal(decode_frame(d, CAPTURE_LINK_EN10MB, n + 6, n + 6, &p),
	    DECODE_TCP);
	assert_int_equal(p.payload.len, 0);
	assert_int_equal(p.payload_cut, 0);
	decoder_free(d);
}

static void
test_snaplen_cut_payload_reports_missing_bytes(void **state)
{
	struct decoder *d = decoder_new();
	struct pb pb = { .sport = 1, .dport = 25, .flags = TCP_ACK,
	    .payload = "0123456789abcdef", .len = 16 };
	struct pkt p;
	size_t n = pb_build(frame, sizeof(frame), &pb);

	assert_int_equal(decode_frame(d, CAPTURE_LINK_EN10MB, n - 10, n, &p),
	    DECODE_TCP);
	assert_int_equal(p.payload.len, 6);
	assert_memory_equal(p.payload.p, "012345", 6);
	assert_int_equal(p.payload_cut, 10);
	assert_int_equal(decoder_stats(d)->csum_unverified, 1);
	decoder_free(d);
}

static void
test_tcp_header_cut_by_snaplen_is_truncated(void **state)
{
	struct decoder *d = decoder_new();
	struct pb pb = { .sport = 1, .dport = 25, .flags = TCP_ACK };
	struct pkt p;
	size_t n = pb_build(frame, sizeof(frame), &pb);

	assert_int_equal(decode_frame(d, CAPTURE_LINK_EN10MB, 14 + 20 + 10, n,
	    &p), DECODE_ERR_TCP_TRUNCATED);
	decoder_free(d);
}

static void
test_snaplen_cut_in_tcp_options_keeps_the_header(void **state)
{
	struct decoder *d = decoder_new();
	struct pb pb = { .sport = 1, .dport = 25, .seq = 42,
	    .flags = TCP_ACK, .payload = "oooooooooooodata", .len = 16 };
	struct pkt p;
	size_t n = pb_build(frame, sizeof(frame), &pb);

	frame[14 + 20 + 12] = 8 << 4;	/* 12 bytes of options, then "data" */
	assert_int_equal(decode_frame(d, CAPTURE_LINK_EN10MB, 14 + 20 + 24, n,
	    &p), DECODE_TCP);
	assert_int_equal(p.seq, 42);
	assert_int_equal(p.payload.len, 0);
	assert_int_equal(p.payload_cut, 4);
	decoder_free(d);
}

static void
test_every_truncation_is_safe(void **state)
{
	struct decoder *d = decoder_new();
	struct pb pb = { .af = 6, .sport = 1, .dport = 25, .flags = TCP_ACK,
	    .payload = "DATA\r\n", .len = 6, .vlan = { 5 }, .nvlan = 1 };
	struct pkt p;
	size_t n = pb_build(frame, sizeof(frame), &pb), cut;
	enum decode_result r;

	/* Under ASan this proves no read past the captured bytes. */
	for (cut = 0; cut <= n; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		struct capture_pkt cp = { 1, (uint32_t)cut, (uint32_t)n,
		    CAPTURE_LINK_EN10MB, copy };

		memcpy(copy, frame, cut);
		r = decoder_decode(d, &cp, &p);
		/* The fixed TCP header ends 6 bytes before the frame does. */
		if (cut >= n - 6)
			assert_int_equal(r, DECODE_TCP);
		else
			assert_int_not_equal(r, DECODE_TCP);
		if (r == DECODE_TCP)
			assert_int_equal(p.payload.len + p.payload_cut, 6);
		free(copy);
	}
	decoder_free(d);
}

static void
test_bad_checksums_counted_but_segment_kept(void **state)
{
	struct decoder *d = decoder_new();
	struct pb pb = { .sport = 1, .dport = 25, .flags = TCP_ACK,
	    .payload = "x", .len = 1, .bad_csum = true };
	struct pkt p;

	assert_int_equal(build_decode(d, &pb, &p), DECODE_TCP);
	assert_int_equal(decoder_stats(d)->tcp_csum_bad, 1);
	pb.af = 6;
	assert_int_equal(build_decode(d, &pb, &p), DECODE_TCP);
	assert_int_equal(decoder_stats(d)->tcp_csum_bad, 2);
	decoder_free(d);
}

static void
test_non_tcp_counted_and_ignored(void **state)
{
	struct decoder *d = decoder_new();
	struct pb pb = { .sport = 53, .dport = 53, .proto = 17 };
	struct pkt p;

	assert_int_equal(build_decode(d, &pb, &p), DECODE_NOT_TCP);
	/* ARP. */
	memset(frame, 0, 60);
	frame[12] = 0x08;
	frame[13] = 0x06;
	assert_int_equal(decode_frame(d, CAPTURE_LINK_EN10MB, 60, 60, &p),
	    DECODE_NOT_TCP);
	assert_int_equal(decoder_stats(d)->result[DECODE_NOT_TCP], 2);
	assert_int_equal(decode_frame(d, 147, 60, 60, &p),
	    DECODE_ERR_LINK_UNSUPPORTED);
	decoder_free(d);
}

static void
test_ip4_bad_header_length_rejected(void **state)
{
	struct decoder *d = decoder_new();
	struct pb pb = { .link = CAPTURE_LINK_RAW, .sport = 1, .dport = 25 };
	struct pkt p;
	size_t n = pb_build(frame, sizeof(frame), &pb);

	frame[0] = 0x44;		/* IHL 16 bytes: below the minimum */
	assert_int_equal(decode_frame(d, CAPTURE_LINK_RAW, n, n, &p),
	    DECODE_ERR_IP4_HEADER);
	frame[0] = 0x4f;		/* 60 bytes: past the 40 of the TCP */
	frame[2] = 0;
	frame[3] = 40;
	assert_int_not_equal(decode_frame(d, CAPTURE_LINK_RAW, n, n, &p),
	    DECODE_TCP);
	decoder_free(d);
}

static void
test_ip6_extension_headers_are_skipped(void **state)
{
	struct decoder *d = decoder_new();
	struct pb pb = { .af = 6, .link = CAPTURE_LINK_RAW, .sport = 1,
	    .dport = 25, .flags = TCP_ACK, .payload = "HELO\r\n", .len = 6 };
	struct pkt p;
	uint8_t pkt[200];
	size_t n = pb_build(pkt, sizeof(pkt), &pb);

	/* Insert hop-by-hop (8 bytes) and destination options (16). */
	memcpy(frame, pkt, 40);
	frame[6] = 0;
	memset(frame + 40, 0, 24);
	frame[40] = 60;			/* next: dest options */
	frame[41] = 0;			/* 8 bytes */
	frame[48] = 6;			/* next: TCP */
	frame[49] = 1;			/* 16 bytes */
	memcpy(frame + 64, pkt + 40, n - 40);
	frame[4] = (uint8_t)((n - 40 + 24) >> 8);
	frame[5] = (uint8_t)(n - 40 + 24);
	assert_int_equal(decode_frame(d, CAPTURE_LINK_RAW, n + 24, n + 24, &p),
	    DECODE_TCP);
	assert_int_equal(p.payload.len, 6);
	assert_memory_equal(p.payload.p, "HELO\r\n", 6);
	assert_int_equal(decoder_stats(d)->tcp_csum_bad, 0);
	decoder_free(d);
}

static void
test_ip6_extension_chain_over_limit_rejected(void **state)
{
	struct decoder *d = decoder_new();
	struct pkt p;
	size_t i, n = 40 + 8 * (LIMIT_IP6_EXT_HEADERS + 2);

	memset(frame, 0, n);
	frame[0] = 0x60;
	frame[4] = (uint8_t)((n - 40) >> 8);
	frame[5] = (uint8_t)(n - 40);
	frame[6] = 60;
	for (i = 40; i < n; i += 8)
		frame[i] = 60;		/* destination options, forever */
	assert_int_equal(decode_frame(d, CAPTURE_LINK_RAW, n, n, &p),
	    DECODE_ERR_IP6_EXT_CHAIN);
	decoder_free(d);
}

static void
check_fragments(int af, const int *order, int count)
{
	struct decoder *d = decoder_new();
	char payload[3000];
	struct pb pb = { .af = af, .sport = 1, .dport = 25, .seq = 99,
	    .flags = TCP_ACK, .payload = payload, .len = sizeof(payload) };
	struct capture_pkt cp;
	struct pkt p;
	size_t i, n;
	enum decode_result r = DECODE_FRAGMENT;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (char)('a' + i % 26);
	for (i = 0; i < (size_t)count; i++) {
		n = pb_build_frag(frame, sizeof(frame), &pb, order[i], count,
		    77);
		cp = (struct capture_pkt){ 1000000000ull * (i + 1),
		    (uint32_t)n, (uint32_t)n, CAPTURE_LINK_EN10MB, frame };
		r = decoder_decode(d, &cp, &p);
		if (i + 1 < (size_t)count)
			assert_int_equal(r, DECODE_FRAGMENT);
	}
	assert_int_equal(r, DECODE_TCP);
	assert_int_equal(p.seq, 99);
	assert_int_equal(p.payload.len, sizeof(payload));
	assert_memory_equal(p.payload.p, payload, sizeof(payload));
	assert_int_equal(decoder_stats(d)->tcp_csum_bad, 0);
	assert_int_equal(decoder_stats(d)->frag_datagrams, 1);
	decoder_free(d);
}

static void
test_ip4_fragments_reassembled_in_any_order(void **state)
{
	static const int in_order[] = { 0, 1, 2 }, reversed[] = { 2, 1, 0 },
	    mixed[] = { 1, 2, 0 };

	check_fragments(4, in_order, 3);
	check_fragments(4, reversed, 3);
	check_fragments(4, mixed, 3);
}

static void
test_ip6_fragments_reassembled(void **state)
{
	static const int order[] = { 1, 0, 3, 2 };

	check_fragments(6, order, 4);
}

static void
test_fragment_timeout_drops_datagram(void **state)
{
	struct decoder *d = decoder_new();
	char payload[2000] = { 0 };
	struct pb pb = { .sport = 1, .dport = 25, .flags = TCP_ACK,
	    .payload = payload, .len = sizeof(payload) };
	struct capture_pkt cp;
	struct pkt p;
	size_t n;

	n = pb_build_frag(frame, sizeof(frame), &pb, 0, 2, 5);
	cp = (struct capture_pkt){ 1000000000ull, (uint32_t)n, (uint32_t)n,
	    CAPTURE_LINK_EN10MB, frame };
	assert_int_equal(decoder_decode(d, &cp, &p), DECODE_FRAGMENT);
	/* The second half arrives after the 30 s reassembly timeout. */
	n = pb_build_frag(frame, sizeof(frame), &pb, 1, 2, 5);
	cp = (struct capture_pkt){ 1000000000ull * (2 + LIMIT_FRAG_TIMEOUT_S),
	    (uint32_t)n, (uint32_t)n, CAPTURE_LINK_EN10MB, frame };
	assert_int_equal(decoder_decode(d, &cp, &p), DECODE_FRAGMENT);
	assert_int_equal(decoder_stats(d)->frag_timeout, 1);
	assert_int_equal(decoder_stats(d)->frag_datagrams, 0);
	decoder_free(d);
}

static void
test_overlapping_fragment_first_copy_wins(void **state)
{
	struct decoder *d = decoder_new();
	char payload[1600];
	struct pb pb = { .sport = 1, .dport = 25, .flags = TCP_ACK,
	    .payload = payload, .len = sizeof(payload) };
	struct capture_pkt cp;
	struct pkt p;
	size_t n;

	memset(payload, 'A', sizeof(payload));
	n = pb_build_frag(frame, sizeof(frame), &pb, 0, 2, 9);
	cp = (struct capture_pkt){ 1, (uint32_t)n, (uint32_t)n,
	    CAPTURE_LINK_EN10MB, frame };
	assert_int_equal(decoder_decode(d, &cp, &p), DECODE_FRAGMENT);
	/* The same first half again, with other bytes: ignored. */
	memset(payload, 'B', sizeof(payload));
	n = pb_build_frag(frame, sizeof(frame), &pb, 0, 2, 9);
	assert_int_equal(decoder_decode(d, &cp, &p), DECODE_FRAGMENT);
	memset(payload, 'A', sizeof(payload));
	n = pb_build_frag(frame, sizeof(frame), &pb, 1, 2, 9);
	cp.caplen = cp.wirelen = (uint32_t)n;
	assert_int_equal(decoder_decode(d, &cp, &p), DECODE_TCP);
	assert_int_equal(p.payload.len, sizeof(payload));
	assert_int_equal(p.payload.p[0], 'A');
	assert_int_equal(decoder_stats(d)->frag_overlap, 1);
	decoder_free(d);
}


/*
 * Fragment `which` (of 2) of datagram `id`, decoded at time t: each one
 * from its own source address and with its own identification (IPv4,
 * from 10.x.y.z, or IPv6).
 */
static enum decode_result
frag_half(struct decoder *d, int af, unsigned id, int which, uint64_t t,
    struct pkt *p)
{
	char payload[64], src[64];
	struct pb pb = { .af = af, .sport = 1, .dport = 25, .seq = id,
	    .flags = TCP_ACK, .payload = payload, .len = sizeof(payload) };
	struct capture_pkt cp;
	size_t n;

	memset(payload, 'a' + (int)(id % 26), sizeof(payload));
	if (af == 6)
		snprintf(src, sizeof(src), "2001:db8::%x:%x", id >> 16,
		    id & 0xffff);
	else
		snprintf(src, sizeof(src), "10.%u.%u.%u", (id >> 16) & 255,
		    (id >> 8) & 255, id & 255);
	pb.src = src;
	n = pb_build_frag(frame, sizeof(frame), &pb, which, 2, id);
	cp = (struct capture_pkt){ t, (uint32_t)n, (uint32_t)n,
	    CAPTURE_LINK_EN10MB, frame };
	return decoder_decode(d, &cp, p);
}

/*
 * LIMIT_FRAG_DATAGRAMS is the number of datagrams held at once: that many
 * first halves are all kept (none evicted) and all complete; one more
 * than that evicts the oldest, counted.
 */
static void
check_frag_datagram_limit(int af)
{
	struct decoder *d = decoder_new();
	struct pkt p;
	unsigned i;

	assert_non_null(d);
	for (i = 0; i < LIMIT_FRAG_DATAGRAMS; i++)
		assert_int_equal(frag_half(d, af, i + 1, 0, 1000, &p),
		    DECODE_FRAGMENT);
	assert_int_equal(decoder_stats(d)->frag_evicted, 0);
	for (i = 0; i < LIMIT_FRAG_DATAGRAMS; i++) {
		assert_int_equal(frag_half(d, af, i + 1, 1, 1001, &p),
		    DECODE_TCP);
		assert_int_equal(p.seq, i + 1);
		assert_int_equal(p.payload.len, 64);
		assert_int_equal(p.payload.p[63], 'a' + (int)((i + 1) % 26));
	}
	assert_int_equal(decoder_stats(d)->frag_datagrams,
	    LIMIT_FRAG_DATAGRAMS);
	/* Full again, and one more: the oldest (id 1) goes. */
	for (i = 0; i <= LIMIT_FRAG_DATAGRAMS; i++)
		assert_int_equal(frag_half(d, af, i + 1, 0, 1002, &p),
		    DECODE_FRAGMENT);
	assert_int_equal(decoder_stats(d)->frag_evicted, 1);
	assert_int_equal(frag_half(d, af, 2, 1, 1003, &p), DECODE_TCP);
	assert_int_equal(frag_half(d, af, 1, 1, 1003, &p), DECODE_FRAGMENT);
	assert_int_equal(decoder_stats(d)->frag_datagrams,
	    LIMIT_FRAG_DATAGRAMS + 1);
	decoder_free(d);
}

static void
test_frag_datagram_limit_is_the_one_in_force(void **state)
{
	check_frag_datagram_limit(4);
	check_frag_datagram_limit(6);
}

/*
 * LIMIT_FRAG_MEMORY: first halves of 60,000-byte datagrams (15 pages of
 * 2 KiB each) fill it long before LIMIT_FRAG_DATAGRAMS; the oldest are
 * evicted, counted, and the newest still completes whole.
 */
static void
test_frag_memory_limit_evicts_oldest(void **state)
{
	struct decoder *d = decoder_new();
	static char payload[60000];
	struct pb pb = { .sport = 1, .dport = 25, .flags = TCP_ACK,
	    .payload = payload, .len = sizeof(payload) };
	size_t held = LIMIT_FRAG_MEMORY / (30 * 1024), i, n;
	struct capture_pkt cp;
	struct pkt p;
	char src[32];
	uint32_t id = 0;
	struct mem_stats ms;

	assert_non_null(d);
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (char)('a' + i % 26);
	for (id = 1; id <= 2 * held; id++) {
		snprintf(src, sizeof(src), "10.9.%u.%u", id >> 8, id & 255);
		pb.src = src;
		pb.seq = id;
		n = pb_build_frag(frame, sizeof(frame), &pb, 0, 2, id);
		cp = (struct capture_pkt){ 1000000000ull, (uint32_t)n,
		    (uint32_t)n, CAPTURE_LINK_EN10MB, frame };
		assert_int_equal(decoder_decode(d, &cp, &p), DECODE_FRAGMENT);
	}
	assert_in_range(decoder_stats(d)->frag_evicted, held - held / 4,
	    held + 1);
	/* The pages are charged to the budget, within the cap. */
	mem_get_stats(&ms);
	assert_in_range(ms.layer_used[MEM_FRAGMENTS],
	    LIMIT_FRAG_MEMORY * 9 / 10, LIMIT_FRAG_MEMORY + 2 * 1024 * 1024);
	id = (uint32_t)(2 * held);
	n = pb_build_frag(frame, sizeof(frame), &pb, 1, 2, id);
	cp.caplen = cp.wirelen = (uint32_t)n;
	assert_int_equal(decoder_decode(d, &cp, &p), DECODE_TCP);
	assert_int_equal(p.seq, id);
	assert_int_equal(p.payload.len, sizeof(payload));
	assert_memory_equal(p.payload.p, payload, sizeof(payload));
	decoder_free(d);
	mem_get_stats(&ms);
	assert_int_equal(ms.layer_used[MEM_FRAGMENTS], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_ipv4_tcp_fields_decoded),
		cmocka_unit_test(test_vlan_and_qinq_ids_kept_outer_first),
		cmocka_unit_test(test_every_link_type_gives_the_same_segment),
		cmocka_unit_test(test_bsd_null_big_endian_af_accepted),
		cmocka_unit_test(test_ethernet_padding_is_not_payload),
		cmocka_unit_test(test_snaplen_cut_payload_reports_missing_bytes),
		cmocka_unit_test(test_tcp_header_cut_by_snaplen_is_truncated),
		cmocka_unit_test(test_snaplen_cut_in_tcp_options_keeps_the_header),
		cmocka_unit_test(test_every_truncation_is_safe),
		cmocka_unit_test(test_bad_checksums_counted_but_segment_kept),
		cmocka_unit_test(test_non_tcp_counted_and_ignored),
		cmocka_unit_test(test_ip4_bad_header_length_rejected),
		cmocka_unit_test(test_ip6_extension_headers_are_skipped),
		cmocka_unit_test(test_ip6_extension_chain_over_limit_rejected),
		cmocka_unit_test(test_ip4_fragments_reassembled_in_any_order),
		cmocka_unit_test(test_ip6_fragments_reassembled),
		cmocka_unit_test(test_fragment_timeout_drops_datagram),
		cmocka_unit_test(test_overlapping_fragment_first_copy_wins),
		cmocka_unit_test(test_frag_datagram_limit_is_the_one_in_force),
		cmocka_unit_test(test_frag_memory_limit_evicts_oldest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
