/*
 * pseudo.c: a record's addresses replaced by keyed pseudonyms before any
 * sink sees it (DESIGN.md, "Addresses can optionally be pseudonymised").
 *
 * The local part goes, the domain stays: "anon-" + the first 16 hex digits
 * of HMAC-SHA256(key, address with ASCII letters lower-cased) + "@domain"
 * as seen. Lower-casing the whole address is deliberate: RFC 5321 §2.4
 * leaves local parts case-sensitive, but no real mailbox relies on that,
 * and Bob@x and bob@x must meet in one per-address view. The domain is the
 * part after the last '@' (a quoted local part may hold one, RFC 5321
 * §4.1.2; a domain never does).
 *
 * Replaced: the envelope (MAIL FROM, each RCPT TO, the AUTH user), the
 * header address lists (From, To, Cc; display names dropped), Reply-To,
 * and every address token inside Received lines, MAIL parameters (AUTH=,
 * RFC 4954 §5) and reply texts (servers echo addresses: "550 5.1.1
 * <bob@x>... User unknown"). Not touched: Message-ID and In-Reply-To (ids,
 * not mailboxes), Subject, host names, attachments.
 */
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/ascii.h"
#include "pseudo.h"

/*
 * Arena chunk size. One chunk is kept between calls; larger records take
 * more chunks, freed at the next call. What a record needs is bounded by
 * its input: a pseudonym is its address's domain plus 21 bytes, and an
 * address takes at least 3 bytes and a separator or NUL (From's are kept
 * twice, in the list and joined), so under 8 times the input's string
 * bytes, plus copies of its arrays. The bytes a new chunk leaves unused
 * in the old one are fewer than the request that made it, so the arena
 * never exceeds twice that, plus one chunk.
 */
#define PSEUDO_CHUNK	(16u * 1024)

/* Bytes lower-cased at a time on their way to the MAC. */
#define PSEUDO_STACK	256

struct chunk {
	struct chunk	*next;		/* the one allocated before */
	size_t		 cap;
	size_t		 used;
	max_align_t	 mem[];
};

struct record_pseudo {
	uint8_t			*key;
	size_t			 keylen;
	EVP_MAC			*mac;	/* OpenSSL's HMAC, fetched once */
	EVP_MAC_CTX		*ctx;	/* with SHA-256 set */
	struct chunk		*base;	/* kept across calls */
	struct chunk		*cur;	/* the newest, base at the end */
	struct record		 rec;
	struct mime_result	 mime;
};

static struct chunk *
chunk_new(size_t cap)
{
	struct chunk *c;

	if (cap > SIZE_MAX - sizeof(*c))
		return NULL;
	if ((c = malloc(sizeof(*c) + cap)) == NULL)
		return NULL;
	c->next = NULL;
	c->cap = cap;
	c->used = 0;
	return c;
}

/* Free every chunk but the base: the previous result is gone. */
static void
arena_reset(struct record_pseudo *ps)
{
	struct chunk *c;

	while (ps->cur != ps->base) {
		c = ps->cur->next;
		free(ps->cur);
		ps->cur = c;
	}
	ps->base->used = 0;
}

/* n bytes aligned to align (a power of two); NULL on ENOMEM. */
static void *
arena_alloc(struct record_pseudo *ps, size_t n, size_t align)
{
	struct chunk *c = ps->cur;
	size_t off;

	off = (c->used + align - 1) & ~(align - 1);
	if (off > c->cap || n > c->cap - off) {
		/* The rest of the old chunk is lost: at most n bytes. */
		if ((c = chunk_new(n > PSEUDO_CHUNK ? n : PSEUDO_CHUNK)) ==
		    NULL)
			return NULL;
		c->next = ps->cur;
		ps->cur = c;
		off = 0;
	}
	c->used = off + n;
	return (uint8_t *)c->mem + off;
}

static bool
is_sep(uint8_t b)
{
	switch (b) {
	case ' ': case '\t': case '\r': case '\n': case '\v': case '\f':
	case '<': case '>': case '(': case ')': case ',': case ';': case '"':
		return true;
	}
	return false;
}

/*
 * The next address token of s[*pos..n): a maximal run of non-separators
 * holding an '@' with at least one byte on each side. False at the end.
 */
