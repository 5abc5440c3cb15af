/*
 * smtp_reply.c: reply lines (RFC 5321 §4.2), enhanced status codes
 * (RFC 3463 §2) and the EHLO extension keywords (RFC 5321 §4.1.1.1).
 */
#include <string.h>

#include "common/ascii.h"
#include "common/cur.h"
#include "smtp_int.h"

static bool
digit(int b)
{
	return b >= '0' && b <= '9';
}

bool
smtp_reply_line(struct span line, uint16_t *code, bool *more,
    struct span *text)
{
	struct cur c = cur_make(line.p, line.len);
	int d0 = cur_peek_at(&c, 0), d1 = cur_peek_at(&c, 1);
	int d2 = cur_peek_at(&c, 2), sep = cur_peek_at(&c, 3);

	/* RFC 5321 §4.2.1: the first digit is 2-5; be lenient: 1-5. */
	if (d0 < '1' || d0 > '5' || !digit(d1) || !digit(d2))
		return false;
	if (sep != -1 && sep != ' ' && sep != '-' && sep != '\t')
		return false;
	*code = (uint16_t)((d0 - '0') * 100 + (d1 - '0') * 10 + (d2 - '0'));
	*more = sep == '-';
	(void)cur_skip(&c, sep != -1 ? 4 : 3);
	*text = cur_rest(&c);
	return true;
}

struct span
smtp_reply_enhanced(struct span text)
{
	struct span e = { text.p, 0 };
	struct cur c = cur_make(text.p, text.len);
	int part, digits, b = cur_peek(&c);

	if (b != '2' && b != '4' && b != '5')
		return e;
	for (part = 0; part < 3; part++) {
		for (digits = 0; digits < 3 && digit(cur_peek(&c)); digits++)
			(void)cur_skip(&c, 1);
		if (digits == 0)
			return e;
		if (part < 2) {
			if (cur_peek(&c) != '.')
				return e;
			(void)cur_skip(&c, 1);
		}
	}
	if (c.len > 0 && cur_peek(&c) != ' ')
		return e;
	e.len = text.len - c.len;
	return e;
}

/* An EHLO keyword runs to a space, or '=' (the old "AUTH=PLAIN"). */
static bool
is_kw_char(uint8_t b)
{
	return b != ' ' && b != '=';
}

static bool
kw_is(struct span kw, const char *name)
{
	size_t n = strlen(name);

	return kw.len == n && ascii_casecmp(kw.p, (const uint8_t *)name, n) == 0;
}

uint32_t
smtp_reply_ext(struct span text, struct span *auth_mechs)
{
	struct cur c = cur_make(text.p, text.len);
	struct span kw = cur_take_while(&c, is_kw_char);
	if (kw_is(kw, "PIPELINING"))
		return SMTP_EXT_PIPELINING;
	if (kw_is(kw, "CHUNKING"))
		return SMTP_EXT_CHUNKING;
	if (kw_is(kw, "STARTTLS"))
		return SMTP_EXT_STARTTLS;
	if (kw_is(kw, "SIZE"))
		return SMTP_EXT_SIZE;
	if (kw_is(kw, "8BITMIME"))
		return SMTP_EXT_8BITMIME;
	if (kw_is(kw, "SMTPUTF8"))
		return SMTP_EXT_SMTPUTF8;
	if (kw_is(kw, "DSN"))
		return SMTP_EXT_DSN;
	if (kw_is(kw, "ENHANCEDSTATUSCODES"))
		return SMTP_EXT_ENHANCEDSTATUSCODES;
	if (kw_is(kw, "BINARYMIME"))
		return SMTP_EXT_BINARYMIME;
	if (kw_is(kw, "AUTH")) {
		/* "AUTH PLAIN LOGIN" or the old "AUTH=PLAIN LOGIN". */
		if (cur_skip(&c, 1))
			*auth_mechs = cur_rest(&c);
		return SMTP_EXT_AUTH;
	}
	return 0;
}
