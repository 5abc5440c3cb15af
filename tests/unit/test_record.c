/*
 * test_record.c: SMTP conversations to transaction records. Each script is
 * fed whole, byte by byte and at random split points; the records, written
 * in the native JSON format, must be identical every time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_assert.h"

#include "common/dbuf.h"
#include "output/output_int.h"
#include "record/record.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define C	SMTP_C2S
#define S	SMTP_S2C
#define GAP	((size_t)-1)

struct step {
	enum smtp_dir	 dir;
	const char	*bytes;
	size_t		 len;		/* 0: strlen; GAP: a gap of 10 */
};

struct out {
	struct dbuf	 json;
	unsigned	 n;
	enum record_status status[16];
	uint64_t	 size[16];
	bool		 size_known[16];
};

static void
on_record(void *arg, const struct record *r)
{
	struct out *o = arg;

	assert_int_equal(r->trans_depth, o->n + 1);
	if (o->n < 16) {
		o->status[o->n] = r->status;
		o->size[o->n] = r->size;
		o->size_known[o->n] = r->size_known;
	}
	o->n++;
	assert_int_equal(output_native(&o->json, r, o->n), 0);
}

static const struct record_ops ops = { on_record };

static size_t
count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

enum split { WHOLE, BYTES, RANDOM };

static struct record_config run_cfg;

static void
run(const struct step *steps, size_t n, enum split how, unsigned seed,
    bool timed_out, struct out *o)
{
	struct record_conn conn;
	struct record_session *rs;
	size_t i, off, len, k;

	memset(&conn, 0, sizeof(conn));
	strcpy(conn.uid, "Ctest");
	conn.client.af = conn.server.af = 4;
	conn.client.ip[0] = 10;
	conn.client.ip[3] = 1;
	conn.server.ip[0] = 10;
	conn.server.ip[3] = 25;
	conn.client.port = 40000;
	conn.server.port = 25;
	dbuf_reset(&o->json);
	o->n = 0;
	srand(seed);
	rs = record_session_new(&conn, &run_cfg, &ops, o);
	assert_non_null(rs);
	for (i = 0; i < n; i++) {
		if (steps[i].len == GAP) {
			record_session_gap(rs, steps[i].dir, 10);
			continue;
		}
		len = steps[i].len ? steps[i].len : strlen(steps[i].bytes);
		for (off = 0; off < len; off += k) {
			k = len - off;
			if (how == BYTES)
				k = 1;
			else if (how == RANDOM)
				k = 1 + (size_t)rand() % k;
			record_session_feed(rs, steps[i].dir,
			    (const uint8_t *)steps[i].bytes + off, k,
			    1700000000000000000ull + i * 1000000ull);
		}
	}
	record_session_end(rs, timed_out);
	record_session_free(rs);
	dbuf_addc(&o->json, '\0');
}

static struct out res;

static const char *
feed(const struct step *steps, size_t n, bool timed_out)
{
	static struct out other;
	unsigned seed;

	dbuf_fini(&res.json);		/* the previous test's */
	dbuf_init(&res.json, 1 << 20);
	dbuf_init(&other.json, 1 << 20);
	run(steps, n, WHOLE, 0, timed_out, &res);
	run(steps, n, BYTES, 0, timed_out, &other);
	assert_string_equal(res.json.p, other.json.p);
	for (seed = 1; seed <= 10; seed++) {
		run(steps, n, RANDOM, seed, timed_out, &other);
		assert_string_equal(res.json.p, other.json.p);
	}
	dbuf_fini(&other.json);
	return (const char *)res.json.p;
}

#define FEED(s) feed(s, sizeof(s) / sizeof(s[0]), false)

#define GREET	{ S, "220 mx.example.org ESMTP\r\n" }, \
		{ C, "EHLO pc.example.org\r\n" }, \
		{ S, "250-mx.example.org\r\n250-PIPELINING\r\n250 CHUNKING\r\n" }

