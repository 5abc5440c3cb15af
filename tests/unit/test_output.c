/*
 * test_output.c: the line writers (json:, zeek:, eve:) on records built by
 * hand. Field names, null and absent fields, the EVE fileinfo events, and
 * hostile bytes: every line written must be valid JSON (RFC 8259) in valid
 * UTF-8 (RFC 3629), whatever the wire sent, which a small strict parser
 * here checks on every line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "text_assert.h"

#include "common/dbuf.h"
#include "output/output.h"
#include "output/output_int.h"
#include "record/record.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* ---- a strict JSON checker (RFC 8259 grammar, RFC 3629 UTF-8) ---------- */

struct jp {
	const unsigned char	*p;
	size_t			 n, i;
	int			 depth;
};

static bool	jp_value(struct jp *);

static void
jp_ws(struct jp *j)
{
	while (j->i < j->n && (j->p[j->i] == ' ' || j->p[j->i] == '\t' ||
	    j->p[j->i] == '\r' || j->p[j->i] == '\n'))
		j->i++;
}

static bool
jp_lit(struct jp *j, const char *s)
{
	size_t k = strlen(s);

	if (j->n - j->i < k || memcmp(j->p + j->i, s, k) != 0)
		return false;
	j->i += k;
	return true;
}

/* One UTF-8 sequence, shortest form, no surrogates, at most U+10FFFF. */
static bool
jp_utf8(struct jp *j)
{
	unsigned c = j->p[j->i], cp, k, need, min;

	if (c < 0x80)
		return false;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		cp = c & 0x07;
		min = 0x10000;
	} else
		return false;
	if (j->n - j->i < need + 1)
		return false;
	for (k = 1; k <= need; k++) {
		if ((j->p[j->i + k] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (j->p[j->i + k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	j->i += need + 1;
	return true;
}

static bool
jp_string(struct jp *j)
{
	unsigned char c;
	int k;

	if (!jp_lit(j, "\""))
		return false;
	while (j->i < j->n) {
		c = j->p[j->i];
		if (c == '"') {
			j->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (j->n - j->i < 2)
				return false;
			c = j->p[j->i + 1];
			if (c == 'u') {
				if (j->n - j->i < 6)
					return false;
				for (k = 2; k < 6; k++)
					if (strchr("0123456789abcdefABCDEF",
					    j->p[j->i + k]) == NULL ||
					    j->p[j->i + k] == '\0')
						return false;
				j->i += 6;
			} else if (strchr("\"\\/bfnrt", c) != NULL && c != 0) {
				j->i += 2;
			} else
				return false;
		} else if (c < 0x80) {
			j->i++;
		} else if (!jp_utf8(j))
			return false;
	}
	return false;
}

static bool
jp_number(struct jp *j)
{
	size_t s = j->i;

	if (j->i < j->n && j->p[j->i] == '-')
		j->i++;
	if (j->i < j->n && j->p[j->i] == '0')
		j->i++;
	else if (j->i < j->n && j->p[j->i] >= '1' && j->p[j->i] <= '9')
		while (j->i < j->n && j->p[j->i] >= '0' && j->p[j->i] <= '9')
			j->i++;
	else
		return false;
	if (j->i < j->n && j->p[j->i] == '.') {
		j->i++;
		if (j->i >= j->n || j->p[j->i] < '0' || j->p[j->i] > '9')
			return false;
		while (j->i < j->n && j->p[j->i] >= '0' && j->p[j->i] <= '9')
			j->i++;
	}
	return j->i > s;
}

static bool
jp_members(struct jp *j, bool object)
{
	char close = object ? '}' : ']';

	j->i++;
	if (++j->depth > 32)
		return false;
	jp_ws(j);
	if (j->i < j->n && j->p[j->i] == close) {
		j->i++;
		j->depth--;
		return true;
	}
	for (;;) {
		jp_ws(j);
		if (object) {
			if (!jp_string(j))
				return false;
			jp_ws(j);
			if (!jp_lit(j, ":"))
				return false;
		}
		if (!jp_value(j))
			return false;
		jp_ws(j);
		if (j->i < j->n && j->p[j->i] == ',') {
			j->i++;
			continue;
		}
		if (j->i < j->n && j->p[j->i] == close) {
			j->i++;
			j->depth--;
			return true;
		}
		return false;
	}
}

static bool
jp_value(struct jp *j)
{
	jp_ws(j);
	if (j->i >= j->n)
		return false;
	switch (j->p[j->i]) {
	case '{':
		return jp_members(j, true);
	case '[':
		return jp_members(j, false);
	case '"':
		return jp_string(j);
	case 't':
		return jp_lit(j, "true");
	case 'f':
		return jp_lit(j, "false");
	case 'n':
		return jp_lit(j, "null");
	default:
		return jp_number(j);
	}
}

/* Every line of text (NUL-terminated, lines end in LF) is one JSON object;
 * returns the number of lines. */
static unsigned
assert_json_lines(const char *text)
{
	const char *line = text, *nl;
	unsigned n = 0;
	struct jp j;

	while (*line != '\0') {
		nl = strchr(line, '\n');
		if (nl == NULL)
			fail_msg("a line without its LF: %s", line);
		j = (struct jp){ (const unsigned char *)line,
		    (size_t)(nl - line), 0, 0 };
		if (line[0] != '{' || !jp_value(&j) || (jp_ws(&j), j.i != j.n))
			fail_msg("not valid JSON (byte %zu): %.*s", j.i,
			    (int)(nl - line), line);
		n++;
		line = nl + 1;
	}
	return n;
}

/*
 * The value at a dotted path ("stats.capture.kernel_drops") of the JSON
 * object on line (one line, valid: assert_json_lines first), as its text
 * in out; false if there is no such member.
 */
static bool
jp_get(const char *line, const char *path, char *out, size_t size)
{
	struct jp j = { (const unsigned char *)line, strcspn(line, "\n"), 0,
	    0 };
	const char *dot;
	size_t klen, ks, vs;
	bool match;

	for (;;) {
		dot = strchr(path, '.');
		klen = dot != NULL ? (size_t)(dot - path) : strlen(path);
		jp_ws(&j);
		if (!jp_lit(&j, "{"))
			return false;
		for (match = false; !match;) {
			jp_ws(&j);
			ks = j.i;
			if (!jp_string(&j))
				return false;
			match = j.i - ks - 2 == klen &&
			    memcmp(j.p + ks + 1, path, klen) == 0;
			jp_ws(&j);
			if (!jp_lit(&j, ":"))
				return false;
			jp_ws(&j);
			if (match)
				break;
			if (!jp_value(&j))
				return false;
			jp_ws(&j);
			if (!jp_lit(&j, ","))
				return false;
		}
		if (dot == NULL)
			break;
		path = dot + 1;
	}
	vs = j.i;
	if (!jp_value(&j) || j.i - vs >= size)
		return false;
	memcpy(out, j.p + vs, j.i - vs);
	out[j.i - vs] = '\0';
	return true;
}

/* Scalars (strings, numbers, literals) in the value at j, nested ones
 * included: with jp_get, proof that a line has no member it should not. */
static unsigned
jp_leaves(struct jp *j)
{
	unsigned n = 0;
	char close;

	jp_ws(j);
	if (j->i >= j->n || (j->p[j->i] != '{' && j->p[j->i] != '['))
		return jp_value(j) ? 1 : 0;
	close = j->p[j->i] == '{' ? '}' : ']';
	j->i++;
	for (;;) {
		jp_ws(j);
		if (jp_lit(j, close == '}' ? "}" : "]"))
			return n;
		if (close == '}') {
			if (!jp_string(j))
				return 0;
			jp_ws(j);
			if (!jp_lit(j, ":"))
				return 0;
		}
		n += jp_leaves(j);
		jp_ws(j);
		(void)jp_lit(j, ",");
	}
}

/* The checker itself must refuse what the writers must never produce. */
static void
test_checker(void **state)
{
	static const char *const bad[] = {
		"{\"a\":\"\x01\"}\n",		/* raw control character */
		"{\"a\":\"\xff\"}\n",		/* not UTF-8 */
		"{\"a\":\"\xc0\xaf\"}\n",	/* overlong */
		"{\"a\":\"\xed\xa0\x80\"}\n",	/* surrogate */
		"{\"a\":\"\xe2\x82\"}\n",	/* cut sequence */
		"{\"a\":\"\\x\"}\n",		/* bad escape */
		"{\"a\":\"x\"\"}\n",		/* quote not escaped */
		"{\"a\":1,}\n",
		"{\"a\" 1}\n",
	};
	struct jp j;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = (struct jp){ (const unsigned char *)bad[i],
		    strlen(bad[i]) - 1, 0, 0 };
		if (jp_value(&j) && (jp_ws(&j), j.i == j.n))
			fail_msg("the checker accepted %s", bad[i]);
	}
	assert_int_equal(assert_json_lines("{\"a\":[1,-2.5,null,true,"
	    "\"\xc3\xa9\\u0001\\\"\"],\"b\":{}}\n"), 1);
}

/* ---- records ------------------------------------------------------------ */

/* Bytes a hostile peer can put in any string we log. */
#define HOSTILE	"q\"b\\s\x01\x1f\xff\xc0\xaf\xed\xa0\x80\xe2\x82<>\x7f"
/* The start of it as every JSON writer must escape it: '"' and '\\'
 * escaped, control characters as \u00XX, each byte that begins no valid
 * UTF-8 sequence as U+FFFD. */
#define HOSTILE_ESC	"q\\\"b\\\\s\\u0001\\u001f\xef\xbf\xbd"

struct fixture {
	struct record_conn	 conn;
	struct record_rcpt	 rcpt[3];
	struct mime_addr	 to[2];
	struct mime_addr	 cc[1];
	char			*received[3];
	struct mime_attachment	 att[2];
	struct mime_result	 mime;
	struct record		 r;
};

static struct fixture fx;
static struct dbuf out;		/* what a format wrote */

static void
fixture_full(void)
{
	static char to0r[] = "\"Doe, Jane\" <jane@example.org>";
	static char to0a[] = "jane@example.org";
	static char to1r[] = "undisclosed-recipients:;";
	static char cc0r[] = "Bob <bob@example.net>";
	static char cc0a[] = "bob@example.net";
	static char rc0[] = "from a.example ([192.0.2.7]) by mx.example";
	static char rc1[] = "from b.example (b.example [198.51.100.9]) by a";
	static char from[] = "Alice <alice@example.com>";
	static char subject[] = "Invoice \xc3\xa9t\xc3\xa9";
	static char msgid[] = "<m1@example.com>";
	static char date[] = "Mon, 5 Oct 2009 06:06:09 +0000";
	static char ua[] = "Mailer/1.0";
	static char xoip[] = "[203.0.113.5]";
	static char f0[] = "report.pdf";
	static char f1[] = "cut.exe";
	static char ct0[] = "application/pdf";
	static char ct1[] = "application/octet-stream";
	static char r0[] = "bob@example.net";
	static char r1[] = "nobody@example.net";
	size_t i;

	memset(&fx, 0, sizeof(fx));
	strcpy(fx.conn.uid, "CtestUid1");
	fx.conn.client.af = 4;
	memcpy(fx.conn.client.ip, "\x0a\x0a\x01\x04", 4);
	fx.conn.client.port = 1470;
	fx.conn.server.af = 6;
	memcpy(fx.conn.server.ip, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x19",
	    16);
	fx.conn.server.port = 25;
	fx.conn.vlan[0] = 100;
	fx.conn.vlan[1] = 7;
	fx.conn.nvlan = 2;
	fx.conn.ts_first = 1254722767529046000ull;

	fx.rcpt[0] = (struct record_rcpt){ r0, true, 250, "2.1.5", 1 };
	fx.rcpt[1] = (struct record_rcpt){ r1, false, 550, "5.1.1", 2 };
	fx.rcpt[2] = (struct record_rcpt){ r0, true, 0, "", 3 };

	fx.to[0] = (struct mime_addr){ to0r, to0a };
	fx.to[1] = (struct mime_addr){ to1r, NULL };
	fx.cc[0] = (struct mime_addr){ cc0r, cc0a };
	fx.received[0] = rc0;
	fx.received[1] = rc1;
	fx.mime.h.from = from;
	fx.mime.h.to = (struct mime_addr_list){ fx.to, 2 };
	fx.mime.h.cc = (struct mime_addr_list){ fx.cc, 1 };
	fx.mime.h.subject = subject;
	fx.mime.h.message_id = msgid;
	fx.mime.h.date = date;
	fx.mime.h.user_agent = ua;
	fx.mime.h.x_mailer = ua;
	fx.mime.h.x_originating_ip = xoip;
	fx.mime.h.received = (struct mime_str_list){ fx.received, 2 };
	fx.mime.h.complete = true;
	fx.att[0].filename = f0;
	fx.att[0].content_type = ct0;
	fx.att[0].size = 1234;
	fx.att[1].filename = f1;
	fx.att[1].content_type = ct1;
	fx.att[1].size = 99;
	fx.att[1].truncated = true;
	fx.att[1].depth = 1;		/* inside an attached message */
	for (i = 0; i < 32; i++) {
		fx.att[0].sha256[i] = (uint8_t)i;
		fx.att[1].sha256[i] = (uint8_t)(0xff - i);
	}
	for (i = 0; i < 16; i++) {
		fx.att[0].md5[i] = (uint8_t)(0xa0 + i);
		fx.att[1].md5[i] = (uint8_t)(0x10 + i);
	}
	fx.mime.att = fx.att;
	fx.mime.natt = 2;
	fx.mime.events[MIME_EV_BARE_LF] = 1;

	fx.r.conn = &fx.conn;
	fx.r.ts = 1254722769614414000ull;
	fx.r.trans_depth = 2;
	fx.r.banner = "220 mx.example ESMTP";
	fx.r.helo = "GP";
	fx.r.auth_mech = "LOGIN";
	fx.r.auth = RECORD_AUTH_SUCCESS;
	fx.r.auth_attempts = 1;
	fx.r.has_mail = true;
	fx.r.mail_from = "alice@example.com";
	fx.r.mail_bracketed = true;
	fx.r.mail_code = 250;
	fx.r.rcpt = fx.rcpt;
	fx.r.nrcpt = 3;
	fx.r.status = RECORD_ACCEPTED;
	fx.r.last_reply = "250 2.0.0 Ok: queued as 4F2A";
	fx.r.session_last_reply = "221 2.0.0 Bye";
	fx.r.zeek_depth = 1;
	fx.r.has_message = true;
	fx.r.size_known = true;
	fx.r.size = 14545;
	fx.r.mime = &fx.mime;
	fx.r.events[SMTP_EV_BARE_LF] = 1;
}

/* A transaction that never got past MAIL: no banner, no HELO, no
 * message, no size, no reply, no recipient, the null sender. */
static void
fixture_bare(void)
{
	fixture_full();
	fx.r.banner = NULL;
	fx.r.helo = NULL;
	fx.r.auth_mech = NULL;
	fx.r.auth = RECORD_AUTH_NONE;
	fx.r.mail_from = "";
	fx.r.mail_bracketed = true;
	fx.r.nrcpt = 0;
	fx.r.rcpt = NULL;
	fx.r.status = RECORD_INCOMPLETE;
	fx.r.last_reply = NULL;
	fx.r.session_last_reply = NULL;
	fx.r.has_message = false;
	fx.r.size_known = false;
	fx.r.size = 0;
	fx.r.mime = NULL;
	fx.r.events[SMTP_EV_BARE_LF] = 0;
	fx.conn.nvlan = 0;
}

/* Hostile bytes in every string a peer controls. */
static void
fixture_hostile(void)
{
	static char h[] = HOSTILE;
	static char raw[] = HOSTILE " <x@y>";

	fixture_full();
	fx.r.banner = h;
	fx.r.helo = h;
	fx.r.mail_from = h;
	fx.r.last_reply = h;
	fx.r.session_last_reply = h;
	fx.rcpt[0].addr = h;
	fx.mime.h.from = h;
	fx.mime.h.subject = h;
	fx.mime.h.message_id = h;
	fx.mime.h.date = h;
	fx.mime.h.user_agent = h;
	fx.mime.h.x_mailer = h;
	fx.to[0].raw = raw;
	fx.to[0].addr = h;
	fx.received[0] = h;
	fx.received[1] = h;
	fx.att[0].filename = h;
	fx.att[0].content_type = h;
}

static const char *
format(output_format_fn *fn)
{
	dbuf_reset(&out);
	assert_int_equal(fn(&out, &fx.r, 1), 0);
	assert_int_equal(dbuf_addc(&out, '\0'), 0);
	return (const char *)out.p;
}

static int
setup(void **state)
{
	(void)state;
	dbuf_init(&out, 1 << 20);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	dbuf_fini(&out);
	return 0;
}

/* ---- native ------------------------------------------------------------- */

static void
test_native_fields(void **state)
{
	const char *s;

	(void)state;
	fixture_full();
	s = format(output_native);
	assert_int_equal(assert_json_lines(s), 1);
	assert_has(s, "{\"type\":\"smtp\","
	    "\"ts\":\"2009-10-05T06:06:09.614414Z\","
	    "\"session\":\"CtestUid1\",\"trans_depth\":2,");
	assert_has(s, "\"client\":{\"ip\":\"10.10.1.4\",\"port\":1470}");
	assert_has(s, "\"server\":{\"ip\":\"2001:db8::19\",\"port\":25}");
	assert_has(s, "\"vlan\":[100,7]");
	assert_has(s, "\"banner\":\"220 mx.example ESMTP\"");
	assert_has(s, "\"helo\":\"GP\"");
	assert_has(s, "\"tls\":false");
	assert_has(s, "\"auth\":{\"mechanism\":\"LOGIN\",\"result\":"
	    "\"success\",\"attempts\":1}");
	assert_lacks(s, "\"user\"");
	assert_has(s, "\"mail_from\":\"alice@example.com\"");
	assert_has(s, "\"rcpt\":[{\"addr\":\"bob@example.net\",\"code\":250,"
	    "\"enhanced\":\"2.1.5\"},{\"addr\":\"nobody@example.net\","
	    "\"code\":550,\"enhanced\":\"5.1.1\"},"
	    "{\"addr\":\"bob@example.net\",\"code\":null}]");
	assert_has(s, "\"status\":\"accepted\"");
	assert_has(s, "\"last_reply\":\"250 2.0.0 Ok: queued as 4F2A\"");
	assert_has(s, "\"size\":14545");
	assert_has(s, "\"header\":{\"from\":\"Alice <alice@example.com>\","
	    "\"to\":[\"jane@example.org\"],\"cc\":[\"bob@example.net\"],"
	    "\"reply_to\":null,\"subject\":\"Invoice \xc3\xa9t\xc3\xa9\","
	    "\"message_id\":\"<m1@example.com>\",\"in_reply_to\":null,");
	assert_has(s, "\"received\":[\"from a.example ([192.0.2.7]) by "
	    "mx.example\",\"from b.example (b.example [198.51.100.9]) by a\"]");
	assert_has(s, "\"attachments\":[{\"filename\":\"report.pdf\","
	    "\"content_type\":\"application/pdf\",\"size\":1234,\"sha256\":"
	    "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	    "\",\"depth\":0},{\"filename\":\"cut.exe\"");
	assert_has(s, "\"size\":99,\"sha256\":\"fffefd");
	assert_has(s, "\"depth\":1,\"truncated\":true}]");
	assert_has(s, "\"anomalies\":[\"bare_lf\",\"mime_bare_lf\"]}\n");
	/* The native record keeps no MD5. */
	assert_lacks(s, "a0a1a2a3");
}

static void
test_native_nulls(void **state)
{
	const char *s;

	(void)state;
	fixture_bare();
	s = format(output_native);
	assert_int_equal(assert_json_lines(s), 1);
	assert_has(s, "\"vlan\":[]");
	assert_has(s, "\"banner\":null,\"helo\":null,\"tls\":false,"
	    "\"auth\":null,\"mail_from\":\"\",\"rcpt\":[],"
	    "\"status\":\"incomplete\",\"last_reply\":null,\"size\":null,"
	    "\"header\":null,\"attachments\":[],\"anomalies\":[]}\n");
	/* No MAIL at all: no sender, not the null sender. */
	fx.r.has_mail = false;
	s = format(output_native);
	assert_has(s, "\"mail_from\":null");
	/* AUTH user names only when configured, then logged. */
	fixture_full();
	fx.r.auth_user = "alice";
	fx.r.auth = RECORD_AUTH_FAILURE;
	s = format(output_native);
	assert_has(s, "\"result\":\"failure\",\"attempts\":1,\"user\":"
	    "\"alice\"}");
}

static void
test_native_hostile(void **state)
{
	const char *s;

	(void)state;
	fixture_hostile();
	s = format(output_native);
	assert_int_equal(assert_json_lines(s), 1);
	assert_has(s, "\"helo\":\"" HOSTILE_ESC);
	assert_has(s, "\"mail_from\":\"" HOSTILE_ESC);
	assert_has(s, "\"rcpt\":[{\"addr\":\"" HOSTILE_ESC);
	assert_has(s, "\"subject\":\"" HOSTILE_ESC);
	assert_has(s, "\"filename\":\"" HOSTILE_ESC);
	/* DEL is valid JSON as it is; no raw control byte is left. */
	assert_has(s, "\x7f\"");
	assert_null(strpbrk(s, "\x01\x1f\xff\xc0"));
}

/* ---- zeek --------------------------------------------------------------- */

static void
test_zeek_fields(void **state)
{
	const char *s;

	(void)state;
	fixture_full();
	s = format(output_zeek);
	assert_int_equal(assert_json_lines(s), 1);
	assert_has(s, "{\"ts\":1254722769.614414,\"uid\":\"CtestUid1\","
	    "\"id.orig_h\":\"10.10.1.4\",\"id.orig_p\":1470,"
	    "\"id.resp_h\":\"2001:db8::19\",\"id.resp_p\":25,"
	    "\"trans_depth\":1,\"helo\":\"GP\","
	    "\"mailfrom\":\"alice@example.com\","
	    "\"rcptto\":[\"bob@example.net\",\"nobody@example.net\","
	    "\"bob@example.net\"]");
	assert_has(s, "\"date\":\"Mon, 5 Oct 2009 06:06:09 +0000\","
	    "\"from\":\"Alice <alice@example.com>\","
	    "\"to\":[\"\\\"Doe, Jane\\\" <jane@example.org>\","
	    "\"undisclosed-recipients:;\"],"
	    "\"cc\":[\"Bob <bob@example.net>\"],"
	    "\"msg_id\":\"<m1@example.com>\"");
	assert_has(s, "\"subject\":\"Invoice \xc3\xa9t\xc3\xa9\"");
	assert_has(s, "\"x_originating_ip\":\"203.0.113.5\"");
	/* Zeek overwrites as it reads: first_received is the last one. */
	assert_has(s, "\"first_received\":\"from b.example");
	assert_has(s, "\"second_received\":\"from a.example");
	assert_has(s, "\"last_reply\":\"221 2.0.0 Bye\"");
	/* Server, client, then one address per Received header. */
	assert_has(s, "\"path\":[\"2001:db8::19\",\"10.10.1.4\","
	    "\"192.0.2.7\",\"198.51.100.9\"]");
	assert_has(s, "\"user_agent\":\"Mailer/1.0\",\"tls\":false}\n");
	/* Zeek leaves unset fields out; it has none of ours. */
	assert_lacks(s, "null");
	assert_lacks(s, "reply_to");
	assert_lacks(s, "in_reply_to");
	assert_lacks(s, "attachments");
	assert_lacks(s, "vlan");
}

static void
test_zeek_unset(void **state)
{
	const char *s;

	(void)state;
	fixture_bare();
	s = format(output_zeek);
	assert_int_equal(assert_json_lines(s), 1);
	/* The null sender, no HELO, no header, no reply: all unset. */
	assert_has(s, "\"trans_depth\":1,\"path\":[\"2001:db8::19\","
	    "\"10.10.1.4\"],\"tls\":false}\n");
	assert_lacks(s, "helo");
	assert_lacks(s, "mailfrom");
	assert_lacks(s, "rcptto");
	assert_lacks(s, "last_reply");
	assert_lacks(s, "null");
}

static void
test_zeek_hostile(void **state)
{
	const char *s;

	(void)state;
	fixture_hostile();
	s = format(output_zeek);
	assert_int_equal(assert_json_lines(s), 1);
	assert_has(s, "\"helo\":\"" HOSTILE_ESC);
	assert_has(s, "\"mailfrom\":\"" HOSTILE_ESC);
	assert_has(s, "\"rcptto\":[\"" HOSTILE_ESC);
	assert_has(s, "\"to\":[\"" HOSTILE_ESC);
	assert_has(s, "\"subject\":\"" HOSTILE_ESC);
	assert_has(s, "\"first_received\":\"" HOSTILE_ESC);
	assert_has(s, "\"last_reply\":\"" HOSTILE_ESC);
	/* No address in a hostile Received header: the path stops there. */
	assert_has(s, "\"path\":[\"2001:db8::19\",\"10.10.1.4\"]");
	assert_null(strpbrk(s, "\x01\x1f\xff\xc0"));
}

/* ---- eve ---------------------------------------------------------------- */

/* The n-th line (from 0) of s, in buf. */
static const char *
nth_line(const char *s, unsigned n, char *buf, size_t size)
{
	const char *nl;

	while (n-- > 0) {
		nl = strchr(s, '\n');
		assert_non_null(nl);
		s = nl + 1;
	}
	nl = strchr(s, '\n');
	assert_non_null(nl);
	assert_true((size_t)(nl - s) < size);
	memcpy(buf, s, (size_t)(nl - s));
	buf[nl - s] = '\0';
	return buf;
}

static void
test_eve_fields(void **state)
{
	static char l0[8192], l1[8192], l2[8192];
	const char *s;

	(void)state;
	fixture_full();
	s = format(output_eve);
	/* One smtp event, then one fileinfo event per attachment. */
	assert_int_equal(assert_json_lines(s), 3);
	nth_line(s, 0, l0, sizeof(l0));
	nth_line(s, 1, l1, sizeof(l1));
	nth_line(s, 2, l2, sizeof(l2));
	assert_has(l0, "{\"timestamp\":\"2009-10-05T06:06:09.614414+0000\","
	    "\"src_ip\":\"10.10.1.4\",\"src_port\":1470,"
	    "\"dest_ip\":\"2001:db8::19\",\"dest_port\":25,\"proto\":\"TCP\","
	    "\"vlan\":[100,7],\"app_proto\":\"smtp\",\"tx_id\":1,"
	    "\"event_type\":\"smtp\",");
	/* Paths as written: with their angle brackets, or bare. */
	assert_has(l0, "\"smtp\":{\"helo\":\"GP\","
	    "\"mail_from\":\"<alice@example.com>\","
	    "\"rcpt_to\":[\"<bob@example.net>\",\"nobody@example.net\","
	    "\"<bob@example.net>\"]}");
	assert_has(l0, "\"email\":{\"status\":\"PARSE_DONE\","
	    "\"from\":\"Alice <alice@example.com>\",\"to\":[\"\\\"Doe, Jane\\\""
	    " <jane@example.org>\",\"undisclosed-recipients:;\"],"
	    "\"cc\":[\"Bob <bob@example.net>\"],\"subject\":\"Invoice "
	    "\xc3\xa9t\xc3\xa9\",\"date\":\"Mon, 5 Oct 2009 06:06:09 +0000\","
	    "\"message_id\":\"<m1@example.com>\",\"x_mailer\":\"Mailer/1.0\","
	    "\"received\":[\"from a.example");
	assert_has(l0, "\"attachment\":[\"report.pdf\",\"cut.exe\"]}}");
	assert_lacks(l0, "fileinfo");

	/* Each fileinfo event carries the transaction's context too. */
	assert_has(l1, "\"tx_id\":1,\"event_type\":\"fileinfo\",\"smtp\":{");
	assert_has(l1, "\"email\":{\"status\":\"PARSE_DONE\"");
	assert_has(l1, "\"fileinfo\":{\"filename\":\"report.pdf\","
	    "\"gaps\":false,\"state\":\"CLOSED\",\"sha256\":"
	    "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	    "\",\"md5\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\",\"stored\":false,"
	    "\"size\":1234,\"tx_id\":1}}");
	/* A truncated attachment: gaps, and not CLOSED. */
	assert_has(l2, "\"fileinfo\":{\"filename\":\"cut.exe\","
	    "\"gaps\":true,\"state\":\"TRUNCATED\",\"sha256\":\"fffefd");
	assert_has(l2, "\"md5\":\"101112131415161718191a1b1c1d1e1f\","
	    "\"stored\":false,\"size\":99,\"tx_id\":1}}");
}

static void
test_eve_unset(void **state)
{
	const char *s;

	(void)state;
	fixture_bare();
	s = format(output_eve);
	/* No message: no email object and no fileinfo event. */
	assert_int_equal(assert_json_lines(s), 1);
	assert_has(s, "\"tx_id\":1,\"event_type\":\"smtp\","
	    "\"smtp\":{\"helo\":null,\"mail_from\":\"<>\"}}\n");
	assert_lacks(s, "vlan");
	assert_lacks(s, "email");
	assert_lacks(s, "fileinfo");
	/* A message cut short: its email status says so. */
	fixture_full();
	fx.r.status = RECORD_INCOMPLETE;
	fx.r.size_known = false;
	fx.mime.natt = 0;
	s = format(output_eve);
	assert_int_equal(assert_json_lines(s), 1);
	assert_has(s, "\"email\":{\"status\":\"PARSE_ERROR\"");
	assert_lacks(s, "attachment");
}

static void
test_eve_hostile(void **state)
{
	const char *s;

	(void)state;
	fixture_hostile();
	s = format(output_eve);
	assert_int_equal(assert_json_lines(s), 3);
	assert_has(s, "\"helo\":\"" HOSTILE_ESC);
	assert_has(s, "\"mail_from\":\"<" HOSTILE_ESC);
	assert_has(s, "\"rcpt_to\":[\"<" HOSTILE_ESC);
	assert_has(s, "\"subject\":\"" HOSTILE_ESC);
	assert_has(s, "\"attachment\":[\"" HOSTILE_ESC);
	assert_has(s, "\"fileinfo\":{\"filename\":\"" HOSTILE_ESC);
	assert_null(strpbrk(s, "\x01\x1f\xff\xc0"));
}

/* ---- the periodic statistics ------------------------------------------- */

/* Every counter distinct, some past 2^32: a field written from the wrong
 * member, or cut to 32 bits, cannot pass. */
static void
stats_fixture(struct sensor_stats *st)
{
	unsigned l;

	memset(st, 0, sizeof(*st));
	st->ts = 1254722769614414000ull;
	st->uptime_ns = 3723004005006ull;	/* 3723.004005 s */
	st->threads = 3;
	st->packets = 5000000007ull;
	st->bytes = 6000000000011ull;
	st->kernel_received = 7000000013ull;
	st->kernel_drops = 17;
	st->kernel_ifdrops = 19;
	st->flows = 23000000029ull;
	st->flows_active = 31;
	st->sessions = 37;
	st->records = 41;
	st->records_lost = 43;
	st->alerts = 47;
	st->mem_limit = 1073741824;
	for (l = 0; l < MEM_LAYER_MAX; l++) {
		st->mem_layer[l] = 53 + 6 * l;
		st->mem_total += st->mem_layer[l];
	}
}

struct want {
	const char	*path;
	uint64_t	 v;
};

/* Each path holds its number, and the line holds nothing else but the
 * nstr string members the caller checked. */
static void
assert_numbers(const char *line, const struct want *w, size_t n,
    unsigned nstr)
{
	char got[64], exp[32];
	struct jp j;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!jp_get(line, w[i].path, got, sizeof(got)))
			fail_msg("no %s in %s", w[i].path, line);
		snprintf(exp, sizeof(exp), "%" PRIu64, w[i].v);
		if (strcmp(got, exp) != 0)
			fail_msg("%s: %s, not %s", w[i].path, got, exp);
	}
	j = (struct jp){ (const unsigned char *)line, strcspn(line, "\n"), 0,
	    0 };
	assert_int_equal(jp_leaves(&j), n + nstr);
}

static void
test_stats_native_parses_back(void **state)
{
	struct sensor_stats st;
	const struct want w[] = {
		{ "threads", 3 }, { "packets", 5000000007ull },
		{ "bytes", 6000000000011ull },
		{ "kernel.received", 7000000013ull }, { "kernel.drops", 17 },
		{ "kernel.ifdrops", 19 }, { "flows.total", 23000000029ull },
		{ "flows.active", 31 }, { "sessions", 37 }, { "records", 41 },
		{ "records_lost", 43 }, { "alerts", 47 },
		{ "memory.limit", 1073741824 },
		{ "memory.total", 53 + 59 + 65 + 71 + 77 },
		{ "memory.flows", 53 }, { "memory.reassembly", 59 },
		{ "memory.fragments", 65 }, { "memory.sessions", 71 },
		{ "memory.records", 77 },
	};
	char got[64];
	const char *s;

	(void)state;
	stats_fixture(&st);
	dbuf_reset(&out);
	assert_int_equal(output_native_stats(&out, &st), 0);
	assert_int_equal(dbuf_addc(&out, '\0'), 0);
	s = (const char *)out.p;
	assert_int_equal(assert_json_lines(s), 1);
	/* The record's kind first, as every native line has it. */
	assert_true(strncmp(s, "{\"type\":\"stats\",", 16) == 0);
	assert_true(jp_get(s, "ts", got, sizeof(got)));
	assert_string_equal(got, "\"2009-10-05T06:06:09.614414Z\"");
	/* Seconds of the packet clock, to the microsecond. */
	assert_true(jp_get(s, "uptime", got, sizeof(got)));
	assert_string_equal(got, "3723.004005");
	assert_numbers(s, w, sizeof(w) / sizeof(w[0]), 3);
	/* No budget: null, not a limit of 0 bytes. */
	st.mem_limit = 0;
	dbuf_reset(&out);
	assert_int_equal(output_native_stats(&out, &st), 0);
	assert_int_equal(dbuf_addc(&out, '\0'), 0);
	assert_true(jp_get((const char *)out.p, "memory.limit", got,
	    sizeof(got)));
	assert_string_equal(got, "null");
}

static void
test_stats_eve_parses_back(void **state)
{
	struct sensor_stats st;
	const struct want w[] = {
		{ "stats.uptime", 3723 },	/* whole seconds, as Suricata */
		{ "stats.capture.kernel_packets", 7000000013ull },
		{ "stats.capture.kernel_drops", 17 },
		{ "stats.capture.kernel_ifdrops", 19 },
		{ "stats.decoder.pkts", 5000000007ull },
		{ "stats.decoder.bytes", 6000000000011ull },
		{ "stats.flow.total", 23000000029ull },
		{ "stats.flow.active", 31 }, { "stats.flow.memuse", 53 },
		{ "stats.tcp.reassembly_memuse", 59 },
		{ "stats.defrag.memuse", 65 },
		{ "stats.app_layer.flow.smtp", 37 },
		{ "stats.app_layer.tx.smtp", 41 },
		{ "stats.detect.alert", 47 },
		{ "stats.memory.limit", 1073741824 },
		{ "stats.memory.total", 53 + 59 + 65 + 71 + 77 },
		{ "stats.memory.flows", 53 }, { "stats.memory.reassembly", 59 },
		{ "stats.memory.fragments", 65 },
		{ "stats.memory.sessions", 71 }, { "stats.memory.records", 77 },
		{ "stats.smtp.records_lost", 43 }, { "stats.threads", 3 },
	};
	char got[64];
	const char *s;

	(void)state;
	stats_fixture(&st);
	dbuf_reset(&out);
	assert_int_equal(output_eve_stats(&out, &st), 0);
	assert_int_equal(dbuf_addc(&out, '\0'), 0);
	s = (const char *)out.p;
	assert_int_equal(assert_json_lines(s), 1);
	assert_true(jp_get(s, "timestamp", got, sizeof(got)));
	assert_string_equal(got, "\"2009-10-05T06:06:09.614414+0000\"");
	assert_true(jp_get(s, "event_type", got, sizeof(got)));
	assert_string_equal(got, "\"stats\"");
	/* Not a flow's event: no addresses, no app_proto. */
	assert_lacks(s, "src_ip");
	assert_lacks(s, "app_proto");
	assert_numbers(s, w, sizeof(w) / sizeof(w[0]), 2);
}

/* ---- output_open/write/close: the sinks read uses ----------------------- */

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *s;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, fp), (size_t)n);
	s[n] = '\0';
	fclose(fp);
	return s;
}