static bool
next_token(const char *s, size_t n, size_t *pos, size_t *start,
    size_t *len)
{
	size_t i = *pos, b;

	while (i < n) {
		while (i < n && is_sep((uint8_t)s[i]))
			i++;
		b = i;
		while (i < n && !is_sep((uint8_t)s[i]))
			i++;
		if (i - b >= 3 && memchr(s + b + 1, '@', i - b - 2) != NULL) {
			*start = b;
			*len = i - b;
			*pos = i;
			return true;
		}
	}
	*pos = n;
	return false;
}

/* Bytes of the pseudonym of a[0..n), without NUL. */
static size_t
pseudo_len(const char *a, size_t n)
{
	const char *at;

	if (n == 0)
		return 0;
	if ((at = memrchr(a, '@', n)) == NULL)
		return RECORD_PSEUDO_LOCAL_LEN;
	return RECORD_PSEUDO_LOCAL_LEN + n - (size_t)(at - a);
}

/*
 * Write the pseudo_len(a, n) bytes of a's pseudonym at out; -1 if the MAC
 * failed. The MAC is HMAC-SHA256 (RFC 2104) through a context made once:
 * the same bytes as HMAC(EVP_sha256(), ...), without fetching the digest
 * and allocating a context per address (a message can hold thousands).
 */
static int
pseudo_put(struct record_pseudo *ps, const char *a, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t low[PSEUDO_STACK], md[EVP_MAX_MD_SIZE];
	size_t k, m, j, mdlen = 0;
	const char *at;
	unsigned i;

	if (n == 0)
		return 0;
	if (!EVP_MAC_init(ps->ctx, ps->key, ps->keylen, NULL))
		return -1;
	for (k = 0; k < n; k += m) {
		m = n - k < sizeof(low) ? n - k : sizeof(low);
		for (j = 0; j < m; j++)
			low[j] = ascii_tolower((uint8_t)a[k + j]);
		if (!EVP_MAC_update(ps->ctx, low, m))
			return -1;
	}
	if (!EVP_MAC_final(ps->ctx, md, &mdlen, sizeof(md)) || mdlen < 8)
		return -1;
	memcpy(out, "anon-", 5);
	for (i = 0; i < 8; i++) {
		out[5 + 2 * i] = hex[md[i] >> 4];
		out[6 + 2 * i] = hex[md[i] & 0x0f];
	}
	if ((at = memrchr(a, '@', n)) != NULL)
		memcpy(out + RECORD_PSEUDO_LOCAL_LEN, at,
		    n - (size_t)(at - a));
	return 0;
}

/* The pseudonym of a, in the arena; NULL on error (a must not be NULL). */
static char *
arena_addr(struct record_pseudo *ps, const char *a)
{
	size_t n = strlen(a), len = pseudo_len(a, n);
	char *p;

	if ((p = arena_alloc(ps, len + 1, 1)) == NULL)
		return NULL;
	if (pseudo_put(ps, a, n, p) == -1)
		return NULL;
	p[len] = '\0';
	return p;
}

/*
 * s with every address token replaced by its pseudonym, the rest as it
 * is, in *out: s itself if it holds none, NULL if s is NULL. -1 on error.
 */
static int
arena_scrub(struct record_pseudo *ps, const char *s, char **out)
{
	size_t n, pos = 0, start, len, total, from, k = 0;
	char *p, *w;

	*out = NULL;
	if (s == NULL)
		return 0;
	n = strlen(s);
	total = n;
	while (next_token(s, n, &pos, &start, &len)) {
		total = total - len + pseudo_len(s + start, len);
		k++;
	}
	if (k == 0) {
		*out = (char *)s;	/* shared, never written */
		return 0;
	}
	if ((p = arena_alloc(ps, total + 1, 1)) == NULL)
		return -1;
	w = p;
	pos = 0;
	from = 0;
	while (next_token(s, n, &pos, &start, &len)) {
		memcpy(w, s + from, start - from);
		w += start - from;
		if (pseudo_put(ps, s + start, len, w) == -1)
			return -1;
		w += pseudo_len(s + start, len);
		from = start + len;
	}
	memcpy(w, s + from, n - from);
	w += n - from;
	*w = '\0';
	*out = p;
	return 0;
}

/*
 * The pseudonyms of the address tokens of s joined by ", " (display names
 * and comments dropped), in *out; NULL if s is NULL or holds none.
 */
