/*
 * test_mime.c: the streaming MIME parser. Every input is fed whole, byte
 * by byte and at random split points, and every feeding must give the same
 * result (compared field by field through a canonical dump); the result's
 * strings must all be valid UTF-8. Golden values come from the peers'
 * expectations (suricata-verify, Zeek) on messages cut from their pcaps
 * (tests/unit/data/mime/, see its README).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dbuf.h"
#include "common/limits.h"
#include "common/mem.h"
#include "mime/mime.h"

/* ---- feeding ------------------------------------------------------------- */

/* A step of a message: bytes, or a gap of `gap` missing bytes. */
struct step {
	const void	*p;
	size_t		 n;
	uint64_t	 gap;
};

static struct mime_parser *cur_mp;	/* the last parse; freed by the next */

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Feed the steps to mp. plan 0: each step whole; 1: byte by byte; other:
 * random pieces of 1 to 64 bytes (seeded by plan), or larger ones.
 */
static void
feed(struct mime_parser *mp, const struct step *st, size_t nst, unsigned plan)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull * plan;
	const uint8_t *p;
	size_t i, off, k;

	for (i = 0; i < nst; i++) {
		if (st[i].gap > 0) {
			mime_parser_gap(mp, st[i].gap);
			continue;
		}
		p = st[i].p;
		for (off = 0; off < st[i].n; off += k) {
			if (plan == 0)
				k = st[i].n;
			else if (plan == 1)
				k = 1;
			else if (plan % 2 == 0)
				k = 1 + rnd(&seed) % 64;
			else
				k = 1 + rnd(&seed) % 4096;
			if (k > st[i].n - off)
				k = st[i].n - off;
			mime_parser_push(mp, p + off, k);
		}
	}
	mime_parser_finish(mp);
}

static bool
utf8_ok(const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = strlen(s), k;

	/* strlen stops at NUL: embedded NUL would show as a short string. */
	while (n > 0) {
		if (p[0] < 0x80)
			k = 1;
		else if (p[0] >= 0xc2 && p[0] <= 0xdf)
			k = 2;
		else if (p[0] >= 0xe0 && p[0] <= 0xef)
			k = 3;
		else if (p[0] >= 0xf0 && p[0] <= 0xf4)
			k = 4;
		else
			return false;
		if (k > n)
			return false;
		for (size_t j = 1; j < k; j++)
			if ((p[j] & 0xc0) != 0x80)
				return false;
		if (k == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) ||
		    (p[0] == 0xed && p[1] >= 0xa0)))
			return false;
		if (k == 4 && ((p[0] == 0xf0 && p[1] < 0x90) ||
		    (p[0] == 0xf4 && p[1] >= 0x90)))
			return false;
		p += k;
		n -= k;
	}
	return true;
}

static void
dump_str(struct dbuf *b, const char *k, const char *v)
{
	if (v == NULL) {
		dbuf_printf(b, "%s=NULL\n", k);
		return;
	}
	assert_true(utf8_ok(v));
	dbuf_printf(b, "%s=[%s]\n", k, v);
}

static void
dump_list(struct dbuf *b, const char *k, const struct mime_addr_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		assert_non_null(l->v[i].raw);
		dump_str(b, k, l->v[i].raw);
		dump_str(b, k, l->v[i].addr);
	}
}

static void
dump_hex(struct dbuf *b, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dbuf_printf(b, "%02x", p[i]);
}

/* Everything in the result, one canonical text. */
static void
dump(const struct mime_result *r, struct dbuf *b)
{
	const struct mime_headers *h = &r->h;
	size_t i;

	dump_str(b, "from", h->from);
	dump_list(b, "from_list", &h->from_list);
	dump_list(b, "to", &h->to);
	dump_list(b, "cc", &h->cc);
	dump_str(b, "reply_to", h->reply_to);
	dump_str(b, "subject", h->subject);
	dump_str(b, "message_id", h->message_id);
	dump_str(b, "in_reply_to", h->in_reply_to);
	dump_str(b, "date", h->date);
	dump_str(b, "user_agent", h->user_agent);
	dump_str(b, "x_mailer", h->x_mailer);
	dump_str(b, "x_originating_ip", h->x_originating_ip);
	dump_str(b, "content_type", h->content_type);
	for (i = 0; i < h->received.n; i++)
		dump_str(b, "received", h->received.v[i]);
	dbuf_printf(b, "complete=%d bytes=%llu body=%llu parts=%u\n",
	    h->complete, (unsigned long long)r->bytes,
	    (unsigned long long)r->body_bytes, r->parts);
	for (i = 0; i < r->natt; i++) {
		dump_str(b, "filename", r->att[i].filename);
		dump_str(b, "type", r->att[i].content_type);
		dbuf_printf(b, "size=%llu depth=%u trunc=%d sha256=",
		    (unsigned long long)r->att[i].size, r->att[i].depth,
		    r->att[i].truncated);
		dump_hex(b, r->att[i].sha256, 32);
		dbuf_printf(b, " md5=");
		dump_hex(b, r->att[i].md5, 16);
		dbuf_printf(b, "\n");
	}
	for (i = 0; i < MIME_EV_MAX; i++)
		if (r->events[i] > 0)
			dbuf_printf(b, "%s=%u\n",
			    mime_event_name((enum mime_event)i), r->events[i]);
	assert_non_null(b->p);
	dbuf_addc(b, '\0');
}

#define PLANS	24

/*
 * Parse the steps with every feeding plan; all must give the same result.
 * Returns the result of the whole feeding (valid until the next parse).
 */
static const struct mime_result *
parse_steps(const struct step *st, size_t nst)
{
	struct mime_parser *mp;
	struct dbuf want, got;
	unsigned plan;

	mime_parser_free(cur_mp);
	cur_mp = mime_parser_new();
	assert_non_null(cur_mp);
	feed(cur_mp, st, nst, 0);
	dbuf_init(&want, 1u << 24);
	dump(mime_parser_result(cur_mp), &want);
	/* The same parser again after a reset, then fresh ones. */
	mp = mime_parser_new();
	assert_non_null(mp);
	for (plan = 1; plan < PLANS; plan++) {
		mime_parser_reset(mp);
		feed(mp, st, nst, plan);
		dbuf_init(&got, 1u << 24);
		dump(mime_parser_result(mp), &got);
		if (strcmp((char *)want.p, (char *)got.p) != 0)
			print_error("plan %u differs:\n--- whole\n%s--- split\n"
			    "%s", plan, (char *)want.p, (char *)got.p);
		assert_string_equal((char *)want.p, (char *)got.p);
		dbuf_fini(&got);
	}
	mime_parser_free(mp);
	dbuf_fini(&want);
	return mime_parser_result(cur_mp);
}

static const struct mime_result *
parse_n(const void *p, size_t n)
{
	struct step st = { p, n, 0 };

	return parse_steps(&st, 1);
}

static const struct mime_result *
parse(const char *s)
{
	return parse_n(s, strlen(s));
}

static char *
read_data(const char *name, size_t *n)
{
	const char *dir = getenv("SMTPSNIFF_TEST_DATA");
	char path[1024];
	FILE *fp;
	char *buf;
	long len;

	snprintf(path, sizeof(path), "%s/unit/data/mime/%s",
	    dir ? dir : "tests", name);
	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	*n = fread(buf, 1, (size_t)len, fp);
	fclose(fp);
	return buf;
}

static const struct mime_result *
parse_file(const char *name)
{
	const struct mime_result *r;
	size_t n;
	char *buf = read_data(name, &n);

	r = parse_n(buf, n);
	free(buf);	/* the result never points into the input */
	return r;
}

static void
assert_hex(const uint8_t *p, size_t n, const char *hex)
{
	char s[129];
	size_t i;

	assert_true(n * 2 < sizeof(s));
	for (i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	assert_string_equal(s, hex);
}

static void
assert_addr(const struct mime_addr_list *l, size_t i, const char *raw,
    const char *addr)
{
	assert_true(i < l->n);
	assert_string_equal(l->v[i].raw, raw);
	if (addr == NULL)
		assert_null(l->v[i].addr);
	else
		assert_string_equal(l->v[i].addr, addr);
}

#define EV(r, e)	((r)->events[MIME_EV_ ## e])

#define SHA_HELLO \
	"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define MD5_HELLO	"5d41402abc4b2a76b9719d911017c592"

/* A growing text buffer for generated inputs. */
static struct dbuf gen;

static void
gen_start(void)
{
	dbuf_fini(&gen);
	dbuf_init(&gen, 64u << 20);
}

static void
gen_rep(const char *s, size_t times)
{
	size_t i;

	for (i = 0; i < times; i++)
		assert_int_equal(dbuf_adds(&gen, s), 0);
}

static const struct mime_result *
gen_parse(void)
{
	return parse_n(gen.p, gen.len);
}

/* ---- header block -------------------------------------------------------- */

static void
test_folded_header_is_unfolded(void **state)
{
	const struct mime_result *r = parse(
	    "Subject: a long\r\n subject\r\n\tfolded twice\r\n"
	    "Date: Mon, 5 Oct 2009\r\n"
	    "   11:36:07 +0530\r\n"
	    "\r\n"
	    "body\r\n");

	assert_string_equal(r->h.subject, "a long subject\tfolded twice");
	assert_string_equal(r->h.date, "Mon, 5 Oct 2009   11:36:07 +0530");
	assert_true(r->h.complete);
	assert_int_equal(r->body_bytes, 6);
}

static void
test_obs_fold_line_of_only_whitespace_continues_field(void **state)
{
	const struct mime_result *r = parse(
	    "Subject: one\r\n   \r\n two\r\n"
	    "\r\n");

	assert_string_equal(r->h.subject, "one    two");
}

static void
test_header_names_are_case_insensitive(void **state)
{
	const struct mime_result *r = parse(
	    "SUBJECT: hi\r\nfRoM: a@b.c\r\nmessage-ID: <x@y>\r\n"
	    "X-ORIGINATING-IP: [10.1.2.3]\r\nIn-Reply-To: <p@q>\r\n"
	    "REPLY-to: r@s.t\r\n\r\n");

	assert_string_equal(r->h.subject, "hi");
	assert_string_equal(r->h.from, "a@b.c");
	assert_string_equal(r->h.message_id, "<x@y>");
	assert_string_equal(r->h.x_originating_ip, "[10.1.2.3]");
	assert_string_equal(r->h.in_reply_to, "<p@q>");
	assert_string_equal(r->h.reply_to, "r@s.t");
	assert_null(r->h.content_type);
}

static void
test_space_before_colon_is_accepted(void **state)
{
	/* RFC 5322 §4.5.5 obs-optional: WSP between name and colon. */
	const struct mime_result *r = parse("Subject \t: spaced\r\n\r\n");

	assert_string_equal(r->h.subject, "spaced");
}

static void
test_first_occurrence_of_single_field_wins(void **state)
{
	const struct mime_result *r = parse(
	    "Subject: first\r\nSubject: second\r\n"
	    "From: a@x\r\nFrom: b@x\r\n\r\n");

	assert_string_equal(r->h.subject, "first");
	assert_string_equal(r->h.from, "a@x");
	assert_int_equal(r->h.from_list.n, 1);
}

static void
test_received_kept_in_order_top_first(void **state)
{
	const struct mime_result *r = parse(
	    "Received: from c by b;\r\n Mon, 1 Jan 2024\r\n"
	    "Subject: s\r\n"
	    "Received: from b by a\r\n\r\n");

	assert_int_equal(r->h.received.n, 2);
	assert_string_equal(r->h.received.v[0], "from c by b; Mon, 1 Jan 2024");
	assert_string_equal(r->h.received.v[1], "from b by a");
}

static void
test_user_agent_falls_back_to_x_mailer(void **state)
{
	const struct mime_result *r = parse("X-Mailer: Outlook 12\r\n\r\n");

	assert_string_equal(r->h.user_agent, "Outlook 12");
	assert_string_equal(r->h.x_mailer, "Outlook 12");
	r = parse("X-Mailer: Outlook 12\r\nUser-Agent: Mutt/2.2\r\n\r\n");
	assert_string_equal(r->h.user_agent, "Mutt/2.2");
	assert_string_equal(r->h.x_mailer, "Outlook 12");
}

static void
test_top_content_type_is_lower_case_type_only(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: TEXT/Plain; charset=US-ASCII; format=flowed\r\n"
	    "\r\nhi\r\n");

	assert_string_equal(r->h.content_type, "text/plain");
	r = parse("Content-Type: nonsense\r\n\r\nhi\r\n");
	assert_string_equal(r->h.content_type, "text/plain");
}

