/*
 * test_engine.c: the engine on one and several workers, and the live
 * capture's default filter. Real captures (tests/pcap) through the real
 * decoder, flow tables and session stages; the filter through libpcap's
 * own compiler and matcher, on captured frames.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "capture/live.h"
#include "common/mem.h"
#include "engine/engine.h"

#define MAX_OUT	4096

/* What a record says, as a line: everything compared across runs. */
struct out {
	char	 *line[MAX_OUT];
	size_t	  n;
	size_t	  summaries;
	uint64_t  last_ts_seen;
};

static char *
data_path(const char *rel)
{
	const char *dir = getenv("SMTPSNIFF_TEST_DATA");
	char *p;

	assert_non_null(dir);
	assert_true(asprintf(&p, "%s/%s", dir, rel) > 0);
	return p;
}

static void
on_record(void *arg, const struct record *r)
{
	struct out *o = arg;
	char buf[2048], att[512] = "";
	size_t i, n = 0;

	assert_true(o->n < MAX_OUT);
	for (i = 0; r->mime != NULL && i < r->mime->natt; i++)
		n += (size_t)snprintf(att + n, sizeof(att) - n, "%s/%s/%llu;",
		    r->mime->att[i].filename ? r->mime->att[i].filename : "-",
		    r->mime->att[i].content_type,
		    (unsigned long long)r->mime->att[i].size);
	snprintf(buf, sizeof(buf), "%s %u %llu %s %s %s %zu %s %s %s %s",
	    r->conn->uid, r->trans_depth, (unsigned long long)r->ts,
	    record_status_name(r->status), r->helo ? r->helo : "-",
	    r->mail_from ? r->mail_from : "-", r->nrcpt,
	    r->nrcpt ? r->rcpt[r->nrcpt - 1].addr : "-",
	    r->mime && r->mime->h.subject ? r->mime->h.subject : "-",
	    r->last_reply ? r->last_reply : "-", att);
	o->line[o->n++] = strdup(buf);
}