static int
arena_tokens(struct record_pseudo *ps, const char *s, char **out)
{
	size_t n, pos = 0, start, len, total = 0, k = 0;
	char *p, *w;

	*out = NULL;
	if (s == NULL)
		return 0;
	n = strlen(s);
	while (next_token(s, n, &pos, &start, &len))
		total += (k++ > 0 ? 2 : 0) + pseudo_len(s + start, len);
	if (k == 0)
		return 0;
	if ((p = arena_alloc(ps, total + 1, 1)) == NULL)
		return -1;
	w = p;
	pos = 0;
	k = 0;
	while (next_token(s, n, &pos, &start, &len)) {
		if (k++ > 0) {
			memcpy(w, ", ", 2);
			w += 2;
		}
		if (pseudo_put(ps, s + start, len, w) == -1)
			return -1;
		w += pseudo_len(s + start, len);
	}
	*w = '\0';
	*out = p;
	return 0;
}

/*
 * An address list with each item's addr pseudonymised and its text as
 * written (which carries the display name) replaced by that pseudonym.
 * Items without an addr-spec ("undisclosed-recipients:;", a bare name)
 * hold no address and only a name: they are left out.
 */
static int
arena_list(struct record_pseudo *ps, const struct mime_addr_list *in,
    struct mime_addr_list *out)
{
	struct mime_addr *v;
	size_t i, m = 0;

	out->v = NULL;
	out->n = 0;
	for (i = 0; i < in->n; i++)
		if (in->v[i].addr != NULL)
			m++;
	if (m == 0)
		return 0;
	if (m > SIZE_MAX / sizeof(*v) ||
	    (v = arena_alloc(ps, m * sizeof(*v), alignof(struct mime_addr))) ==
	    NULL)
		return -1;
	for (i = 0; i < in->n; i++) {
		if (in->v[i].addr == NULL)
			continue;
		if ((v[out->n].addr = arena_addr(ps, in->v[i].addr)) == NULL)
			return -1;
		v[out->n].raw = v[out->n].addr;
		out->n++;
	}
	out->v = v;
	return 0;
}

/* The (already pseudonymised) addrs of l joined by ", "; NULL if none. */
static int
arena_join(struct record_pseudo *ps, const struct mime_addr_list *l,
    char **out)
{
	size_t i, total = 0, k = 0, len;
	char *p, *w;

	*out = NULL;
	for (i = 0; i < l->n; i++)
		if (l->v[i].addr[0] != '\0')
			total += (k++ > 0 ? 2 : 0) + strlen(l->v[i].addr);
	if (k == 0)
		return 0;
	if ((p = arena_alloc(ps, total + 1, 1)) == NULL)
		return -1;
	w = p;
	k = 0;
	for (i = 0; i < l->n; i++) {
		if (l->v[i].addr[0] == '\0')
			continue;
		if (k++ > 0) {
			memcpy(w, ", ", 2);
			w += 2;
		}
		len = strlen(l->v[i].addr);
		memcpy(w, l->v[i].addr, len);
		w += len;
	}
	*w = '\0';
	*out = p;
	return 0;
}

static int
pseudo_mime(struct record_pseudo *ps, const struct mime_result *in)
{
	struct mime_headers *h = &ps->mime.h;
	char **v, *s;
	size_t i;

	ps->mime = *in;
	if (arena_list(ps, &in->h.from_list, &h->from_list) == -1 ||
	    arena_list(ps, &in->h.to, &h->to) == -1 ||
	    arena_list(ps, &in->h.cc, &h->cc) == -1 ||
	    arena_join(ps, &h->from_list, &h->from) == -1 ||
	    arena_tokens(ps, in->h.reply_to, &h->reply_to) == -1)
		return -1;
	h->received.v = NULL;
	h->received.n = 0;
	if (in->h.received.n == 0)
		return 0;
	if (in->h.received.n > SIZE_MAX / sizeof(*v) ||
	    (v = arena_alloc(ps, in->h.received.n * sizeof(*v),
	    alignof(char *))) == NULL)
		return -1;
	for (i = 0; i < in->h.received.n; i++) {
		if (arena_scrub(ps, in->h.received.v[i], &s) == -1)
			return -1;
		v[i] = s;
	}
	h->received.v = v;
	h->received.n = in->h.received.n;
	return 0;
}