static void
test_bare_lf_lines_accepted_and_counted(void **state)
{
	const struct mime_result *r = parse(
	    "Subject: lf\nFrom: a@b\n\nbody\nmore\n");

	assert_string_equal(r->h.subject, "lf");
	assert_string_equal(r->h.from, "a@b");
	assert_true(r->h.complete);
	/*
	 * The header's three; the lines of a one-part text body are counted
	 * as bytes, not scanned (nothing in them is kept).
	 */
	assert_int_equal(EV(r, BARE_LF), 3);
	assert_int_equal(r->body_bytes, 10);
	/* Inside a multipart every line is looked at. */
	r = parse("Content-Type: multipart/mixed; boundary=b\n\n--b\n\n"
	    "body\nmore\n--b--\n");
	assert_int_equal(EV(r, BARE_LF), 7);
}

static void
test_header_without_blank_line_is_incomplete(void **state)
{
	const struct mime_result *r = parse("Subject: cut\r\nFrom: a@b");

	assert_string_equal(r->h.subject, "cut");
	assert_string_equal(r->h.from, "a@b");
	assert_false(r->h.complete);
	assert_int_equal(r->body_bytes, 0);
}

static void
test_lines_that_are_not_fields_are_ignored(void **state)
{
	const struct mime_result *r = parse(
	    "From sender@x Mon Jan  1 00:00:00 2024\r\n"
	    "no colon here\r\n"
	    " continuation of nothing\r\n"
	    "Subject: kept\r\n\r\n");

	assert_string_equal(r->h.subject, "kept");
	assert_null(r->h.from);
}

static void
test_nul_byte_in_header_becomes_replacement(void **state)
{
	static const char m[] = "Subject: a\0b\r\n\r\nx\0y\r\n";
	const struct mime_result *r = parse_n(m, sizeof(m) - 1);

	assert_string_equal(r->h.subject, "a\xef\xbf\xbd" "b");
	assert_int_equal(EV(r, NUL_BYTE), 1);
}

