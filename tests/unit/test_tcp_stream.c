/*
 * test_tcp_stream.c: reassembly of each direction, driven through the
 * flow table with built packets: order, retransmissions, overlaps (first
 * wins), wraparound, gaps (ACK, snaplen, caps, close), mid-stream pickup.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pktbuild.h"

#define CISN	1000u
#define SISN	5000u

static struct rec r;

struct conn {
	struct decoder		*d;
	struct flow_table	*ft;
	double			 t;
	uint32_t		 cisn;
	uint32_t		 sisn;
	uint32_t		 cack;	/* what c2s acknowledges (rel.) */
};

static void
conn_init(struct conn *c, struct flow_config *cfg, uint32_t cisn,
    uint32_t sisn)
{
	c->d = decoder_new();
	c->ft = rec_table(&r, cfg);
	c->t = 1.0;
	c->cisn = cisn;
	c->sisn = sisn;
	c->cack = 0;
}

static void
conn_fini(struct conn *c)
{
	flow_table_free(c->ft);
	decoder_free(c->d);
}

/* Client to server: seq is relative to the client ISN + 1. */
static void
c2s(struct conn *c, uint32_t rel, const char *data, uint8_t flags)
{
	struct pb pb = { .sport = 40000, .dport = 25,
	    .seq = c->cisn + 1 + rel, .ack = c->sisn + 1 + c->cack,
	    .flags = flags,
	    .payload = data, .len = data ? strlen(data) : 0 };

	c->t += 0.001;
	assert_int_equal(rec_feed(c->d, c->ft, &pb, c->t), DECODE_TCP);
}

static void
s2c(struct conn *c, uint32_t rel, const char *data, uint8_t flags,
    uint32_t ack_rel)
{
	struct pb pb = { .src = "10.0.0.2", .dst = "10.0.0.1", .sport = 25,
	    .dport = 40000, .seq = c->sisn + 1 + rel,
	    .ack = c->cisn + 1 + ack_rel, .flags = flags,
	    .payload = data, .len = data ? strlen(data) : 0 };

	c->t += 0.001;
	assert_int_equal(rec_feed(c->d, c->ft, &pb, c->t), DECODE_TCP);
}

static void
handshake(struct conn *c)
{
	struct pb syn = { .sport = 40000, .dport = 25, .seq = c->cisn,
	    .flags = TCP_SYN };
	struct pb synack = { .src = "10.0.0.2", .dst = "10.0.0.1",
	    .sport = 25, .dport = 40000, .seq = c->sisn, .ack = c->cisn + 1,
	    .flags = TCP_SYN | TCP_ACK };

	rec_feed(c->d, c->ft, &syn, c->t += 0.001);
	rec_feed(c->d, c->ft, &synack, c->t += 0.001);
	c2s(c, 0, NULL, TCP_ACK);
}

static void
assert_stream(int flow, enum flow_dir d, const char *want)
{
	assert_int_equal(r.f[flow].len[d], strlen(want));
	assert_memory_equal(r.f[flow].data[d], want, strlen(want));
}

static void
test_in_order_both_directions(void **state)
{
	struct conn c;

	conn_init(&c, NULL, CISN, SISN);
	handshake(&c);
	s2c(&c, 0, "220 hi\r\n", TCP_ACK, 0);
	c2s(&c, 0, "EHLO a\r\n", TCP_ACK);
	s2c(&c, 8, "250 ok\r\n", TCP_ACK, 8);
	c2s(&c, 8, "QUIT\r\n", TCP_ACK | TCP_FIN);
	s2c(&c, 16, NULL, TCP_ACK | TCP_FIN, 15);
	assert_false(r.f[0].closed);	/* until the last ACK */
	c.cack = 17;
	c2s(&c, 15, NULL, TCP_ACK);
	assert_int_equal(r.n, 1);
	assert_true(r.f[0].closed);
	assert_int_equal(r.f[0].end, FLOW_END_CLOSED);
	assert_stream(0, FLOW_C2S, "EHLO a\r\nQUIT\r\n");
	assert_stream(0, FLOW_S2C, "220 hi\r\n250 ok\r\n");
	assert_int_equal(r.f[0].gaps[0] + r.f[0].gaps[1], 0);
	assert_false(r.f[0].st[0].midstream);
	conn_fini(&c);
}

