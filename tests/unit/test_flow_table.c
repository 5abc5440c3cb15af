/*
 * test_flow_table.c: connection life: opening, closing, reset, reuse of a
 * port pair, timeouts by packet time, eviction, VLAN keys, who is client.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "flow/flow_int.h"
#include "pktbuild.h"

static struct rec r;
static struct decoder *d;

static int
setup(void **state)
{
	d = decoder_new();
	return d == NULL;
}

static int
teardown(void **state)
{
	decoder_free(d);
	return 0;
}

static void
feed(struct flow_table *ft, double t, uint16_t cport, bool from_client,
    uint32_t seq, uint32_t ack, uint8_t flags, const char *data)
{
	struct pb pb = { .src = "10.0.0.1", .dst = "10.0.0.2",
	    .sport = cport, .dport = 25, .seq = seq, .ack = ack,
	    .flags = flags, .payload = data, .len = data ? strlen(data) : 0 };

	if (!from_client) {
		pb.src = "10.0.0.2";
		pb.dst = "10.0.0.1";
		pb.sport = 25;
		pb.dport = cport;
	}
	assert_int_equal(rec_feed(d, ft, &pb, t), DECODE_TCP);
}

/*
 * Time moves on to t for everyone: LIMIT_TIME_CONFIRM packets agree (one
 * connection's SYN and its retransmissions), since one far packet alone
 * does not move the clock (flow/pclock.h).
 */
static void
later(struct flow_table *ft, double t, uint16_t port)
{
	int i;

	for (i = 0; i < LIMIT_TIME_CONFIRM; i++)
		feed(ft, t + i * 0.001, port, true, 1, 0, TCP_SYN, NULL);
}

/* A whole short connection: handshake, one line each way, FINs. */
static void
conversation(struct flow_table *ft, double t, uint16_t port, uint32_t isn)
{
	feed(ft, t, port, true, isn, 0, TCP_SYN, NULL);
	feed(ft, t + .01, port, false, 9000, isn + 1, TCP_SYN | TCP_ACK, NULL);
	feed(ft, t + .02, port, true, isn + 1, 9001, TCP_ACK, NULL);
	feed(ft, t + .03, port, false, 9001, isn + 1, TCP_ACK, "220\r\n");
	feed(ft, t + .04, port, true, isn + 1, 9006, TCP_ACK | TCP_FIN,
	    "QUIT\r\n");
	feed(ft, t + .05, port, false, 9006, isn + 8, TCP_ACK | TCP_FIN, NULL);
	feed(ft, t + .06, port, true, isn + 8, 9007, TCP_ACK, NULL);
}

static void
test_fin_both_ways_closes(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	conversation(ft, 1, 40000, 100);
	assert_int_equal(r.nclosed, 1);
	assert_int_equal(r.f[0].end, FLOW_END_CLOSED);
	/* It ends with the ACK of the second FIN. */
	assert_int_equal(r.f[0].info.packets, 7);
	assert_int_equal(flow_table_get_stats(ft)->late_packets, 0);
	assert_int_equal(r.f[0].len[FLOW_C2S], 6);
	assert_int_equal(r.f[0].len[FLOW_S2C], 5);
	flow_table_free(ft);
}

static void
test_half_close_keeps_other_direction(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	feed(ft, 1.0, 40000, true, 100, 0, TCP_SYN, NULL);
	feed(ft, 1.1, 40000, false, 9000, 101, TCP_SYN | TCP_ACK, NULL);
	feed(ft, 1.2, 40000, true, 101, 9001, TCP_ACK | TCP_FIN, "bye");
	feed(ft, 1.3, 40000, false, 9001, 105, TCP_ACK, "still talking");
	assert_int_equal(r.nclosed, 0);
	feed(ft, 1.4, 40000, false, 9014, 105, TCP_ACK | TCP_FIN, NULL);
	assert_int_equal(r.nclosed, 0);		/* waits for the last ACK */
	feed(ft, 1.5, 40000, true, 105, 9015, TCP_ACK, NULL);
	assert_int_equal(r.nclosed, 1);
	assert_int_equal(r.f[0].end, FLOW_END_CLOSED);
	assert_int_equal(r.f[0].len[FLOW_S2C], 13);
	flow_table_free(ft);
}