static void
test_invalid_utf8_becomes_replacement(void **state)
{
	const struct mime_result *r = parse(
	    "Subject: caf\xe9 \xc3\xa9t\xc3\xa9 \xed\xa0\x80\r\n\r\n");

	assert_string_equal(r->h.subject, "caf\xef\xbf\xbd \xc3\xa9t\xc3\xa9 "
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

/* ---- RFC 2047 ------------------------------------------------------------ */

static void
test_encoded_word_q_and_b_decoded(void **state)
{
	const struct mime_result *r = parse(
	    "Subject: =?ISO-8859-1?Q?caf=E9_cr=E8me?= and "
	    "=?utf-8?B?4oKs?=\r\n\r\n");

	assert_string_equal(r->h.subject,
	    "caf\xc3\xa9 cr\xc3\xa8me and \xe2\x82\xac");
}

static void
test_adjacent_encoded_words_joined_without_whitespace(void **state)
{
	/* RFC 2047 §6.2; §8 examples. */
	const struct mime_result *r = parse(
	    "Subject: =?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=\r\n"
	    "X-Mailer: =?ISO-8859-1?Q?a?=\r\n   =?ISO-8859-1?Q?b?=\r\n"
	    "Reply-To: =?ISO-8859-1?Q?a?= b =?ISO-8859-1?Q?c?=\r\n"
	    "Date: =?ISO-8859-1?Q?a_b?=\r\n\r\n");

	assert_string_equal(r->h.subject, "ab");
	assert_string_equal(r->h.x_mailer, "ab");
	assert_string_equal(r->h.reply_to, "a b c");
	assert_string_equal(r->h.date, "a b");
}

static void
test_character_split_across_encoded_words_survives(void **state)
{
	/* U+20AC as =E2 | =82=AC: forbidden by RFC 2047 §5, sent anyway. */
	const struct mime_result *r = parse(
	    "Subject: =?UTF-8?Q?=E2?= =?UTF-8?Q?=82=ACuro?=\r\n\r\n");

	assert_string_equal(r->h.subject, "\xe2\x82\xac" "uro");
}

static void
test_encoded_words_in_many_charsets(void **state)
{
	const struct mime_result *r = parse(
	    "Subject: =?windows-1252?Q?=80?= "
	    "=?koi8-r?B?8NLJ18XU?= "
	    "=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\r\n"
	    "X-Mailer: =?gb2312?B?1tDOxA==?= "
	    "=?shift_jis?B?g2WDWINn?= =?utf-7?Q?caf+AOk-?=\r\n"
	    "Reply-To: =?windows-1251?B?xvPq?= =?iso-8859-15?B?pA==?=\r\n"
	    "\r\n");

	assert_string_equal(r->h.subject, "\xe2\x82\xac"
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	assert_string_equal(r->h.x_mailer, "\xe4\xb8\xad\xe6\x96\x87"
	    "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88" "caf\xc3\xa9");
	assert_string_equal(r->h.reply_to,
	    "\xd0\x96\xd1\x83\xd0\xba\xe2\x82\xac");
	assert_int_equal(EV(r, UNKNOWN_CHARSET), 0);
}

static void
test_unknown_charset_counted_and_read_as_utf8(void **state)
{
	const struct mime_result *r = parse(
	    "Subject: =?x-no-such-charset?Q?ok_=E9?= "
	    "=?utf-8//TRANSLIT?Q?x?=\r\n\r\n");

	assert_string_equal(r->h.subject, "ok \xef\xbf\xbd "
	    "=?utf-8//TRANSLIT?Q?x?=");
	assert_int_equal(EV(r, UNKNOWN_CHARSET), 1);
}

static void
test_charset_churn_is_bounded(void **state)
{
	static const char *const cs[] = { "iso-8859-2", "koi8-r",
	    "windows-1251", "shift_jis", "gb2312", "big5", "euc-kr",
	    "iso-8859-7" };
	const struct mime_result *r;
	char w[64];
	size_t i;

	/* More charsets than the cache, cycled: opens are capped. */
	gen_start();
	gen_rep("Subject:", 1);
	for (i = 0; i < 200; i++) {
		snprintf(w, sizeof(w), " =?%s?q?a?=", cs[i % 8]);
		gen_rep(w, 1);
	}
	gen_rep("\r\n\r\n", 1);
	r = gen_parse();
	assert_int_equal(strlen(r->h.subject), 200);
	/* Past the opens, only the four cached charsets still convert. */
	assert_int_equal(EV(r, UNKNOWN_CHARSET),
	    (200 - LIMIT_MIME_ICONV_OPENS) / 2);
}

static void
test_invalid_encoded_word_kept_as_written(void **state)
{
	const struct mime_result *r = parse(
	    "Subject: =?utf-8?B?!!!!?= =?utf-8?Q?=ZZ?= =?utf-8?X?a?= "
	    "=?utf-8?Q?a b?=\r\n\r\n");

	assert_string_equal(r->h.subject,
	    "=?utf-8?B?!!!!?= =?utf-8?Q?=ZZ?= =?utf-8?X?a?= =?utf-8?Q?a b?=");
	assert_int_equal(EV(r, BAD_ENCODED_WORD), 2);
}

static void
test_encoded_word_bytes_invalid_in_charset_replaced(void **state)
{
	const struct mime_result *r = parse(
	    "Subject: =?utf-8?Q?a=FFb=00c?=\r\n"
	    "X-Mailer: =?shift_jis?Q?=83?=\r\n\r\n");

	assert_string_equal(r->h.subject,
	    "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c");
	assert_string_equal(r->h.x_mailer, "\xef\xbf\xbd");
	assert_int_equal(EV(r, NUL_BYTE), 1);
}

static void
test_encoded_word_language_suffix_ignored(void **state)
{
	/* RFC 2231 §5. */
	const struct mime_result *r = parse(
	    "Subject: =?US-ASCII*EN?Q?Keith_Moore?=\r\n\r\n");

	assert_string_equal(r->h.subject, "Keith Moore");
}

/* ---- address lists ------------------------------------------------------- */

static void
test_quoted_display_name_with_comma_stays_one_item(void **state)
{
	const struct mime_result *r = parse(
	    "To: \"Doe, Jane\" <jane@example.org>, bob@example.net\r\n\r\n");

	assert_int_equal(r->h.to.n, 2);
	assert_addr(&r->h.to, 0, "\"Doe, Jane\" <jane@example.org>",
	    "jane@example.org");
	assert_addr(&r->h.to, 1, "bob@example.net", "bob@example.net");
}

static void
test_comment_with_comma_stays_one_item(void **state)
{
	const struct mime_result *r = parse(
	    "Cc: jane@example.org (Jane, \\) Doe), <b@x> (Bee)\r\n\r\n");

	assert_int_equal(r->h.cc.n, 2);
	assert_addr(&r->h.cc, 0, "jane@example.org (Jane, \\) Doe)",
	    "jane@example.org");
	assert_addr(&r->h.cc, 1, "<b@x> (Bee)", "b@x");
}

static void
test_group_gives_members_and_empty_group_nothing(void **state)
{
	const struct mime_result *r = parse(
	    "To: undisclosed-recipients:;\r\n"
	    "Cc: Team: a@x, \"B, b\" <b@x>;, c@x\r\n\r\n");

	assert_int_equal(r->h.to.n, 0);
	assert_int_equal(r->h.cc.n, 3);
	assert_addr(&r->h.cc, 0, "a@x", "a@x");
	assert_addr(&r->h.cc, 1, "\"B, b\" <b@x>", "b@x");
	assert_addr(&r->h.cc, 2, "c@x", "c@x");
}

static void
test_missing_brackets_and_broken_items(void **state)
{
	const struct mime_result *r = parse(
	    "To: Jane Doe jane@x.org, <open@x.org, just-a-name\r\n"
	    "Cc: <>, <@relay.a,@relay.b:user@x.org>, a;b@x\r\n\r\n");

	assert_int_equal(r->h.to.n, 2);
	assert_addr(&r->h.to, 0, "Jane Doe jane@x.org", "jane@x.org");
	assert_addr(&r->h.to, 1, "<open@x.org, just-a-name",
	    "open@x.org, just-a-name");
	assert_int_equal(r->h.cc.n, 4);
	assert_addr(&r->h.cc, 0, "<>", "");
	assert_addr(&r->h.cc, 1, "<@relay.a,@relay.b:user@x.org>",
	    "user@x.org");
	assert_addr(&r->h.cc, 2, "a", NULL);
	assert_addr(&r->h.cc, 3, "b@x", "b@x");
}

static void
test_encoded_display_name_decoded_in_item(void **state)
{
	const struct mime_result *r = parse(
	    "From: =?utf-8?Q?Ren=C3=A9?= <rene@x.fr>\r\n"
	    "To: \"=?utf-8?B?w6k=?=\" <e@x.fr>\r\n\r\n");

	assert_string_equal(r->h.from, "Ren\xc3\xa9 <rene@x.fr>");
	assert_addr(&r->h.from_list, 0, "Ren\xc3\xa9 <rene@x.fr>",
	    "rene@x.fr");
	assert_addr(&r->h.to, 0, "\"\xc3\xa9\" <e@x.fr>", "e@x.fr");
}

static void
test_repeated_to_fields_appended_and_folded_lists_split(void **state)
{
	const struct mime_result *r = parse(
	    "To: a@x,\r\n b@x\r\nTo: c@x\r\n\r\n");

	assert_int_equal(r->h.to.n, 3);
	assert_addr(&r->h.to, 1, "b@x", "b@x");
	assert_addr(&r->h.to, 2, "c@x", "c@x");
}

static void
test_domain_literal_and_quoted_local_part(void **state)
{
	const struct mime_result *r = parse(
	    "To: u@[IPv6:2001:db8::1], \"a,b\"@x.org\r\n\r\n");

	assert_int_equal(r->h.to.n, 2);
	assert_addr(&r->h.to, 0, "u@[IPv6:2001:db8::1]",
	    "u@[IPv6:2001:db8::1]");
	assert_addr(&r->h.to, 1, "\"a,b\"@x.org", "\"a,b\"@x.org");
}

/* ---- multipart structure ------------------------------------------------- */

static void
test_nested_multiparts_leave_depth_zero(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
	    "\r\n"
	    "preamble\r\n"
	    "--outer\r\n"
	    "Content-Type: multipart/alternative; boundary=inner\r\n"
	    "\r\n"
	    "--inner\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "plain text\r\n"
	    "--inner\r\n"
	    "Content-Type: application/octet-stream; name=deep.bin\r\n"
	    "\r\n"
	    "hello\r\n"
	    "--inner--\r\n"
	    "--outer\r\n"
	    "Content-Disposition: attachment; filename=top.txt\r\n"
	    "\r\n"
	    "hello\r\n"
	    "--outer--\r\n"
	    "epilogue\r\n");

	assert_int_equal(r->parts, 5);
	assert_int_equal(r->natt, 2);
	assert_string_equal(r->att[0].filename, "deep.bin");
	assert_string_equal(r->att[0].content_type,
	    "application/octet-stream");
	/* depth counts attached messages, not multiparts. */
	assert_int_equal(r->att[0].depth, 0);
	assert_int_equal(r->att[0].size, 5);
	assert_hex(r->att[0].sha256, 32, SHA_HELLO);
	assert_hex(r->att[0].md5, 16, MD5_HELLO);
	assert_string_equal(r->att[1].filename, "top.txt");
	assert_string_equal(r->att[1].content_type, "text/plain");
	assert_int_equal(r->att[1].depth, 0);
	assert_hex(r->att[1].sha256, 32, SHA_HELLO);
	assert_false(r->att[1].truncated);
	assert_int_equal(EV(r, UNCLOSED_MULTIPART), 0);
}

static void
test_boundary_prefix_of_another_is_told_apart(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: multipart/mixed; boundary=abc\r\n\r\n"
	    "--abc\r\n"
	    "Content-Type: multipart/mixed; boundary=abcd\r\n\r\n"
	    "--abcd\r\n"
	    "Content-Disposition: attachment; filename=a\r\n\r\n"
	    "--abcde\r\n"
	    "--abc-\r\n"
	    "--abcd\r\n"
	    "Content-Disposition: attachment; filename=b\r\n\r\n"
	    "hello\r\n"
	    "--abc--\r\n");

	assert_int_equal(r->natt, 2);
	assert_string_equal(r->att[0].filename, "a");
	assert_int_equal(r->att[0].size, 15);	/* "--abcde\r\n--abc-" */
	assert_string_equal(r->att[1].filename, "b");
	assert_hex(r->att[1].sha256, 32, SHA_HELLO);
	/* The outer close ended the inner multipart early. */
	assert_int_equal(EV(r, UNCLOSED_MULTIPART), 1);
}

static void
test_delimiter_with_trailing_whitespace_is_accepted(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b \t \r\n"
	    "Content-Disposition: attachment; filename=x\r\n\r\n"
	    "hello\r\n"
	    "--b--  \r\n");

	assert_int_equal(r->natt, 1);
	assert_hex(r->att[0].sha256, 32, SHA_HELLO);
	assert_int_equal(EV(r, UNCLOSED_MULTIPART), 0);
}

static void
test_delimiter_followed_by_text_is_content(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n"
	    "Content-Disposition: attachment; filename=x\r\n\r\n"
	    "--b x\r\n"
	    "--bb\r\n"
	    "--b--x\r\n"
	    "-\r\n"
	    "--b--\r\n");

	assert_int_equal(r->natt, 1);
	assert_int_equal(r->att[0].size,
	    strlen("--b x\r\n--bb\r\n--b--x\r\n-"));
}

static void
test_line_end_before_delimiter_belongs_to_it(void **state)
{
	/* RFC 2046 §5.1.1: the body is "hello", not "hello\r\n". */
	const struct mime_result *r = parse(
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n"
	    "Content-Type: application/octet-stream; name=a\r\n"
	    "Content-Transfer-Encoding: binary\r\n\r\n"
	    "hello\r\n"
	    "--b\r\n"
	    "Content-Type: application/octet-stream; name=b\r\n\r\n"
	    "hello\r\n\r\n"
	    "--b--\r\n");

	assert_int_equal(r->natt, 2);
	assert_int_equal(r->att[0].size, 5);
	assert_hex(r->att[0].sha256, 32, SHA_HELLO);
	assert_int_equal(r->att[1].size, 7);
}

static void
test_missing_close_delimiter_truncates_and_counts(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n"
	    "Content-Disposition: attachment; filename=x\r\n\r\n"
	    "hello");

	assert_int_equal(r->natt, 1);
	assert_true(r->att[0].truncated);
	assert_hex(r->att[0].sha256, 32, SHA_HELLO);
	assert_int_equal(EV(r, UNCLOSED_MULTIPART), 1);
}

static void
test_close_delimiter_without_final_line_end(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n"
	    "Content-Disposition: attachment; filename=x\r\n\r\n"
	    "hello\r\n"
	    "--b--");

	assert_int_equal(r->natt, 1);
	assert_false(r->att[0].truncated);
	assert_int_equal(r->att[0].size, 5);
	assert_int_equal(EV(r, UNCLOSED_MULTIPART), 0);
}

static void
test_preamble_and_epilogue_ignored(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "Content-Disposition: attachment; filename=no\r\n"
	    "\r\n"
	    "--b\r\n"
	    "Content-Disposition: attachment; filename=yes\r\n\r\n"
	    "hello\r\n"
	    "--b--\r\n"
	    "--b\r\n"
	    "Content-Disposition: attachment; filename=no2\r\n\r\n"
	    "x\r\n");

	assert_int_equal(r->natt, 1);
	assert_string_equal(r->att[0].filename, "yes");
}

static void
test_multipart_without_boundary_counted(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: multipart/mixed\r\n\r\n"
	    "--b\r\nContent-Disposition: attachment\r\n\r\nx\r\n--b--\r\n");

	assert_int_equal(EV(r, BOUNDARY_MISSING), 1);
	assert_int_equal(r->natt, 0);
	assert_string_equal(r->h.content_type, "multipart/mixed");
}

