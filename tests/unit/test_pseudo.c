/*
 * test_pseudo.c: keyed pseudonyms for addresses, one at a time and over a
 * whole record (envelope, header lists, Received lines), the input record
 * left as it was, and every output format fed a pseudonymised record.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "text_assert.h"

#include "common/dbuf.h"
#include "output/output_int.h"
#include "record/pseudo.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const uint8_t key1[] = "0123456789abcdef0123456789abcdef";
static const uint8_t key2[] = "fedcba9876543210fedcba9876543210";

static struct record_pseudo *
pseudo(const uint8_t *key)
{
	struct record_pseudo *ps;

	ps = record_pseudo_new(key, 32);
	assert_non_null(ps);
	return ps;
}

/* "anon-" and 16 lower-case hex digits at the start of s. */
static void
assert_anon(const char *s)
{
	size_t i;

	assert_non_null(s);
	assert_int_equal(strncmp(s, "anon-", 5), 0);
	for (i = 5; i < 21; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			fail_msg("not lower-case hex at %zu: %s", i, s);
}

static void
test_same_address_any_case_same_pseudonym(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	char a[300], b[300], c[300];

	assert_non_null(record_pseudo_addr(ps, "bob@example.net", a,
	    sizeof(a)));
	assert_non_null(record_pseudo_addr(ps, "BOB@Example.NET", b,
	    sizeof(b)));
	assert_non_null(record_pseudo_addr(ps, "bOb@example.net", c,
	    sizeof(c)));
	assert_anon(a);
	/* The hashed part agrees; the domain is kept as it was seen. */
	assert_memory_equal(a, b, 21);
	assert_memory_equal(a, c, 21);
	assert_string_equal(a + 21, "@example.net");
	assert_string_equal(b + 21, "@Example.NET");
	assert_string_equal(a, c);
	/* Another address differs. */
	assert_non_null(record_pseudo_addr(ps, "alice@example.net", c,
	    sizeof(c)));
	assert_string_not_equal(a, c);
	record_pseudo_free(ps);
}

static void
test_different_key_different_pseudonym(void **state)
{
	struct record_pseudo *p1 = pseudo(key1), *p2 = pseudo(key2);
	char a[300], b[300];

	record_pseudo_addr(p1, "bob@example.net", a, sizeof(a));
	record_pseudo_addr(p2, "bob@example.net", b, sizeof(b));
	assert_anon(a);
	assert_anon(b);
	assert_string_not_equal(a, b);
	assert_string_equal(b + 21, "@example.net");
	record_pseudo_free(p1);
	record_pseudo_free(p2);
}

/* "anon-" + hex of HMAC-SHA256(key1, lower) + domain, by OpenSSL's HMAC(). */
static void
expect(char *want, const char *lower, const char *domain)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;

	assert_non_null(HMAC(EVP_sha256(), key1, 32, (const uint8_t *)lower,
	    strlen(lower), md, &mdlen));
	assert_int_equal(mdlen, 32);
	strcpy(want, "anon-");
	for (i = 0; i < 8; i++)
		sprintf(want + 5 + 2 * i, "%02x", md[i]);
	strcat(want, domain);
}

static void
test_known_answer_is_hmac_sha256_of_lower_case(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	char want[64], got[1100], addr[1000], lower[1000];
	size_t i;

	expect(want, "alice.smith@example.org", "@Example.ORG");
	assert_non_null(record_pseudo_addr(ps, "Alice.Smith@Example.ORG", got,
	    sizeof(got)));
	assert_string_equal(got, want);
	/* Longer than what is lower-cased at a time. */
	for (i = 0; i < 900; i++) {
		addr[i] = (char)("AbCdEfG"[i % 7]);
		lower[i] = (char)("abcdefg"[i % 7]);
	}
	strcpy(addr + 900, "@X.example");
	strcpy(lower + 900, "@x.example");
	expect(want, lower, "@X.example");
	assert_non_null(record_pseudo_addr(ps, addr, got, sizeof(got)));
	assert_string_equal(got, want);
	record_pseudo_free(ps);
}