static void
test_rst_ends_connection_once_quiet(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	feed(ft, 1.0, 40000, true, 100, 0, TCP_SYN, NULL);
	feed(ft, 1.1, 40000, false, 9000, 101, TCP_SYN | TCP_ACK, NULL);
	feed(ft, 1.2, 40000, true, 101, 9001, TCP_ACK, "HELO\r\n");
	feed(ft, 1.3, 40000, true, 107, 9001, TCP_RST, NULL);
	assert_int_equal(r.nclosed, 0);
	/* A segment in flight when the RST went is still delivered. */
	feed(ft, 1.4, 40000, false, 9001, 107, TCP_ACK, "421 bye\r\n");
	/* Another connection's packet, later than the quiet period. */
	feed(ft, 1.4 + LIMIT_TCP_RESET_LINGER_S + 1, 40009, true, 1, 0,
	    TCP_SYN, NULL);
	assert_int_equal(r.nclosed, 1);
	assert_int_equal(r.f[0].end, FLOW_END_RESET);
	assert_int_equal(r.f[0].len[FLOW_S2C], 9);
	flow_table_free(ft);
}

static void
test_rst_outside_window_is_ignored(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	feed(ft, 1.0, 40000, true, 100, 0, TCP_SYN, NULL);
	/* An injected RST that does not acknowledge the SYN. */
	feed(ft, 1.1, 40000, false, 0, 100, TCP_RST | TCP_ACK, NULL);
	feed(ft, 1.2, 40000, false, 9000, 101, TCP_SYN | TCP_ACK, NULL);
	feed(ft, 1.3, 40000, true, 101, 9001, TCP_ACK, "EHLO a\r\n");
	/* A blind RST far from the client's sequence numbers. */
	feed(ft, 1.4, 40000, true, 101 + 0x40000000u, 0, TCP_RST, NULL);
	feed(ft, 1.5, 40000, true, 109, 9001, TCP_ACK, "QUIT\r\n");
	flow_table_finish(ft);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.f[0].end, FLOW_END_OPEN);
	assert_int_equal(r.f[0].len[FLOW_C2S], 14);
	assert_int_equal(flow_table_get_stats(ft)->rst_ignored, 2);
	flow_table_free(ft);
}

static void
test_syn_after_rst_starts_new_connection_at_once(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	feed(ft, 1.0, 40000, true, 100, 0, TCP_SYN, NULL);
	feed(ft, 1.1, 40000, false, 9000, 101, TCP_SYN | TCP_ACK, NULL);
	feed(ft, 1.2, 40000, true, 101, 9001, TCP_RST, NULL);
	feed(ft, 1.3, 40000, true, 5000, 0, TCP_SYN, NULL);
	assert_int_equal(r.nclosed, 1);
	assert_int_equal(r.f[0].end, FLOW_END_RESET);
	assert_int_equal(r.n, 2);
	flow_table_free(ft);
}

static void
test_late_packets_after_fin_close_are_absorbed(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	conversation(ft, 1, 40000, 100);
	feed(ft, 2.0, 40000, false, 9007, 108, TCP_ACK, NULL);
	feed(ft, 2.1, 40000, true, 108, 9007, TCP_RST, NULL);
	flow_table_finish(ft);
	assert_int_equal(r.n, 1);	/* no bogus second connection */
	assert_int_equal(flow_table_get_stats(ft)->late_packets, 2);
	flow_table_free(ft);
}

static void
test_fins_without_last_ack_still_closed(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	feed(ft, 1.0, 40000, true, 100, 0, TCP_SYN, NULL);
	feed(ft, 1.1, 40000, false, 9000, 101, TCP_SYN | TCP_ACK, NULL);
	feed(ft, 1.2, 40000, true, 101, 9001, TCP_ACK | TCP_FIN, NULL);
	feed(ft, 1.3, 40000, false, 9001, 102, TCP_ACK | TCP_FIN, NULL);
	/* The last ACK is lost: it ends at the short timeout, closed. */
	later(ft, 1.3 + LIMIT_TCP_TIMEOUT_SHORT_S + 2, 40001);
	assert_int_equal(r.nclosed, 1);
	assert_int_equal(r.f[0].end, FLOW_END_CLOSED);
	flow_table_free(ft);
}