static void
on_summary(void *arg, const struct record_summary *s)
{
	struct out *o = arg;

	assert_non_null(s->conn);
	assert_non_null(s->end_state);
	o->summaries++;
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every packet of path through an engine of n workers. */
static void
run(const char *rel, unsigned n, struct out *o)
{
	static const uint16_t ports[] = { 25, 465, 587, 2525 };
	static const struct engine_ops ops = { on_record, on_summary, NULL,
	    NULL };
	struct engine_config ec;
	struct engine_stats st;
	struct capture *cap;
	struct capture_pkt cp;
	struct engine *e;
	char err[ERRBUF_SIZE], *path = data_path(rel);

	memset(o, 0, sizeof(*o));
	memset(&ec, 0, sizeof(ec));
	assert_int_equal(flow_config_default(&ec.flow), 0);
	assert_int_equal(decode_config_default(&ec.decode), 0);
	ec.flow.server_ports = ports;
	ec.flow.nserver_ports = 4;
	ec.session.ports = ports;
	ec.session.nports = 4;
	ec.nworkers = n;
	assert_non_null(cap = capture_open_offline(&path, 1, err));
	assert_non_null(e = engine_new(&ec, &ops, o));
	while (capture_next(cap, &cp) == 1)
		engine_packet(e, &cp);
	engine_finish(e);
	engine_get_stats(e, &st);
	assert_int_equal(st.workers, n);
	assert_int_equal(st.sess.records, o->n);
	if (n > 1)
		assert_int_equal(st.items, o->n + o->summaries);
	engine_free(e);
	capture_free(cap);
	free(path);
	/* Nothing left charged: every waiting record was let out. */
	{
		struct mem_stats ms;

		mem_get_stats(&ms);
		assert_int_equal(ms.layer_used[MEM_RECORDS], 0);
	}
}

static void
out_free(struct out *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		free(o->line[i]);
}

static void
same_records(const char *rel, size_t at_least)
{
	struct out one, many;
	unsigned n;
	size_t i;

	run(rel, 1, &one);
	assert_true(one.n >= at_least);
	qsort(one.line, one.n, sizeof(char *), cmp_line);
	for (n = 2; n <= 5; n += 3) {
		run(rel, n, &many);
		assert_int_equal(many.n, one.n);
		assert_int_equal(many.summaries, one.summaries);
		qsort(many.line, many.n, sizeof(char *), cmp_line);
		for (i = 0; i < one.n; i++)
			assert_string_equal(many.line[i], one.line[i]);
		out_free(&many);
	}
	out_free(&one);
}

/* Records cross threads as flat copies: all their strings survive. */
static void
test_same_records_attachments(void **state)
{
	(void)state;
	same_records("pcap/own/attachments/input.pcap", 1);
}

static void
test_same_records_multi(void **state)
{
	(void)state;
	same_records("pcap/own/multi-transaction/input.pcap", 2);
	same_records("pcap/own/pipelining/input.pcap", 1);
	same_records("pcap/own/nested-messages/input.pcap", 1);
}

/* Fragments are put together before the hash picks a worker. */
static void
test_same_records_fragments(void **state)
{
	struct out o;

	(void)state;
	same_records("pcap/peers/zeek-ipv4-fragmented-1.pcap", 0);
	run("pcap/own/qinq/input.pcap", 2, &o);
	assert_true(o.n >= 1);
	out_free(&o);
}

/* Both directions of a connection, and only they, meet in one worker. */
static void
test_worker_symmetric(void **state)
{
	static const struct engine_ops ops = { on_record, on_summary, NULL,
	    NULL };
	struct engine_config ec;
	struct engine *e;
	struct pkt a, b;
	unsigned i, hit[7] = { 0 };
	struct out o;

	(void)state;
	memset(&o, 0, sizeof(o));
	memset(&ec, 0, sizeof(ec));
	assert_int_equal(flow_config_default(&ec.flow), 0);
	assert_int_equal(decode_config_default(&ec.decode), 0);
	ec.nworkers = 7;
	assert_non_null(e = engine_new(&ec, &ops, &o));
	memset(&a, 0, sizeof(a));
	a.af = 4;
	for (i = 0; i < 2000; i++) {
		a.src[0] = 10;
		a.src[3] = (uint8_t)i;
		a.src[2] = (uint8_t)(i >> 8);
		a.dst[0] = 192;
		a.dst[3] = 25;
		a.sport = (uint16_t)(40000 + i);
		a.dport = 25;
		b = a;
		memcpy(b.src, a.dst, 16);
		memcpy(b.dst, a.src, 16);
		b.sport = a.dport;
		b.dport = a.sport;
		assert_int_equal(engine_worker_of(e, &a),
		    engine_worker_of(e, &b));
		hit[engine_worker_of(e, &a)]++;
	}
	/* Spread: every worker gets a fair share of 2000 connections. */
	for (i = 0; i < 7; i++)
		assert_true(hit[i] > 150);
	engine_free(e);
}

/*
 * The default filter compiles for the most ports, with and without VLAN
 * levels, and takes what it must on real frames: SMTP in 802.1Q and in
 * QinQ, non-first fragments; and not what it need not.
 */
static size_t
matches(const char *rel, const char *filter, size_t *total)
{
	char perr[PCAP_ERRBUF_SIZE], *path = data_path(rel);
	struct bpf_program prog;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	size_t n = 0;

	assert_non_null(p = pcap_open_offline(path, perr));
	assert_int_equal(pcap_compile(p, &prog, filter, 1,
	    PCAP_NETMASK_UNKNOWN), 0);
	*total = 0;
	while (pcap_next_ex(p, &h, &data) == 1) {
		(*total)++;
		if (pcap_offline_filter(&prog, h, data))
			n++;
	}
	pcap_freecode(&prog);
	pcap_close(p);
	free(path);
	return n;
}

static void
test_default_filter(void **state)
{
	uint16_t ports[LIMIT_SMTP_PORTS];
	static const uint16_t smtp[] = { 25, 465, 587, 2525 };
	static const uint16_t other[] = { 110 };
	char f[LIMIT_FILTER_LEN];
	struct bpf_program prog;
	pcap_t *dead;
	size_t total, i, m;

	(void)state;
	for (i = 0; i < LIMIT_SMTP_PORTS; i++)
		ports[i] = (uint16_t)(60000 + i);
	assert_non_null(dead = pcap_open_dead(DLT_EN10MB, 65535));
	assert_int_equal(capture_default_filter(f, sizeof(f), ports,
	    LIMIT_SMTP_PORTS, false, true), 0);
	assert_int_equal(pcap_compile(dead, &prog, f, 1,
	    PCAP_NETMASK_UNKNOWN), 0);
	pcap_freecode(&prog);
	pcap_close(dead);

	assert_int_equal(capture_default_filter(f, sizeof(f), smtp, 4, false,
	    true), 0);
	/* Every frame of an SMTP session: untagged, 802.1Q, QinQ. */
	m = matches("pcap/own/attachments/input.pcap", f, &total);
	assert_int_equal(m, total);
	assert_true(total > 10);
	m = matches("pcap/own/vlan/input.pcap", f, &total);
	assert_int_equal(m, total);
	m = matches("pcap/own/qinq/input.pcap", f, &total);
	assert_int_equal(m, total);
	/* All fragments, the non-first ones (no ports) too. */
	assert_int_equal(capture_default_filter(f, sizeof(f), other, 1, false,
	    true), 0);
	assert_true(matches("pcap/peers/zeek-ipv4-fragmented-1.pcap", f,
	    &total) > 0);
	/* Port 110 only: an SMTP session's frames are not taken. */
	assert_int_equal(matches("pcap/own/attachments/input.pcap", f,
	    &total), 0);
	/* Every TCP port with --any-port. */
	assert_int_equal(capture_default_filter(f, sizeof(f), other, 1, true,
	    true), 0);
	m = matches("pcap/own/qinq/input.pcap", f, &total);
	assert_int_equal(m, total);
	/* Too small a buffer is an error, never a cut filter. */
	assert_int_equal(capture_default_filter(f, 40, smtp, 4, false, true),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_records_attachments),
		cmocka_unit_test(test_same_records_multi),
		cmocka_unit_test(test_same_records_fragments),
		cmocka_unit_test(test_worker_symmetric),
		cmocka_unit_test(test_default_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
