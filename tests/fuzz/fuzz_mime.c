/*
 * fuzz_mime.c: libFuzzer target over the streaming MIME parser.
 * Input: "seed:u8 gap:u8 message". The seed draws the split points (so
 * splitting is fuzzed too); gap, when its high bit is set, puts a gap of
 * (gap & 0x7f) + 1 bytes after (gap & 0x7f) * len / 128 bytes. The same
 * input is also fed whole with the gap at the same place, and both
 * results must be identical. abort() when an invariant breaks: strings not
 * valid UTF-8, caps exceeded, byte counts wrong, results split-dependent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "mime/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok)
{
	if (!ok)
		abort();
}

/* Valid UTF-8 (RFC 3629), no NUL inside, at most max bytes. */
static void
check_str(const char *s, size_t max)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n, k, j;

	if (s == NULL)
		return;
	n = strlen(s);
	check(n <= max);
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
			abort();
		check(k <= n);
		for (j = 1; j < k; j++)
			check((p[j] & 0xc0) == 0x80);
		if (k == 3)
			check(!(p[0] == 0xe0 && p[1] < 0xa0) &&
			    !(p[0] == 0xed && p[1] >= 0xa0));
		if (k == 4)
			check(!(p[0] == 0xf0 && p[1] < 0x90) &&
			    !(p[0] == 0xf4 && p[1] >= 0x90));
		p += k;
		n -= k;
	}
}

static void
check_list(const struct mime_addr_list *l)
{
	size_t i;

	check(l->n <= LIMIT_MIME_ADDRS);
	for (i = 0; i < l->n; i++) {
		check(l->v[i].raw != NULL);
		check_str(l->v[i].raw, LIMIT_MIME_ADDR_STRING);
		check_str(l->v[i].addr, LIMIT_MIME_ADDR_STRING);
	}
}

/* The nearest attachment before i one level up is an attached message. */
static bool
container_before(const struct mime_result *r, size_t i)
{
	size_t j = i;

	while (j-- > 0)
		if (r->att[j].depth + 1 == r->att[i].depth)
			return strcmp(r->att[j].content_type,
			    "message/rfc822") == 0 ||
			    strcmp(r->att[j].content_type,
			    "message/global") == 0;
	return false;
}

static void
check_result(const struct mime_result *r, uint64_t pushed)
{
	const struct mime_headers *h = &r->h;
	size_t i;

	check(r->bytes == pushed);
	check(r->body_bytes <= r->bytes);
	check(h->complete || r->body_bytes == 0);
	check_str(h->from, LIMIT_MIME_STRING);
	check_list(&h->from_list);
	check_list(&h->to);
	check_list(&h->cc);
	check_str(h->reply_to, LIMIT_MIME_STRING);
	check_str(h->subject, LIMIT_MIME_STRING);
	check_str(h->message_id, LIMIT_MIME_STRING);
	check_str(h->in_reply_to, LIMIT_MIME_STRING);
	check_str(h->date, LIMIT_MIME_STRING);
	check_str(h->user_agent, LIMIT_MIME_STRING);
	check_str(h->x_mailer, LIMIT_MIME_STRING);
	check_str(h->x_originating_ip, LIMIT_MIME_STRING);
	check_str(h->content_type, LIMIT_MIME_TYPE);
	check(h->received.n <= LIMIT_MIME_RECEIVED);
	for (i = 0; i < h->received.n; i++) {
		check(h->received.v[i] != NULL);
		check_str(h->received.v[i], LIMIT_MIME_STRING);
	}
	check(r->natt <= LIMIT_MIME_ATTACHMENTS);
	for (i = 0; i < r->natt; i++) {
		check(r->att[i].content_type != NULL);
		check(strchr(r->att[i].content_type, '/') != NULL);
		check_str(r->att[i].content_type, LIMIT_MIME_TYPE);
		check_str(r->att[i].filename, LIMIT_MIME_FILENAME);
		check(r->att[i].depth <= LIMIT_MIME_NESTING);
		/*
		 * What an attached message carries follows it: one level
		 * down at most, and the nearest attachment one level up is
		 * a message.
		 */
		if (i == 0)
			check(r->att[i].depth == 0);
		else
			check(r->att[i].depth <= r->att[i - 1].depth + 1);
		if (r->att[i].depth > 0)
			check(container_before(r, i));
		/* QP turns a bare LF into CRLF: at most twice the input. */
		check(r->att[i].size <= 2 * r->bytes);
	}
	check(r->parts >= 1);
}