static void
test_lone_rst_is_a_reset_connection(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	feed(ft, 1.0, 40000, false, 77, 0, TCP_RST, NULL);
	flow_table_finish(ft);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.f[0].end, FLOW_END_RESET);
	flow_table_free(ft);
}

static void
test_syn_seen_after_its_synack_is_same_connection(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	feed(ft, 1.0, 40000, false, 9000, 101, TCP_SYN | TCP_ACK, NULL);
	feed(ft, 1.0, 40000, true, 100, 0, TCP_SYN, NULL);
	feed(ft, 1.1, 40000, true, 101, 9001, TCP_ACK, "HELO\r\n");
	flow_table_finish(ft);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.f[0].len[FLOW_C2S], 6);
	assert_false(r.f[0].st[FLOW_C2S].midstream);
	flow_table_free(ft);
}

static void
test_port_pair_reused_after_close_is_new_connection(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	conversation(ft, 1, 40000, 100);
	conversation(ft, 2, 40000, 777777);
	flow_table_finish(ft);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.nclosed, 2);
	assert_int_equal(r.f[1].end, FLOW_END_CLOSED);
	assert_int_equal(r.f[1].len[FLOW_C2S], 6);
	flow_table_free(ft);
}

static void
test_new_syn_on_open_connection_ends_it_as_reused(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	feed(ft, 1.0, 40000, true, 100, 0, TCP_SYN, NULL);
	feed(ft, 1.1, 40000, false, 9000, 101, TCP_SYN | TCP_ACK, NULL);
	feed(ft, 1.2, 40000, true, 101, 9001, TCP_ACK, "HELO a\r\n");
	/* Its end was not captured; a new SYN comes with another ISN. */
	feed(ft, 50.0, 40000, true, 5555, 0, TCP_SYN, NULL);
	assert_int_equal(r.nclosed, 1);
	assert_int_equal(r.f[0].end, FLOW_END_REUSED);
	assert_int_equal(r.n, 2);
	flow_table_free(ft);
}

static void
test_retransmitted_syn_is_same_connection(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	feed(ft, 1.0, 40000, true, 100, 0, TCP_SYN, NULL);
	feed(ft, 2.0, 40000, true, 100, 0, TCP_SYN, NULL);
	feed(ft, 2.1, 40000, false, 9000, 101, TCP_SYN | TCP_ACK, NULL);
	flow_table_finish(ft);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.f[0].info.packets, 3);
	flow_table_free(ft);
}

static void
test_idle_connection_times_out_by_packet_time(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	feed(ft, 1.0, 40000, true, 100, 0, TCP_SYN, NULL);
	feed(ft, 1.1, 40000, false, 9000, 101, TCP_SYN | TCP_ACK, NULL);
	feed(ft, 1.2, 40000, true, 101, 9001, TCP_ACK, "HELO a\r\n");
	/* Another connection's packet, just before the timeout: alive. */
	feed(ft, 1.2 + LIMIT_TCP_TIMEOUT_EST_S - 1, 40001, true, 1, 0,
	    TCP_SYN, NULL);
	assert_int_equal(r.nclosed, 0);
	later(ft, 1.2 + LIMIT_TCP_TIMEOUT_EST_S + 2, 40002);
	assert_int_equal(r.nclosed, 1);
	assert_int_equal(r.f[0].end, FLOW_END_TIMEOUT);
	flow_table_free(ft);
}

static void
test_unanswered_syn_times_out_sooner(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	feed(ft, 1.0, 40000, true, 100, 0, TCP_SYN, NULL);
	later(ft, 1.0 + LIMIT_TCP_TIMEOUT_SHORT_S + 2, 40001);
	assert_int_equal(r.nclosed, 1);
	assert_int_equal(r.f[0].end, FLOW_END_TIMEOUT);
	flow_table_free(ft);
}