static void
test_out_of_order_segments_delivered_in_order(void **state)
{
	struct conn c;

	conn_init(&c, NULL, CISN, SISN);
	handshake(&c);
	c2s(&c, 10, "KLMNO", TCP_ACK);
	c2s(&c, 5, "FGHIJ", TCP_ACK);
	assert_int_equal(r.f[0].len[FLOW_C2S], 0);
	c2s(&c, 0, "ABCDE", TCP_ACK);
	assert_stream(0, FLOW_C2S, "ABCDEFGHIJKLMNO");
	flow_table_finish(c.ft);
	assert_int_equal(r.f[0].gaps[FLOW_C2S], 0);
	assert_int_equal(r.f[0].end, FLOW_END_OPEN);
	conn_fini(&c);
}

static void
test_retransmission_dropped_and_counted(void **state)
{
	struct conn c;

	conn_init(&c, NULL, CISN, SISN);
	handshake(&c);
	c2s(&c, 0, "ABCDE", TCP_ACK);
	c2s(&c, 0, "ABCDE", TCP_ACK);
	c2s(&c, 3, "DEFGH", TCP_ACK);	/* partly new */
	flow_table_finish(c.ft);
	assert_stream(0, FLOW_C2S, "ABCDEFGH");
	assert_int_equal(r.f[0].st[FLOW_C2S].retrans_bytes, 5 + 2);
	conn_fini(&c);
}

static void
test_overlap_first_copy_wins_and_mismatch_counted(void **state)
{
	struct conn c;

	conn_init(&c, NULL, CISN, SISN);
	handshake(&c);
	c2s(&c, 4, "efgh", TCP_ACK);	/* buffered first */
	c2s(&c, 2, "XXXXXXXX", TCP_ACK);	/* overlaps all of it */
	c2s(&c, 0, "ab", TCP_ACK);
	flow_table_finish(c.ft);
	/* 2-3 and 8-9 come from the later copy, 4-7 from the first. */
	assert_stream(0, FLOW_C2S, "abXXefghXX");
	assert_int_equal(r.f[0].st[FLOW_C2S].overlap_mismatch, 4);
	conn_fini(&c);
}

static void
test_in_order_segment_overlapping_buffer_keeps_buffered_bytes(void **state)
{
	struct conn c;

	conn_init(&c, NULL, CISN, SISN);
	handshake(&c);
	c2s(&c, 3, "DEF", TCP_ACK);
	c2s(&c, 0, "abcdefgh", TCP_ACK);
	assert_stream(0, FLOW_C2S, "abcDEFgh");
	conn_fini(&c);
}

static void
test_sequence_wraparound(void **state)
{
	struct conn c;

	/* The client's sequence numbers wrap past 2^32 mid-stream. */
	conn_init(&c, NULL, 0xfffffff0u, 0x7ffffffeu);
	handshake(&c);
	c2s(&c, 0, "0123456789", TCP_ACK);
	c2s(&c, 20, "KLMNOPQRST", TCP_ACK);	/* past the wrap */
	c2s(&c, 10, "ABCDEFGHIJ", TCP_ACK);
	s2c(&c, 0, "ok", TCP_ACK, 30);
	flow_table_finish(c.ft);
	assert_stream(0, FLOW_C2S, "0123456789ABCDEFGHIJKLMNOPQRST");
	assert_int_equal(r.f[0].gaps[FLOW_C2S], 0);
	conn_fini(&c);
}

static void
test_ack_past_hole_declares_gap(void **state)
{
	struct conn c;

	conn_init(&c, NULL, CISN, SISN);
	handshake(&c);
	c2s(&c, 0, "AAAA", TCP_ACK);
	/* Bytes 4..9 never captured. */
	c2s(&c, 10, "CCCC", TCP_ACK);
	assert_stream(0, FLOW_C2S, "AAAA");
	s2c(&c, 0, NULL, TCP_ACK, 14);	/* the server got them all */
	assert_stream(0, FLOW_C2S, "AAAACCCC");
	assert_int_equal(r.f[0].gaps[FLOW_C2S], 1);
	assert_int_equal(r.f[0].gap_bytes[FLOW_C2S], 6);
	conn_fini(&c);
}

static void
test_ack_not_past_hole_waits(void **state)
{
	struct conn c;

	conn_init(&c, NULL, CISN, SISN);
	handshake(&c);
	c2s(&c, 0, "AAAA", TCP_ACK);
	c2s(&c, 10, "CCCC", TCP_ACK);
	s2c(&c, 0, NULL, TCP_ACK, 4);	/* only up to the hole */
	assert_int_equal(r.f[0].gaps[FLOW_C2S], 0);
	c2s(&c, 4, "BBBBBB", TCP_ACK);	/* the hole fills late */
	assert_stream(0, FLOW_C2S, "AAAABBBBBBCCCC");
	assert_int_equal(r.f[0].gaps[FLOW_C2S], 0);
	conn_fini(&c);
}