static void
test_sinks(void **state)
{
	static const struct {
		const char		*kind;
		output_format_fn	*fn;
		unsigned		 lines;	/* per record */
	} kinds[] = {
		{ "json", output_native, 1 },
		{ "zeek", output_zeek, 1 },
		{ "eve", output_eve, 3 },
	};
	char dir[] = "/tmp/test_output.XXXXXX", path[256], spec[300];
	char err[ERRBUF_SIZE], *got, *want;
	struct store_config cfg;
	struct output_summary sum;
	struct output *o;
	size_t i;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_non_null(mkdtemp(dir));
	fixture_hostile();
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.out", dir, kinds[i].kind);
		snprintf(spec, sizeof(spec), "%s:%s", kinds[i].kind, path);
		o = output_open(spec, &cfg, false, err);
		if (o == NULL)
			fail_msg("%s: %s", spec, err);
		assert_int_equal(output_write(o, &fx.r), 0);
		assert_int_equal(output_write(o, &fx.r), 0);
		assert_int_equal(output_close(o, &sum), 0);
		assert_string_equal(sum.name, spec);
		assert_int_equal(sum.records, 2);
		assert_int_equal(sum.lost, 0);
		assert_false(sum.store);
		/* What the file holds is the format's lines, whole. */
		got = slurp(path);
		want = strdup(format(kinds[i].fn));
		assert_non_null(want);
		assert_int_equal(strlen(got), 2 * strlen(want));
		assert_memory_equal(got, want, strlen(want));
		assert_string_equal(got + strlen(want), want);
		assert_int_equal(assert_json_lines(got), 2 * kinds[i].lines);
		free(got);
		free(want);
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

static void
test_open_errors(void **state)
{
	static const struct {
		const char	*spec;
		const char	*why;
	} bad[] = {
		{ "nokind", "expected KIND:PATH" },
		{ "xml:/tmp/x", "unknown output kind" },
		{ "jsonl:/tmp/x", "unknown output kind" },
		{ "json:", "missing path" },
		{ "zeek:/nonexistent-dir/x/y", "No such file or directory" },
	};
	char err[ERRBUF_SIZE];
	struct store_config cfg;
	size_t i;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(output_open(bad[i].spec, &cfg, false, err));
		assert_has(err, bad[i].why);
	}
	/* Closing nothing is a no-op. */
	assert_int_equal(output_close(NULL, NULL), 0);
}