static void
test_accepted_transaction_record(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "MAIL FROM:<alice@example.org>\r\n" },
		{ S, "250 2.1.0 Ok\r\n" },
		{ C, "RCPT TO:<bob@example.net>\r\n" },
		{ S, "250 2.1.5 Ok\r\n" },
		{ C, "RCPT TO:<nobody@example.net>\r\n" },
		{ S, "550 5.1.1 <nobody@example.net>: User unknown\r\n" },
		{ C, "DATA\r\n" },
		{ S, "354 go\r\n" },
		{ C, "Subject: x\r\n\r\n..dot\r\n.\r\n" },
		{ S, "250 2.0.0 Ok: queued as 4F2A1\r\n" },
		{ C, "QUIT\r\n" },
		{ S, "221 bye\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 1);
	assert_int_equal(res.status[0], RECORD_ACCEPTED);
	assert_true(res.size_known[0]);
	assert_int_equal(res.size[0], 20);
	assert_has(j, "\"session\":\"Ctest\",\"trans_depth\":1,");
	assert_has(j, "\"client\":{\"ip\":\"10.0.0.1\",\"port\":40000}");
	assert_has(j, "\"banner\":\"220 mx.example.org ESMTP\"");
	assert_has(j, "\"helo\":\"pc.example.org\"");
	assert_has(j, "\"mail_from\":\"alice@example.org\"");
	assert_has(j, "\"rcpt\":[{\"addr\":\"bob@example.net\",\"code\":250,"
	    "\"enhanced\":\"2.1.5\"},{\"addr\":\"nobody@example.net\","
	    "\"code\":550,\"enhanced\":\"5.1.1\"}]");
	assert_has(j, "\"status\":\"accepted\"");
	assert_has(j, "\"last_reply\":\"250 2.0.0 Ok: queued as 4F2A1\"");
	assert_has(j, "\"size\":20");
	assert_has(j, "\"anomalies\":[]");
}

static void
test_null_sender_is_empty_string(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "MAIL FROM:<>\r\nRCPT TO:<b@y>\r\n" },
		{ S, "250 ok\r\n250 ok\r\n" },
		{ C, "QUIT\r\n" },
	};
	const char *j = FEED(s);

	assert_has(j, "\"mail_from\":\"\"");
	assert_has(j, "\"status\":\"aborted\"");
}

static void
test_every_recipient_refused_is_rejected(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\n"
		    "DATA\r\n" },
		{ S, "250 ok\r\n550 no\r\n553 no\r\n554 no valid recipients\r\n" },
		{ C, "QUIT\r\n" },
		{ S, "221 bye\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 1);
	assert_int_equal(res.status[0], RECORD_REJECTED);
	assert_has(j, "\"last_reply\":\"554 no valid recipients\"");
	assert_has(j, "\"size\":null");
	assert_has(j, "\"header\":null");
}

static void
test_refused_mail_is_rejected(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "MAIL FROM:<spam@x>\r\n" },
		{ S, "550 5.7.1 go away\r\n" },
		{ C, "QUIT\r\n" },
	};

	FEED(s);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.status[0], RECORD_REJECTED);
}

static void
test_rejected_end_of_data_is_rejected(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" },
		{ S, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ C, "virus\r\n.\r\n" },
		{ S, "554 5.7.1 infected\r\n" },
	};

	FEED(s);
	assert_int_equal(res.status[0], RECORD_REJECTED);
	assert_true(res.size_known[0]);
	assert_int_equal(res.size[0], 7);
}