static void
test_table_full_evicts_least_recently_active(void **state)
{
	struct flow_config cfg;
	struct flow_table *ft;
	int i;

	flow_config_default(&cfg);
	cfg.max_flows = 3;
	ft = rec_table(&r, &cfg);
	for (i = 0; i < 3; i++)
		feed(ft, 1.0 + i, (uint16_t)(40000 + i), true, 1, 0, TCP_SYN,
		    NULL);
	feed(ft, 4.0, 40000, true, 2, 0, TCP_ACK, NULL);  /* 40000 active */
	feed(ft, 5.0, 40003, true, 1, 0, TCP_SYN, NULL);
	assert_int_equal(r.nclosed, 1);
	assert_int_equal(r.f[r.close_order[0]].end, FLOW_END_EVICTED);
	assert_int_equal(r.f[r.close_order[0]].info.client.port, 40001);
	assert_int_equal(flow_table_get_stats(ft)->end[FLOW_END_EVICTED], 1);
	flow_table_free(ft);
}

static unsigned opened_big;

static void
count_open(void *arg, struct flow *f)
{
	opened_big++;
}

static void
ignore_data(void *arg, struct flow *f, enum flow_dir dir, const uint8_t *p,
    size_t n)
{
}

static void
ignore_gap(void *arg, struct flow *f, enum flow_dir dir, uint64_t n)
{
}

static void
ignore_close(void *arg, struct flow *f, enum flow_end e)
{
}

static void
test_table_grows_and_still_finds_every_flow(void **state)
{
	static const struct flow_ops ops = { count_open, ignore_data,
	    ignore_gap, ignore_close };
	struct flow_config cfg;
	struct flow_table *ft;
	struct pb pb = { .src = "10.0.0.1", .dst = "10.0.0.2", .dport = 25 };
	int pass, i;

	flow_config_default(&cfg);
	ft = flow_table_new(&cfg, &ops, NULL);
	opened_big = 0;
	/* 20000 connections: the buckets double several times. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < 20000; i++) {
			pb.src = i < 10000 ? "10.0.0.1" : "10.0.0.3";
			pb.sport = (uint16_t)(1024 + i % 10000);
			pb.seq = 1 + (uint32_t)pass;
			pb.flags = pass == 0 ? TCP_SYN : TCP_ACK;
			rec_feed(d, ft, &pb, 1.0 + pass);
		}
	}
	/* The second pass found every one: nothing new was opened. */
	assert_int_equal(opened_big, 20000);
	assert_int_equal(flow_table_get_stats(ft)->flows, 20000);
	flow_table_free(ft);
}

static void
test_vlan_ids_separate_connections(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);
	struct pb pb = { .sport = 40000, .dport = 25, .seq = 1,
	    .flags = TCP_SYN, .vlan = { 10 }, .nvlan = 1 };

	rec_feed(d, ft, &pb, 1.0);
	pb.vlan[0] = 20;
	rec_feed(d, ft, &pb, 1.1);
	flow_table_finish(ft);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.f[0].info.vlan[0], 10);
	assert_int_equal(r.f[1].info.vlan[0], 20);
	flow_table_free(ft);
}

static void
test_synack_first_makes_its_receiver_the_client(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);

	/* A server on a high port; the SYN itself was missed. */
	struct pb pb = { .src = "10.0.0.9", .dst = "10.0.0.8", .sport = 6000,
	    .dport = 50000, .seq = 1, .ack = 2, .flags = TCP_SYN | TCP_ACK };

	rec_feed(d, ft, &pb, 1.0);
	flow_table_finish(ft);
	assert_int_equal(r.f[0].info.server.port, 6000);
	assert_int_equal(r.f[0].info.client.port, 50000);
	flow_table_free(ft);
}

static void
test_close_order_does_not_depend_on_hash_key(void **state)
{
	struct flow_config cfg;
	struct flow_table *ft;
	int order[2][REC_MAX_FLOWS], seed, i;

	for (seed = 0; seed < 2; seed++) {
		flow_config_default(&cfg);
		cfg.hash_key.k0 = seed ? 0x123456789ull : 42;
		cfg.hash_key.k1 = seed ? 0xfedcba987654321ull : 7;
		ft = rec_table(&r, &cfg);
		for (i = 0; i < 6; i++)
			feed(ft, 1.0 + i * 0.1, (uint16_t)(40000 + i * 7),
			    true, 1, 0, TCP_SYN, NULL);
		feed(ft, 2.0, 40000, true, 2, 0, TCP_ACK, "x");
		flow_table_finish(ft);
		for (i = 0; i < 6; i++)
			order[seed][i] = r.f[r.close_order[i]].info.client.port;
		flow_table_free(ft);
	}
	assert_memory_equal(order[0], order[1], 6 * sizeof(int));
	assert_int_equal(order[0][5], 40000);	/* most recently active */
}