static void
test_null_sender_stays_empty(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	char out[8] = "junk";

	assert_ptr_equal(record_pseudo_addr(ps, "", out, sizeof(out)), out);
	assert_string_equal(out, "");
	record_pseudo_free(ps);
}

static void
test_address_without_at_is_replaced_whole(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	char a[64], b[64];

	assert_non_null(record_pseudo_addr(ps, "postmaster", a, sizeof(a)));
	assert_anon(a);
	assert_int_equal(strlen(a), 21);
	record_pseudo_addr(ps, "PostMaster", b, sizeof(b));
	assert_string_equal(a, b);
	record_pseudo_free(ps);
}

static void
test_domain_is_after_the_last_at(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	char a[64];

	record_pseudo_addr(ps, "\"x@y\"@example.org", a, sizeof(a));
	assert_anon(a);
	assert_string_equal(a + 21, "@example.org");
	record_pseudo_free(ps);
}

static void
test_pseudonym_never_holds_the_local_part(void **state)
{
	static const char *addrs[] = { "alice@example.org", "bob@example.net",
	    "deadbeef@example.com", "anon-0123456789abcdef@example.com" };
	struct record_pseudo *ps = pseudo(key1);
	char out[128], local[64];
	size_t i;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		record_pseudo_addr(ps, addrs[i], out, sizeof(out));
		snprintf(local, sizeof(local), "%.*s",
		    (int)(strchr(addrs[i], '@') - addrs[i]), addrs[i]);
		assert_anon(out);
		assert_lacks(out, local);
	}
	record_pseudo_free(ps);
}

static void
test_output_too_small_is_refused(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	const char *a = "bob@example.net";
	char out[RECORD_PSEUDO_LOCAL_LEN + 13];	/* exactly what it needs */

	assert_int_equal(sizeof(out), RECORD_PSEUDO_OUT_SIZE(strlen(a)) - 3);
	assert_non_null(record_pseudo_addr(ps, a, out, sizeof(out)));
	assert_null(record_pseudo_addr(ps, a, out, sizeof(out) - 1));
	assert_null(record_pseudo_addr(ps, a, out, 0));
	record_pseudo_free(ps);
}

static void
test_short_or_missing_key_is_refused(void **state)
{
	assert_null(record_pseudo_new(key1, RECORD_PSEUDO_KEY_MIN - 1));
	assert_null(record_pseudo_new(NULL, 32));
	record_pseudo_free(NULL);
	record_pseudo_free(record_pseudo_new(key1, RECORD_PSEUDO_KEY_MIN));
}

/* ---- whole records ---------------------------------------------------- */

static struct record_conn conn = { "Cpseudo" };

static struct record_rcpt rcpts[] = {
	{ "bob@example.net", true, 250, "2.1.5", 3 },
	{ "Carol@Example.NET", true, 550, "5.1.1", 4 },
};

static struct mime_addr to_items[] = {
	{ "Bob <bob@example.net>", "bob@example.net" },
	{ "\"Doe, Jane\" <jane@example.org>", "jane@example.org" },
};
static struct mime_addr cc_items[] = {
	{ "Carol Ann <carol@example.net>", "carol@example.net" },
	{ "undisclosed-recipients:;", NULL },
};
static struct mime_addr from_items[] = {
	{ "Alice <alice@example.org>", "alice@example.org" },
};
static char *received[] = {
	"from a by b for <bob@example.net>; date",
	"from pc.example.org (pc.example.org [10.0.0.1]) by mx.example.org "
	    "(Postfix) with ESMTPSA id 4F2A1 (Authenticated sender: "
	    "dave@example.org) for carol@example.net; Mon, 1 Jan 2024",
	"by localhost with SMTP id x; Mon, 1 Jan 2024",
};

