/*
 * test_session.c: the session stage between the flow table and the record
 * sessions: which connections are SMTP (ports, the --any-port probe,
 * tunnels), session ids, summaries and their anomalies. Real packets go
 * through the real decoder and flow table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "pktbuild.h"
#include "session/session.h"

#define MAX_OUT	16

struct out_rec {
	char		 uid[24];
	enum record_status status;
	char		 mail_from[64];
	size_t		 nrcpt;
	uint16_t	 rcpt_code;
	char		 helo[64];
};

struct out_sum {
	char		 uid[24];
	unsigned	 transactions;
	char		 end_state[16];
	uint32_t	 events[SMTP_EV_MAX];
};

static struct {
	struct out_rec	 rec[MAX_OUT];
	int		 nrec;
	struct out_sum	 sum[MAX_OUT];
	int		 nsum;
} out;

static struct decoder *d;

static void
copy_str(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s != NULL ? s : "(null)");
}

static void
on_record(void *arg, const struct record *r)
{
	struct out_rec *o;

	(void)arg;
	assert_true(out.nrec < MAX_OUT);
	o = &out.rec[out.nrec++];
	copy_str(o->uid, sizeof(o->uid), r->conn->uid);
	o->status = r->status;
	copy_str(o->mail_from, sizeof(o->mail_from),
	    r->has_mail ? r->mail_from : NULL);
	copy_str(o->helo, sizeof(o->helo), r->helo);
	o->nrcpt = r->nrcpt;
	o->rcpt_code = r->nrcpt > 0 ? r->rcpt[0].code : 0;
}

static void
on_summary(void *arg, const struct record_summary *s)
{
	struct out_sum *o;

	(void)arg;
	assert_true(out.nsum < MAX_OUT);
	o = &out.sum[out.nsum++];
	copy_str(o->uid, sizeof(o->uid), s->conn->uid);
	o->transactions = s->transactions;
	copy_str(o->end_state, sizeof(o->end_state), s->end_state);
	memcpy(o->events, s->events, sizeof(o->events));
}

static const struct session_ops ops = { on_record, on_summary };
static const uint16_t smtp_ports[] = { 25, 587 };

struct stage {
	struct session_stage	*ss;
	struct flow_table	*ft;
};

static void
stage_open(struct stage *st, bool any_port)
{
	struct session_config cfg;
	struct flow_config fcfg;

	memset(&out, 0, sizeof(out));
	memset(&cfg, 0, sizeof(cfg));
	cfg.ports = smtp_ports;
	cfg.nports = 2;
	cfg.any_port = any_port;
	flow_config_default(&fcfg);
	fcfg.max_flows = 64;
	fcfg.server_ports = smtp_ports;
	fcfg.nserver_ports = 2;
	st->ss = session_stage_new(&cfg, &ops, NULL);
	assert_non_null(st->ss);
	st->ft = flow_table_new(&fcfg, session_stage_flow_ops(), st->ss);
	assert_non_null(st->ft);
}

static void
stage_close(struct stage *st)
{
	flow_table_finish(st->ft);
	flow_table_free(st->ft);
}

static void
stage_free(struct stage *st)
{
	session_stage_free(st->ss);
}

/* One TCP connection, its sequence numbers followed. */
struct tconn {
	struct stage	*st;
	const char	*cip, *sip;
	uint16_t	 cport, sport;
	uint32_t	 cseq, sseq;
	double		 t;
};

static void
seg(struct tconn *c, bool from_client, uint8_t flags, const char *data,
    size_t len)
{
	struct pb pb = { .src = c->cip, .dst = c->sip, .sport = c->cport,
	    .dport = c->sport, .seq = c->cseq, .ack = c->sseq,
	    .flags = flags, .payload = data, .len = len };

	if (!from_client) {
		pb.src = c->sip;
		pb.dst = c->cip;
		pb.sport = c->sport;
		pb.dport = c->cport;
		pb.seq = c->sseq;
		pb.ack = c->cseq;
	}
	c->t += 0.001;
	assert_int_equal(rec_feed(d, c->st->ft, &pb, c->t), DECODE_TCP);
	if (from_client)
		c->cseq += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ?
		    1 : 0);
	else
		c->sseq += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ?
		    1 : 0);
}