/*
 * Issue 8 §4: one packet dated far ahead neither times out the session in
 * progress nor stops timeouts for the rest of the capture.
 */
static void
test_stray_future_packet_does_not_carry_the_clock(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);
	const struct flow_table_stats *st;

	feed(ft, 100.0, 40000, true, 100, 0, TCP_SYN, NULL);
	feed(ft, 100.1, 40000, false, 9000, 101, TCP_SYN | TCP_ACK, NULL);
	feed(ft, 100.2, 40000, true, 101, 9001, TCP_ACK, "HELO a\r\n");
	/* Dated 2100, on another connection. */
	feed(ft, 4102444800.0, 40001, true, 1, 0, TCP_SYN, NULL);
	feed(ft, 100.3, 40000, false, 9001, 109, TCP_ACK, "250 ok\r\n");
	assert_int_equal(r.nclosed, 0);
	feed(ft, 100.4, 40000, true, 109, 9009, TCP_ACK | TCP_FIN, NULL);
	feed(ft, 100.5, 40000, false, 9009, 110, TCP_ACK | TCP_FIN, NULL);
	feed(ft, 100.6, 40000, true, 110, 9010, TCP_ACK, NULL);
	assert_int_equal(r.nclosed, 1);
	assert_int_equal(r.f[0].end, FLOW_END_CLOSED);
	st = flow_table_get_stats(ft);
	assert_int_equal(st->clock.stray_ahead, 1);
	assert_int_equal(st->clock.jumps_ahead, 0);
	/* Timeouts still fire: the half-open 2100 one goes at 100 + 62. */
	later(ft, 100.6 + LIMIT_TCP_TIMEOUT_SHORT_S + 2, 40002);
	assert_int_equal(r.nclosed, 2);
	assert_int_equal(r.f[1].end, FLOW_END_TIMEOUT);
	flow_table_free(ft);
}

/*
 * Files read as one capture, a day apart: the jump is real once the
 * packets after it agree; the old connection times out, the new ones
 * (seen while the jump was being confirmed) do not.
 */
static void
test_real_jump_ahead_is_followed(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);
	double t = 100.0 + 86400;

	feed(ft, 100.0, 40000, true, 100, 0, TCP_SYN, NULL);
	feed(ft, 100.1, 40000, false, 9000, 101, TCP_SYN | TCP_ACK, NULL);
	feed(ft, 100.2, 40000, true, 101, 9001, TCP_ACK, "HELO a\r\n");
	feed(ft, t, 40001, true, 1000, 0, TCP_SYN, NULL);
	feed(ft, t + .1, 40001, false, 5000, 1001, TCP_SYN | TCP_ACK, NULL);
	feed(ft, t + .2, 40001, true, 1001, 5001, TCP_ACK, "HELO b\r\n");
	assert_int_equal(r.nclosed, 0);
	later(ft, t + .3, 40002);
	assert_int_equal(flow_table_get_stats(ft)->clock.jumps_ahead, 1);
	assert_int_equal(r.nclosed, 1);
	assert_int_equal(r.f[0].end, FLOW_END_TIMEOUT);
	feed(ft, t + .4, 40001, false, 5001, 1009, TCP_ACK | TCP_FIN,
	    "250\r\n");
	feed(ft, t + .5, 40001, true, 1009, 5007, TCP_ACK | TCP_FIN, NULL);
	feed(ft, t + .6, 40001, false, 5007, 1010, TCP_ACK, NULL);
	assert_int_equal(r.nclosed, 2);
	assert_int_equal(r.f[1].end, FLOW_END_CLOSED);
	flow_table_free(ft);
}

/*
 * The capture host's clock set back a day: the clock stays monotonic,
 * the connections after it are timed as usual, and the old one times out
 * after the idle timeout of the new time.
 */