static void
test_rset_aborts_and_next_transaction_is_depth_two(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n" },
		{ S, "250 ok\r\n250 ok\r\n" },
		{ C, "RSET\r\n" },
		{ S, "250 reset\r\n" },
		{ C, "MAIL FROM:<c@x>\r\nRCPT TO:<d@y>\r\nDATA\r\n" },
		{ S, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ C, "hi\r\n.\r\n" },
		{ S, "250 queued\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 2);
	assert_int_equal(res.status[0], RECORD_ABORTED);
	assert_int_equal(res.status[1], RECORD_ACCEPTED);
	assert_has(j, "\"trans_depth\":2");
	assert_has(j, "\"mail_from\":\"c@x\"");
}

static void
test_ehlo_mid_transaction_resets_it(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n" },
		{ S, "250 ok\r\n250 ok\r\n" },
		{ C, "EHLO again\r\n" },
		{ S, "250 mx\r\n" },
		{ C, "MAIL FROM:<c@x>\r\n" },
		{ S, "250 ok\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 2);
	assert_int_equal(res.status[0], RECORD_ABORTED);
	assert_has(j, "\"helo\":\"pc.example.org\"");
	assert_has(j, "\"helo\":\"again\"");
}

static void
test_pipelined_next_mail_before_final_reply(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nBDAT 3 LAST\r\nabc"
		    "MAIL FROM:<c@x>\r\nRCPT TO:<d@y>\r\nBDAT 5 LAST\r\ndefgh"
		    "QUIT\r\n" },
		{ S, "250 ok\r\n250 ok\r\n250 msg 1\r\n250 ok\r\n250 ok\r\n"
		    "250 msg 2\r\n221 bye\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 2);
	assert_int_equal(res.status[0], RECORD_ACCEPTED);
	assert_int_equal(res.status[1], RECORD_ACCEPTED);
	assert_int_equal(res.size[0], 3);
	assert_int_equal(res.size[1], 5);
	assert_has(j, "\"last_reply\":\"250 msg 1\"");
	assert_has(j, "\"last_reply\":\"250 msg 2\"");
}

static void
test_connection_end_before_final_reply_is_aborted(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" },
		{ S, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ C, "x\r\n.\r\n" },
	};

	FEED(s);
	assert_int_equal(res.status[0], RECORD_ABORTED);
	/* The same, ended by the idle timeout: the outcome is hidden. */
	feed(s, sizeof(s) / sizeof(s[0]), true);
	assert_int_equal(res.status[0], RECORD_INCOMPLETE);
}

static void
test_gap_makes_it_incomplete_and_size_unknown(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" },
		{ S, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ C, "part one\r\n" },
		{ C, NULL, GAP },
		{ C, "part two\r\n.\r\n" },
		{ S, "250 queued\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.status[0], RECORD_INCOMPLETE);
	assert_has(j, "\"size\":null");
	assert_has(j, "\"gap\"");
}

static void
test_client_side_only_keeps_envelope(void **state)
{
	static const struct step s[] = {
		{ C, "EHLO a\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" },
		{ C, "Subject: s\r\n\r\nbody\r\n.\r\n" },
		{ C, "MAIL FROM:<c@x>\r\nRCPT TO:<d@y>\r\nDATA\r\nz\r\n.\r\n"
		    "QUIT\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 2);
	assert_int_equal(res.status[0], RECORD_INCOMPLETE);
	assert_int_equal(res.size[0], 20);
	assert_has(j, "\"rcpt\":[{\"addr\":\"b@y\",\"code\":null}]");
	assert_has(j, "\"mail_from\":\"c@x\"");
}

static void
test_starttls_gives_a_tls_record(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "STARTTLS\r\n" },
		{ S, "220 go ahead\r\n" },
		{ C, "\x16\x03\x01\x00\x05hello", 10 },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 1);
	assert_int_equal(res.status[0], RECORD_TLS);
	assert_has(j, "\"tls\":true");
	assert_has(j, "\"mail_from\":null,\"rcpt\":[]");
}

static void
test_auth_mechanism_and_outcome_never_secret(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "AUTH LOGIN\r\n" },
		{ S, "334 VXNlcm5hbWU6\r\n" },
		{ C, "dXNlcg==\r\n" },
		{ S, "334 UGFzc3dvcmQ6\r\n" },
		{ C, "c2VjcmV0\r\n" },
		{ S, "535 5.7.8 failed\r\n" },
		{ C, "AUTH PLAIN AHUAcA==\r\n" },
		{ S, "235 ok\r\n" },
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nQUIT\r\n" },
		{ S, "250 ok\r\n250 ok\r\n221 bye\r\n" },
	};
	const char *j = FEED(s);

	assert_has(j, "\"auth\":{\"mechanism\":\"PLAIN\",\"result\":\"success\","
	    "\"attempts\":2}");
	assert_has(j, "\"auth_failed\"");
	assert_lacks(j, "dXNlcg");
	assert_lacks(j, "c2VjcmV0");
	assert_lacks(j, "AHUAcA");
}

