/*
 * mime_rfc2047.c: encoded words in header values (RFC 2047), decoded to
 * UTF-8. Decoding is lenient the way mail readers are: words are found
 * anywhere (also inside quoted strings and next to other text, which RFC
 * 2047 §5 forbids but mailers send), and adjacent words of one charset
 * are joined before conversion, so a character split across two words
 * (also forbidden, also sent) survives. White space between two encoded
 * words is dropped (RFC 2047 §6.2). A word that does not decode is kept
 * as written and counted (MIME_EV_BAD_ENCODED_WORD).
 */
#include <string.h>

#include "common/ascii.h"
#include "common/cur.h"
#include "mime_int.h"

struct ew {
	struct span	 cs;		/* charset (may carry "*lang") */
	uint8_t		 enc;		/* 'b' or 'q' */
	struct span	 text;
	size_t		 len;		/* of the whole word */
};

static bool
is_cschar(uint8_t c)
{
	/* RFC 2047 §2 token: no SPACE, CTLs or especials (but '.' and '*'). */
	if (c <= 0x20 || c >= 0x7f)
		return false;
	switch (c) {
	case '(': case ')': case '<': case '>': case '@': case ',': case ';':
	case ':': case '"': case '/': case '[': case ']': case '?': case '=':
		return false;
	default:
		return true;
	}
}

/* Parse "=?charset?enc?text?=" at the start of c. */
static bool
ew_parse(struct cur c, struct ew *w)
{
	size_t start = c.len, n;
	const uint8_t *p;
	uint8_t b;

	if (cur_u8(&c) != '=' || cur_u8(&c) != '?')
		return false;
	p = c.p;
	for (n = 0; cur_has(&c, 1) && is_cschar(c.p[0]); n++)
		cur_skip(&c, 1);
	w->cs.p = p;
	w->cs.len = n;
	if (n == 0 || cur_u8(&c) != '?')
		return false;
	b = cur_u8(&c);
	if (b == 'B' || b == 'b')
		w->enc = 'b';
	else if (b == 'Q' || b == 'q')
		w->enc = 'q';
	else
		return false;
	if (cur_u8(&c) != '?')
		return false;
	p = c.p;
	for (n = 0; cur_has(&c, 1) && c.p[0] != '?'; n++) {
		if (c.p[0] <= 0x20 || c.p[0] >= 0x7f)
			return false;	/* RFC 2047 §5: no white space */
		cur_skip(&c, 1);
	}
	w->text.p = p;
	w->text.len = n;
	if (cur_u8(&c) != '?' || cur_u8(&c) != '=' || c.err)
		return false;
	w->len = start - c.len;
	return true;
}

static void
sink_to_mstr(void *arg, const uint8_t *p, size_t n)
{
	mstr_add(arg, p, n);
}

/* Decode the word's text, appending raw bytes to out. */
static bool
ew_decode(const struct ew *w, struct mstr *out)
{
	struct mime_sink sk;
	struct mime_b64 b;
	struct cur c = cur_make(w->text.p, w->text.len);
	size_t bad;
	uint8_t ch;
	int hi, lo;

	if (w->enc == 'b') {
		sk.fn = sink_to_mstr;
		sk.arg = out;
		sk.len = 0;
		mime_b64_init(&b);
		bad = mime_b64_feed(&b, w->text.p, w->text.len, &sk);
		bad += mime_b64_end(&b, &sk);
		mime_sink_flush(&sk);
		return bad == 0;
	}
	/* RFC 2047 §4.2: '_' is a space, =XY an octet. */
	while (c.len > 0) {
		ch = cur_u8(&c);
		if (ch == '_')
			ch = ' ';
		else if (ch == '=') {
			if (c.len < 2)
				return false;
			hi = ascii_hexval(cur_u8(&c));
			lo = ascii_hexval(cur_u8(&c));
			if (hi < 0 || lo < 0)
				return false;
			ch = (uint8_t)(hi << 4 | lo);
		}
		mstr_addc(out, ch);
	}
	return true;
}

static bool
all_lwsp(const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);

	while (c.len > 0)
		if (!mime_is_lwsp(cur_u8(&c)))
			return false;
	return true;
}

/* Position of the next "=?" in c, or c.len. */
static size_t
find_ew(struct cur c)
{
	const uint8_t *q;
	size_t off = 0;

	while (off < c.len) {
		q = memchr(c.p + off, '=', c.len - off);
		if (q == NULL)
			return c.len;
		off = (size_t)(q - c.p);
		if (off + 1 < c.len && c.p[off + 1] == '?')
			return off;
		off++;
	}
	return c.len;
}

/*
 * Append the value p[0..n) to out as UTF-8, encoded words decoded to
 * UTF-8 and the rest repaired as UTF-8. Never fails: the worst input gives
 * U+FFFD and events.
 */
void
mime_rfc2047_append(struct mime_conv *cv, struct mstr *out, const uint8_t *p,
    size_t n)
{
	struct cur c = cur_make(p, n), at;
	struct mstr run;	/* bytes of adjacent words in one charset */
	struct span runcs = { NULL, 0 };
	struct ew w;
	size_t off, text = 0;	/* text: start of the pending plain text */
	bool prev_word = false;

	if (n == 0)
		return;
	mstr_init(&run, n);
	while (c.len > 0) {
		off = find_ew(c);
		if (off == c.len)
			break;
		at = c;
		cur_skip(&at, off);
		if (!ew_parse(at, &w)) {
			cur_skip(&c, off + 1);
			continue;
		}
		/* The plain text before the word. */
		if (!(prev_word && all_lwsp(p + text, (size_t)(at.p - p) -
		    text))) {
			if (run.len > 0)
				mime_charset_append(cv, out, runcs,
				    (uint8_t *)run.p, run.len);
			mstr_clear(&run);
			mime_utf8_append(cv, out, p + text,
			    (size_t)(at.p - p) - text);
		}
		cur_skip(&at, w.len);
		text = (size_t)(at.p - p);
		c = at;
		if (run.len > 0 && !(runcs.len == w.cs.len &&
		    ascii_casecmp(runcs.p, w.cs.p, w.cs.len) == 0)) {
			mime_charset_append(cv, out, runcs, (uint8_t *)run.p,
			    run.len);
			mstr_clear(&run);
		}
		off = run.len;
		if (!ew_decode(&w, &run)) {
			mime_event_add(cv->events, MIME_EV_BAD_ENCODED_WORD, 1);
			run.len = off;
			if (run.len > 0)
				mime_charset_append(cv, out, runcs,
				    (uint8_t *)run.p, run.len);
			mstr_clear(&run);
			mime_utf8_append(cv, out, w.cs.p - 2, w.len);
			prev_word = false;
			continue;
		}
		runcs = w.cs;
		prev_word = true;
	}
	if (run.len > 0)
		mime_charset_append(cv, out, runcs, (uint8_t *)run.p, run.len);
	mstr_fini(&run);
	mime_utf8_append(cv, out, p + text, n - text);
}