static void
test_real_jump_back_keeps_the_clock_going(void **state)
{
	struct flow_table *ft = rec_table(&r, NULL);
	double t = 100000.0 - 86400;

	feed(ft, 100000.0, 40000, true, 100, 0, TCP_SYN, NULL);
	feed(ft, 100000.1, 40000, false, 9000, 101, TCP_SYN | TCP_ACK, NULL);
	feed(ft, 100000.2, 40000, true, 101, 9001, TCP_ACK, "HELO a\r\n");
	later(ft, t, 40001);
	assert_int_equal(flow_table_get_stats(ft)->clock.jumps_back, 1);
	assert_int_equal(r.nclosed, 0);
	/* Quiet for less than the idle timeout of the new time: alive. */
	later(ft, t + LIMIT_TCP_TIMEOUT_EST_S - 10, 40002);
	assert_int_equal(r.f[0].closed, false);
	later(ft, t + LIMIT_TCP_TIMEOUT_EST_S + 10, 40003);
	assert_int_equal(r.f[0].closed, true);
	assert_int_equal(r.f[0].end, FLOW_END_TIMEOUT);
	flow_table_free(ft);
}

/*
 * The flow hash of d9ac6d7 and before: a constant seed, and a mixer
 * (MurmurHash3's finaliser) that can be run backwards. Kept here to build
 * the attack it allowed.
 */
#define OLD_SEED	0x9e3779b97f4a7c15ull
#define OLD_GOLDEN	0x9e3779b97f4a7c15ull
#define OLD_M1		0xff51afd7ed558ccdull
#define OLD_M2		0xc4ceb9fe1a85ec53ull

static uint64_t
old_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= OLD_M1;
	h ^= h >> 33;
	h *= OLD_M2;
	h ^= h >> 33;
	return h;
}

/* The inverse of an odd number modulo 2^64 (Newton's iteration). */
static uint64_t
inv64(uint64_t a)
{
	uint64_t x = a;
	int i;

	for (i = 0; i < 6; i++)
		x *= 2 - a * x;
	return x;
}

static uint64_t
old_unmix64(uint64_t h)
{
	h ^= h >> 33;		/* x ^ x >> 33 is its own inverse */
	h *= inv64(OLD_M2);
	h ^= h >> 33;
	h *= inv64(OLD_M1);
	h ^= h >> 33;
	return h;
}

static uint64_t
old_word(const struct flow_key *k, size_t i)
{
	uint64_t w;

	memcpy(&w, (const uint8_t *)k + i, 8);
	return w;
}