static struct mime_result mime_in = {
	.h = {
		.from = "Alice <alice@example.org>",
		.from_list = { from_items, 1 },
		.to = { to_items, 2 },
		.cc = { cc_items, 2 },
		.reply_to = "\"Alice (work)\" <alice@work.example>, "
		    "eve@example.com (Eve)",
		.subject = "hello",
		.message_id = "<msg1@example.org>",
		.in_reply_to = "<msg0@example.org>",
		.received = { received, 3 },
		.complete = true,
	},
	.bytes = 1234,
};

static struct record
make_record(void)
{
	struct record r = {
		.conn = &conn,
		.trans_depth = 2,
		.banner = "220 mx.example.org ESMTP",
		.helo = "pc.example.org",
		.auth_mech = "PLAIN",
		.auth_user = "dave@example.org",
		.auth = RECORD_AUTH_SUCCESS,
		.has_mail = true,
		.mail_from = "alice@example.org",
		.mail_bracketed = true,
		.mail_params = "SIZE=1234 AUTH=<dave@example.org>",
		.mail_code = 250,
		.rcpt = rcpts,
		.nrcpt = 2,
		.status = RECORD_ACCEPTED,
		.last_reply = "250 2.0.0 Ok: queued as 4F2A1",
		.session_last_reply = "550 5.1.1 <Carol@Example.NET>... "
		    "User unknown",
		.has_message = true,
		.size_known = true,
		.size = 1234,
		.mime = &mime_in,
	};

	return r;
}

/* Every string a record reaches, and its pointers, in one text. */
static void
dump(struct dbuf *b, const struct record *r)
{
	const struct mime_headers *h;
	size_t i;

	dbuf_reset(b);
	dbuf_printf(b, "%p|%s|%s|%s|%s|%p|%zu|", (const void *)r->mail_from,
	    r->mail_from, r->auth_user, r->mail_params,
	    r->session_last_reply, (const void *)r->rcpt, r->nrcpt);
	for (i = 0; i < r->nrcpt; i++)
		dbuf_printf(b, "%p=%s|", (void *)r->rcpt[i].addr,
		    r->rcpt[i].addr);
	h = &r->mime->h;
	dbuf_printf(b, "%s|%s|", h->from, h->reply_to);
	for (i = 0; i < h->from_list.n; i++)
		dbuf_printf(b, "%s=%s|", h->from_list.v[i].raw,
		    h->from_list.v[i].addr);
	for (i = 0; i < h->to.n; i++)
		dbuf_printf(b, "%s=%s|", h->to.v[i].raw, h->to.v[i].addr);
	for (i = 0; i < h->cc.n; i++)
		dbuf_printf(b, "%s=%s|", h->cc.v[i].raw,
		    h->cc.v[i].addr ? h->cc.v[i].addr : "(null)");
	for (i = 0; i < h->received.n; i++)
		dbuf_printf(b, "%s|", h->received.v[i]);
	dbuf_addc(b, '\0');
	assert_int_equal(dbuf_status(b), 0);
}

static const char *
anon(struct record_pseudo *ps, const char *addr)
{
	static char out[4][300];
	static unsigned k;

	k = (k + 1) % 4;
	assert_non_null(record_pseudo_addr(ps, addr, out[k], sizeof(out[k])));
	return out[k];
}