static int
pseudo_rcpt(struct record_pseudo *ps, const struct record *r)
{
	struct record_rcpt *v;
	size_t i, n = r->nrcpt;

	ps->rec.rcpt = NULL;
	ps->rec.nrcpt = 0;
	if (r->rcpt == NULL || n == 0)
		return 0;
	if (n > LIMIT_SMTP_RCPT) {
		/* record.c never keeps more; counted as dropped if it did. */
		ps->rec.rcpt_dropped += n - LIMIT_SMTP_RCPT;
		n = LIMIT_SMTP_RCPT;
	}
	if ((v = arena_alloc(ps, n * sizeof(*v),
	    alignof(struct record_rcpt))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		v[i] = r->rcpt[i];
		if (r->rcpt[i].addr != NULL &&
		    (v[i].addr = arena_addr(ps, r->rcpt[i].addr)) == NULL)
			return -1;
	}
	ps->rec.rcpt = v;
	ps->rec.nrcpt = n;
	return 0;
}

/*
 * A pseudonymiser keyed with a copy of key[0..keylen). NULL if the key is
 * shorter than RECORD_PSEUDO_KEY_MIN bytes, if OpenSSL has no HMAC or
 * SHA-256, or on ENOMEM. Free with record_pseudo_free().
 */
struct record_pseudo *
record_pseudo_new(const uint8_t *key, size_t keylen)
{
	struct record_pseudo *ps;
	OSSL_PARAM params[2];

	if (key == NULL || keylen < RECORD_PSEUDO_KEY_MIN)
		return NULL;
	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return NULL;
	if ((ps->key = malloc(keylen)) == NULL)
		goto fail;
	memcpy(ps->key, key, keylen);
	ps->keylen = keylen;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((ps->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ps->ctx = EVP_MAC_CTX_new(ps->mac)) == NULL ||
	    !EVP_MAC_CTX_set_params(ps->ctx, params))
		goto fail;
	if ((ps->base = chunk_new(PSEUDO_CHUNK)) == NULL)
		goto fail;
	ps->cur = ps->base;
	return ps;
fail:
	record_pseudo_free(ps);
	return NULL;
}

/* Free the pseudonymiser, its last result, and wipe its key. */
void
record_pseudo_free(struct record_pseudo *ps)
{
	if (ps == NULL)
		return;
	if (ps->base != NULL) {
		arena_reset(ps);
		free(ps->base);
	}
	EVP_MAC_CTX_free(ps->ctx);	/* cleanses the key it holds */
	EVP_MAC_free(ps->mac);
	if (ps->key != NULL) {
		OPENSSL_cleanse(ps->key, ps->keylen);
		free(ps->key);
	}
	free(ps);
}

/*
 * The pseudonym of one address (no brackets) in out[0..outlen),
 * NUL-terminated; "" stays "", an address without '@' is replaced whole.
 * Returns out, or NULL if it does not fit or the hash failed. Does not
 * touch the last record_pseudonymise() result.
 */
const char *
record_pseudo_addr(struct record_pseudo *ps, const char *addr, char *out,
    size_t outlen)
{
	size_t n, len;

	if (ps == NULL || addr == NULL || out == NULL)
		return NULL;
	n = strlen(addr);
	len = pseudo_len(addr, n);
	if (len >= outlen)
		return NULL;
	if (pseudo_put(ps, addr, n, out) == -1)
		return NULL;
	out[len] = '\0';
	return out;
}

/*
 * A copy of r with its addresses pseudonymised (the list is in the file's
 * header comment). Strings without addresses, and everything else, are
 * shared with r, which is never written. The copy lives in ps's arena
 * until the next call or record_pseudo_free(); its size is bounded by r's
 * (see PSEUDO_CHUNK). NULL on ENOMEM or a hash failure: then nothing of r
 * may be passed on.
 */
const struct record *
record_pseudonymise(struct record_pseudo *ps, const struct record *r)
{
	char *s;

	if (ps == NULL || r == NULL)
		return NULL;
	arena_reset(ps);
	ps->rec = *r;
	if (r->has_mail && r->mail_from != NULL &&
	    (ps->rec.mail_from = arena_addr(ps, r->mail_from)) == NULL)
		goto fail;
	if (r->auth_user != NULL &&
	    (ps->rec.auth_user = arena_addr(ps, r->auth_user)) == NULL)
		goto fail;
	if (pseudo_rcpt(ps, r) == -1)
		goto fail;
	if (arena_scrub(ps, r->mail_params, &s) == -1)
		goto fail;
	ps->rec.mail_params = s;
	if (arena_scrub(ps, r->last_reply, &s) == -1)
		goto fail;
	ps->rec.last_reply = s;
	if (arena_scrub(ps, r->session_last_reply, &s) == -1)
		goto fail;
	ps->rec.session_last_reply = s;
	if (r->mime != NULL) {
		if (pseudo_mime(ps, r->mime) == -1)
			goto fail;
		ps->rec.mime = &ps->mime;
	}
	return &ps->rec;
fail:
	arena_reset(ps);
	return NULL;
}