/* Through output_open/output_stats/output_close as capture will: one
 * line each to json: and eve:, nothing to zeek:, no record counted. */
static void
test_stats_sinks_zeek_writes_nothing(void **state)
{
	static const char *const kinds[] = { "json", "eve", "zeek" };
	static const char *const stats_kind[] = { "{\"type\":\"stats\"",
	    "\"event_type\":\"stats\"" };
	static char first[8192], last[8192];
	char dir[] = "/tmp/test_output.XXXXXX", path[256], spec[300];
	char err[ERRBUF_SIZE], *got;
	unsigned n;
	struct store_config cfg;
	struct output_summary sum;
	struct sensor_stats st;
	struct output *o;
	size_t i;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_non_null(mkdtemp(dir));
	stats_fixture(&st);
	fixture_full();
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.out", dir, kinds[i]);
		snprintf(spec, sizeof(spec), "%s:%s", kinds[i], path);
		o = output_open(spec, &cfg, false, err);
		if (o == NULL)
			fail_msg("%s: %s", spec, err);
		assert_int_equal(output_stats(o, &st), 0);
		assert_int_equal(output_write(o, &fx.r), 0);
		st.ts += 60000000000ull;
		assert_int_equal(output_stats(o, &st), 0);
		assert_int_equal(output_close(o, &sum), 0);
		assert_int_equal(sum.records, 1);
		assert_int_equal(sum.lost, 0);
		got = slurp(path);
		if (strcmp(kinds[i], "zeek") == 0) {
			/* The record's row only. */
			assert_int_equal(assert_json_lines(got), 1);
			assert_lacks(got, "stats");
			assert_lacks(got, "5000000007");
		} else {
			/* stats, the record's lines, stats: in call order. */
			n = assert_json_lines(got);
			assert_int_equal(n, i == 0 ? 3 : 5);
			nth_line(got, 0, first, sizeof(first));
			nth_line(got, n - 1, last, sizeof(last));
			assert_has(first, stats_kind[i]);
			assert_has(first, "06:06:09.614414");
			assert_has(last, stats_kind[i]);
			assert_has(last, "06:07:09.614414");
			nth_line(got, 1, first, sizeof(first));
			assert_lacks(first, stats_kind[i]);
		}
		free(got);
		st.ts -= 60000000000ull;
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker),
		cmocka_unit_test(test_native_fields),
		cmocka_unit_test(test_native_nulls),
		cmocka_unit_test(test_native_hostile),
		cmocka_unit_test(test_zeek_fields),
		cmocka_unit_test(test_zeek_unset),
		cmocka_unit_test(test_zeek_hostile),
		cmocka_unit_test(test_eve_fields),
		cmocka_unit_test(test_eve_unset),
		cmocka_unit_test(test_eve_hostile),
		cmocka_unit_test(test_sinks),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_stats_native_parses_back),
		cmocka_unit_test(test_stats_eve_parses_back),
		cmocka_unit_test(test_stats_sinks_zeek_writes_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