static void
test_auth_user_only_when_asked_and_never_the_password(void **state)
{
	/* PLAIN initial response: "\0alice\0s3cret"; LOGIN: "bob", "pw". */
	static const struct step plain[] = {
		GREET,
		{ C, "AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n" },
		{ S, "235 ok\r\n" },
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nQUIT\r\n" },
		{ S, "250 ok\r\n250 ok\r\n221 bye\r\n" },
	};
	static const struct step login[] = {
		GREET,
		{ C, "AUTH LOGIN\r\n" },
		{ S, "334 VXNlcm5hbWU6\r\n" },
		{ C, "Ym9i\r\n" },
		{ S, "334 UGFzc3dvcmQ6\r\n" },
		{ C, "cHc=\r\n" },
		{ S, "235 ok\r\n" },
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nQUIT\r\n" },
		{ S, "250 ok\r\n250 ok\r\n221 bye\r\n" },
	};
	const char *j;

	j = FEED(plain);
	assert_lacks(j, "\"user\"");		/* not asked */
	run_cfg.auth_user = true;
	j = FEED(plain);
	assert_has(j, "\"mechanism\":\"PLAIN\",\"result\":\"success\","
	    "\"attempts\":1,\"user\":\"alice\"");
	assert_lacks(j, "s3cret");
	assert_lacks(j, "AGFsaWNl");
	j = FEED(login);
	assert_has(j, "\"user\":\"bob\"");
	assert_lacks(j, "\"pw\"");
	assert_lacks(j, "cHc=");
	run_cfg.auth_user = false;
}