static bool
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
same_list(const struct mime_addr_list *a, const struct mime_addr_list *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (!same_str(a->v[i].raw, b->v[i].raw) ||
		    !same_str(a->v[i].addr, b->v[i].addr))
			return false;
	return true;
}

static void
check_same(const struct mime_result *a, const struct mime_result *b)
{
	const struct mime_headers *x = &a->h, *y = &b->h;
	size_t i;

	check(same_str(x->from, y->from) && same_list(&x->from_list,
	    &y->from_list) && same_list(&x->to, &y->to) &&
	    same_list(&x->cc, &y->cc));
	check(same_str(x->reply_to, y->reply_to) &&
	    same_str(x->subject, y->subject) &&
	    same_str(x->message_id, y->message_id) &&
	    same_str(x->in_reply_to, y->in_reply_to) &&
	    same_str(x->date, y->date) &&
	    same_str(x->user_agent, y->user_agent) &&
	    same_str(x->x_mailer, y->x_mailer) &&
	    same_str(x->x_originating_ip, y->x_originating_ip) &&
	    same_str(x->content_type, y->content_type));
	check(x->received.n == y->received.n);
	for (i = 0; i < x->received.n; i++)
		check(same_str(x->received.v[i], y->received.v[i]));
	check(x->complete == y->complete && a->bytes == b->bytes &&
	    a->body_bytes == b->body_bytes && a->parts == b->parts);
	check(a->natt == b->natt);
	for (i = 0; i < a->natt; i++) {
		check(same_str(a->att[i].filename, b->att[i].filename));
		check(same_str(a->att[i].content_type,
		    b->att[i].content_type));
		check(a->att[i].size == b->att[i].size &&
		    a->att[i].truncated == b->att[i].truncated &&
		    a->att[i].depth == b->att[i].depth);
		check(memcmp(a->att[i].sha256, b->att[i].sha256, 32) == 0 &&
		    memcmp(a->att[i].md5, b->att[i].md5, 16) == 0);
	}
	check(memcmp(a->events, b->events, sizeof(a->events)) == 0);
}

/* Push p[0..n) in pieces drawn from *seed (0: whole). */
static void
push_split(struct mime_parser *mp, const uint8_t *p, size_t n,
    uint32_t *seed)
{
	size_t k;

	while (n > 0) {
		if (*seed == 0)
			k = n;
		else {
			*seed = *seed * 1103515245u + 12345u;
			k = (*seed >> 16) % 4 == 0 ? 1 : 1 + (*seed >> 16) % 97;
		}
		if (k > n)
			k = n;
		mime_parser_push(mp, p, k);
		p += k;
		n -= k;
	}
}

static void
run(struct mime_parser *mp, const uint8_t *msg, size_t n, size_t gap_at,
    uint64_t gap, uint32_t seed)
{
	mime_parser_reset(mp);
	push_split(mp, msg, gap_at, &seed);
	if (gap > 0)
		mime_parser_gap(mp, gap);
	push_split(mp, msg + gap_at, n - gap_at, &seed);
	mime_parser_finish(mp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mime_parser *split, *whole;
	const uint8_t *msg;
	uint32_t seed;
	uint64_t gap = 0;
	size_t n, gap_at;

	if (size < 2)
		return 0;
	if (split == NULL && (split = mime_parser_new()) == NULL)
		abort();
	if (whole == NULL && (whole = mime_parser_new()) == NULL)
		abort();
	msg = data + 2;
	n = size - 2;
	seed = data[0] * 2654435761u + 1;
	gap_at = n;
	if (data[1] & 0x80) {
		gap_at = (size_t)((uint64_t)(data[1] & 0x7f) * n / 128);
		gap = (data[1] & 0x7f) + 1u;
	}
	run(split, msg, n, gap_at, gap, seed);
	run(whole, msg, n, gap_at, gap, 0);
	check_result(mime_parser_result(split), n);
	check_result(mime_parser_result(whole), n);
	check_same(mime_parser_result(split), mime_parser_result(whole));
	return 0;
}