static void
tc_open(struct tconn *c, struct stage *st, uint16_t cport, uint16_t sport,
    double t)
{
	memset(c, 0, sizeof(*c));
	c->st = st;
	c->cip = "10.0.0.1";
	c->sip = "10.0.0.2";
	c->cport = cport;
	c->sport = sport;
	c->cseq = 1000 + (uint32_t)(t * 1000);	/* a new ISN each time */
	c->sseq = 5000;
	c->t = t;
	seg(c, true, TCP_SYN, NULL, 0);
	seg(c, false, TCP_SYN | TCP_ACK, NULL, 0);
	seg(c, true, TCP_ACK, NULL, 0);
}

static void
tc_send(struct tconn *c, bool from_client, const char *s)
{
	seg(c, from_client, TCP_ACK | TCP_PSH, s, strlen(s));
}

static void
tc_fin(struct tconn *c)
{
	seg(c, true, TCP_ACK | TCP_FIN, NULL, 0);
	seg(c, false, TCP_ACK | TCP_FIN, NULL, 0);
	seg(c, true, TCP_ACK, NULL, 0);
}

/* A whole mail transaction, the server's side first or in turn. */
static void
tc_mail(struct tconn *c)
{
	tc_send(c, true, "EHLO pc.example.org\r\n");
	tc_send(c, false, "250-mx\r\n250 PIPELINING\r\n");
	tc_send(c, true, "MAIL FROM:<a@example.org>\r\n");
	tc_send(c, false, "250 ok\r\n");
	tc_send(c, true, "RCPT TO:<b@example.net>\r\n");
	tc_send(c, false, "250 ok\r\n");
	tc_send(c, true, "DATA\r\n");
	tc_send(c, false, "354 go\r\n");
	tc_send(c, true, "Subject: x\r\n\r\nhello\r\n.\r\n");
	tc_send(c, false, "250 queued\r\n");
	tc_send(c, true, "QUIT\r\n");
	tc_send(c, false, "221 bye\r\n");
}

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
test_port_25_is_smtp_from_its_first_byte(void **state)
{
	struct stage st;
	struct tconn c;
	char uid[24];

	stage_open(&st, false);
	tc_open(&c, &st, 40000, 25, 10);
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_mail(&c);
	tc_fin(&c);
	stage_close(&st);
	assert_int_equal(out.nrec, 1);
	assert_int_equal(out.rec[0].status, RECORD_ACCEPTED);
	assert_string_equal(out.rec[0].mail_from, "a@example.org");
	assert_string_equal(out.rec[0].helo, "pc.example.org");
	assert_int_equal(out.rec[0].rcpt_code, 250);
	assert_int_equal(out.nsum, 1);
	assert_int_equal(out.sum[0].transactions, 1);
	assert_string_equal(out.sum[0].end_state, "closed");
	/* One id for the records and the summary, starting with C. */
	assert_string_equal(out.rec[0].uid, out.sum[0].uid);
	assert_int_equal(out.rec[0].uid[0], 'C');
	assert_int_equal(strlen(out.rec[0].uid), 12);
	strcpy(uid, out.rec[0].uid);
	assert_int_equal(session_stage_get_stats(st.ss)->sessions, 1);
	assert_int_equal(session_stage_get_stats(st.ss)->records, 1);
	assert_int_equal(session_stage_get_stats(st.ss)->status[
	    RECORD_ACCEPTED], 1);
	stage_free(&st);

	/* The same packets give the same id; a later start, another. */
	stage_open(&st, false);
	tc_open(&c, &st, 40000, 25, 10);
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_mail(&c);
	tc_fin(&c);
	tc_open(&c, &st, 40000, 25, 20);
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_mail(&c);
	tc_fin(&c);
	stage_close(&st);
	assert_int_equal(out.nrec, 2);
	assert_string_equal(out.rec[0].uid, uid);
	assert_string_not_equal(out.rec[1].uid, uid);
	stage_free(&st);
}

static void
test_other_port_ignored_without_any_port(void **state)
{
	struct stage st;
	struct tconn c;

	stage_open(&st, false);
	tc_open(&c, &st, 40000, 8025, 10);
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_mail(&c);
	tc_fin(&c);
	stage_close(&st);
	assert_int_equal(out.nrec, 0);
	assert_int_equal(out.nsum, 0);
	assert_int_equal(session_stage_get_stats(st.ss)->sessions, 0);
	stage_free(&st);
}