static void
test_nested_mail_refused_keeps_one_transaction(void **state)
{
	/* RFC 5321 §4.1.1.2: the 503'd MAIL does not end the transaction. */
	static const struct step s[] = {
		GREET,
		{ C, "MAIL FROM:<alice@x>\r\nRCPT TO:<b@y>\r\n"
		    "RCPT TO:<c@y>\r\n" },
		{ S, "250 ok\r\n250 ok\r\n250 ok\r\n" },
		{ C, "MAIL FROM:<mallory@x>\r\nRCPT TO:<d@y>\r\n"
		    "RCPT TO:<e@y>\r\nDATA\r\n" },
		{ S, "503 5.5.1 nested MAIL command\r\n250 ok\r\n"
		    "550 5.1.1 no e\r\n354 go\r\n" },
		{ C, "hi\r\n.\r\n" },
		{ S, "250 queued\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 1);
	assert_int_equal(res.status[0], RECORD_ACCEPTED);
	assert_has(j, "\"mail_from\":\"alice@x\"");
	/* The merged recipients keep their own replies. */
	assert_has(j, "{\"addr\":\"b@y\",\"code\":250},{\"addr\":\"c@y\","
	    "\"code\":250},{\"addr\":\"d@y\",\"code\":250},"
	    "{\"addr\":\"e@y\",\"code\":550,\"enhanced\":\"5.1.1\"}");
}

static void
test_rcpt_before_mail_is_out_of_sequence(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "RCPT TO:<b@y>\r\n" },
		{ S, "503 5.5.1 need MAIL first\r\n" },
		{ C, "QUIT\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 1);
	assert_int_equal(res.status[0], RECORD_REJECTED);
	assert_has(j, "\"out_of_sequence\"");
	assert_has(j, "\"mail_from\":null");
}

static void
test_recipients_past_the_cap_are_counted(void **state)
{
	static char buf[LIMIT_SMTP_RCPT * 20 + 100];
	static struct step s[4];
	size_t off = 0;
	int i;

	off += (size_t)sprintf(buf, "MAIL FROM:<a@x>\r\n");
	for (i = 0; i < LIMIT_SMTP_RCPT + 5; i++)
		off += (size_t)sprintf(buf + off, "RCPT TO:<u%d@y>\r\n", i);
	s[0] = (struct step){ S, "220 mx\r\n", 0 };
	s[1] = (struct step){ C, buf, off };
	s[2] = (struct step){ C, "QUIT\r\n", 0 };
	dbuf_fini(&res.json);
	dbuf_init(&res.json, 1 << 22);
	run(s, 3, WHOLE, 0, false, &res);
	assert_has((const char *)res.json.p, "\"too_many_recipients\"");
	assert_has((const char *)res.json.p, "\"addr\":\"u999@y\"");
	assert_lacks((const char *)res.json.p, "\"addr\":\"u1000@y\"");
}

static void
test_whole_conversation_before_the_greeting(void **state)
{
	/* RFC 5321 §3.1: the 220 answers the connection, not the HELO. */
	static const struct step s[] = {
		{ C, "HELO bot.example\r\nMAIL FROM:<a@x>\r\n"
		    "RCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\nDATA\r\n"
		    "Subject: s\r\n\r\nbody\r\n.\r\nQUIT\r\n" },
		{ S, "220 mx.example.org ESMTP\r\n250 mx\r\n250 2.1.0 ok\r\n"
		    "250 2.1.5 ok\r\n550 5.1.1 no c\r\n354 go\r\n"
		    "250 2.0.0 queued as X1\r\n221 bye\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 1);
	assert_int_equal(res.status[0], RECORD_ACCEPTED);
	assert_true(res.size_known[0]);
	assert_int_equal(res.size[0], 20);
	assert_has(j, "\"banner\":\"220 mx.example.org ESMTP\"");
	assert_has(j, "\"helo\":\"bot.example\"");
	assert_has(j, "\"rcpt\":[{\"addr\":\"b@y\",\"code\":250,"
	    "\"enhanced\":\"2.1.5\"},{\"addr\":\"c@y\",\"code\":550,"
	    "\"enhanced\":\"5.1.1\"}]");
	assert_has(j, "\"last_reply\":\"250 2.0.0 queued as X1\"");
	assert_lacks(j, "unexpected_reply");
}

static void
test_554_greeting_rejects_what_was_sent_before_it(void **state)
{
	/*
	 * Service refused (RFC 5321 §3.1): every command gets 503, the
	 * message lines are commands to the server, never a message.
	 */
	static const struct step s[] = {
		{ C, "HELO bot\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"
		    "spam\r\n.\r\nQUIT\r\n" },
		{ S, "554 5.7.1 go away\r\n503 5.5.1 bad sequence\r\n"
		    "503 5.5.1 bad sequence\r\n503 5.5.1 bad sequence\r\n"
		    "503 5.5.1 bad sequence\r\n502 5.5.2 what\r\n"
		    "502 5.5.2 what\r\n221 bye\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 1);
	assert_int_equal(res.status[0], RECORD_REJECTED);
	assert_false(res.size_known[0]);
	assert_has(j, "\"banner\":\"554 5.7.1 go away\"");
	assert_has(j, "\"helo\":null");
	assert_has(j, "\"code\":503");
}

static void
test_ehlo_pipelined_with_the_envelope_is_one_transaction(void **state)
{
	/* The EHLO's 250 closes what was begun before it, not after. */
	static const struct step s[] = {
		{ S, "220 mx.example.org ESMTP\r\n" },
		{ C, "EHLO pc.example.org\r\nMAIL FROM:<a@x>\r\n"
		    "RCPT TO:<b@y>\r\nDATA\r\n" },
		{ S, "250-mx\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n"
		    "354 go\r\n" },
		{ C, "hi\r\n.\r\nQUIT\r\n" },
		{ S, "250 queued\r\n221 bye\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 1);
	assert_int_equal(res.status[0], RECORD_ACCEPTED);
	assert_int_equal(res.size[0], 4);
	assert_has(j, "\"helo\":\"pc.example.org\"");
	assert_has(j, "\"mail_from\":\"a@x\"");
}

static void
test_starttls_220_then_clear_text_is_recorded(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "STARTTLS\r\n" },
		{ S, "220 2.0.0 Ready to start TLS\r\n" },
		{ C, "EHLO pc.example.org\r\n" },
		{ S, "250 mx\r\n" },
		{ C, "MAIL FROM:<hidden@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" },
		{ S, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ C, "Subject: hidden\r\n\r\nx\r\n.\r\n" },
		{ S, "250 queued\r\n" },
		{ C, "MAIL FROM:<second@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" },
		{ S, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ C, "y\r\n.\r\nQUIT\r\n" },
		{ S, "250 queued\r\n221 bye\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 2);
	assert_int_equal(res.status[0], RECORD_ACCEPTED);
	assert_int_equal(res.status[1], RECORD_ACCEPTED);
	assert_has(j, "\"mail_from\":\"hidden@x\"");
	assert_has(j, "\"mail_from\":\"second@x\"");
	assert_has(j, "\"subject\":\"hidden\"");
	assert_lacks(j, "\"tls\":true");
	assert_lacks(j, "\"status\":\"tls\"");
	/* Both records carry it, the second too. */
	assert_has(j, "\"trans_depth\":2,");
	assert_int_equal(count_of(j, "\"starttls_not_tls\""), 2);
}

static void
test_session_over_only_once_the_client_speaks_tls(void **state)
{
	static const char *const pre[] = {
		"220 mx\r\n", "EHLO a\r\n", "250 mx\r\n", "STARTTLS\r\n",
		"220 go ahead\r\n",
	};
	struct record_session_info info;
	struct record_conn conn;
	struct record_session *rs;
	struct out o;
	size_t i;

	memset(&conn, 0, sizeof(conn));
	memset(&o, 0, sizeof(o));
	dbuf_init(&o.json, 1 << 16);
	/* TLS follows: over at the ClientHello, not at the 220. */
	rs = record_session_new(&conn, NULL, &ops, &o);
	assert_non_null(rs);
	for (i = 0; i < 5; i++)
		record_session_feed(rs, i % 2 ? C : S,
		    (const uint8_t *)pre[i], strlen(pre[i]), 1);
	assert_false(record_session_is_over(rs));
	assert_int_equal(o.n, 0);
	record_session_feed(rs, C, (const uint8_t *)"\x16\x03\x01\x02\x00",
	    5, 2);
	assert_true(record_session_is_over(rs));
	assert_int_equal(o.n, 1);
	assert_int_equal(o.status[0], RECORD_TLS);
	record_session_end(rs, false);
	record_session_free(rs);
	/* Clear text follows: never over by TLS; the session says so. */
	o.n = 0;
	rs = record_session_new(&conn, NULL, &ops, &o);
	for (i = 0; i < 5; i++)
		record_session_feed(rs, i % 2 ? C : S,
		    (const uint8_t *)pre[i], strlen(pre[i]), 1);
	record_session_feed(rs, C, (const uint8_t *)"NOOP\r\n", 6, 2);
	assert_false(record_session_is_over(rs));
	record_session_get_info(rs, &info);
	assert_false(info.tls);
	assert_int_equal(info.events[SMTP_EV_STARTTLS_NOT_TLS], 1);
	record_session_end(rs, false);
	record_session_free(rs);
	assert_int_equal(o.n, 0);
	dbuf_fini(&o.json);
}

static void
test_refused_helo_is_not_the_helo(void **state)
{
	static const struct step refused_only[] = {
		{ S, "220 mx\r\n" },
		{ C, "EHLO bad..name\r\n" },
		{ S, "501 5.5.2 invalid domain\r\n" },
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nQUIT\r\n" },
		{ S, "250 ok\r\n250 ok\r\n221 bye\r\n" },
	};
	/* Refused after an accepted one: the accepted one stays. */
	static const struct step refused_after[] = {
		GREET,
		{ C, "EHLO bad..name\r\n" },
		{ S, "501 5.5.2 invalid domain\r\n" },
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nQUIT\r\n" },
		{ S, "250 ok\r\n250 ok\r\n221 bye\r\n" },
	};
	/* Refused with the envelope pipelined after it. */
	static const struct step refused_pipelined[] = {
		GREET,
		{ C, "HELO bad..name\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n"
		    "QUIT\r\n" },
		{ S, "501 5.5.2 invalid domain\r\n250 ok\r\n250 ok\r\n"
		    "221 bye\r\n" },
	};
	const char *j;

	j = FEED(refused_only);
	assert_has(j, "\"helo\":null");
	assert_lacks(j, "bad..name");
	j = FEED(refused_after);
	assert_has(j, "\"helo\":\"pc.example.org\"");
	assert_lacks(j, "bad..name");
	j = FEED(refused_pipelined);
	assert_int_equal(res.n, 1);
	assert_has(j, "\"helo\":\"pc.example.org\"");
	assert_lacks(j, "bad..name");
}

static void
test_session_info_counts_events_outside_transactions(void **state)
{
	static const char *const steps[] = {
		"220 mx\r\n", "EHLO a\n", "250 mx\r\n", "XYZZY\r\n",
		"500 what\r\n",
	};
	struct record_session_info info;
	struct record_conn conn;
	struct record_session *rs;
	struct out o;
	size_t i;

	memset(&conn, 0, sizeof(conn));
	memset(&o, 0, sizeof(o));
	dbuf_init(&o.json, 1 << 16);
	rs = record_session_new(&conn, NULL, &ops, &o);
	assert_non_null(rs);
	for (i = 0; i < 5; i++)
		record_session_feed(rs, i % 2 ? C : S,
		    (const uint8_t *)steps[i], strlen(steps[i]), 1);
	record_session_end(rs, false);
	record_session_get_info(rs, &info);
	assert_int_equal(o.n, 0);
	assert_int_equal(info.transactions, 0);
	assert_int_equal(info.events[SMTP_EV_BARE_LF], 1);
	assert_int_equal(info.events[SMTP_EV_UNKNOWN_COMMAND], 1);
	assert_string_equal(info.helo, "a");
	record_session_free(rs);
	dbuf_fini(&o.json);
}

static void
test_auth_response_past_the_cap_is_reported(void **state)
{
	static char line[LIMIT_SMTP_AUTH_RESPONSE + 100];
	static struct step s[6];
	size_t n;

	n = (size_t)snprintf(line, sizeof(line), "AUTH PLAIN ");
	memset(line + n, 'A', sizeof(line) - n - 3);
	memcpy(line + sizeof(line) - 3, "\r\n", 3);
	s[0] = (struct step){ S, "220 mx\r\n", 0 };
	s[1] = (struct step){ C, "EHLO a\r\n", 0 };
	s[2] = (struct step){ S, "250 mx\r\n", 0 };
	s[3] = (struct step){ C, line, 0 };
	s[4] = (struct step){ S, "535 no\r\n", 0 };
	s[5] = (struct step){ C, "MAIL FROM:<a@x>\r\n", 0 };
	run_cfg.auth_user = true;
	feed(s, 6, false);
	run_cfg.auth_user = false;
	assert_has((const char *)res.json.p, "\"auth_response_too_long\"");
}

static void
test_forwarded_message_attachments_have_depths(void **state)
{
	static const struct step s[] = {
		GREET,
		{ C, "MAIL FROM:<alice@example.org>\r\n" },
		{ S, "250 2.1.0 Ok\r\n" },
		{ C, "RCPT TO:<bob@example.net>\r\n" },
		{ S, "250 2.1.5 Ok\r\n" },
		{ C, "DATA\r\n" },
		{ S, "354 go\r\n" },
		{ C, "Subject: outer\r\n"
		    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		    "--b\r\n"
		    "Content-Type: message/rfc822\r\n"
		    "Content-Disposition: attachment; filename=fwd.eml\r\n"
		    "\r\n"
		    "Subject: inner\r\n"
		    "Content-Disposition: attachment; filename=in.exe\r\n"
		    "\r\n"
		    "hello\r\n"
		    "--b\r\n"
		    "Content-Disposition: attachment; filename=own.txt\r\n"
		    "\r\n"
		    "hello\r\n"
		    "--b--\r\n"
		    ".\r\n" },
		{ S, "250 2.0.0 Ok\r\n" },
	};
	const char *j = FEED(s);

	assert_int_equal(res.n, 1);
	assert_has(j, "\"subject\":\"outer\"");
	/* The container whole, what it carries after it, then ours. */
	assert_has(j, "\"attachments\":[{\"filename\":\"fwd.eml\","
	    "\"content_type\":\"message/rfc822\",\"size\":73,");
	assert_has(j, "\"depth\":0},{\"filename\":\"in.exe\","
	    "\"content_type\":\"text/plain\",\"size\":5,\"sha256\":"
	    "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\","
	    "\"depth\":1},{\"filename\":\"own.txt\",");
	assert_has(j, "\"depth\":0}],\"anomalies\":[]");
}

static void
test_transactions_past_the_cap_settle_only_the_oldest(void **state)
{
	static char cbuf[LIMIT_RECORD_TX * 200], sbuf[LIMIT_RECORD_TX * 100];
	static struct step s[6];
	size_t co = 0, so = 0;
	int i, n = LIMIT_RECORD_TX + 2;

	/* Whole transactions pipelined with BDAT (RFC 3030 §4.2). */
	for (i = 0; i < n; i++) {
		co += (size_t)sprintf(cbuf + co, "MAIL FROM:<a%d@x>\r\n"
		    "RCPT TO:<b@y>\r\nBDAT 5 LAST\r\nhello", i);
		so += (size_t)sprintf(sbuf + so, "250 ok\r\n250 ok\r\n"
		    "250 queued %d\r\n", i);
	}
	s[0] = (struct step){ S, "220 mx\r\n", 0 };
	s[1] = (struct step){ C, "EHLO c\r\n", 0 };
	s[2] = (struct step){ S, "250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n",
	    0 };
	s[3] = (struct step){ C, cbuf, co };
	s[4] = (struct step){ S, sbuf, so };
	s[5] = (struct step){ C, "QUIT\r\n", 0 };
	feed(s, 6, false);
	assert_int_equal(res.n, n);
	/* One forced out for each transaction begun past the cap. */
	for (i = 0; i < 2; i++)
		assert_int_equal(res.status[i], RECORD_INCOMPLETE);
	for (; i < n; i++)
		assert_int_equal(res.status[i], RECORD_ACCEPTED);
	assert_has((const char *)res.json.p, "\"mail_from\":\"a0@x\"");
	assert_has((const char *)res.json.p, "\"pending_overflow\"");
	assert_has((const char *)res.json.p, "\"last_reply\":\"250 queued 9\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted_transaction_record),
		cmocka_unit_test(test_null_sender_is_empty_string),
		cmocka_unit_test(test_every_recipient_refused_is_rejected),
		cmocka_unit_test(test_refused_mail_is_rejected),
		cmocka_unit_test(test_rejected_end_of_data_is_rejected),
		cmocka_unit_test(test_rset_aborts_and_next_transaction_is_depth_two),
		cmocka_unit_test(test_ehlo_mid_transaction_resets_it),
		cmocka_unit_test(test_pipelined_next_mail_before_final_reply),
		cmocka_unit_test(test_connection_end_before_final_reply_is_aborted),
		cmocka_unit_test(test_gap_makes_it_incomplete_and_size_unknown),
		cmocka_unit_test(test_client_side_only_keeps_envelope),
		cmocka_unit_test(test_starttls_gives_a_tls_record),
		cmocka_unit_test(test_auth_mechanism_and_outcome_never_secret),
		cmocka_unit_test(test_auth_user_only_when_asked_and_never_the_password),
		cmocka_unit_test(test_nested_mail_refused_keeps_one_transaction),
		cmocka_unit_test(test_rcpt_before_mail_is_out_of_sequence),
		cmocka_unit_test(test_recipients_past_the_cap_are_counted),
		cmocka_unit_test(test_whole_conversation_before_the_greeting),
		cmocka_unit_test(test_554_greeting_rejects_what_was_sent_before_it),
		cmocka_unit_test(test_ehlo_pipelined_with_the_envelope_is_one_transaction),
		cmocka_unit_test(test_starttls_220_then_clear_text_is_recorded),
		cmocka_unit_test(test_session_over_only_once_the_client_speaks_tls),
		cmocka_unit_test(test_refused_helo_is_not_the_helo),
		cmocka_unit_test(test_session_info_counts_events_outside_transactions),
		cmocka_unit_test(test_auth_response_past_the_cap_is_reported),
		cmocka_unit_test(test_forwarded_message_attachments_have_depths),
		cmocka_unit_test(
		    test_transactions_past_the_cap_settle_only_the_oldest),
	};

	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	dbuf_fini(&res.json);
	return rc;
}