static void
test_hole_at_close_becomes_gap(void **state)
{
	struct conn c;

	conn_init(&c, NULL, CISN, SISN);
	handshake(&c);
	c2s(&c, 0, "AAAA", TCP_ACK);
	c2s(&c, 8, "CCCC", TCP_ACK);
	c2s(&c, 12, NULL, TCP_RST);
	flow_table_finish(c.ft);
	assert_int_equal(r.f[0].end, FLOW_END_RESET);
	assert_stream(0, FLOW_C2S, "AAAACCCC");
	assert_int_equal(r.f[0].gap_bytes[FLOW_C2S], 4);
	conn_fini(&c);
}

static void
test_missing_bytes_before_fin_become_gap_when_fin_acked(void **state)
{
	struct conn c;

	conn_init(&c, NULL, CISN, SISN);
	handshake(&c);
	c2s(&c, 0, "AAAA", TCP_ACK);
	c2s(&c, 10, NULL, TCP_ACK | TCP_FIN);	/* 4..9 lost */
	s2c(&c, 0, NULL, TCP_ACK | TCP_FIN, 11);
	c.cack = 1;
	c2s(&c, 11, NULL, TCP_ACK);
	assert_true(r.f[0].closed);
	assert_int_equal(r.f[0].end, FLOW_END_CLOSED);
	assert_int_equal(r.f[0].gap_bytes[FLOW_C2S], 6);
	conn_fini(&c);
}

static void
test_snaplen_cut_declares_gap_at_once(void **state)
{
	struct conn c;
	struct pb pb = { .sport = 40000, .dport = 25, .seq = CISN + 1,
	    .flags = TCP_ACK, .payload = "0123456789", .len = 10 };
	struct capture_pkt cp;
	struct pkt p;
	uint8_t buf[200];
	size_t n;

	conn_init(&c, NULL, CISN, SISN);
	handshake(&c);
	n = pb_build(buf, sizeof(buf), &pb);
	cp = (struct capture_pkt){ 2000000000ull, (uint32_t)n - 4,
	    (uint32_t)n, CAPTURE_LINK_EN10MB, buf };
	assert_int_equal(decoder_decode(c.d, &cp, &p), DECODE_TCP);
	flow_table_packet(c.ft, &p);
	assert_stream(0, FLOW_C2S, "012345");
	assert_int_equal(r.f[0].gap_bytes[FLOW_C2S], 4);
	c2s(&c, 10, "next", TCP_ACK);
	assert_stream(0, FLOW_C2S, "012345next");
	conn_fini(&c);
}

static void
test_midstream_pickup_without_syn(void **state)
{
	struct conn c;

	conn_init(&c, NULL, CISN, SISN);
	/* No handshake: the capture started mid-connection. */
	s2c(&c, 100, "250 ok\r\n", TCP_ACK, 50);
	c2s(&c, 50, "QUIT\r\n", TCP_ACK);
	flow_table_finish(c.ft);
	assert_int_equal(r.n, 1);
	assert_stream(0, FLOW_C2S, "QUIT\r\n");
	assert_stream(0, FLOW_S2C, "250 ok\r\n");
	/* Port 25 is the server although it spoke first. */
	assert_int_equal(r.f[0].info.server.port, 25);
	assert_int_equal(r.f[0].info.client.port, 40000);
	assert_true(r.f[0].st[FLOW_C2S].midstream);
	assert_true(r.f[0].st[FLOW_S2C].midstream);
	conn_fini(&c);
}

static void
test_syn_with_payload_delivers_it(void **state)
{
	struct conn c;
	struct pb syn = { .sport = 40000, .dport = 25, .seq = CISN,
	    .flags = TCP_SYN, .payload = "EHLO", .len = 4 };

	conn_init(&c, NULL, CISN, SISN);
	rec_feed(c.d, c.ft, &syn, 1.0);
	c2s(&c, 4, " x\r\n", TCP_ACK);
	assert_stream(0, FLOW_C2S, "EHLO x\r\n");
	conn_fini(&c);
}