static void
test_digest_parts_default_to_message_rfc822(void **state)
{
	/* RFC 2046 §5.1.5. */
	const struct mime_result *r = parse(
	    "Content-Type: multipart/digest; boundary=d\r\n\r\n"
	    "--d\r\n"
	    "\r\n"
	    "Subject: inner\r\n\r\nhello\r\n"
	    "--d\r\n"
	    "Content-Type: text/plain\r\n\r\n"
	    "not an attachment\r\n"
	    "--d--\r\n");

	assert_int_equal(r->natt, 1);
	assert_string_equal(r->att[0].content_type, "message/rfc822");
	assert_null(r->att[0].filename);
	assert_int_equal(r->att[0].size, strlen("Subject: inner\r\n\r\nhello"));
	assert_null(r->h.subject);
}

static void
test_part_headers_ended_by_delimiter_give_empty_part(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n"
	    "--b\r\n"
	    "Content-Disposition: attachment; filename=empty\r\n"
	    "--b\r\n"
	    "Content-Disposition: attachment; filename=x\r\n\r\n"
	    "hello\r\n"
	    "--b--\r\n");

	assert_int_equal(r->parts, 4);
	assert_int_equal(r->natt, 2);
	assert_string_equal(r->att[0].filename, "empty");
	assert_int_equal(r->att[0].size, 0);
	assert_hex(r->att[0].sha256, 32, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	assert_hex(r->att[1].sha256, 32, SHA_HELLO);
}

static void
test_delimiters_with_bare_lf(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\n"
	    "Content-Disposition: attachment; filename=x\n\n"
	    "hello\n"
	    "--b--\n");

	assert_int_equal(r->natt, 1);
	assert_int_equal(r->att[0].size, 5);
	assert_int_equal(EV(r, BARE_LF), 7);
}

/* ---- attachments and encodings ------------------------------------------- */

static void
test_base64_with_whitespace_and_bad_chars(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: application/octet-stream; name=x\r\n"
	    "Content-Transfer-Encoding: BASE64\r\n\r\n"
	    "aG V\tsb!G8*\r\n");

	assert_int_equal(r->natt, 1);
	assert_int_equal(r->att[0].size, 5);
	assert_hex(r->att[0].sha256, 32, SHA_HELLO);
	assert_int_equal(EV(r, BAD_BASE64), 2);
}

static void
test_base64_missing_padding_tolerated(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Disposition: attachment\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    "aGVsbG8\r\n");

	assert_int_equal(r->att[0].size, 5);
	assert_hex(r->att[0].sha256, 32, SHA_HELLO);
	assert_int_equal(EV(r, BAD_BASE64), 0);
	r = parse("Content-Disposition: attachment\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=A\r\n");
	assert_int_equal(r->att[0].size, 5);
	assert_int_equal(EV(r, BAD_BASE64), 1);	/* a lone sextet */
}

static void
test_base64_padding_ends_quantum(void **state)
{
	/* suricata-verify bug-6207-2: "NA=" "=Mg" "==" is "42". */
	const struct mime_result *r = parse(
	    "Content-Disposition: attachment\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    "NA=\r\n=Mg\r\n==\r\n");

	assert_int_equal(r->att[0].size, 2);
	assert_hex(r->att[0].sha256, 32, "73475cb40a568e8da8a045ced110137e"
	    "159f890ac4da883b6b17dc651b3a8049");
}

static void
test_quoted_printable_soft_breaks_and_hex(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Disposition: attachment; filename=q.txt\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "he=6C=\r\n"
	    "lo=0d=0A=\r\n"
	    "world=  \r\n");

	assert_int_equal(r->att[0].size, 12);
	assert_hex(r->att[0].sha256, 32, "4739e65e5ea45fcd394e1ca6dc39e603"
	    "f59fb6cf3f4f31fc7b6a1f6c4715be8e");
	assert_int_equal(EV(r, BAD_QP), 0);
}

static void
test_quoted_printable_trailing_whitespace_deleted(void **state)
{
	/* RFC 2045 §6.7 rule 3; a hard break is CRLF (rule 4). */
	const struct mime_result *r = parse(
	    "Content-Disposition: attachment\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "hello \t \r\n"
	    "world\n");

	assert_int_equal(r->att[0].size, 14);	/* hello\r\nworld\r\n */
}

static void
test_quoted_printable_invalid_sequence_kept_and_counted(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Disposition: attachment\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "=4=ZZ= x=\r");

	/* "=4", "=", "ZZ", "= x" kept; "=" CR at the end: a soft break. */
	assert_int_equal(r->att[0].size, 8);
	assert_int_equal(EV(r, BAD_QP), 3);
}

static void
test_rfc2231_continuations_with_charset(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: application/pdf;\r\n"
	    " name*1*=%20rate;\r\n"
	    " name*0*=UTF-8'en'%E2%82%AC;\r\n"
	    " name*2=\".pdf\"\r\n\r\n");

	assert_string_equal(r->att[0].filename, "\xe2\x82\xac rate.pdf");
	assert_string_equal(r->att[0].content_type, "application/pdf");
}

static void
test_rfc2231_quoted_sections_followed_by_more_parameters(void **state)
{
	/* A quoted value must not swallow the parameter after it. */
	const struct mime_result *r = parse(
	    "Content-Disposition: attachment;\r\n"
	    " filename*0=\"a-long-name-part-one-\";\r\n"
	    " filename*1=\"part-two.tar.gz\"; size=10\r\n\r\n");

	assert_string_equal(r->att[0].filename,
	    "a-long-name-part-one-part-two.tar.gz");
}

static void
test_rfc2231_percent_encoded_filename(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Disposition: attachment;\r\n"
	    "\tfilename*=UTF-8''%E2%82%AC.pdf; filename=\"fallback.pdf\"\r\n"
	    "\r\n");

	assert_string_equal(r->att[0].filename, "\xe2\x82\xac.pdf");
	r = parse("Content-Disposition: attachment;"
	    " filename*=iso-8859-1''caf%E9.txt\r\n\r\n");
	assert_string_equal(r->att[0].filename, "caf\xc3\xa9.txt");
}

static void
test_rfc2047_encoded_filename_decoded(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: application/octet-stream;\r\n"
	    " name=\"=?UTF-8?B?w6ljdQ==?= =?UTF-8?Q?_d=C3=A9.zip?=\"\r\n"
	    "\r\n");

	assert_string_equal(r->att[0].filename,
	    "\xc3\xa9" "cu d\xc3\xa9.zip");
}

static void
test_disposition_filename_preferred_over_type_name(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: text/plain; name=\"type.txt\"\r\n"
	    "Content-Disposition: inline; filename=\"disp\\\".txt\"\r\n"
	    "\r\n");

	assert_string_equal(r->att[0].filename, "disp\".txt");
}

static void
test_unquoted_filename_with_spaces(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Disposition: attachment; filename=my report.pdf ;"
	    " size=3\r\n\r\n");

	assert_string_equal(r->att[0].filename, "my report.pdf");
}

static void
test_what_is_an_attachment(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n"
	    "Content-Type: text/html\r\n\r\n<p>not one</p>\r\n"
	    "--b\r\n"
	    "Content-Type: image/png; name=inline.png\r\n"
	    "Content-Disposition: inline\r\n\r\nx\r\n"
	    "--b\r\n"
	    "Content-Disposition: ATTACHMENT\r\n\r\nx\r\n"
	    "--b\r\n"
	    "Content-Type: application/pdf\r\n"
	    "Content-Disposition: inline\r\n\r\nnot one\r\n"
	    "--b--\r\n");

	assert_int_equal(r->natt, 2);
	assert_string_equal(r->att[0].filename, "inline.png");
	assert_string_equal(r->att[0].content_type, "image/png");
	assert_null(r->att[1].filename);
	assert_string_equal(r->att[1].content_type, "text/plain");
}

static void
test_message_rfc822_hashed_whole_headers_not_overriding(void **state)
{
	const struct mime_result *r = parse(
	    "From: outer@x\r\nSubject: outer\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n"
	    "Content-Type: message/rfc822\r\n\r\n"
	    "From: inner@x\r\nSubject: inner\r\nTo: t@x\r\n"
	    "Content-Type: multipart/mixed; boundary=c\r\n\r\n"
	    "--c\r\n"
	    "Content-Disposition: attachment; filename=inner.exe\r\n\r\n"
	    "MZ\r\n"
	    "--c--\r\n"
	    "--b--\r\n");

	assert_string_equal(r->h.from, "outer@x");
	assert_string_equal(r->h.subject, "outer");
	assert_int_equal(r->h.to.n, 0);
	assert_int_equal(r->natt, 2);
	assert_string_equal(r->att[0].content_type, "message/rfc822");
	assert_int_equal(r->att[0].size, 154);
	assert_int_equal(r->att[0].depth, 0);
	/* Descended into: its attachment follows it, one level down. */
	assert_string_equal(r->att[1].filename, "inner.exe");
	assert_int_equal(r->att[1].depth, 1);
	assert_int_equal(r->att[1].size, 2);
}