static void
test_envelope_is_replaced(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	struct record in = make_record();
	const struct record *r;

	r = record_pseudonymise(ps, &in);
	assert_non_null(r);
	assert_ptr_not_equal(r, &in);
	assert_anon(r->mail_from);
	assert_string_equal(r->mail_from, anon(ps, "alice@example.org"));
	assert_string_equal(r->mail_from + 21, "@example.org");
	assert_string_equal(r->auth_user, anon(ps, "dave@example.org"));
	assert_int_equal(r->nrcpt, 2);
	assert_ptr_not_equal(r->rcpt, rcpts);
	assert_string_equal(r->rcpt[0].addr, anon(ps, "bob@example.net"));
	assert_string_equal(r->rcpt[1].addr, anon(ps, "carol@Example.NET"));
	assert_string_equal(r->rcpt[1].addr + 21, "@Example.NET");
	/* The rest of each recipient is kept. */
	assert_int_equal(r->rcpt[1].code, 550);
	assert_string_equal(r->rcpt[1].enhanced, "5.1.1");
	assert_int_equal(r->rcpt[1].seq, 4);
	assert_true(r->rcpt[1].bracketed);
	/* As is everything that is not an address. */
	assert_ptr_equal(r->conn, &conn);
	assert_int_equal(r->trans_depth, 2);
	assert_string_equal(r->helo, "pc.example.org");
	assert_string_equal(r->banner, "220 mx.example.org ESMTP");
	assert_string_equal(r->auth_mech, "PLAIN");
	assert_int_equal(r->status, RECORD_ACCEPTED);
	assert_int_equal(r->size, 1234);
	assert_string_equal(r->last_reply, "250 2.0.0 Ok: queued as 4F2A1");
	record_pseudo_free(ps);
}

static void
test_params_and_replies_lose_their_addresses(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	struct record in = make_record();
	const struct record *r;
	char want[300];

	r = record_pseudonymise(ps, &in);
	assert_non_null(r);
	snprintf(want, sizeof(want), "SIZE=1234 AUTH=<%s>",
	    anon(ps, "dave@example.org"));
	assert_string_equal(r->mail_params, want);
	snprintf(want, sizeof(want), "550 5.1.1 <%s>... User unknown",
	    anon(ps, "Carol@Example.NET"));
	assert_string_equal(r->session_last_reply, want);
	/* Without an address the string is shared as it is. */
	assert_ptr_equal(r->last_reply, in.last_reply);
	record_pseudo_free(ps);
}

static void
test_null_sender_record_stays_empty(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	struct record in = make_record();
	const struct record *r;

	in.mail_from = "";
	in.auth_user = NULL;
	r = record_pseudonymise(ps, &in);
	assert_non_null(r);
	assert_string_equal(r->mail_from, "");
	assert_null(r->auth_user);
	/* No MAIL at all: nothing to replace. */
	in.has_mail = false;
	in.mail_from = NULL;
	r = record_pseudonymise(ps, &in);
	assert_non_null(r);
	assert_null(r->mail_from);
	record_pseudo_free(ps);
}

static void
test_header_lists_lose_display_names(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	struct record in = make_record();
	const struct mime_headers *h;
	const struct record *r;
	char want[300];

	r = record_pseudonymise(ps, &in);
	assert_non_null(r);
	assert_ptr_not_equal(r->mime, &mime_in);
	h = &r->mime->h;
	assert_int_equal(h->to.n, 2);
	assert_string_equal(h->to.v[0].addr, anon(ps, "bob@example.net"));
	assert_string_equal(h->to.v[0].raw, h->to.v[0].addr);
	assert_string_equal(h->to.v[1].addr, anon(ps, "jane@example.org"));
	assert_string_equal(h->to.v[1].raw, h->to.v[1].addr);
	/* The item without an address (a group label) is left out. */
	assert_int_equal(h->cc.n, 1);
	assert_string_equal(h->cc.v[0].addr, anon(ps, "carol@example.net"));
	assert_string_equal(h->cc.v[0].raw, h->cc.v[0].addr);
	assert_int_equal(h->from_list.n, 1);
	assert_string_equal(h->from_list.v[0].addr,
	    anon(ps, "alice@example.org"));
	/* "Alice <alice@example.org>" is just the address now. */
	assert_string_equal(h->from, anon(ps, "alice@example.org"));
	assert_string_equal(h->from, r->mail_from);
	snprintf(want, sizeof(want), "%s, ", anon(ps, "alice@work.example"));
	strcat(want, anon(ps, "eve@example.com"));
	assert_string_equal(h->reply_to, want);
	/* Ids and everything else stay. */
	assert_string_equal(h->message_id, "<msg1@example.org>");
	assert_string_equal(h->in_reply_to, "<msg0@example.org>");
	assert_string_equal(h->subject, "hello");
	assert_true(h->complete);
	assert_int_equal(r->mime->bytes, 1234);
	record_pseudo_free(ps);
}

