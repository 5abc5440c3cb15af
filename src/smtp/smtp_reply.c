/*
 * smtp_reply.c: reply lines (RFC 5321 §4.2), enhanced status codes
 * (RFC 3463 §2) and the EHLO extension keywords (RFC 5321 §4.1.1.1).
 */
#include <string.h>

#include "common/ascii.h"
#include "smtp_int.h"

bool
smtp_reply_line(struct span line, uint16_t *code, bool *more,
    struct span *text)
{
	/* RFC 5321 §4.2.1: the first digit is 2-5; be lenient: 1-5. */
	if (line.len < 3 || line.p[0] < '1' || line.p[0] > '5' ||
	    !ascii_isdigit(line.p[1]) || !ascii_isdigit(line.p[2]))
		return false;
	if (line.len > 3 && line.p[3] != ' ' && line.p[3] != '-' &&
	    line.p[3] != '\t')
		return false;
	*code = (uint16_t)((line.p[0] - '0') * 100 + (line.p[1] - '0') * 10 +
	    (line.p[2] - '0'));
	*more = line.len > 3 && line.p[3] == '-';
	text->p = line.p + (line.len > 3 ? 4 : 3);
	text->len = line.len > 3 ? line.len - 4 : 0;
	return true;
}

struct span
smtp_reply_enhanced(struct span text)
{
	struct span e = { text.p, 0 };
	size_t i = 0;
	int part, digits;

	if (text.len == 0 || (text.p[0] != '2' && text.p[0] != '4' &&
	    text.p[0] != '5'))
		return e;
	for (part = 0; part < 3; part++) {
		digits = 0;
		while (i < text.len && ascii_isdigit(text.p[i]) && digits < 3) {
			i++;
			digits++;
		}
		if (digits == 0)
			return e;
		if (part < 2) {
			if (i >= text.len || text.p[i] != '.')
				return e;
			i++;
		}
	}
	if (i < text.len && text.p[i] != ' ')
		return e;
	e.len = i;
	return e;
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
	struct span kw = { text.p, 0 };

	while (kw.len < text.len && text.p[kw.len] != ' ' &&
	    text.p[kw.len] != '=')
		kw.len++;
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
		if (kw.len < text.len) {
			auth_mechs->p = text.p + kw.len + 1;
			auth_mechs->len = text.len - kw.len - 1;
		}
		return SMTP_EXT_AUTH;
	}
	return 0;
}