static uint64_t
old_key_hash(const struct flow_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = OLD_SEED;
	size_t i;

	for (i = 0; i + 8 <= sizeof(*k); i += 8)
		h = old_mix64(h ^ old_word(k, i)) + OLD_GOLDEN;
	for (; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return old_mix64(h);
}

/*
 * SYN number i of a flood aimed at one bucket of the old hash: clients in
 * 2001:db8:0::/48 (bytes 6-13 of the address are the attacker's to pick),
 * one server, client port 1024 + i. The state after the first two key
 * words depends on the port; the third word (address bytes 6-13) is
 * chosen to bring every key to the same state, so all of them end with
 * the same 64-bit hash, not merely the same bucket.
 */
static void
aimed_syn(unsigned i, struct pkt *p, struct flow_key *k)
{
	static const uint8_t client[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t server[16] = { 0x20, 0x01, 0x0d, 0xb9,
	    [15] = 0x25 };
	const uint64_t target = 0x5eed5eed5eed5eedull;
	uint64_t h, w;
	size_t off = offsetof(struct flow_key, addr) + 6;

	assert_true(off >= 16 && off % 8 == 0 && off + 8 <= 26 + 16);
	memset(k, 0, sizeof(*k));
	k->af = 6;
	k->port[0] = (uint16_t)(1024 + i);
	k->port[1] = 25;
	memcpy(k->addr[0], client, 16);
	memcpy(k->addr[1], server, 16);
	for (h = OLD_SEED, off = 0; off < 16; off += 8)
		h = old_mix64(h ^ old_word(k, off)) + OLD_GOLDEN;
	w = old_unmix64(target - OLD_GOLDEN) ^ h;
	memcpy((uint8_t *)k + 16, &w, 8);

	memset(p, 0, sizeof(*p));
	p->ts_ns = 1000000000ull + i * 1000ull;
	p->af = 6;
	memcpy(p->src, k->addr[0], 16);
	memcpy(p->dst, k->addr[1], 16);
	p->sport = k->port[0];
	p->dport = 25;
	p->seq = 1000 + i;
	p->flags = TCP_SYN;
}

#define FLOOD	20000

static void
test_syn_flood_aimed_at_old_hash_stays_spread(void **state)
{
	static const struct flow_ops ops = { count_open, ignore_data,
	    ignore_gap, ignore_close };
	static const struct siphash_key keys[] = {
	    { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull },
	    { 0x243f6a8885a308d3ull, 0x13198a2e03707344ull },
	};
	struct flow_config cfg;
	struct flow_table *ft;
	struct flow_key k;
	struct pkt p;
	uint64_t h0 = 0;
	unsigned i, key;

	for (key = 0; key <= 2; key++) {
		assert_int_equal(flow_config_default(&cfg), 0);
		if (key < 2)	/* and the process key, at 2 */
			cfg.hash_key = keys[key];
		ft = flow_table_new(&cfg, &ops, NULL);
		assert_non_null(ft);
		opened_big = 0;
		for (i = 0; i < FLOOD; i++) {
			aimed_syn(i, &p, &k);
			/* The flood is what it claims: one old hash for all. */
			if (i == 0)
				h0 = old_key_hash(&k);
			assert_true(old_key_hash(&k) == h0);
			flow_table_packet(ft, &p);
		}
		assert_int_equal(opened_big, FLOOD);
		/*
		 * 20,000 keys in at least as many buckets: a random hash
		 * gives chains of 6 or 7 at most; 16 is far beyond chance.
		 */
		assert_in_range(flow_table_get_stats(ft)->chain_max, 1, 16);
		flow_table_free(ft);
	}
}

static void
test_table_without_a_key_is_refused(void **state)
{
	static const struct flow_ops ops = { count_open, ignore_data,
	    ignore_gap, ignore_close };
	struct flow_config cfg;

	assert_int_equal(flow_config_default(&cfg), 0);
	cfg.hash_keyed = false;
	assert_null(flow_table_new(&cfg, &ops, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_stray_future_packet_does_not_carry_the_clock),
		cmocka_unit_test(test_real_jump_ahead_is_followed),
		cmocka_unit_test(test_real_jump_back_keeps_the_clock_going),
		cmocka_unit_test(test_fin_both_ways_closes),
		cmocka_unit_test(test_half_close_keeps_other_direction),
		cmocka_unit_test(test_rst_ends_connection_once_quiet),
		cmocka_unit_test(test_rst_outside_window_is_ignored),
		cmocka_unit_test(test_syn_after_rst_starts_new_connection_at_once),
		cmocka_unit_test(test_late_packets_after_fin_close_are_absorbed),
		cmocka_unit_test(test_fins_without_last_ack_still_closed),
		cmocka_unit_test(test_lone_rst_is_a_reset_connection),
		cmocka_unit_test(test_syn_seen_after_its_synack_is_same_connection),
		cmocka_unit_test(test_port_pair_reused_after_close_is_new_connection),
		cmocka_unit_test(test_new_syn_on_open_connection_ends_it_as_reused),
		cmocka_unit_test(test_retransmitted_syn_is_same_connection),
		cmocka_unit_test(test_idle_connection_times_out_by_packet_time),
		cmocka_unit_test(test_unanswered_syn_times_out_sooner),
		cmocka_unit_test(test_table_full_evicts_least_recently_active),
		cmocka_unit_test(test_table_grows_and_still_finds_every_flow),
		cmocka_unit_test(test_vlan_ids_separate_connections),
		cmocka_unit_test(test_synack_first_makes_its_receiver_the_client),
		cmocka_unit_test(test_close_order_does_not_depend_on_hash_key),
		cmocka_unit_test(test_syn_flood_aimed_at_old_hash_stays_spread),
		cmocka_unit_test(test_table_without_a_key_is_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