static void
test_from_without_list_or_reply_to_addresses_is_null(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	struct record in = make_record();
	struct mime_result m = mime_in;
	const struct record *r;

	m.h.from = "Alice";
	m.h.from_list.n = 0;
	m.h.reply_to = "Nobody (no address here)";
	in.mime = &m;
	r = record_pseudonymise(ps, &in);
	assert_non_null(r);
	assert_null(r->mime->h.from);
	assert_int_equal(r->mime->h.from_list.n, 0);
	assert_null(r->mime->h.reply_to);
	/* Without a message there is no header. */
	in.mime = NULL;
	r = record_pseudonymise(ps, &in);
	assert_non_null(r);
	assert_null(r->mime);
	record_pseudo_free(ps);
}

static void
test_received_keeps_all_but_the_addresses(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	struct record in = make_record();
	const struct mime_str_list *l;
	const struct record *r;
	char want[512];

	r = record_pseudonymise(ps, &in);
	assert_non_null(r);
	l = &r->mime->h.received;
	assert_int_equal(l->n, 3);
	snprintf(want, sizeof(want), "from a by b for <%s>; date",
	    anon(ps, "bob@example.net"));
	assert_string_equal(l->v[0], want);
	assert_lacks(l->v[1], "dave");
	assert_lacks(l->v[1], "carol");
	assert_has(l->v[1], "(Authenticated sender: ");
	assert_has(l->v[1], anon(ps, "dave@example.org"));
	assert_has(l->v[1], "for ");
	assert_has(l->v[1], anon(ps, "carol@example.net"));
	assert_has(l->v[1], "from pc.example.org (pc.example.org [10.0.0.1]) "
	    "by mx.example.org (Postfix) with ESMTPSA id 4F2A1 ");
	assert_has(l->v[1], "; Mon, 1 Jan 2024");
	assert_string_equal(l->v[2], received[2]);
	record_pseudo_free(ps);
}

static void
test_address_tokens_need_text_on_both_sides_of_at(void **state)
{
	static char *lines[] = { "by mx id @x; x@ y @ (a@b) z,q@r;" };
	struct record_pseudo *ps = pseudo(key1);
	struct mime_result m = { .h = { .received = { lines, 1 } } };
	struct record in = make_record();
	const struct record *r;
	char want[256];

	in.mime = &m;
	r = record_pseudonymise(ps, &in);
	assert_non_null(r);
	snprintf(want, sizeof(want), "by mx id @x; x@ y @ (%s) z,",
	    anon(ps, "a@b"));
	strcat(want, anon(ps, "q@r"));
	strcat(want, ";");
	assert_string_equal(r->mime->h.received.v[0], want);
	record_pseudo_free(ps);
}

static void
test_input_record_is_unchanged(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	struct record in = make_record(), copy;
	struct mime_result mcopy = mime_in;
	struct dbuf before, after;

	dbuf_init(&before, 1 << 16);
	dbuf_init(&after, 1 << 16);
	copy = in;
	dump(&before, &in);
	assert_non_null(record_pseudonymise(ps, &in));
	assert_non_null(record_pseudonymise(ps, &in));
	dump(&after, &in);
	assert_string_equal((char *)before.p, (char *)after.p);
	assert_memory_equal(&in, &copy, sizeof(in));
	assert_memory_equal(&mime_in, &mcopy, sizeof(mime_in));
	assert_has((char *)after.p, "alice@example.org");
	assert_has((char *)after.p, "Alice <alice@example.org>");
	dbuf_fini(&before);
	dbuf_fini(&after);
	record_pseudo_free(ps);
}