static void
test_encoded_message_rfc822_taken_as_is(void **state)
{
	/*
	 * RFC 2046 §5.2.1: no encoding but 7bit/8bit/binary. A body that
	 * starts with a header field is a message as written: the label is
	 * ignored (the smtp-mime-encap-8649 evasion).
	 */
	const char *inner = "Subject: x\r\n"
	    "Content-Disposition: attachment; filename=a\r\n\r\nhello";
	struct dbuf m;
	const struct mime_result *r;

	dbuf_init(&m, 1u << 20);
	dbuf_adds(&m, "Content-Type: message/rfc822\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	dbuf_adds(&m, inner);
	r = parse_n(m.p, m.len);
	dbuf_fini(&m);
	assert_int_equal(r->natt, 2);
	assert_int_equal(r->att[0].depth, 0);
	assert_int_equal(r->att[0].size, strlen(inner));
	assert_string_equal(r->att[1].filename, "a");
	assert_int_equal(r->att[1].depth, 1);
	assert_hex(r->att[1].sha256, 32, SHA_HELLO);
	assert_int_equal(EV(r, BAD_TRANSFER_ENCODING), 1);
	assert_int_equal(EV(r, BAD_BASE64), 0);
}

/* ---- attached messages (RFC 2046 §5.2.1) --------------------------------- */

#define FWD_INNER \
	"From: inner@x\r\nSubject: inner\r\nTo: t@x\r\n" \
	"Received: from inner\r\nMessage-ID: <inner@x>\r\n" \
	"Content-Type: multipart/mixed; boundary=c\r\n\r\n" \
	"--c\r\n" \
	"Content-Type: application/octet-stream; name=inner.exe\r\n" \
	"Content-Transfer-Encoding: base64\r\n\r\n" \
	"aGVsbG8=\r\n" \
	"--c--"

static void
test_forwarded_message_inner_attachments_follow_container(void **state)
{
	const struct mime_result *r = parse(
	    "From: outer@x\r\nSubject: outer\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n"
	    "Content-Type: text/plain\r\n\r\n"
	    "see attached\r\n"
	    "--b\r\n"
	    "Content-Type: message/rfc822\r\n"
	    "Content-Disposition: attachment; filename=fwd.eml\r\n\r\n"
	    FWD_INNER "\r\n"
	    "--b\r\n"
	    "Content-Disposition: attachment; filename=after.txt\r\n\r\n"
	    "hello\r\n"
	    "--b--\r\n");

	assert_int_equal(r->natt, 3);
	/* The container, whole, as before. */
	assert_string_equal(r->att[0].filename, "fwd.eml");
	assert_string_equal(r->att[0].content_type, "message/rfc822");
	assert_int_equal(r->att[0].size, strlen(FWD_INNER));
	assert_int_equal(r->att[0].depth, 0);
	assert_false(r->att[0].truncated);
	/* What it carries, after it, one level down. */
	assert_string_equal(r->att[1].filename, "inner.exe");
	assert_string_equal(r->att[1].content_type,
	    "application/octet-stream");
	assert_int_equal(r->att[1].depth, 1);
	assert_int_equal(r->att[1].size, 5);
	assert_hex(r->att[1].sha256, 32, SHA_HELLO);
	assert_hex(r->att[1].md5, 16, MD5_HELLO);
	assert_false(r->att[1].truncated);
	/* The message's own, after the container's contents. */
	assert_string_equal(r->att[2].filename, "after.txt");
	assert_int_equal(r->att[2].depth, 0);
	assert_hex(r->att[2].sha256, 32, SHA_HELLO);
	/* The inner header block never reaches header.* */
	assert_string_equal(r->h.from, "outer@x");
	assert_string_equal(r->h.subject, "outer");
	assert_int_equal(r->h.to.n, 0);
	assert_int_equal(r->h.received.n, 0);
	assert_null(r->h.message_id);
	assert_string_equal(r->h.content_type, "multipart/mixed");
	/* message, 3 parts, the attached message and its one part */
	assert_int_equal(r->parts, 6);
	assert_int_equal(EV(r, UNCLOSED_MULTIPART), 0);
	assert_int_equal(EV(r, NESTING_EXCEEDED), 0);
}

static void
test_parser_memory_is_charged_to_the_budget(void **state)
{
	static const char msg[] = "Content-Type: message/rfc822\r\n\r\n"
	    "Content-Type: message/rfc822\r\n\r\n"
	    "Content-Disposition: attachment; filename=a\r\n\r\nhello";
	struct mem_stats a, b, c;
	struct mime_parser *mp;

	mem_get_stats(&a);
	assert_non_null(mp = mime_parser_new());
	mime_parser_push(mp, (const uint8_t *)msg, sizeof(msg) - 1);
	mime_parser_finish(mp);
	assert_int_equal(mime_parser_result(mp)->natt, 3);
	mem_get_stats(&b);
	/* Three frames (each with its 8 KiB staging buffer), all counted. */
	assert_true(b.layer_used[MEM_SESSIONS] >=
	    a.layer_used[MEM_SESSIONS] + 3 * 8192);
	mime_parser_free(mp);
	mem_get_stats(&c);
	assert_int_equal(c.layer_used[MEM_SESSIONS],
	    a.layer_used[MEM_SESSIONS]);
}

/* n messages, each the message/rfc822 body of the one before. */
static const struct mime_result *
nested_messages(unsigned n)
{
	unsigned i;

	gen_start();
	gen_rep("Subject: top\r\n", 1);
	for (i = 0; i < n; i++)
		gen_rep("Content-Type: message/rfc822\r\n\r\n", 1);
	gen_rep("Content-Disposition: attachment; filename=deep\r\n\r\n"
	    "hello", 1);
	return gen_parse();
}

static void
test_message_nesting_to_the_cap_is_descended(void **state)
{
	const struct mime_result *r = nested_messages(LIMIT_MIME_NESTING);
	unsigned i;

	assert_int_equal(r->natt, LIMIT_MIME_NESTING + 1);
	for (i = 0; i < LIMIT_MIME_NESTING; i++) {
		assert_string_equal(r->att[i].content_type, "message/rfc822");
		assert_int_equal(r->att[i].depth, i);
	}
	assert_string_equal(r->att[i].filename, "deep");
	assert_int_equal(r->att[i].depth, LIMIT_MIME_NESTING);
	assert_hex(r->att[i].sha256, 32, SHA_HELLO);
	assert_int_equal(r->att[i].size, 5);
	assert_int_equal(EV(r, NESTING_EXCEEDED), 0);
	assert_string_equal(r->h.subject, "top");
}

static void
test_message_nesting_past_the_cap_keeps_container_counted(void **state)
{
	const struct mime_result *r =
	    nested_messages(LIMIT_MIME_NESTING + 2);
	unsigned i;

	/* Containers down to the cap; the last one is not opened. */
	assert_int_equal(r->natt, LIMIT_MIME_NESTING + 1);
	for (i = 0; i <= LIMIT_MIME_NESTING; i++) {
		assert_string_equal(r->att[i].content_type, "message/rfc822");
		assert_int_equal(r->att[i].depth, i);
		assert_false(r->att[i].truncated);
	}
	assert_int_equal(EV(r, NESTING_EXCEEDED), 1);
}

static void
test_base64_message_rfc822_decoded_and_descended(void **state)
{
	/* Seen in the wild, and what a mail client opening it shows. */
	const struct mime_result *r = parse(
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n"
	    "Content-Type: message/rfc822\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    "Q29udGVudC1EaXNwb3NpdGlvbjogYXR0YWNobWVudDsgZmlsZW5hbWU9eC5leGUN"
	    "\r\n"
	    "Cg0KaGVsbG8=\r\n"
	    "--b--\r\n");

	assert_int_equal(r->natt, 2);
	assert_string_equal(r->att[0].content_type, "message/rfc822");
	/* Of the decoded bytes. */
	assert_int_equal(r->att[0].size, 56);
	assert_hex(r->att[0].sha256, 32, "38a2f9eda0b123f81e4c3ea700400c95"
	    "a09ff3b98062c849d42452bf81b2e718");
	assert_string_equal(r->att[1].filename, "x.exe");
	assert_int_equal(r->att[1].depth, 1);
	assert_hex(r->att[1].sha256, 32, SHA_HELLO);
	assert_int_equal(EV(r, BAD_TRANSFER_ENCODING), 1);
	assert_int_equal(EV(r, BAD_BASE64), 0);
}

static void
test_message_global_encoding_honoured_and_descended(void **state)
{
	/* RFC 6532 §3.5: message/global may carry any encoding. */
	const struct mime_result *r = parse(
	    "Content-Type: message/global\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "Content-Disposition: attachment; filename=\"=C3=A9.txt\"\r\n"
	    "\r\n"
	    "hel=\r\nlo");

	assert_int_equal(r->natt, 2);
	assert_string_equal(r->att[0].content_type, "message/global");
	assert_string_equal(r->att[1].filename, "\xc3\xa9.txt");
	assert_int_equal(r->att[1].depth, 1);
	assert_hex(r->att[1].sha256, 32, SHA_HELLO);
	assert_int_equal(EV(r, BAD_TRANSFER_ENCODING), 0);
}

static void
test_gap_inside_attached_message_truncates_both(void **state)
{
	static const char a[] = "Content-Type: message/rfc822\r\n\r\n"
	    "Content-Disposition: attachment; filename=a\r\n\r\nhel";
	static const char b[] = "lo\r\nmore\r\n";
	const struct step st[] = {
		{ a, sizeof(a) - 1, 0 }, { NULL, 0, 10 },
		{ b, sizeof(b) - 1, 0 }
	};
	const struct mime_result *r = parse_steps(st, 3);

	assert_int_equal(r->natt, 2);
	assert_true(r->att[0].truncated);
	assert_string_equal(r->att[1].filename, "a");
	assert_int_equal(r->att[1].size, 3);
	assert_true(r->att[1].truncated);
	assert_int_equal(EV(r, GAP), 1);
}

static void
test_attachment_cap_counts_inner_attachments(void **state)
{
	const struct mime_result *r;

	gen_start();
	gen_rep("Content-Type: message/rfc822\r\n\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n", 1);
	gen_rep("--b\r\nContent-Disposition: attachment\r\n\r\nhello\r\n",
	    LIMIT_MIME_ATTACHMENTS + 5);
	gen_rep("--b--\r\n", 1);
	r = gen_parse();
	assert_int_equal(r->natt, LIMIT_MIME_ATTACHMENTS);
	assert_string_equal(r->att[0].content_type, "message/rfc822");
	assert_int_equal(r->att[1].depth, 1);
	/* The container took one place. */
	assert_int_equal(EV(r, TOO_MANY_ATTACHMENTS), 6);
	assert_hex(r->att[LIMIT_MIME_ATTACHMENTS - 1].sha256, 32, SHA_HELLO);
}

static void
test_multipart_depth_is_one_budget_across_messages(void **state)
{
	const struct mime_result *r;
	char line[128];
	int i;

	/*
	 * Half the multipart levels outside, half inside an attached
	 * message, then one more: the cap is the same whichever side
	 * the levels are on.
	 */
	gen_start();
	for (i = 0; i < LIMIT_MIME_DEPTH / 2; i++) {
		snprintf(line, sizeof(line), "Content-Type: multipart/mixed;"
		    " boundary=\"o%d\"\r\n\r\n--o%d\r\n", i, i);
		gen_rep(line, 1);
	}
	gen_rep("Content-Type: message/rfc822\r\n\r\n", 1);
	for (i = 0; i < LIMIT_MIME_DEPTH - LIMIT_MIME_DEPTH / 2 + 1; i++) {
		snprintf(line, sizeof(line), "Content-Type: multipart/mixed;"
		    " boundary=\"i%d\"\r\n\r\n--i%d\r\n", i, i);
		gen_rep(line, 1);
	}
	gen_rep("Content-Disposition: attachment; filename=in\r\n\r\n"
	    "hello\r\n", 1);
	r = gen_parse();
	/* The level past the cap is an opaque leaf: "in" is inside it. */
	assert_int_equal(EV(r, DEPTH_EXCEEDED), 1);
	assert_int_equal(r->natt, 1);
	assert_string_equal(r->att[0].content_type, "message/rfc822");
}

static void
test_unknown_transfer_encoding_counted_and_hashed_raw(void **state)
{
	const struct mime_result *r = parse(
	    "Content-Disposition: attachment\r\n"
	    "Content-Transfer-Encoding: x-uuencode\r\n\r\n"
	    "hello");

	assert_hex(r->att[0].sha256, 32, SHA_HELLO);
	assert_int_equal(EV(r, BAD_TRANSFER_ENCODING), 1);
}

static void
test_top_level_attachment_keeps_final_line_end(void **state)
{
	/* No delimiter: the last CRLF is the message's (RFC 5321 §4.1.1.4). */
	const struct mime_result *r = parse(
	    "Content-Disposition: attachment; filename=a\r\n\r\n"
	    "hello\r\nworld\r\n");

	assert_int_equal(r->att[0].size, 14);
	assert_false(r->att[0].truncated);
}

static void
test_nul_bytes_in_body_are_hashed(void **state)
{
	static const char m[] = "Content-Disposition: attachment\r\n\r\n"
	    "a\0b";
	const struct mime_result *r = parse_n(m, sizeof(m) - 1);

	assert_int_equal(r->att[0].size, 3);
	assert_hex(r->att[0].sha256, 32, "59b271ae1bbcb1d31d41929817f4b16f"
	    "b439eb4f31520b5ad1d5ce98920a7138");
}

/* ---- caps ---------------------------------------------------------------- */

static void
test_header_field_over_cap_truncated_and_parsing_goes_on(void **state)
{
	const struct mime_result *r;

	gen_start();
	gen_rep("Subject: ", 1);
	gen_rep("0123456789abcdef\r\n ", LIMIT_MIME_HEADER_FIELD / 16);
	gen_rep("end\r\nFrom: a@b\r\n\r\n", 1);
	r = gen_parse();
	assert_int_equal(strlen(r->h.subject), LIMIT_MIME_STRING);
	assert_string_equal(r->h.from, "a@b");
	assert_true(r->h.complete);
	assert_true(EV(r, HEADER_LINE_TOO_LONG) >= 1);
}

static void
test_overlong_lines_counted(void **state)
{
	const struct mime_result *r;

	gen_start();
	gen_rep("X-Long: ", 1);
	gen_rep("x", 2000);
	gen_rep("\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n\r\n", 1);
	gen_rep("y", 5000);
	gen_rep("\r\nshort\r\n--b--\r\n", 1);
	r = gen_parse();
	assert_int_equal(EV(r, HEADER_LINE_TOO_LONG), 1);
	assert_int_equal(EV(r, BODY_LINE_TOO_LONG), 1);
}

static void
test_too_many_recipients_counted_not_kept(void **state)
{
	const struct mime_result *r;

	gen_start();
	gen_rep("To: first@x", 1);
	gen_rep(",\r\n a@example.org", LIMIT_MIME_ADDRS + 9);
	gen_rep("\r\n\r\n", 1);
	r = gen_parse();
	assert_int_equal(r->h.to.n, LIMIT_MIME_ADDRS);
	assert_int_equal(EV(r, LIST_TOO_LONG), 10);
}

static void
test_too_many_received_counted(void **state)
{
	const struct mime_result *r;

	gen_start();
	gen_rep("Received: from a by b\r\n", LIMIT_MIME_RECEIVED + 3);
	gen_rep("Subject: after\r\n\r\n", 1);
	r = gen_parse();
	assert_int_equal(r->h.received.n, LIMIT_MIME_RECEIVED);
	assert_int_equal(EV(r, LIST_TOO_LONG), 3);
	assert_string_equal(r->h.subject, "after");
}

static void
test_result_budget_bounds_kept_strings(void **state)
{
	const struct mime_result *r;
	size_t i, j, total = 0;
	char item[700];

	/*
	 * Names of 180 invalid bytes, each kept as a 3-byte U+FFFD: the
	 * strings kept outgrow the header that carried them.
	 */
	memset(item, 0xff, sizeof(item));
	memcpy(item, ",\r\n \"", 5);
	memcpy(item + 185, "\" <a@x>", 8);
	gen_start();
	for (i = 0; i < 10; i++) {
		gen_rep(i % 2 ? "Cc: a@x" : "To: a@x", 1);
		for (j = 0; j < 100; j++)
			assert_int_equal(dbuf_add(&gen, item, 192), 0);
		gen_rep("\r\n", 1);
	}
	gen_rep("\r\n", 1);
	r = gen_parse();
	for (i = 0; i < r->h.to.n; i++)
		total += strlen(r->h.to.v[i].raw) + 1 +
		    (r->h.to.v[i].addr ? strlen(r->h.to.v[i].addr) + 1 : 0);
	for (i = 0; i < r->h.cc.n; i++)
		total += strlen(r->h.cc.v[i].raw) + 1 +
		    (r->h.cc.v[i].addr ? strlen(r->h.cc.v[i].addr) + 1 : 0);
	assert_true(total <= LIMIT_MIME_RESULT_BYTES);
	assert_true(total > LIMIT_MIME_RESULT_BYTES - 1024);
	assert_true(EV(r, LIST_TOO_LONG) > 0);
	assert_true(EV(r, HEADER_LINE_TOO_LONG) > 0);
}

static void
test_nesting_past_depth_cap_counted_and_parsing_goes_on(void **state)
{
	const struct mime_result *r;
	char line[128];
	int i;

	gen_start();
	gen_rep("Subject: deep\r\n", 1);
	for (i = 0; i < LIMIT_MIME_DEPTH + 2; i++) {
		snprintf(line, sizeof(line), "Content-Type: multipart/mixed;"
		    " boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i);
		gen_rep(line, 1);
	}
	gen_rep("\r\nignored\r\n--b0\r\n"
	    "Content-Disposition: attachment; filename=after\r\n\r\n"
	    "hello\r\n--b0--\r\n", 1);
	r = gen_parse();
	assert_int_equal(EV(r, DEPTH_EXCEEDED), 1);
	assert_int_equal(EV(r, UNCLOSED_MULTIPART), LIMIT_MIME_DEPTH - 1);
	assert_int_equal(r->natt, 1);
	assert_string_equal(r->att[0].filename, "after");
	assert_int_equal(r->att[0].depth, 0);
	assert_hex(r->att[0].sha256, 32, SHA_HELLO);
}

static void
test_too_many_attachments_counted_not_listed(void **state)
{
	const struct mime_result *r;

	gen_start();
	gen_rep("Content-Type: multipart/mixed; boundary=b\r\n\r\n", 1);
	gen_rep("--b\r\nContent-Disposition: attachment\r\n\r\nhello\r\n",
	    LIMIT_MIME_ATTACHMENTS + 5);
	gen_rep("--b--\r\n", 1);
	r = gen_parse();
	assert_int_equal(r->natt, LIMIT_MIME_ATTACHMENTS);
	assert_int_equal(EV(r, TOO_MANY_ATTACHMENTS), 5);
	assert_hex(r->att[LIMIT_MIME_ATTACHMENTS - 1].sha256, 32, SHA_HELLO);
}

static void
test_too_many_parts_skipped_structure_kept(void **state)
{
	const struct mime_result *r;

	gen_start();
	gen_rep("Content-Type: multipart/mixed; boundary=b\r\n\r\n", 1);
	gen_rep("--b\r\n\r\n", LIMIT_MIME_PARTS + 10);
	gen_rep("--b--\r\nepilogue\r\n", 1);
	r = gen_parse();
	assert_int_equal(r->parts, LIMIT_MIME_PARTS + 11);
	assert_int_equal(EV(r, TOO_MANY_PARTS), 11);
	assert_int_equal(EV(r, UNCLOSED_MULTIPART), 0);
}

static void
test_header_block_over_cap_ignores_rest(void **state)
{
	const struct mime_result *r;

	gen_start();
	gen_rep("X-Filler: 0123456789012345678901234567890123456789\r\n",
	    LIMIT_MIME_HEADER_BLOCK / 50 + 10);
	gen_rep("Subject: too late\r\n\r\nbody\r\n", 1);
	r = gen_parse();
	assert_null(r->h.subject);
	assert_true(r->h.complete);
	assert_int_equal(EV(r, HEADER_BLOCK_TOO_LONG), 1);
	assert_int_equal(r->body_bytes, 6);
}

static void
test_long_filename_cut_at_character_boundary(void **state)
{
	const struct mime_result *r;

	gen_start();
	gen_rep("Content-Disposition: attachment; filename=\"", 1);
	gen_rep("\xe2\x82\xac", LIMIT_MIME_FILENAME);	/* 3 bytes each */
	gen_rep("\"\r\n\r\n", 1);
	r = gen_parse();
	assert_int_equal(strlen(r->att[0].filename),
	    LIMIT_MIME_FILENAME / 3 * 3);
	/* The name cut, and its physical line over 998 bytes. */
	assert_int_equal(EV(r, HEADER_LINE_TOO_LONG), 2);
}

static void
test_hostile_message_memory_stays_bounded(void **state)
{
	struct mime_parser *mp;
	const struct mime_result *r;
	size_t i;
	char chunk[4096];
#if !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
	struct mallinfo2 before, after;
#endif

	mp = mime_parser_new();
	assert_non_null(mp);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
	before = mallinfo2();
#endif
	/* 64 MiB of header continuation, then of one unterminated line. */
	mime_parser_push(mp, (const uint8_t *)"To: a@b", 7);
	memset(chunk, ' ', sizeof(chunk));
	for (i = 0; i < sizeof(chunk); i += 8)
		memcpy(chunk + i, ",\r\n c@d", 7);
	for (i = 0; i < 8192; i++)
		mime_parser_push(mp, (const uint8_t *)chunk, sizeof(chunk));
	mime_parser_push(mp, (const uint8_t *)"\r\n\r\n-", 5);
	memset(chunk, '-', sizeof(chunk));
	for (i = 0; i < 8192; i++)
		mime_parser_push(mp, (const uint8_t *)chunk, sizeof(chunk));
#if !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
	after = mallinfo2();
	assert_true(after.uordblks - before.uordblks < 2u * 1024 * 1024);
#endif
	mime_parser_finish(mp);
	r = mime_parser_result(mp);
	assert_int_equal(r->h.to.n, LIMIT_MIME_ADDRS);
	assert_int_equal(r->bytes, 2 * 8192 * 4096ull + 12);
	mime_parser_free(mp);
}

/* ---- gaps ---------------------------------------------------------------- */

static void
test_gap_in_attachment_truncates_and_resyncs_at_delimiter(void **state)
{
	static const char a[] =
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n"
	    "Content-Disposition: attachment; filename=cut\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    "aGVsbG8=\r\naGVs";
	static const char b[] =
	    "bG8=\r\n"
	    "--b not a delimiter\r\n"
	    "--b\r\n"
	    "Content-Disposition: attachment; filename=next\r\n\r\n"
	    "hello\r\n"
	    "--b--\r\n";
	struct step st[] = { { a, sizeof(a) - 1, 0 }, { NULL, 0, 1000 },
	    { b, sizeof(b) - 1, 0 } };
	const struct mime_result *r = parse_steps(st, 3);

	assert_int_equal(EV(r, GAP), 1);
	assert_int_equal(r->natt, 2);
	assert_string_equal(r->att[0].filename, "cut");
	assert_true(r->att[0].truncated);
	assert_true(r->att[0].size >= 5);
	assert_string_equal(r->att[1].filename, "next");
	assert_false(r->att[1].truncated);
	assert_hex(r->att[1].sha256, 32, SHA_HELLO);
	assert_int_equal(r->bytes, sizeof(a) + sizeof(b) - 2);
}

static void
test_gap_in_headers_drops_field_and_continues(void **state)
{
	static const char a[] = "Subject: lost";
	static const char b[] = "rest of the line\r\nFrom: a@b\r\n\r\n";
	struct step st[] = { { a, sizeof(a) - 1, 0 }, { NULL, 0, 5 },
	    { b, sizeof(b) - 1, 0 } };
	const struct mime_result *r = parse_steps(st, 3);

	assert_null(r->h.subject);
	assert_string_equal(r->h.from, "a@b");
	assert_true(r->h.complete);
}

static void
test_gap_in_part_headers_marks_attachment_truncated(void **state)
{
	static const char a[] =
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n"
	    "Content-Disposition: attachment; filename=x\r\n"
	    "X-Junk: ab";
	static const char b[] = "cd\r\n\r\nhello\r\n--b--\r\n";
	struct step st[] = { { a, sizeof(a) - 1, 0 }, { NULL, 0, 7 },
	    { b, sizeof(b) - 1, 0 } };
	const struct mime_result *r = parse_steps(st, 3);

	assert_int_equal(r->natt, 1);
	assert_true(r->att[0].truncated);
	assert_hex(r->att[0].sha256, 32, SHA_HELLO);
}

static void
test_gap_in_top_level_attachment_truncates_it(void **state)
{
	static const char a[] = "Content-Disposition: attachment\r\n\r\nhello";
	static const char b[] = "more\r\nand more\r\n";
	struct step st[] = { { a, sizeof(a) - 1, 0 }, { NULL, 0, 3 },
	    { b, sizeof(b) - 1, 0 } };
	const struct mime_result *r = parse_steps(st, 3);

	assert_true(r->att[0].truncated);
	assert_int_equal(r->att[0].size, 5);
	assert_hex(r->att[0].sha256, 32, SHA_HELLO);
}

/* ---- lifecycle ----------------------------------------------------------- */

static void
test_reset_releases_result_and_parser_is_reused(void **state)
{
	struct mime_parser *mp = mime_parser_new();
	const struct mime_result *r;
	static const char m[] = "Subject: one\r\nTo: a@b\r\n"
	    "Content-Disposition: attachment\r\n\r\nhello";

	assert_non_null(mp);
	mime_parser_push(mp, (const uint8_t *)m, sizeof(m) - 1);
	mime_parser_finish(mp);
	mime_parser_push(mp, (const uint8_t *)"ignored", 7);
	r = mime_parser_result(mp);
	assert_int_equal(r->natt, 1);
	assert_int_equal(r->bytes, sizeof(m) - 1);
	mime_parser_reset(mp);
	r = mime_parser_result(mp);
	assert_null(r->h.subject);
	assert_int_equal(r->natt, 0);
	assert_int_equal(r->bytes, 0);
	mime_parser_push(mp, (const uint8_t *)"Subject: two\r\n\r\n", 16);
	mime_parser_finish(mp);
	assert_string_equal(mime_parser_result(mp)->h.subject, "two");
	mime_parser_free(mp);
	mime_parser_free(NULL);
	assert_string_equal(mime_event_name(MIME_EV_BARE_LF), "bare_lf");
	assert_string_equal(mime_event_name(MIME_EV_MAX), "unknown");
}

static void
test_empty_message(void **state)
{
	const struct mime_result *r = parse("");

	assert_false(r->h.complete);
	assert_int_equal(r->natt, 0);
	assert_int_equal(r->parts, 1);
}

/* ---- peers' golden values ------------------------------------------------ */

static void
test_peer_wireshark_news_txt_is_10807_bytes(void **state)
{
	/*
	 * Suricata (smtp-eve) says 10807, Zeek (files.log) 10809: Zeek keeps
	 * the CRLF before the delimiter, which RFC 2046 §5.1.1 gives to it.
	 * Zeek's sha256 is of those 10809 bytes.
	 */
	const struct mime_result *r = parse_file("wireshark-smtp-news.eml");

	assert_string_equal(r->h.from,
	    "\"Gurpartap Singh\" <gurpartap@patriots.in>");
	assert_addr(&r->h.to, 0, "<raj_deol2002in@yahoo.co.in>",
	    "raj_deol2002in@yahoo.co.in");
	assert_string_equal(r->h.subject, "SMTP");
	assert_string_equal(r->h.date, "Mon, 5 Oct 2009 11:36:07 +0530");
	assert_string_equal(r->h.message_id,
	    "<000301ca4581$ef9e57f0$cedb07d0$@in>");
	assert_string_equal(r->h.user_agent, "Microsoft Office Outlook 12.0");
	assert_int_equal(r->bytes, 14545);
	assert_int_equal(r->parts, 5);
	assert_int_equal(r->natt, 1);
	assert_string_equal(r->att[0].filename, "NEWS.txt");
	assert_string_equal(r->att[0].content_type, "text/plain");
	assert_int_equal(r->att[0].size, 10807);
	assert_hex(r->att[0].sha256, 32, "ac04c5d2cd8fa9a2670c959806f5181a"
	    "56b3e9bb1cc7da150af98ba074c86b55");
}

static void
test_peer_zeek_cc_list(void **state)
{
	const struct mime_result *r = parse_file("zeek-smtp-cc.eml");

	assert_string_equal(r->h.from,
	    "Albert Zaharovits <albert@example.com>");
	assert_addr(&r->h.to, 0, "ericlim220@yahoo.com",
	    "ericlim220@yahoo.com");
	assert_int_equal(r->h.cc.n, 2);
	assert_addr(&r->h.cc, 0, "felica4uu@hotmail.com",
	    "felica4uu@hotmail.com");
	assert_addr(&r->h.cc, 1, "davis_mark1@outlook.com",
	    "davis_mark1@outlook.com");
	assert_string_equal(r->h.in_reply_to,
	    "<9ACEE03C-AB98-4046-AEC1-BF4910C61E96@example.com>");
	assert_string_equal(r->h.user_agent, "Apple Mail (2.2102)");
	assert_int_equal(r->bytes, 804);
	assert_int_equal(r->body_bytes, 204);
}

static void
test_peer_suricata_quoted_printable_related_patch(void **state)
{
	const struct mime_result *r =
	    parse_file("suricata-mime-quoted-printable.eml");

	assert_int_equal(r->natt, 2);
	assert_string_equal(r->att[1].filename, "related.patch");
	assert_int_equal(r->att[1].size, 34224);
	assert_hex(r->att[1].sha256, 32, "359641873610597882317aee0f72104e"
	    "d54fe8aa82d6fa323a5418e4529bd3b9");
}

static void
test_peer_suricata_rfc2231_filename(void **state)
{
	const struct mime_result *r = parse_file("suricata-smtp-rfc2231.eml");

	assert_int_equal(r->natt, 1);
	assert_string_equal(r->att[0].filename, "smtptest-2021-02-25T13-54-22Z-"
	    "aefb2fc1308d62f4b6c74769f69b13ddf80e995fd98ae442f3be499ea928c67f"
	    "..zip");
	assert_string_equal(r->att[0].content_type, "application/zip");
}

static void
test_peer_suricata_base64_invalid_characters(void **state)
{
	const struct mime_result *r = parse_file("suricata-bug-6207-1.eml");

	assert_int_equal(r->att[0].size, 286);
	assert_true(EV(r, BAD_BASE64) > 0);
	r = parse_file("suricata-bug-6207-2.eml");
	assert_int_equal(r->att[0].size, 2);
	assert_hex(r->att[0].sha256, 32, "73475cb40a568e8da8a045ced110137e"
	    "159f890ac4da883b6b17dc651b3a8049");
}

static void
test_peer_suricata_to_comma(void **state)
{
	const struct mime_result *r = parse_file("suricata-smtp-to-comma.eml");

	assert_int_equal(r->h.to.n, 0);		/* "not-has-key: email.to" */
	assert_int_equal(r->h.cc.n, 1);
	assert_addr(&r->h.cc, 0,
	    "\"jam,abrakadabra.ch\" <mirjam@abrakadabra.ch>",
	    "mirjam@abrakadabra.ch");
	assert_string_equal(r->h.from, "<dgo.billing@dhl.com> (DHL)");
}

static void
test_peer_suricata_encapsulation_8649(void **state)
{
	/*
	 * Suricata reports 30 bytes: it drops the message's last CRLF, which
	 * RFC 5321 §4.1.1.4 makes part of the message (docs/MIME.md).
	 */
	const struct mime_result *r =
	    parse_file("suricata-mime-encap-8649-baseline.eml");

	assert_int_equal(r->natt, 1);
	assert_string_equal(r->att[0].filename, "malware.exe");
	assert_int_equal(r->att[0].size, 32);
	assert_false(r->att[0].truncated);
	r = parse_file("suricata-mime-encap-8649-combined.eml");
	assert_int_equal(r->natt, 2);
	assert_string_equal(r->att[0].filename, "innocent.txt");
	assert_string_equal(r->att[0].content_type, "message/rfc822");
	assert_int_equal(r->att[0].depth, 0);
	/* Suricata finds it too (its base64 label ignored, as here). */
	assert_string_equal(r->att[1].filename, "malware.exe");
	assert_string_equal(r->att[1].content_type,
	    "application/octet-stream");
	assert_int_equal(r->att[1].depth, 1);
	assert_int_equal(r->att[1].size, 32);
	assert_false(r->att[1].truncated);
	assert_string_equal(r->h.subject, "Combined");
	assert_int_equal(EV(r, BAD_TRANSFER_ENCODING), 1);
}

static void
test_peer_suricata_email_fields(void **state)
{
	const struct mime_result *r =
	    parse_file("suricata-detect-email-received.eml");

	assert_int_equal(r->h.received.n, 3);
	assert_string_equal(r->h.received.v[0], "from client.local "
	    "(client.local [10.0.0.1]) by smtp.relay1.com with ESMTP id "
	    "relay1abc; Thu, 10 Apr 2025 12:00:00 -0000");
	assert_string_equal(r->h.received.v[2], "from smtp.relay2.com "
	    "(smtp.relay2.com [10.0.0.20]) by smtp.destination.com with ESMTP "
	    "id final123; Thu, 10 Apr 2025 12:02:00 -0000");
	r = parse_file("suricata-mime-full-msg-test02.eml");
	assert_string_equal(r->h.from, "toto <toto@gmail.com>");
	assert_addr(&r->h.to, 0, "172.16.92.2@linuxbox",
	    "172.16.92.2@linuxbox");
	assert_string_equal(r->h.subject, "This is a test email");
	assert_string_equal(r->h.date, "Fri, 21 Apr 2023 05:10:36 +0000");
	r = parse_file("suricata-bug-1045.eml");
	assert_string_equal(r->h.message_id,
	    "<alpine.DEB.2.00.1311261630120.9535@sd-26634.dedibox.fr>");
	r = parse_file("suricata-smtp-bug-5981.eml");
	assert_string_equal(r->h.x_mailer,
	    "Microsoft Office Outlook, Build 11.0.5510");
	r = parse_file("suricata-mime-long-filename01.eml");
	assert_int_equal(r->natt, 1);
	assert_int_equal(strlen(r->att[0].filename), 23 * 12 + 4);
}

static int
group_teardown(void **state)
{
	mime_parser_free(cur_mp);
	cur_mp = NULL;
	dbuf_fini(&gen);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folded_header_is_unfolded),
		cmocka_unit_test(
		    test_obs_fold_line_of_only_whitespace_continues_field),
		cmocka_unit_test(test_header_names_are_case_insensitive),
		cmocka_unit_test(test_space_before_colon_is_accepted),
		cmocka_unit_test(test_first_occurrence_of_single_field_wins),
		cmocka_unit_test(test_received_kept_in_order_top_first),
		cmocka_unit_test(test_user_agent_falls_back_to_x_mailer),
		cmocka_unit_test(test_top_content_type_is_lower_case_type_only),
		cmocka_unit_test(test_bare_lf_lines_accepted_and_counted),
		cmocka_unit_test(test_header_without_blank_line_is_incomplete),
		cmocka_unit_test(test_lines_that_are_not_fields_are_ignored),
		cmocka_unit_test(test_nul_byte_in_header_becomes_replacement),
		cmocka_unit_test(test_invalid_utf8_becomes_replacement),
		cmocka_unit_test(test_encoded_word_q_and_b_decoded),
		cmocka_unit_test(
		    test_adjacent_encoded_words_joined_without_whitespace),
		cmocka_unit_test(
		    test_character_split_across_encoded_words_survives),
		cmocka_unit_test(test_encoded_words_in_many_charsets),
		cmocka_unit_test(test_unknown_charset_counted_and_read_as_utf8),
		cmocka_unit_test(test_charset_churn_is_bounded),
		cmocka_unit_test(test_invalid_encoded_word_kept_as_written),
		cmocka_unit_test(
		    test_encoded_word_bytes_invalid_in_charset_replaced),
		cmocka_unit_test(test_encoded_word_language_suffix_ignored),
		cmocka_unit_test(
		    test_quoted_display_name_with_comma_stays_one_item),
		cmocka_unit_test(test_comment_with_comma_stays_one_item),
		cmocka_unit_test(
		    test_group_gives_members_and_empty_group_nothing),
		cmocka_unit_test(test_missing_brackets_and_broken_items),
		cmocka_unit_test(test_encoded_display_name_decoded_in_item),
		cmocka_unit_test(
		    test_repeated_to_fields_appended_and_folded_lists_split),
		cmocka_unit_test(test_domain_literal_and_quoted_local_part),
		cmocka_unit_test(test_nested_multiparts_leave_depth_zero),
		cmocka_unit_test(test_boundary_prefix_of_another_is_told_apart),
		cmocka_unit_test(
		    test_delimiter_with_trailing_whitespace_is_accepted),
		cmocka_unit_test(test_delimiter_followed_by_text_is_content),
		cmocka_unit_test(test_line_end_before_delimiter_belongs_to_it),
		cmocka_unit_test(
		    test_missing_close_delimiter_truncates_and_counts),
		cmocka_unit_test(test_close_delimiter_without_final_line_end),
		cmocka_unit_test(test_preamble_and_epilogue_ignored),
		cmocka_unit_test(test_multipart_without_boundary_counted),
		cmocka_unit_test(test_digest_parts_default_to_message_rfc822),
		cmocka_unit_test(
		    test_part_headers_ended_by_delimiter_give_empty_part),
		cmocka_unit_test(test_delimiters_with_bare_lf),
		cmocka_unit_test(test_base64_with_whitespace_and_bad_chars),
		cmocka_unit_test(test_base64_missing_padding_tolerated),
		cmocka_unit_test(test_base64_padding_ends_quantum),
		cmocka_unit_test(test_quoted_printable_soft_breaks_and_hex),
		cmocka_unit_test(
		    test_quoted_printable_trailing_whitespace_deleted),
		cmocka_unit_test(
		    test_quoted_printable_invalid_sequence_kept_and_counted),
		cmocka_unit_test(test_rfc2231_continuations_with_charset),
		cmocka_unit_test(test_rfc2231_quoted_sections_followed_by_more_parameters),
		cmocka_unit_test(test_rfc2231_percent_encoded_filename),
		cmocka_unit_test(test_rfc2047_encoded_filename_decoded),
		cmocka_unit_test(
		    test_disposition_filename_preferred_over_type_name),
		cmocka_unit_test(test_unquoted_filename_with_spaces),
		cmocka_unit_test(test_what_is_an_attachment),
		cmocka_unit_test(
		    test_message_rfc822_hashed_whole_headers_not_overriding),
		cmocka_unit_test(test_encoded_message_rfc822_taken_as_is),
		cmocka_unit_test(
		    test_forwarded_message_inner_attachments_follow_container),
		cmocka_unit_test(test_message_nesting_to_the_cap_is_descended),
		cmocka_unit_test(test_parser_memory_is_charged_to_the_budget),
		cmocka_unit_test(
		    test_message_nesting_past_the_cap_keeps_container_counted),
		cmocka_unit_test(
		    test_base64_message_rfc822_decoded_and_descended),
		cmocka_unit_test(
		    test_message_global_encoding_honoured_and_descended),
		cmocka_unit_test(
		    test_gap_inside_attached_message_truncates_both),
		cmocka_unit_test(test_attachment_cap_counts_inner_attachments),
		cmocka_unit_test(
		    test_multipart_depth_is_one_budget_across_messages),
		cmocka_unit_test(
		    test_unknown_transfer_encoding_counted_and_hashed_raw),
		cmocka_unit_test(
		    test_top_level_attachment_keeps_final_line_end),
		cmocka_unit_test(test_nul_bytes_in_body_are_hashed),
		cmocka_unit_test(
		    test_header_field_over_cap_truncated_and_parsing_goes_on),
		cmocka_unit_test(test_overlong_lines_counted),
		cmocka_unit_test(test_too_many_recipients_counted_not_kept),
		cmocka_unit_test(test_too_many_received_counted),
		cmocka_unit_test(test_result_budget_bounds_kept_strings),
		cmocka_unit_test(
		    test_nesting_past_depth_cap_counted_and_parsing_goes_on),
		cmocka_unit_test(test_too_many_attachments_counted_not_listed),
		cmocka_unit_test(test_too_many_parts_skipped_structure_kept),
		cmocka_unit_test(test_header_block_over_cap_ignores_rest),
		cmocka_unit_test(test_long_filename_cut_at_character_boundary),
		cmocka_unit_test(test_hostile_message_memory_stays_bounded),
		cmocka_unit_test(
		    test_gap_in_attachment_truncates_and_resyncs_at_delimiter),
		cmocka_unit_test(test_gap_in_headers_drops_field_and_continues),
		cmocka_unit_test(
		    test_gap_in_part_headers_marks_attachment_truncated),
		cmocka_unit_test(test_gap_in_top_level_attachment_truncates_it),
		cmocka_unit_test(
		    test_reset_releases_result_and_parser_is_reused),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_peer_wireshark_news_txt_is_10807_bytes),
		cmocka_unit_test(test_peer_zeek_cc_list),
		cmocka_unit_test(
		    test_peer_suricata_quoted_printable_related_patch),
		cmocka_unit_test(test_peer_suricata_rfc2231_filename),
		cmocka_unit_test(test_peer_suricata_base64_invalid_characters),
		cmocka_unit_test(test_peer_suricata_to_comma),
		cmocka_unit_test(test_peer_suricata_encapsulation_8649),
		cmocka_unit_test(test_peer_suricata_email_fields),
	};

	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
