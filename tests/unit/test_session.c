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

#include "common/mem.h"
#include "pktbuild.h"
#include "session/session.h"

#define MAX_OUT	64

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
stage_open_max(struct stage *st, bool any_port, size_t max_flows)
{
	struct session_config cfg;
	struct flow_config fcfg;

	memset(&out, 0, sizeof(out));
	memset(&cfg, 0, sizeof(cfg));
	cfg.ports = smtp_ports;
	cfg.nports = 2;
	cfg.any_port = any_port;
	assert_int_equal(flow_config_default(&fcfg), 0);
	fcfg.max_flows = max_flows;
	fcfg.server_ports = smtp_ports;
	fcfg.nserver_ports = 2;
	st->ss = session_stage_new(&cfg, &ops, NULL);
	assert_non_null(st->ss);
	st->ft = flow_table_new(&fcfg, session_stage_flow_ops(), st->ss);
	assert_non_null(st->ft);
}

static void
stage_open(struct stage *st, bool any_port)
{
	stage_open_max(st, any_port, 64);
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
tc_sendn(struct tconn *c, bool from_client, const char *s, size_t len)
{
	seg(c, from_client, TCP_ACK | TCP_PSH, s, len);
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
	assert_int_equal(session_stage_get_stats(st.ss)->probe[PROBE_CNT_HTTP_TUNNEL], 1);
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


/* Issue 8 §5d: the probe judges the first line, not the first segment. */
static void
test_any_port_banner_split_across_segments(void **state)
{
	struct stage st;
	struct tconn c;

	stage_open(&st, true);
	tc_open(&c, &st, 40000, 8025, 10);
	tc_send(&c, false, "2");
	tc_send(&c, false, "20 mx ESMTP\r\n");
	tc_mail(&c);
	tc_fin(&c);
	/* One byte at a time, the client's EHLO first (before the 220). */
	tc_open(&c, &st, 40001, 8025, 11);
	tc_send(&c, true, "E");
	tc_send(&c, true, "HLO pc.example.org\r");
	tc_send(&c, true, "\n");
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_send(&c, false, "250 mx\r\n");
	tc_send(&c, true, "MAIL FROM:<a@example.org>\r\n");
	tc_send(&c, false, "250 ok\r\n");
	tc_send(&c, true, "RCPT TO:<b@example.net>\r\n");
	tc_send(&c, false, "250 ok\r\n");
	tc_send(&c, true, "QUIT\r\n");
	tc_send(&c, false, "221 bye\r\n");
	tc_fin(&c);
	stage_close(&st);
	assert_int_equal(out.nrec, 2);
	assert_int_equal(out.rec[0].status, RECORD_ACCEPTED);
	assert_int_equal(out.rec[0].rcpt_code, 250);
	assert_string_equal(out.rec[1].helo, "pc.example.org");
	assert_string_equal(out.rec[1].mail_from, "a@example.org");
	assert_int_equal(out.rec[1].rcpt_code, 250);
	assert_int_equal(session_stage_get_stats(st.ss)->probe_not_smtp, 0);
	stage_free(&st);
}

/* A worm's client that starts with MAIL: the greeting settles it. */
static void
test_any_port_client_mail_first_waits_for_greeting(void **state)
{
	struct stage st;
	struct tconn c;

	stage_open(&st, true);
	tc_open(&c, &st, 40000, 8025, 10);
	tc_send(&c, true, "MAIL FROM:<w@example.org>\r\n");
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_send(&c, false, "250 ok\r\n");
	tc_send(&c, true, "RCPT TO:<b@example.net>\r\n");
	tc_send(&c, false, "550 no\r\n");
	tc_fin(&c);
	stage_close(&st);
	assert_int_equal(session_stage_get_stats(st.ss)->sessions, 1);
	assert_int_equal(out.nrec, 1);
	assert_string_equal(out.rec[0].mail_from, "w@example.org");
	stage_free(&st);
}

static void
test_any_port_not_smtp(void **state)
{
	static char big[3000];
	struct stage st;
	struct tconn c;
	const struct session_stats *ss;

	stage_open(&st, true);
	tc_open(&c, &st, 40000, 2222, 10);
	tc_send(&c, false, "SSH-2.0-OpenSSH_9.2\r\n");
	tc_send(&c, true, "SSH-2.0-OpenSSH_9.2\r\n");
	tc_fin(&c);
	/* No line in the first LIMIT_PROBE_BYTES: given up, counted. */
	memset(big, 'x', sizeof(big));
	tc_open(&c, &st, 40001, 9999, 11);
	tc_sendn(&c, true, big, sizeof(big));
	tc_fin(&c);
	stage_close(&st);
	ss = session_stage_get_stats(st.ss);
	assert_int_equal(ss->sessions, 0);
	assert_int_equal(ss->probed, 2);
	assert_int_equal(ss->probe_not_smtp, 2);
	assert_int_equal(ss->probe[PROBE_CNT_FULL], 1);
	assert_int_equal(out.nsum, 0);
	stage_free(&st);
}

static void
test_any_port_http_connect_split(void **state)
{
	struct stage st;
	struct tconn c;

	stage_open(&st, true);
	tc_open(&c, &st, 40000, 8080, 10);
	tc_send(&c, true, "CONN");
	tc_send(&c, true, "ECT mx.example.net:25 HTTP/1.1\r\n");
	tc_send(&c, true, "Host: mx.example.net:25\r\n\r\n");
	tc_send(&c, false, "HTTP/1.1 200 OK\r\n\r\n220 mx ESMTP\r\n");
	tc_mail(&c);
	tc_fin(&c);
	/* A refusing proxy: nothing to follow. */
	tc_open(&c, &st, 40001, 8080, 11);
	tc_send(&c, true, "CONNECT mx.example.net:25 HTTP/1.1\r\n\r\n");
	tc_send(&c, false, "HTTP/1.1 403 Forbidden\r\n\r\n");
	tc_fin(&c);
	stage_close(&st);
	assert_int_equal(out.nrec, 1);
	assert_int_equal(out.rec[0].status, RECORD_ACCEPTED);
	assert_int_equal(session_stage_get_stats(st.ss)->probe[
	    PROBE_CNT_HTTP_TUNNEL], 1);
	assert_int_equal(session_stage_get_stats(st.ss)->probe[
	    PROBE_CNT_TUNNEL_REFUSED], 1);
	stage_free(&st);
}

static void
test_any_port_socks4_and_4a(void **state)
{
	/* VN 4, CONNECT, port 25, 192.0.2.25, user "u" */
	static const char s4[] = "\x04\x01\x00\x19\xc0\x00\x02\x19u";
	/* 4a: IP 0.0.0.1, user "", then the name */
	static const char s4a[] = "\x04\x01\x00\x19\x00\x00\x00\x01"
	    "\0mx.example.net";
	static const char ok[] = "\x00\x5a\x00\x19\xc0\x00\x02\x19";
	struct stage st;
	struct tconn c;

	stage_open(&st, true);
	tc_open(&c, &st, 40000, 1080, 10);
	tc_sendn(&c, true, s4, sizeof(s4));	/* with its NUL */
	tc_sendn(&c, false, ok, 8);
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_mail(&c);
	tc_fin(&c);
	tc_open(&c, &st, 40001, 1080, 11);
	tc_sendn(&c, true, s4a, 10);		/* split inside the name */
	tc_sendn(&c, true, s4a + 10, sizeof(s4a) - 10);
	tc_sendn(&c, false, ok, 8);
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_mail(&c);
	tc_fin(&c);
	stage_close(&st);
	assert_int_equal(out.nrec, 2);
	assert_int_equal(out.rec[0].status, RECORD_ACCEPTED);
	assert_int_equal(out.rec[1].status, RECORD_ACCEPTED);
	assert_int_equal(session_stage_get_stats(st.ss)->probe[
	    PROBE_CNT_SOCKS4_TUNNEL], 2);
	stage_free(&st);
}

static void
test_any_port_socks5(void **state)
{
	static const char offer[] = "\x05\x02\x00\x02";
	static const char user_pass[] = "\x05\x01\x02";
	static const char login[] = "\x01\x03" "bob" "\x06" "secret";
	static const char req[] = "\x05\x01\x00\x03\x0emx.example.net"
	    "\x00\x19";
	static const char rep[] = "\x05\x00\x00\x01\xc0\x00\x02\x19"
	    "\x00\x19";
	static const char refused[] = "\x05\x05\x00\x01\x00\x00\x00\x00"
	    "\x00\x00";
	struct stage st;
	struct tconn c;

	stage_open(&st, true);
	/* No authentication; the request and the greeting in one go. */
	tc_open(&c, &st, 40000, 1080, 10);
	tc_sendn(&c, true, offer, 4);
	tc_sendn(&c, false, "\x05\x00", 2);
	tc_sendn(&c, true, req, sizeof(req) - 1);
	tc_sendn(&c, false, rep, sizeof(rep) - 1);
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_mail(&c);
	tc_fin(&c);
	/* RFC 1929 user and password. */
	tc_open(&c, &st, 40001, 1080, 11);
	tc_sendn(&c, true, user_pass, 3);
	tc_sendn(&c, false, "\x05\x02", 2);
	tc_sendn(&c, true, login, sizeof(login) - 1);
	tc_sendn(&c, false, "\x01\x00", 2);
	tc_sendn(&c, true, req, sizeof(req) - 1);
	tc_sendn(&c, false, rep, sizeof(rep) - 1);
	tc_send(&c, false, "220 mx ESMTP\r\n");
	tc_mail(&c);
	tc_fin(&c);
	/* Refused (connection refused by the destination). */
	tc_open(&c, &st, 40002, 1080, 12);
	tc_sendn(&c, true, offer, 4);
	tc_sendn(&c, false, "\x05\x00", 2);
	tc_sendn(&c, true, req, sizeof(req) - 1);
	tc_sendn(&c, false, refused, sizeof(refused) - 1);
	tc_fin(&c);
	stage_close(&st);
	assert_int_equal(out.nrec, 2);
	assert_int_equal(out.rec[0].status, RECORD_ACCEPTED);
	assert_int_equal(out.rec[1].status, RECORD_ACCEPTED);
	assert_int_equal(session_stage_get_stats(st.ss)->probe[
	    PROBE_CNT_SOCKS5_TUNNEL], 2);
	assert_int_equal(session_stage_get_stats(st.ss)->probe[
	    PROBE_CNT_TUNNEL_REFUSED], 1);
	stage_free(&st);
}

/* Issue 8 §3: a SYN flood allocates no session state. */
static void
test_no_session_before_first_payload(void **state)
{
	struct stage st;
	struct tconn c;
	int i;

	stage_open(&st, true);
	for (i = 0; i < 20; i++) {
		tc_open(&c, &st, (uint16_t)(41000 + i), 25, 10 + i * 0.01);
		tc_fin(&c);
	}
	stage_close(&st);
	assert_int_equal(session_stage_get_stats(st.ss)->sessions, 0);
	assert_int_equal(session_stage_get_stats(st.ss)->probed, 0);
	assert_int_equal(out.nsum, 0);
	stage_free(&st);
}


/* A spoofed SYN to port 25 from 11.x.y.z: one packet, never answered. */
static void
spoofed_syn(struct stage *st, int i, double t)
{
	char src[32];
	struct pb pb = { .dst = "10.0.0.2", .sport = (uint16_t)(1024 + i),
	    .dport = 25, .seq = (uint32_t)i * 7919u, .flags = TCP_SYN };

	snprintf(src, sizeof(src), "11.%d.%d.%d", (i >> 16) & 255,
	    (i >> 8) & 255, i & 255);
	pb.src = src;
	assert_int_equal(rec_feed(d, st->ft, &pb, t), DECODE_TCP);
}

static void
envelope(struct tconn *c)
{
	tc_send(c, false, "220 mx ESMTP\r\n");
	tc_send(c, true, "EHLO pc.example.org\r\n");
	tc_send(c, false, "250 mx\r\n");
	tc_send(c, true, "MAIL FROM:<a@example.org>\r\n");
	tc_send(c, false, "250 ok\r\n");
	tc_send(c, true, "RCPT TO:<b@example.net>\r\n");
	tc_send(c, false, "250 ok\r\n");
}

/*
 * Issue 8 §3: a SYN flood in the pause of a real session, far more SYNs
 * than the table holds, evicts half-open connections, not the session:
 * it keeps its id, its HELO and its whole record.
 */
static void
test_syn_flood_does_not_evict_mail_in_flight(void **state)
{
	struct stage st;
	struct tconn c;
	const struct flow_table_stats *fs;
	int i;

	stage_open_max(&st, false, 16);
	tc_open(&c, &st, 40000, 25, 10);
	envelope(&c);
	for (i = 0; i < 500; i++)
		spoofed_syn(&st, i, 10.5 + i * 1e-4);
	c.t = 11;
	tc_send(&c, true, "DATA\r\n");
	tc_send(&c, false, "354 go\r\n");
	tc_send(&c, true, "Subject: x\r\n\r\nhello\r\n.\r\n");
	tc_send(&c, false, "250 queued\r\n");
	tc_send(&c, true, "QUIT\r\n");
	tc_send(&c, false, "221 bye\r\n");
	tc_fin(&c);
	fs = flow_table_get_stats(st.ft);
	assert_true(fs->evicted[2] >= 500 - 16);	/* "opening" */
	assert_int_equal(fs->evicted[4], 0);		/* "mail" */
	stage_close(&st);
	assert_int_equal(out.nrec, 1);
	assert_int_equal(out.rec[0].status, RECORD_ACCEPTED);
	assert_string_equal(out.rec[0].helo, "pc.example.org");
	assert_int_equal(session_stage_get_stats(st.ss)->sessions, 1);
	stage_free(&st);
}

/* With only established connections left, idle ones go before mail. */
static void
test_idle_session_evicted_before_mail_in_flight(void **state)
{
	struct stage st;
	struct tconn idle, mail, third;
	const struct flow_table_stats *fs;

	stage_open_max(&st, false, 2);
	tc_open(&mail, &st, 40000, 25, 10);
	envelope(&mail);
	tc_open(&idle, &st, 40001, 25, 11);
	tc_send(&idle, false, "220 mx ESMTP\r\n");
	tc_send(&idle, true, "EHLO idle.example.org\r\n");
	tc_send(&idle, false, "250 mx\r\n");
	/* The mail session is the least recently active: still it stays. */
	tc_open(&third, &st, 40002, 25, 12);
	fs = flow_table_get_stats(st.ft);
	assert_int_equal(fs->evicted[3], 1);		/* "idle" */
	assert_int_equal(fs->evicted[4], 0);
	assert_int_equal(out.nsum, 1);
	assert_string_equal(out.sum[0].end_state, "evicted");
	stage_close(&st);
	/* The mail session's record is whole (ended with the capture). */
	assert_int_equal(out.nrec, 1);
	assert_string_equal(out.rec[0].mail_from, "a@example.org");
	assert_int_equal(out.rec[0].status, RECORD_INCOMPLETE);
	stage_free(&st);
}

/*
 * The memory budget: sessions holding many recipients pass it; the flow
 * table evicts (mail in flight, the only kind here) until under it, and
 * the evicted ones come out incomplete, counted.
 */
static void
test_memory_budget_evicts_and_counts(void **state)
{
	char line[64];
	struct stage st;
	struct tconn c;
	struct mem_stats ms;
	const struct flow_table_stats *fs;
	int i, k;

	mem_reset();
	mem_set_limit(256 * 1024);
	stage_open(&st, false);
	for (i = 0; i < 40; i++) {
		tc_open(&c, &st, (uint16_t)(40000 + i), 25, 10 + i);
		envelope(&c);
		for (k = 0; k < 100; k++) {
			snprintf(line, sizeof(line),
			    "RCPT TO:<user%03d@example.net>\r\n", k);
			tc_send(&c, true, line);
			tc_send(&c, false, "250 ok\r\n");
		}
		mem_get_stats(&ms);
		/* Over by at most what one packet's handling can add. */
		assert_true(ms.used < 256 * 1024 + 64 * 1024);
	}
	fs = flow_table_get_stats(st.ft);
	assert_true(fs->memcap_hits > 0);
	assert_true(fs->memcap_evictions > 0);
	assert_int_equal(fs->memcap_evictions, fs->evicted[4]);
	stage_close(&st);
	assert_true(out.nrec > 0);
	for (i = 0; i < out.nrec; i++)
		assert_int_equal(out.rec[i].status, RECORD_INCOMPLETE);
	stage_free(&st);
	mem_get_stats(&ms);
	assert_true(ms.layer_peak[MEM_SESSIONS] > 0);
	mem_reset();
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
		cmocka_unit_test(test_any_port_banner_split_across_segments),
		cmocka_unit_test(
		    test_any_port_client_mail_first_waits_for_greeting),
		cmocka_unit_test(test_any_port_not_smtp),
		cmocka_unit_test(test_any_port_http_connect_split),
		cmocka_unit_test(test_any_port_socks4_and_4a),
		cmocka_unit_test(test_any_port_socks5),
		cmocka_unit_test(test_no_session_before_first_payload),
		cmocka_unit_test(test_syn_flood_does_not_evict_mail_in_flight),
		cmocka_unit_test(test_idle_session_evicted_before_mail_in_flight),
		cmocka_unit_test(test_memory_budget_evicts_and_counts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