static void
test_stream_buffer_cap_forces_gap(void **state)
{
	struct conn c;
	struct flow_config cfg;
	char big[1001];

	flow_config_default(&cfg);
	cfg.max_flows = 8;
	cfg.stream_ooo_bytes = 2000;
	memset(big, 'x', 1000);
	big[1000] = 0;
	conn_init(&c, &cfg, CISN, SISN);
	handshake(&c);
	c2s(&c, 0, "A", TCP_ACK);
	c2s(&c, 10, big, TCP_ACK);
	c2s(&c, 1010, big, TCP_ACK);
	assert_int_equal(r.f[0].len[FLOW_C2S], 1);
	c2s(&c, 2010, big, TCP_ACK);	/* over the cap: skip the hole */
	assert_int_equal(r.f[0].gap_bytes[FLOW_C2S], 9);
	assert_int_equal(r.f[0].len[FLOW_C2S], 3001);
	assert_int_equal(flow_table_get_stats(c.ft)->memcap_gaps, 1);
	conn_fini(&c);
}

static void
test_total_buffer_cap_drops_segment_then_gap(void **state)
{
	struct conn c;
	struct flow_config cfg;
	char big[1001];

	flow_config_default(&cfg);
	cfg.max_flows = 8;
	cfg.total_ooo_bytes = 1500;
	memset(big, 'y', 1000);
	big[1000] = 0;
	conn_init(&c, &cfg, CISN, SISN);
	handshake(&c);
	s2c(&c, 10, big, TCP_ACK, 0);	/* 1000 bytes buffered: s2c */
	/* c2s has nothing buffered to give up: its segment is dropped. */
	c2s(&c, 10, big, TCP_ACK);
	assert_int_equal(flow_table_get_stats(c.ft)->ooo_dropped, 1);
	/* Nothing is lost silently: the dropped bytes end up in a gap. */
	c.cack = 1010;
	c2s(&c, 1010, "z", TCP_ACK);
	s2c(&c, 0, NULL, TCP_ACK, 1011);
	flow_table_finish(c.ft);
	assert_int_equal(r.f[0].len[FLOW_C2S], 1);
	assert_int_equal(r.f[0].gap_bytes[FLOW_C2S], 1010);
	assert_int_equal(r.f[0].len[FLOW_S2C], 1000);
	assert_int_equal(r.f[0].gap_bytes[FLOW_S2C], 10);
	conn_fini(&c);
}

static void
test_random_order_gives_same_stream(void **state)
{
	enum { SEGS = 40, SEGLEN = 7 };
	char text[SEGS * SEGLEN + 1], seg[SEGLEN + 1];
	int order[SEGS], i, j, k, round;
	struct conn c;

	for (i = 0; i < SEGS * SEGLEN; i++)
		text[i] = (char)('A' + (i * 7) % 26);
	text[SEGS * SEGLEN] = 0;
	srand(12345);
	for (round = 0; round < 20; round++) {
		for (i = 0; i < SEGS; i++)
			order[i] = i;
		for (i = SEGS - 1; i > 0; i--) {
			j = rand() % (i + 1);
			k = order[i];
			order[i] = order[j];
			order[j] = k;
		}
		conn_init(&c, NULL, (uint32_t)rand(), SISN);
		handshake(&c);
		for (i = 0; i < SEGS; i++) {
			memcpy(seg, text + order[i] * SEGLEN, SEGLEN);
			seg[SEGLEN] = 0;
			c2s(&c, (uint32_t)(order[i] * SEGLEN), seg, TCP_ACK);
			if (rand() % 4 == 0)	/* and some duplicates */
				c2s(&c, (uint32_t)(order[i] * SEGLEN), seg,
				    TCP_ACK);
		}
		flow_table_finish(c.ft);
		assert_stream(0, FLOW_C2S, text);
		assert_int_equal(r.f[0].gaps[FLOW_C2S], 0);
		conn_fini(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_both_directions),
		cmocka_unit_test(test_out_of_order_segments_delivered_in_order),
		cmocka_unit_test(test_retransmission_dropped_and_counted),
		cmocka_unit_test(test_overlap_first_copy_wins_and_mismatch_counted),
		cmocka_unit_test(test_in_order_segment_overlapping_buffer_keeps_buffered_bytes),
		cmocka_unit_test(test_sequence_wraparound),
		cmocka_unit_test(test_ack_past_hole_declares_gap),
		cmocka_unit_test(test_ack_not_past_hole_waits),
		cmocka_unit_test(test_hole_at_close_becomes_gap),
		cmocka_unit_test(test_missing_bytes_before_fin_become_gap_when_fin_acked),
		cmocka_unit_test(test_snaplen_cut_declares_gap_at_once),
		cmocka_unit_test(test_midstream_pickup_without_syn),
		cmocka_unit_test(test_syn_with_payload_delivers_it),
		cmocka_unit_test(test_stream_buffer_cap_forces_gap),
		cmocka_unit_test(test_total_buffer_cap_drops_segment_then_gap),
		cmocka_unit_test(test_random_order_gives_same_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