static void
test_any_port_finds_smtp_by_greeting(void **state)
{
	struct stage st;
	struct tconn c;

	stage_open(&st, true);
	tc_open(&c, &st, 40000, 8025, 10);
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_mail(&c);
	tc_fin(&c);
	/* Not SMTP: an HTTP exchange on another port. */
	tc_open(&c, &st, 40001, 8080, 11);
	tc_send(&c, true, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	tc_send(&c, false, "HTTP/1.1 200 OK\r\n\r\n");
	tc_fin(&c);
	stage_close(&st);
	assert_int_equal(out.nrec, 1);
	assert_int_equal(out.rec[0].status, RECORD_ACCEPTED);
	assert_int_equal(out.nsum, 1);
	assert_int_equal(session_stage_get_stats(st.ss)->probed, 2);
	assert_int_equal(session_stage_get_stats(st.ss)->sessions, 1);
	stage_free(&st);
}

static void
test_any_port_finds_smtp_inside_http_connect(void **state)
{
	struct stage st;
	struct tconn c;

	stage_open(&st, true);
	tc_open(&c, &st, 40000, 3128, 10);
	tc_send(&c, true, "CONNECT mx.example.net:25 HTTP/1.1\r\n"
	    "Host: mx.example.net:25\r\n\r\n");
	tc_send(&c, false, "HTTP/1.1 200 Connection established\r\n\r\n");
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_mail(&c);
	tc_fin(&c);
	stage_close(&st);
	assert_int_equal(out.nrec, 1);
	assert_int_equal(out.rec[0].status, RECORD_ACCEPTED);
	assert_int_equal(session_stage_get_stats(st.ss)->tunnels, 1);
	stage_free(&st);
}

/* Issue 8 §5f: a session with no transaction still counts its anomalies. */
static void
test_anomalies_of_session_without_transaction_counted(void **state)
{
	struct stage st;
	struct tconn c;
	const struct session_stats *ss;

	stage_open(&st, false);
	tc_open(&c, &st, 40000, 25, 10);
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_send(&c, true, "EHLO pc\n");		/* bare LF */
	tc_send(&c, false, "250 mx\r\n");
	tc_send(&c, true, "QUIT\r\n");
	tc_send(&c, false, "221 bye\r\n");
	tc_fin(&c);
	stage_close(&st);
	ss = session_stage_get_stats(st.ss);
	assert_int_equal(out.nrec, 0);
	assert_int_equal(out.nsum, 1);
	assert_int_equal(out.sum[0].transactions, 0);
	assert_true(out.sum[0].events[SMTP_EV_BARE_LF] >= 1);
	assert_int_equal(ss->events[SMTP_EV_BARE_LF],
	    out.sum[0].events[SMTP_EV_BARE_LF]);
	stage_free(&st);
}

/* A timed-out session's open transaction is incomplete, and summarised. */
static void
test_open_session_ends_with_the_capture(void **state)
{
	struct stage st;
	struct tconn c;

	stage_open(&st, false);
	tc_open(&c, &st, 40000, 25, 10);
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_send(&c, true, "HELO pc\r\n");
	tc_send(&c, false, "250 mx\r\n");
	tc_send(&c, true, "MAIL FROM:<a@example.org>\r\n");
	tc_send(&c, false, "250 ok\r\n");
	tc_send(&c, true, "RCPT TO:<b@example.net>\r\n");
	tc_send(&c, false, "250 ok\r\n");
	tc_send(&c, true, "DATA\r\n");
	tc_send(&c, false, "354 go\r\n");
	tc_send(&c, true, "Subject: x\r\n\r\nhel");
	stage_close(&st);
	assert_int_equal(out.nrec, 1);
	assert_int_equal(out.rec[0].status, RECORD_INCOMPLETE);
	assert_int_equal(out.nsum, 1);
	assert_string_equal(out.sum[0].end_state, "open");
	stage_free(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_25_is_smtp_from_its_first_byte),
		cmocka_unit_test(test_other_port_ignored_without_any_port),
		cmocka_unit_test(test_any_port_finds_smtp_by_greeting),
		cmocka_unit_test(test_any_port_finds_smtp_inside_http_connect),
		cmocka_unit_test(
		    test_anomalies_of_session_without_transaction_counted),
		cmocka_unit_test(test_open_session_ends_with_the_capture),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