static void
test_result_lives_until_the_next_call(void **state)
{
	struct record_pseudo *ps = pseudo(key1);
	struct record in = make_record();
	const struct record *r;
	struct dbuf a, b;

	dbuf_init(&a, 1 << 16);
	dbuf_init(&b, 1 << 16);
	r = record_pseudonymise(ps, &in);
	assert_non_null(r);
	dump(&a, r);
	r = record_pseudonymise(ps, &in);
	assert_non_null(r);
	dump(&b, r);
	/* The same again (pointers aside), in the reset arena. */
	assert_string_equal(strchr((char *)a.p, '|'),
	    strchr((char *)b.p, '|'));
	dbuf_fini(&a);
	dbuf_fini(&b);
	record_pseudo_free(ps);
}

static void
test_big_record_spans_chunks_without_leaks(void **state)
{
	static struct record_rcpt many[LIMIT_SMTP_RCPT + 3];
	static char addrs[LIMIT_SMTP_RCPT + 3][32];
	static char *lines[10];
	struct record_pseudo *ps = pseudo(key1);
	struct record in = make_record();
	struct mime_result m = mime_in;
	const struct record *r;
	char *big;
	size_t i;

	for (i = 0; i < LIMIT_SMTP_RCPT + 3; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "u%zu@example.net", i);
		many[i].addr = addrs[i];
		many[i].code = 250;
	}
	/* One long line of short tokens: the worst growth per byte. */
	big = malloc(LIMIT_MIME_STRING + 1);
	assert_non_null(big);
	for (i = 0; i < LIMIT_MIME_STRING; i += 4)
		memcpy(big + i, "a@b ", 4);
	big[LIMIT_MIME_STRING] = '\0';
	for (i = 0; i < 10; i++)
		lines[i] = big;
	m.h.received.v = lines;
	m.h.received.n = 10;
	in.mime = &m;
	in.rcpt = many;
	in.nrcpt = LIMIT_SMTP_RCPT + 3;
	in.rcpt_dropped = 7;
	r = record_pseudonymise(ps, &in);
	assert_non_null(r);
	assert_int_equal(r->nrcpt, LIMIT_SMTP_RCPT);
	assert_int_equal(r->rcpt_dropped, 10);
	assert_string_equal(r->rcpt[999].addr, anon(ps, "u999@example.net"));
	assert_int_equal(strlen(r->mime->h.received.v[9]),
	    LIMIT_MIME_STRING / 4 * (RECORD_PSEUDO_LOCAL_LEN + 3));
	assert_lacks(r->mime->h.received.v[9], "a@b");
	/* A small one after: the extra chunks go. */
	in = make_record();
	assert_non_null(record_pseudonymise(ps, &in));
	r = record_pseudonymise(ps, &in);
	assert_non_null(r);
	assert_int_equal(r->nrcpt, 2);
	free(big);
	record_pseudo_free(ps);
}

/* ---- through the session and every output format ---------------------- */

struct sink {
	struct record_pseudo	*ps;
	struct dbuf		 out;
	unsigned		 n;
};

static void
on_record(void *arg, const struct record *r)
{
	struct sink *s = arg;
	const struct record *p;

	p = record_pseudonymise(s->ps, r);
	assert_non_null(p);
	s->n++;
	assert_int_equal(output_native(&s->out, p, s->n), 0);
	assert_int_equal(output_zeek(&s->out, p, s->n), 0);
	assert_int_equal(output_eve(&s->out, p, s->n), 0);
}

