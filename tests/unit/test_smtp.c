/*
 * test_smtp.c: the SMTP session parser. Each conversation is a script of
 * (direction, bytes) steps; it is fed whole, byte by byte, and at random
 * split points, and the event log must come out identical every time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_assert.h"

#include "common/limits.h"
#include "smtp/smtp.h"

/* Steps are written { dir, "bytes" } with len left out (0). */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define C	SMTP_C2S
#define S	SMTP_S2C

struct step {
	enum smtp_dir	 dir;
	const char	*bytes;
	size_t		 len;		/* 0: strlen; (size_t)-1: a gap of 10 */
};

struct log {
	char	text[16384];
	size_t	len;
	char	data[65536];	/* the message being received */
	size_t	dlen;
};

static void	tlog(struct log *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
tlog(struct log *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->text + l->len, sizeof(l->text) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n;
	assert_true(l->len < sizeof(l->text));
}

static void
on_cmd(void *arg, const struct smtp_cmd *c)
{
	tlog(arg, "CMD %s [%.*s]", smtp_cmd_name(c->id), (int)c->arg.len,
	    (const char *)c->arg.p);
	if (c->id == SMTP_CMD_MAIL || c->id == SMTP_CMD_RCPT)
		tlog(arg, " path=<%.*s>%s", (int)c->path.len,
		    (const char *)c->path.p, c->path_ok ? "" : " BAD");
	if (c->id == SMTP_CMD_BDAT)
		tlog(arg, " size=%llu%s%s", (unsigned long long)c->bdat_size,
		    c->bdat_last ? " LAST" : "", c->bdat_ok ? "" : " BAD");
	if (c->id == SMTP_CMD_AUTH)
		tlog(arg, " mech=%.*s", (int)c->auth_mech.len,
		    (const char *)c->auth_mech.p);
	tlog(arg, "\n");
}

static void
on_reply(void *arg, const struct smtp_cmd *c, const struct smtp_reply *r)
{
	tlog(arg, "REPLY %s %u [%.*s] lines=%u", c ? smtp_cmd_name(c->id) :
	    "-", r->code, (int)r->line.len, (const char *)r->line.p,
	    r->nlines);
	if (r->enhanced.len)
		tlog(arg, " enh=%.*s", (int)r->enhanced.len,
		    (const char *)r->enhanced.p);
	if (r->ext)
		tlog(arg, " ext=%x mechs=[%.*s]", r->ext,
		    (int)r->auth_mechs.len, (const char *)r->auth_mechs.p);
	tlog(arg, "\n");
}

static void
on_data(void *arg, const uint8_t *p, size_t n)
{
	struct log *l = arg;

	assert_true(l->dlen + n <= sizeof(l->data));
	memcpy(l->data + l->dlen, p, n);
	l->dlen += n;
}

static void
on_data_end(void *arg)
{
	struct log *l = arg;

	tlog(l, "MESSAGE %zu [%.*s]\n", l->dlen, (int)l->dlen, l->data);
	l->dlen = 0;
}

static void
on_tls(void *arg)
{
	tlog(arg, "TLS\n");
}

static void
on_gap(void *arg, enum smtp_dir d, uint64_t len)
{
	tlog(arg, "GAP %s %llu\n", d == C ? "c2s" : "s2c",
	    (unsigned long long)len);
}

static void
on_event(void *arg, enum smtp_event ev, enum smtp_dir d)
{
	tlog(arg, "EVENT %s %s\n", smtp_event_name(ev), d == C ? "c2s" : "s2c");
}

static const struct smtp_ops ops = { on_cmd, on_reply, on_data, on_data_end,
    on_tls, on_gap, on_event };

enum split { WHOLE, BYTES, RANDOM };

static void
run(const struct step *steps, size_t n, enum split how, unsigned seed,
    struct log *l)
{
	struct smtp_session *s;
	size_t i, off, len, k;

	memset(l, 0, sizeof(*l));
	srand(seed);
	s = smtp_session_new(&ops, l);
	assert_non_null(s);
	for (i = 0; i < n; i++) {
		if (steps[i].len == (size_t)-1) {
			smtp_session_gap(s, steps[i].dir, 10);
			continue;
		}
		len = steps[i].len ? steps[i].len : strlen(steps[i].bytes);
		for (off = 0; off < len; off += k) {
			k = len - off;
			if (how == BYTES)
				k = 1;
			else if (how == RANDOM)
				k = 1 + (size_t)rand() % k;
			smtp_session_feed(s, steps[i].dir,
			    (const uint8_t *)steps[i].bytes + off, k);
		}
	}
	smtp_session_end(s);
	if (l->dlen > 0)
		tlog(l, "PARTIAL %zu\n", l->dlen);
	smtp_session_free(s);
}

/* Feed three ways; the logs must agree. Returns the log (static). */
static const char *
feed_all_ways(const struct step *steps, size_t n)
{
	static struct log a, b;
	unsigned seed;

	run(steps, n, WHOLE, 0, &a);
	run(steps, n, BYTES, 0, &b);
	assert_string_equal(a.text, b.text);
	for (seed = 1; seed <= 20; seed++) {
		run(steps, n, RANDOM, seed, &b);
		assert_string_equal(a.text, b.text);
	}
	return a.text;
}

#define FEED(steps) feed_all_ways(steps, sizeof(steps) / sizeof(steps[0]))

static void
test_basic_transaction_with_dot_stuffing(void **state)
{
	static const struct step steps[] = {
		{ S, "220-mx.example.org ESMTP\r\n220 second line\r\n" },
		{ C, "EHLO pc.example.org\r\n" },
		{ S, "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
		    "250-AUTH PLAIN LOGIN\r\n250 CHUNKING\r\n" },
		{ C, "MAIL FROM:<alice@example.org> SIZE=100\r\n" },
		{ S, "250 2.1.0 Ok\r\n" },
		{ C, "RCPT TO:<bob@example.net>\r\n" },
		{ S, "250 2.1.5 Ok\r\n" },
		{ C, "DATA\r\n" },
		{ S, "354 End data with <CR><LF>.<CR><LF>\r\n" },
		{ C, "Subject: hi\r\n\r\n..hidden dot\r\nlast\r\n.\r\n" },
		{ S, "250 2.0.0 Ok: queued as 4F2A1\r\n" },
		{ C, "QUIT\r\n" },
		{ S, "221 2.0.0 Bye\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "REPLY - 220 [220 second line] lines=2\n");
	assert_has(log, "REPLY EHLO 250 [250 CHUNKING] lines=5 ext=1b "
	    "mechs=[PLAIN LOGIN]\n");
	assert_has(log, "CMD MAIL [FROM:<alice@example.org> SIZE=100] "
	    "path=<alice@example.org>\n");
	assert_has(log, "REPLY RCPT 250 [250 2.1.5 Ok] lines=1 enh=2.1.5\n");
	assert_has(log, "REPLY DATA 354");
	/* The stuffed dot is gone; the final dot line is not data. */
	assert_has(log, "MESSAGE 34 [Subject: hi\r\n\r\n.hidden dot\r\n"
	    "last\r\n]\n");
	assert_has(log, "REPLY DATA_END 250 [250 2.0.0 Ok: queued as 4F2A1]");
	assert_has(log, "REPLY QUIT 221");
	assert_lacks(log, "EVENT");
}

static void
test_pipelined_replies_matched_in_order(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx ESMTP\r\n" },
		{ C, "EHLO a\r\n" },
		{ S, "250-mx\r\n250 PIPELINING\r\n" },
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@y>\r\n"
		    "RCPT TO:<d@y>\r\nDATA\r\n" },
		{ S, "250 ok\r\n250 ok b\r\n550 5.1.1 no such user c\r\n" },
		{ S, "450 4.2.0 greylisted d\r\n354 go\r\n" },
		{ C, "x\r\n.\r\nQUIT\r\n" },
		{ S, "250 queued\r\n221 bye\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "REPLY MAIL 250 [250 ok]");
	assert_has(log, "REPLY RCPT 250 [250 ok b]");
	assert_has(log, "REPLY RCPT 550 [550 5.1.1 no such user c] lines=1 "
	    "enh=5.1.1");
	assert_has(log, "REPLY RCPT 450 [450 4.2.0 greylisted d]");
	assert_has(log, "MESSAGE 3 [x\r\n]");
	assert_has(log, "REPLY DATA_END 250 [250 queued]");
	assert_has(log, "REPLY QUIT 221");
	assert_lacks(log, "EVENT");
}

static void
test_pipelining_without_extension_is_reported(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "EHLO a\r\n" },
		{ S, "250 mx\r\n" },
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n" },
		{ S, "250 ok\r\n250 ok\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "EVENT pipelining_without_ext c2s");
}

static void
test_refused_data_means_commands_follow(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" },
		{ S, "250 ok\r\n550 no\r\n554 5.5.1 no valid recipients\r\n" },
		{ C, "RSET\r\nQUIT\r\n" },
		{ S, "250 ok\r\n221 bye\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "REPLY DATA 554");
	assert_has(log, "CMD RSET");
	assert_has(log, "REPLY RSET 250");
	assert_lacks(log, "MESSAGE");
}

static void
test_message_sent_before_354_is_held_then_taken(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" },
		{ C, "Subject: eager\r\n\r\nbody\r\n.\r\n" },
		{ S, "250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "MESSAGE 24 [Subject: eager\r\n\r\nbody\r\n]");
	assert_has(log, "REPLY DATA_END 250 [250 queued]");
}

static void
test_bdat_chunks_and_last(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "EHLO a\r\n" },
		{ S, "250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n" },
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n" },
		{ S, "250 ok\r\n250 ok\r\n" },
		/* The chunk holds "\r\n.\r\n", which is not an end in BDAT. */
		{ C, "BDAT 9\r\nab\r\n.\r\ncdBDAT 4 LAST\r\nefgh" },
		{ S, "250 9 octets\r\n250 message ok\r\n" },
		{ C, "MAIL FROM:<c@x>\r\nRCPT TO:<d@y>\r\nBDAT 0 LAST\r\n" },
		{ S, "250 ok\r\n250 ok\r\n250 empty ok\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "CMD BDAT [9] size=9\n");
	assert_has(log, "CMD BDAT [4 LAST] size=4 LAST\n");
	assert_has(log, "MESSAGE 13 [ab\r\n.\r\ncdefgh]\n");
	assert_has(log, "REPLY BDAT 250 [250 message ok]");
	assert_has(log, "CMD BDAT [0 LAST] size=0 LAST\nMESSAGE 0 []");
	assert_lacks(log, "EVENT");
}

static void
test_invalid_bdat_sends_no_chunk(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "BDAT 5 X\r\n" },
		{ S, "501 5.5.4 Syntax: BDAT count [LAST]\r\n" },
		{ C, "QUIT\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "EVENT invalid_bdat c2s");
	assert_has(log, "CMD QUIT");
}

static void
test_wrong_bdat_size_is_noticed(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "BDAT 3 LAST\r\nabcdef\r\nQUIT\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "EVENT bdat_size_mismatch c2s");
}

static void
test_auth_continuations_never_reported(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "AUTH LOGIN\r\n" },
		{ S, "334 VXNlcm5hbWU6\r\n" },
		{ C, "c2VjcmV0dXNlcg==\r\n" },
		{ S, "334 UGFzc3dvcmQ6\r\n" },
		{ C, "c2VjcmV0cGFzcw==\r\n" },
		{ S, "535 5.7.8 Authentication failed\r\n" },
		{ C, "AUTH PLAIN AHVzZXIAcGFzcw==\r\n" },
		{ S, "235 2.7.0 Authentication successful\r\n" },
		{ C, "QUIT\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "CMD AUTH [LOGIN] mech=LOGIN\n");
	assert_has(log, "REPLY AUTH 334");
	assert_has(log, "REPLY AUTH 535");
	assert_has(log, "mech=PLAIN");
	assert_has(log, "REPLY AUTH 235");
	assert_lacks(log, "c2VjcmV0");
	assert_lacks(log, "unknown_command");
}

static void
test_starttls_then_nothing_parsed(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "EHLO a\r\n" },
		{ S, "250-mx\r\n250 STARTTLS\r\n" },
		{ C, "STARTTLS\r\n" },
		{ S, "220 2.0.0 Ready to start TLS\r\n" },
		{ C, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11 },
		{ S, "\x16\x03\x03\x00\x5a", 5 },
		{ C, "MAIL FROM:<not@parsed>\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "REPLY STARTTLS 220");
	assert_has(log, "TLS\n");
	assert_lacks(log, "not@parsed");
	assert_lacks(log, "EVENT");
}

static void
test_starttls_refused_goes_on_in_clear(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "STARTTLS\r\n" },
		{ S, "454 4.7.0 TLS not available\r\n" },
		{ C, "MAIL FROM:<a@x>\r\n" },
	};
	const char *log = FEED(steps);

	assert_lacks(log, "TLS\n");
	assert_has(log, "path=<a@x>");
}

static void
test_commands_pipelined_after_starttls_are_reported(void **state)
{
	/* CVE-2011-0411: injected commands ride along with STARTTLS. */
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "STARTTLS\r\nRSET\r\n" },
		{ S, "220 go ahead\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "EVENT starttls_pipelined c2s");
}

static void
test_implicit_tls_is_recognised(void **state)
{
	static const struct step steps[] = {
		{ C, "\x16\x03\x01\x00\x10", 5 },
		{ S, "\x16\x03\x03\x00\x10", 5 },
	};
	const char *log = FEED(steps);

	assert_string_equal(log, "TLS\n");
}

static void
test_smuggling_dot_forms_do_not_end_data(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" },
		{ S, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ C, "line\n.\r\nMAIL FROM:<smuggled@x>\r\n.\nend\r\n.\r\n" },
		{ S, "250 queued\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "EVENT smuggling_dot c2s");
	/* The smuggled command stays message data, not a command. */
	assert_lacks(log, "path=<smuggled@x>");
	assert_has(log, "MESSAGE 37 [line\n\r\nMAIL FROM:<smuggled@x>\r\n\n"
	    "end\r\n]");
}

static void
test_bare_lf_and_nul_are_reported(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "HELO a\n" },
		{ S, "250 ok\r\n" },
		{ C, "NOOP x\0y\r\n", 10 },
	};
	const char *log = FEED(steps);

	assert_has(log, "EVENT bare_lf c2s");
	assert_has(log, "EVENT nul_byte c2s");
	assert_has(log, "CMD HELO [a]");
}

static void
test_overlong_command_is_cut_and_still_parsed(void **state)
{
	static char line[8000];
	static struct step steps[3];
	const char *log;

	memcpy(line, "RCPT TO:<", 9);
	memset(line + 9, 'x', sizeof(line) - 20);
	memcpy(line + sizeof(line) - 11, "@y>\r\nQUIT\r\n", 11);
	steps[0] = (struct step){ S, "220 mx\r\n", 0 };
	steps[1] = (struct step){ C, line, sizeof(line) };
	steps[2] = (struct step){ S, "250 ok\r\n", 0 };
	log = feed_all_ways(steps, 3);
	assert_has(log, "EVENT command_too_long c2s");
	assert_has(log, "CMD RCPT");
	assert_has(log, "CMD QUIT");
}

static void
test_one_sided_client_capture(void **state)
{
	static const struct step steps[] = {
		{ C, "EHLO a\r\nAUTH LOGIN\r\ndXNlcg==\r\ncGFzcw==\r\n" },
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" },
		{ C, "Subject: s\r\n\r\nb\r\n.\r\nQUIT\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "CMD AUTH [LOGIN]");
	assert_lacks(log, "dXNlcg");
	assert_has(log, "MESSAGE 17 [Subject: s\r\n\r\nb\r\n]");
	assert_has(log, "CMD QUIT");
	assert_lacks(log, "EVENT");
}

static void
test_gap_in_message_resyncs_at_its_end(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" },
		{ S, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ C, "first\r\nsec" },
		{ C, NULL, (size_t)-1 },
		{ C, "ond half\r\nlast\r\n.\r\nQUIT\r\n" },
		{ S, "250 queued\r\n221 bye\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "GAP c2s 10");
	assert_has(log, "MESSAGE 26 [first\r\nsecond half\r\nlast\r\n]");
	assert_has(log, "REPLY DATA_END 250");
	assert_has(log, "REPLY QUIT 221");
}

static void
test_gap_in_commands_skips_to_next_line(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "MAIL FR" },
		{ C, NULL, (size_t)-1 },
		{ C, "xx\r\nRSET\r\n" },
	};
	const char *log = FEED(steps);

	assert_lacks(log, "CMD MAIL");
	assert_has(log, "CMD RSET");
}

static void
test_unexpected_reply_and_code_mismatch(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ S, "250 nothing asked\r\n" },
		{ S, "421 shutting down\r\n" },
		{ C, "NOOP\r\n" },
		{ S, "250-a\r\n251 b\r\n" },
		{ S, "not a reply\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "EVENT unexpected_reply s2c");
	assert_has(log, "EVENT reply_code_mismatch s2c");
	assert_has(log, "EVENT invalid_reply s2c");
	/* 421 may come at any time: reported once, for the 250 only. */
	assert_true(strstr(strstr(log, "unexpected_reply") + 1,
	    "unexpected_reply") == NULL);
}

static void
test_unknown_command_is_counted(void **state)
{
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "XYZZY now\r\n" },
		{ S, "500 5.5.2 what\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "EVENT unknown_command c2s");
	assert_has(log, "REPLY UNKNOWN 500");
}

static void
test_pending_queue_is_capped(void **state)
{
	static char cmds[(LIMIT_SMTP_PENDING + 10) * 6 + 1];
	static struct step steps[3];
	const char *log;
	size_t i;

	for (i = 0; i < LIMIT_SMTP_PENDING + 10; i++)
		memcpy(cmds + i * 6, "NOOP\r\n", 6);
	steps[0] = (struct step){ S, "220 mx\r\n", 0 };
	steps[1] = (struct step){ C, cmds, (LIMIT_SMTP_PENDING + 10) * 6 };
	steps[2] = (struct step){ S, "250 ok\r\n", 0 };
	log = feed_all_ways(steps, 3);
	assert_has(log, "EVENT pending_overflow c2s");
	assert_has(log, "REPLY NOOP 250");
}

static void
test_commands_before_the_greeting_are_answered_after_it(void **state)
{
	/* A spam bot's engine: everything at once, before the 220. */
	static const struct step steps[] = {
		{ C, "HELO bot\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"
		    "Subject: s\r\n\r\nbody\r\n.\r\nQUIT\r\n" },
		{ S, "220 mx ESMTP\r\n250 mx\r\n250 2.1.0 ok\r\n"
		    "250 2.1.5 ok\r\n354 go\r\n250 queued\r\n221 bye\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "REPLY - 220 [220 mx ESMTP]");
	assert_has(log, "REPLY HELO 250 [250 mx]");
	assert_has(log, "REPLY MAIL 250 [250 2.1.0 ok]");
	assert_has(log, "REPLY RCPT 250 [250 2.1.5 ok]");
	assert_has(log, "REPLY DATA 354");
	assert_has(log, "REPLY DATA_END 250 [250 queued]");
	assert_has(log, "REPLY QUIT 221");
	assert_has(log, "MESSAGE 20 [Subject: s\r\n\r\nbody\r\n]");
	assert_lacks(log, "unexpected_reply");
}

static void
test_554_greeting_refuses_service_then_503s(void **state)
{
	/* RFC 5321 §3.1: 554 instead of 220, then 503 to every command. */
	static const struct step steps[] = {
		{ C, "EHLO bot\r\nMAIL FROM:<a@x>\r\n" },
		{ S, "554 5.7.1 no SMTP service here\r\n"
		    "503 5.5.1 bad sequence\r\n503 5.5.1 bad sequence\r\n" },
		{ C, "QUIT\r\n" },
		{ S, "221 bye\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "REPLY - 554 [554 5.7.1 no SMTP service here]");
	assert_has(log, "REPLY EHLO 503");
	assert_has(log, "REPLY MAIL 503");
	assert_has(log, "REPLY QUIT 221");
}

static void
test_first_reply_of_a_picked_up_session_answers_a_command(void **state)
{
	/* No greeting seen (capture began mid-session): no shift. */
	static const struct step steps[] = {
		{ C, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n" },
		{ S, "250 ok\r\n550 no\r\n" },
		{ C, "STARTTLS\r\n" },
		{ S, "220 go ahead\r\n" },
	};
	const char *log = FEED(steps);

	assert_has(log, "REPLY MAIL 250");
	assert_has(log, "REPLY RCPT 550");
	assert_has(log, "REPLY STARTTLS 220");
}

static void
test_starttls_220_then_clear_text_goes_on(void **state)
{
	/* Two colluding ends: 220 to STARTTLS, then no handshake. */
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "EHLO a\r\n" },
		{ S, "250-mx\r\n250 STARTTLS\r\n" },
		{ C, "STARTTLS\r\n" },
		{ S, "220 2.0.0 Ready to start TLS\r\n" },
		{ C, "EHLO a\r\n" },
		{ S, "250 mx\r\n" },
		{ C, "MAIL FROM:<hidden@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n" },
		{ S, "250 ok\r\n250 ok\r\n354 go\r\n" },
		{ C, "hidden\r\n.\r\nQUIT\r\n" },
		{ S, "250 queued\r\n221 bye\r\n" },
	};
	const char *log = FEED(steps);

	assert_lacks(log, "TLS\n");
	assert_has(log, "REPLY STARTTLS 220");
	assert_has(log, "EVENT starttls_not_tls c2s\nCMD EHLO [a]");
	assert_has(log, "CMD MAIL [FROM:<hidden@x>] path=<hidden@x>");
	assert_has(log, "MESSAGE 8 [hidden\r\n]");
	assert_has(log, "REPLY DATA_END 250 [250 queued]");
}

static void
test_starttls_220_then_tls_record_split_is_tls(void **state)
{
	/* Fed byte by byte too: five bytes decide. */
	static const struct step tls12[] = {
		{ S, "220 mx\r\n" },
		{ C, "STARTTLS\r\n" },
		{ S, "220 go ahead\r\n" },
		{ C, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11 },
		{ C, "MAIL FROM:<not@parsed>\r\n" },
	};
	/* An SSL 2.0-compatible ClientHello (RFC 5246 Appendix E.2). */
	static const struct step sslv2[] = {
		{ S, "220 mx\r\n" },
		{ C, "STARTTLS\r\n" },
		{ S, "220 go ahead\r\n" },
		{ C, "\x80\x2e\x01\x03\x01\x00\x15", 7 },
		{ C, "MAIL FROM:<not@parsed>\r\n" },
	};
	/* Connection ends with a TLS record begun: TLS. */
	static const struct step cut[] = {
		{ S, "220 mx\r\n" },
		{ C, "STARTTLS\r\n" },
		{ S, "220 go ahead\r\n" },
		{ C, "\x16\x03", 2 },
	};
	const char *log;

	log = FEED(tls12);
	assert_has(log, "TLS\n");
	assert_lacks(log, "not@parsed");
	assert_lacks(log, "starttls_not_tls");
	log = FEED(sslv2);
	assert_has(log, "TLS\n");
	assert_lacks(log, "not@parsed");
	log = FEED(cut);
	assert_has(log, "TLS\n");
}

static void
test_starttls_220_then_tls_lookalike_is_clear_text(void **state)
{
	/* 0x16 then no TLS version: not TLS; the bytes are a line. */
	static const struct step steps[] = {
		{ S, "220 mx\r\n" },
		{ C, "STARTTLS\r\n" },
		{ S, "220 go ahead\r\n" },
		{ C, "\x16\x04x\r\nMAIL FROM:<seen@x>\r\n" },
		{ S, "500 what\r\n250 ok\r\n" },
	};
	const char *log = FEED(steps);

	assert_lacks(log, "TLS\n");
	assert_has(log, "EVENT starttls_not_tls c2s");
	assert_has(log, "CMD UNKNOWN");
	assert_has(log, "REPLY UNKNOWN 500");
	assert_has(log, "REPLY MAIL 250");
}

static void
test_server_bytes_after_starttls_220_wait_for_the_client(void **state)
{
	/* A ServerHello ordered before the ClientHello: no reply parsed. */
	static const struct step tls[] = {
		{ S, "220 mx\r\n" },
		{ C, "STARTTLS\r\n" },
		{ S, "220 go ahead\r\n" },
		{ S, "\x16\x03\x03\x00\x5a\x02\x00\x00\x56", 9 },
		{ C, "\x16\x03\x01\x02\x00\x01", 6 },
	};
	/* Clear text: the held reply is parsed when the client speaks. */
	static const struct step clear[] = {
		{ S, "220 mx\r\n" },
		{ C, "STARTTLS\r\n" },
		{ S, "220 go ahead\r\n" },
		{ S, "250 unasked\r\n" },
		{ C, "NOOP\r\n" },
		{ S, "250 ok\r\n" },
	};
	const char *log;

	log = FEED(tls);
	assert_has(log, "TLS\n");
	assert_lacks(log, "invalid_reply");
	log = FEED(clear);
	assert_has(log, "EVENT starttls_not_tls c2s\n"
	    "EVENT unexpected_reply s2c\nREPLY - 250 [250 unasked]");
	assert_has(log, "REPLY NOOP 250 [250 ok]");
}

static void
test_overlong_line_ending_crlf_is_no_bare_lf(void **state)
{
	static char line[LIMIT_SMTP_LINE + 100];
	static struct step steps[4];
	const char *log;

	memset(line, 'x', sizeof(line));
	memcpy(line, "NOOP ", 5);
	memcpy(line + sizeof(line) - 2, "\r\n", 2);
	steps[0] = (struct step){ S, "220 mx\r\n", 0 };
	steps[1] = (struct step){ C, line, sizeof(line) };
	steps[2] = (struct step){ S, "250 ok\r\n", 0 };
	/* The same with a bare LF: reported. */
	steps[3] = (struct step){ C, "NOOP\n", 0 };
	log = feed_all_ways(steps, 3);
	assert_has(log, "EVENT command_too_long c2s");
	assert_lacks(log, "bare_lf");
	line[sizeof(line) - 2] = 'x';
	log = feed_all_ways(steps, 3);
	assert_has(log, "EVENT command_too_long c2s");
	assert_has(log, "EVENT bare_lf c2s");
}

static void
test_auth_mechanism_list_past_the_cap_is_reported(void **state)
{
	static char reply[LIMIT_SMTP_AUTH_MECHS + 100];
	static struct step steps[3];
	const char *log;
	size_t n;

	n = (size_t)snprintf(reply, sizeof(reply), "250-mx\r\n250 AUTH");
	while (n + 8 < sizeof(reply))
		n += (size_t)snprintf(reply + n, sizeof(reply) - n, " PLAIN");
	n += (size_t)snprintf(reply + n, sizeof(reply) - n, "\r\n");
	steps[0] = (struct step){ S, "220 mx\r\n", 0 };
	steps[1] = (struct step){ C, "EHLO a\r\n", 0 };
	steps[2] = (struct step){ S, reply, n };
	log = feed_all_ways(steps, 3);
	assert_has(log, "EVENT auth_mechs_too_long s2c");
}

static void
test_looks_like_smtp(void **state)
{
	assert_true(smtp_looks_like(S, (const uint8_t *)"220 mx ESMTP\r\n", 14));
	assert_true(smtp_looks_like(C, (const uint8_t *)"ehlo x\r\n", 8));
	assert_false(smtp_looks_like(S, (const uint8_t *)"HTTP/1.1 200", 12));
	assert_false(smtp_looks_like(C, (const uint8_t *)"GET / HTTP", 10));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_transaction_with_dot_stuffing),
		cmocka_unit_test(test_pipelined_replies_matched_in_order),
		cmocka_unit_test(test_pipelining_without_extension_is_reported),
		cmocka_unit_test(test_refused_data_means_commands_follow),
		cmocka_unit_test(test_message_sent_before_354_is_held_then_taken),
		cmocka_unit_test(test_bdat_chunks_and_last),
		cmocka_unit_test(test_invalid_bdat_sends_no_chunk),
		cmocka_unit_test(test_wrong_bdat_size_is_noticed),
		cmocka_unit_test(test_auth_continuations_never_reported),
		cmocka_unit_test(test_starttls_then_nothing_parsed),
		cmocka_unit_test(test_starttls_refused_goes_on_in_clear),
		cmocka_unit_test(test_commands_pipelined_after_starttls_are_reported),
		cmocka_unit_test(test_implicit_tls_is_recognised),
		cmocka_unit_test(test_smuggling_dot_forms_do_not_end_data),
		cmocka_unit_test(test_bare_lf_and_nul_are_reported),
		cmocka_unit_test(test_overlong_command_is_cut_and_still_parsed),
		cmocka_unit_test(test_one_sided_client_capture),
		cmocka_unit_test(test_gap_in_message_resyncs_at_its_end),
		cmocka_unit_test(test_gap_in_commands_skips_to_next_line),
		cmocka_unit_test(test_unexpected_reply_and_code_mismatch),
		cmocka_unit_test(test_unknown_command_is_counted),
		cmocka_unit_test(test_pending_queue_is_capped),
		cmocka_unit_test(test_looks_like_smtp),
		cmocka_unit_test(test_commands_before_the_greeting_are_answered_after_it),
		cmocka_unit_test(test_554_greeting_refuses_service_then_503s),
		cmocka_unit_test(test_first_reply_of_a_picked_up_session_answers_a_command),
		cmocka_unit_test(test_starttls_220_then_clear_text_goes_on),
		cmocka_unit_test(test_starttls_220_then_tls_record_split_is_tls),
		cmocka_unit_test(test_starttls_220_then_tls_lookalike_is_clear_text),
		cmocka_unit_test(test_server_bytes_after_starttls_220_wait_for_the_client),
		cmocka_unit_test(test_overlong_line_ending_crlf_is_no_bare_lf),
		cmocka_unit_test(test_auth_mechanism_list_past_the_cap_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
