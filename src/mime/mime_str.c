/*
 * mime_str.c: the strings of the MIME parser. A capped builder, UTF-8
 * repair (RFC 3629: every invalid byte and every NUL becomes U+FFFD, so a
 * result string can go to JSON or SQL as it is) and charset conversion to
 * UTF-8 with iconv, with a small per-parser cache of descriptors. It does
 * not guess charsets: bytes outside any declared charset are read as UTF-8.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/ascii.h"
#include "common/cur.h"
#include "common/mem.h"
#include "common/utf8.h"
#include "mime_int.h"

static const uint8_t utf8_repl[3] = { 0xef, 0xbf, 0xbd };	/* U+FFFD */

/* The span without leading and trailing LWSP (SP, HT, CR, LF). */
struct span
mime_trim(struct span s)
{
	while (s.len > 0 && mime_is_lwsp(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && mime_is_lwsp(s.p[s.len - 1]))
		s.len--;
	return s;
}

/* True if the span equals lc, a lower-case string, ignoring ASCII case. */
bool
mime_span_is(struct span s, const char *lc)
{
	size_t n = strlen(lc);

	return s.len == n && ascii_casecmp(s.p, (const uint8_t *)lc, n) == 0;
}

/* ---- capped string builder ------------------------------------------- */

/* An empty string that will never hold more than max bytes. */
void
mstr_init(struct mstr *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
}

/* Release the memory; the string is empty (same max) and usable again. */
void
mstr_fini(struct mstr *s)
{
	mem_free(s->p);
	mstr_init(s, s->max);
}

/* Empty the string, keeping its memory. */
void
mstr_clear(struct mstr *s)
{
	s->len = 0;
	s->trunc = false;
	s->oom = false;
	if (s->p != NULL)
		s->p[0] = '\0';
}

/*
 * Append n bytes whole, or nothing: past the cap (or on ENOMEM) the append
 * is dropped, trunc is set, and every later append is dropped too.
 */
bool
mstr_add(struct mstr *s, const void *p, size_t n)
{
	size_t ncap;
	char *np;

	if (n == 0)
		return !s->trunc;
	if (s->trunc)
		return false;
	if (n > s->max - s->len) {
		s->trunc = true;
		return false;
	}
	if (s->len + n + 1 > s->cap) {
		ncap = s->cap ? s->cap : 32;
		while (ncap < s->len + n + 1)
			ncap *= 2;
		if (ncap > s->max + 1)
			ncap = s->max + 1;
		if ((np = mem_realloc(s->p, ncap)) == NULL) {
			s->trunc = true;
			s->oom = true;
			return false;
		}
		s->p = np;
		s->cap = ncap;
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = '\0';
	return true;
}

/* Append one byte (see mstr_add). */
bool
mstr_addc(struct mstr *s, uint8_t c)
{
	return mstr_add(s, &c, 1);
}

/* Append what fits of p[0..n), then mark the string cut if not all did. */
void
mstr_add_cut(struct mstr *s, const void *p, size_t n)
{
	size_t room;

	if (s->trunc)
		return;
	room = s->max - s->len;
	if (n <= room) {
		mstr_add(s, p, n);
		return;
	}
	mstr_add(s, p, room);
	s->trunc = true;
}

/* ---- UTF-8 ------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at p[0..n), or 0 (common/utf8.h). */
size_t
mime_utf8_seq(const uint8_t *p, size_t n)
{
	return utf8_seq_len(p, n);
}

/* True if p[0..n) is valid UTF-8 with no NUL: what results must be. */
bool
mime_utf8_is_clean(const uint8_t *p, size_t n)
{
	size_t k;

	while (n > 0) {
		if (p[0] == 0 || (k = mime_utf8_seq(p, n)) == 0)
			return false;
		p += k;
		n -= k;
	}
	return true;
}

/*
 * Append a run of valid UTF-8; at the cap, as much of it as fits, cut
 * before a continuation byte so that no character is split.
 */
static bool
add_run(struct mstr *s, const uint8_t *p, size_t n)
{
	size_t room;

	if (s->trunc)
		return false;
	if (n <= s->max - s->len)
		return mstr_add(s, p, n);
	room = s->max - s->len;
	while (room > 0 && (p[room] & 0xc0) == 0x80)
		room--;
	if (room > 0)
		mstr_add(s, p, room);
	s->trunc = true;
	return false;
}

/*
 * Append p[0..n) to s as UTF-8: runs of valid text are copied, each byte
 * that starts no valid sequence and each NUL becomes U+FFFD (NULs counted
 * as MIME_EV_NUL_BYTE). At the cap the text is cut at a character
 * boundary.
 */
void
mime_utf8_append(struct mime_conv *cv, struct mstr *s, const uint8_t *p,
    size_t n)
{
	size_t i = 0, run = 0, k;
	uint64_t w;

	while (i + run < n) {
		/* Eight printable ASCII bytes at a time (no byte < 0x20). */
		if (n - i - run >= 8) {
			memcpy(&w, p + i + run, 8);
			if (((w | (w - 0x2020202020202020ull)) &
			    0x8080808080808080ull) == 0) {
				run += 8;
				continue;
			}
		}
		if (p[i + run] >= 0x20 && p[i + run] < 0x80) {
			run++;
			continue;
		}
		k = p[i + run] == 0 ? 0 : mime_utf8_seq(p + i + run,
		    n - i - run);
		if (k > 0) {
			run += k;
			continue;
		}
		if (run > 0 && !add_run(s, p + i, run))
			return;
		i += run;
		run = 0;
		if (p[i] == 0)
			mime_event_add(cv->events, MIME_EV_NUL_BYTE, 1);
		if (!mstr_add(s, utf8_repl, sizeof(utf8_repl)))
			return;
		i++;
	}
	if (run > 0)
		add_run(s, p + i, run);
}

/* ---- charsets ---------------------------------------------------------- */

/* A context counting into events, with an empty iconv cache. */
void
mime_conv_init(struct mime_conv *cv, uint32_t *events)
{
	memset(cv, 0, sizeof(*cv));
	cv->events = events;
}

/* Close the cached iconv descriptors. */
void
mime_conv_fini(struct mime_conv *cv)
{
	size_t i;

	for (i = 0; i < LIMIT_MIME_ICONV_CACHE; i++) {
		if (cv->slot[i].used && cv->slot[i].cd != (iconv_t)-1)
			iconv_close(cv->slot[i].cd);
		cv->slot[i].used = false;
	}
	cv->next = 0;
}

/*
 * A charset name as iconv may see it: RFC 2045 token characters only, so
 * that no "//TRANSLIT"-style suffix or path can be smuggled in; an RFC 2231
 * §5 language suffix ("utf-8*en") is dropped. False if unusable.
 */
static bool
charset_name(struct span cs, char out[LIMIT_MIME_CHARSET + 1])
{
	struct cur c = cur_make(cs.p, cs.len);
	size_t n = 0;
	uint8_t b;

	while (c.len > 0) {
		b = cur_u8(&c);
		if (b == '*')
			break;
		if (!((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
		    ascii_isdigit(b) || (b != 0 &&
		    strchr("-_.:+!#$%&'^`{|}~", b) != NULL)) ||
		    n == LIMIT_MIME_CHARSET)
			return false;
		out[n++] = (char)ascii_tolower(b);
	}
	out[n] = '\0';
	return n > 0;
}

static bool
charset_is_utf8(const char *name)
{
	return strcmp(name, "utf-8") == 0 || strcmp(name, "utf8") == 0 ||
	    strcmp(name, "us-ascii") == 0;
}

/* A descriptor converting name to UTF-8, from the cache or opened. */
static iconv_t
conv_get(struct mime_conv *cv, const char *name)
{
	struct mime_iconv_slot *sl;
	size_t i;

	for (i = 0; i < LIMIT_MIME_ICONV_CACHE; i++) {
		sl = &cv->slot[i];
		if (sl->used && strcmp(sl->name, name) == 0)
			return sl->cd;
	}
	/* Opening is slow (gconv modules): a message gets a few. */
	if (cv->opens >= LIMIT_MIME_ICONV_OPENS)
		return (iconv_t)-1;
	cv->opens++;
	sl = &cv->slot[cv->next];
	cv->next = (cv->next + 1) % LIMIT_MIME_ICONV_CACHE;
	if (sl->used && sl->cd != (iconv_t)-1)
		iconv_close(sl->cd);
	strcpy(sl->name, name);
	sl->cd = iconv_open("UTF-8", name);
	sl->used = true;
	return sl->cd;
}

/*
 * Append p[0..n), text in charset cs, converted to UTF-8. Unknown
 * charsets count MIME_EV_UNKNOWN_CHARSET and the bytes are read as UTF-8;
 * bytes the charset does not define become U+FFFD.
 */
void
mime_charset_append(struct mime_conv *cv, struct mstr *s, struct span cs,
    const uint8_t *p, size_t n)
{
	char name[LIMIT_MIME_CHARSET + 1];
	char obuf[1024], *in, *out;
	size_t inleft, oleft, r;
	iconv_t cd;

	if (cs.len == 0) {
		mime_utf8_append(cv, s, p, n);
		return;
	}
	if (!charset_name(cs, name)) {
		mime_event_add(cv->events, MIME_EV_UNKNOWN_CHARSET, 1);
		mime_utf8_append(cv, s, p, n);
		return;
	}
	if (charset_is_utf8(name)) {
		mime_utf8_append(cv, s, p, n);
		return;
	}
	if ((cd = conv_get(cv, name)) == (iconv_t)-1) {
		mime_event_add(cv->events, MIME_EV_UNKNOWN_CHARSET, 1);
		mime_utf8_append(cv, s, p, n);
		return;
	}
	iconv(cd, NULL, NULL, NULL, NULL);	/* initial shift state */
	in = (char *)(uintptr_t)p;
	inleft = n;
	while (inleft > 0 && !s->trunc) {
		out = obuf;
		oleft = sizeof(obuf);
		r = iconv(cd, &in, &inleft, &out, &oleft);
		mime_utf8_append(cv, s, (uint8_t *)obuf, sizeof(obuf) - oleft);
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		mstr_add(s, utf8_repl, sizeof(utf8_repl));
		if (errno != EILSEQ)
			break;		/* EINVAL: incomplete at the end */
		in++;
		inleft--;
	}
	out = obuf;
	oleft = sizeof(obuf);
	iconv(cd, NULL, NULL, &out, &oleft);	/* back to the initial state */
	mime_utf8_append(cv, s, (uint8_t *)obuf, sizeof(obuf) - oleft);
}