static void
test_outputs_never_see_the_local_parts(void **state)
{
	static const char *steps[][2] = {
		{ "S", "220 mx.example.org ESMTP\r\n" },
		{ "C", "EHLO pc.example.org\r\n" },
		{ "S", "250-mx.example.org\r\n250 PIPELINING\r\n" },
		{ "C", "MAIL FROM:<Alice@example.org>\r\n" },
		{ "S", "250 2.1.0 <Alice@example.org>... Sender ok\r\n" },
		{ "C", "RCPT TO:<bob@example.net>\r\n" },
		{ "S", "250 2.1.5 Ok\r\n" },
		{ "C", "RCPT TO:<nobody@example.net>\r\n" },
		{ "S", "550 5.1.1 <nobody@example.net>: User unknown\r\n" },
		{ "C", "DATA\r\n" },
		{ "S", "354 go\r\n" },
		{ "C", "Received: from pc by mx for <bob@example.net>; now\r\n"
		    "From: \"Alice Liddell\" <alice@example.org>\r\n"
		    "To: Bob Builder <bob@example.net>, undisclosed:;\r\n"
		    "Cc: carol@example.net (Carol)\r\n"
		    "Reply-To: Alice Home <alice@home.example>\r\n"
		    "Message-ID: <m1@example.org>\r\n"
		    "Subject: hi\r\n\r\nbody\r\n.\r\n" },
		{ "S", "250 2.0.0 Ok: queued\r\n" },
		{ "C", "QUIT\r\n" },
		{ "S", "221 bye\r\n" },
	};
	struct record_conn c;
	struct record_config cfg = { false };
	struct record_ops ops = { on_record };
	struct record_session *rs;
	struct sink s;
	const char *j;
	size_t i;

	memset(&c, 0, sizeof(c));
	strcpy(c.uid, "Cpseudo");
	c.client.af = c.server.af = 4;
	c.server.port = 25;
	s.ps = pseudo(key1);
	s.n = 0;
	dbuf_init(&s.out, 1 << 20);
	rs = record_session_new(&c, &cfg, &ops, &s);
	assert_non_null(rs);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		record_session_feed(rs, steps[i][0][0] == 'C' ? SMTP_C2S :
		    SMTP_S2C, (const uint8_t *)steps[i][1], strlen(steps[i][1]),
		    1700000000000000000ull + i);
	record_session_end(rs, false);
	record_session_free(rs);
	dbuf_addc(&s.out, '\0');
	assert_int_equal(dbuf_status(&s.out), 0);
	assert_int_equal(s.n, 1);
	j = (const char *)s.out.p;
	assert_lacks(j, "alice");
	assert_lacks(j, "Alice");
	assert_lacks(j, "bob@");
	assert_lacks(j, "Bob");
	assert_lacks(j, "nobody");
	assert_lacks(j, "carol");
	assert_lacks(j, "Carol");
	assert_has(j, anon(s.ps, "alice@example.org"));
	assert_has(j, anon(s.ps, "bob@example.net"));
	assert_has(j, anon(s.ps, "carol@example.net"));
	assert_has(j, anon(s.ps, "alice@home.example"));
	assert_has(j, "m1@example.org");
	assert_has(j, "\"subject\":\"hi\"");
	dbuf_fini(&s.out);
	record_pseudo_free(s.ps);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_address_any_case_same_pseudonym),
		cmocka_unit_test(test_different_key_different_pseudonym),
		cmocka_unit_test(test_known_answer_is_hmac_sha256_of_lower_case),
		cmocka_unit_test(test_null_sender_stays_empty),
		cmocka_unit_test(test_address_without_at_is_replaced_whole),
		cmocka_unit_test(test_domain_is_after_the_last_at),
		cmocka_unit_test(test_pseudonym_never_holds_the_local_part),
		cmocka_unit_test(test_output_too_small_is_refused),
		cmocka_unit_test(test_short_or_missing_key_is_refused),
		cmocka_unit_test(test_envelope_is_replaced),
		cmocka_unit_test(test_params_and_replies_lose_their_addresses),
		cmocka_unit_test(test_null_sender_record_stays_empty),
		cmocka_unit_test(test_header_lists_lose_display_names),
		cmocka_unit_test(test_from_without_list_or_reply_to_addresses_is_null),
		cmocka_unit_test(test_received_keeps_all_but_the_addresses),
		cmocka_unit_test(test_address_tokens_need_text_on_both_sides_of_at),
		cmocka_unit_test(test_input_record_is_unchanged),
		cmocka_unit_test(test_result_lives_until_the_next_call),
		cmocka_unit_test(test_big_record_spans_chunks_without_leaks),
		cmocka_unit_test(test_outputs_never_see_the_local_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
