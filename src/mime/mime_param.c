/*
 * mime_param.c: Content-Type (RFC 2045 §5.1) and Content-Disposition
 * (RFC 2183) values: the type, and the parameters we use (boundary, name,
 * filename) with RFC 2231 continuations (name*0=, name*1*=), charsets and
 * percent-encoding (filename*=UTF-8''%E2%82%AC.pdf). Lenient as mail
 * readers are: unquoted values may hold spaces, a missing closing quote
 * ends at the end, and plain values may carry RFC 2047 encoded words
 * (which is what Outlook and Gmail send for non-ASCII file names).
 */
#include <stdlib.h>
#include <string.h>

#include "common/ascii.h"
#include "common/cur.h"
#include "mime_int.h"

struct mparam {
	struct span	 attr;
	struct span	 val;		/* inside the quotes if quoted */
	bool		 quoted;
};

/* The forms in which one parameter (name or filename) may come. */
struct param_acc {
	const char	*name;
	bool		 has_plain;
	struct mparam	 plain;
	bool		 has_ext;	/* name*= */
	struct mparam	 ext;
	bool		 sec_set[LIMIT_MIME_PARAM_SECTIONS];
	bool		 sec_ext[LIMIT_MIME_PARAM_SECTIONS];
	struct mparam	 sec[LIMIT_MIME_PARAM_SECTIONS];
	bool		 too_many;
};

/* RFC 2045 §5.1 token characters. */
static bool
is_token(uint8_t c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	switch (c) {
	case '(': case ')': case '<': case '>': case '@': case ',': case ';':
	case ':': case '\\': case '"': case '/': case '[': case ']': case '?':
	case '=':
		return false;	/* tspecials */
	default:
		return true;
	}
}

/* Skip white space and (nested, escaped) comments, RFC 5322 §3.2.2. */
static void
skip_cfws(struct cur *c)
{
	unsigned depth = 0;
	uint8_t b;

	while (cur_has(c, 1)) {
		b = c->p[0];
		if (depth == 0 && !mime_is_lwsp(b) && b != '(')
			return;
		cur_skip(c, 1);
		if (b == '(')
			depth++;
		else if (b == ')' && depth > 0)
			depth--;
		else if (b == '\\' && depth > 0 && cur_has(c, 1))
			cur_skip(c, 1);
	}
}

/* Skip to just after the next ';' outside quotes, or to the end. */
static void
skip_param(struct cur *c)
{
	bool q = false;
	uint8_t b;

	while (cur_has(c, 1)) {
		b = cur_u8(c);
		if (q && b == '\\' && cur_has(c, 1))
			cur_skip(c, 1);
		else if (b == '"')
			q = !q;
		else if (!q && b == ';')
			return;
	}
}

/* The next "attr=value" parameter; false at the end. */
static bool
param_next(struct cur *c, struct mparam *pm)
{
	const uint8_t *s;
	size_t n;

	for (;;) {
		skip_cfws(c);
		if (!cur_has(c, 1))
			return false;
		if (c->p[0] == ';') {
			cur_skip(c, 1);
			continue;
		}
		s = c->p;
		for (n = 0; cur_has(c, 1) && c->p[0] != '=' &&
		    c->p[0] != ';' && !mime_is_lwsp(c->p[0]) && c->p[0] != '"';
		    n++)
			cur_skip(c, 1);
		pm->attr.p = s;
		pm->attr.len = n;
		while (cur_has(c, 1) && mime_is_lwsp(c->p[0]))
			cur_skip(c, 1);
		if (n == 0 || !cur_has(c, 1) || c->p[0] != '=') {
			skip_param(c);
			continue;
		}
		cur_skip(c, 1);
		while (cur_has(c, 1) && mime_is_lwsp(c->p[0]))
			cur_skip(c, 1);
		if (cur_has(c, 1) && c->p[0] == '"') {
			cur_skip(c, 1);
			s = c->p;
			for (n = 0; cur_has(c, 1) && c->p[0] != '"'; n++) {
				if (c->p[0] == '\\' && cur_has(c, 2)) {
					cur_skip(c, 1);
					n++;
				}
				cur_skip(c, 1);
			}
			pm->val.p = s;
			pm->val.len = n;
			pm->quoted = true;
			/*
			 * Past the closing quote first: skip_param() would take
			 * it for an opening one and swallow the next parameter.
			 */
			if (cur_has(c, 1))
				cur_skip(c, 1);
			skip_param(c);	/* any junk up to the next ';' */
			return true;
		}
		s = c->p;
		for (n = 0; cur_has(c, 1) && c->p[0] != ';'; n++)
			cur_skip(c, 1);
		pm->val.p = s;
		pm->val.len = n;
		pm->val = mime_trim(pm->val);
		pm->quoted = false;
		return true;
	}
}

/* Append a value's bytes: quoted-pairs undone when quoted. */
static void
add_unquoted(struct mstr *out, const struct mparam *pm)
{
	struct cur c = cur_make(pm->val.p, pm->val.len);
	uint8_t b;

	if (!pm->quoted) {
		mstr_add_cut(out, pm->val.p, pm->val.len);
		return;
	}
	while (c.len > 0) {
		b = cur_u8(&c);
		if (b == '\\' && c.len > 0)
			b = cur_u8(&c);
		mstr_addc(out, b);
	}
}

/* Append percent-decoded bytes (RFC 2231 §4); a stray '%' stays. */
static void
add_pct(struct mstr *out, struct span v)
{
	struct cur c = cur_make(v.p, v.len);
	uint8_t b;
	int hi, lo;

	while (c.len > 0) {
		b = cur_u8(&c);
		if (b == '%' && c.len >= 2 && (hi = ascii_hexval(c.p[0])) >= 0 &&
		    (lo = ascii_hexval(c.p[1])) >= 0) {
			cur_skip(&c, 2);
			b = (uint8_t)(hi << 4 | lo);
		}
		mstr_addc(out, b);
	}
}

/* Split "charset'lang'value" (RFC 2231 §4); false if no quotes. */
static bool
split_ext(struct span v, struct span *cs, struct span *rest)
{
	const uint8_t *q1, *q2;

	if (v.len == 0 || (q1 = memchr(v.p, '\'', v.len)) == NULL)
		return false;
	q2 = memchr(q1 + 1, '\'', v.len - (size_t)(q1 + 1 - v.p));
	if (q2 == NULL)
		return false;
	cs->p = v.p;
	cs->len = (size_t)(q1 - v.p);
	rest->p = q2 + 1;
	rest->len = v.len - (size_t)(q2 + 1 - v.p);
	return true;
}

/*
 * Offer a parameter to the accumulator: "name", "name*", "name*N" or
 * "name*N*". First occurrence of each form wins.
 */
static void
acc_offer(struct param_acc *a, const struct mparam *pm)
{
	size_t nl = strlen(a->name), idx = 0, i;
	struct cur c;
	bool ext = false;

	if (pm->attr.len < nl ||
	    ascii_casecmp(pm->attr.p, (const uint8_t *)a->name, nl) != 0)
		return;
	if (pm->attr.len == nl) {
		if (!a->has_plain) {
			a->has_plain = true;
			a->plain = *pm;
		}
		return;
	}
	c = cur_make(pm->attr.p + nl, pm->attr.len - nl);
	if (cur_u8(&c) != '*')
		return;
	if (c.len == 0) {
		if (!a->has_ext) {
			a->has_ext = true;
			a->ext = *pm;
		}
		return;
	}
	for (i = 0; c.len > 0 && ascii_isdigit(c.p[0]); i++) {
		if (idx < LIMIT_MIME_PARAM_SECTIONS)
			idx = idx * 10 + (size_t)(cur_u8(&c) - '0');
		else
			cur_skip(&c, 1);
	}
	if (i == 0)
		return;
	if (c.len == 1 && c.p[0] == '*') {
		ext = true;
		cur_skip(&c, 1);
	}
	if (c.len != 0)
		return;
	if (idx >= LIMIT_MIME_PARAM_SECTIONS) {
		a->too_many = true;
		return;
	}
	if (a->sec_set[idx])
		return;
	a->sec_set[idx] = true;
	a->sec_ext[idx] = ext;
	a->sec[idx] = *pm;
}

/*
 * The parameter's value as UTF-8 into out: the RFC 2231 forms first (they
 * are what a mailer sends when the plain one is a lossy fallback), then
 * the plain value, RFC 2047 decoded.
 */
static void
acc_value(struct mime_conv *cv, struct param_acc *a, struct mstr *out)
{
	struct mstr raw;
	struct span cs = { NULL, 0 }, rest;
	size_t i;
	bool any_ext = false;

	if (a->too_many)
		mime_event_add(cv->events, MIME_EV_HEADER_LINE_TOO_LONG, 1);
	mstr_init(&raw, LIMIT_MIME_HEADER_FIELD);
	if (a->has_ext) {
		if (split_ext(a->ext.val, &cs, &rest))
			add_pct(&raw, rest);
		else
			add_pct(&raw, a->ext.val);
		mime_charset_append(cv, out, cs, (uint8_t *)raw.p, raw.len);
	} else if (a->sec_set[0]) {
		for (i = 0; i < LIMIT_MIME_PARAM_SECTIONS && a->sec_set[i];
		    i++) {
			if (!a->sec_ext[i]) {
				add_unquoted(&raw, &a->sec[i]);
				continue;
			}
			any_ext = true;
			if (i == 0 && split_ext(a->sec[0].val, &cs, &rest))
				add_pct(&raw, rest);
			else
				add_pct(&raw, a->sec[i].val);
		}
		if (any_ext)
			mime_charset_append(cv, out, cs, (uint8_t *)raw.p,
			    raw.len);
		else
			mime_rfc2047_append(cv, out, (uint8_t *)raw.p,
			    raw.len);
	} else if (a->has_plain) {
		add_unquoted(&raw, &a->plain);
		mime_rfc2047_append(cv, out, (uint8_t *)raw.p, raw.len);
	}
	mstr_fini(&raw);
}

/* An empty Content-Type (no type, no parameters); owns no memory yet. */
void
mime_ctype_init(struct mime_ctype *ct)
{
	memset(ct, 0, sizeof(*ct));
	mstr_init(&ct->boundary, LIMIT_MIME_BOUNDARY);
	mstr_init(&ct->name, LIMIT_MIME_FILENAME);
}

/* Release its strings; it is empty and usable again. */
void
mime_ctype_fini(struct mime_ctype *ct)
{
	mstr_fini(&ct->boundary);
	mstr_fini(&ct->name);
	mime_ctype_init(ct);
}

/* An empty Content-Disposition; owns no memory yet. */
void
mime_cdisp_init(struct mime_cdisp *cd)
{
	memset(cd, 0, sizeof(*cd));
	mstr_init(&cd->filename, LIMIT_MIME_FILENAME);
}

/* Release its file name; it is empty and usable again. */
void
mime_cdisp_fini(struct mime_cdisp *cd)
{
	mstr_fini(&cd->filename);
	mime_cdisp_init(cd);
}

/* A token at c, lower-cased into out[0..*n); false if none. */
static bool
read_token(struct cur *c, char *out, size_t max, size_t *n)
{
	size_t k = *n;

	while (cur_has(c, 1) && is_token(c->p[0])) {
		if (k == max)
			return false;
		out[k++] = (char)ascii_tolower(cur_u8(c));
	}
	if (k == *n)
		return false;
	*n = k;
	return true;
}

/*
 * Parse a Content-Type value: "type/subtype" lower-cased (valid is false
 * if it is not one, RFC 2045 §5.2 then says to assume text/plain), the
 * boundary (raw) and the name parameter (UTF-8).
 */
void
mime_ctype_parse(struct mime_conv *cv, struct mime_ctype *ct,
    const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);
	struct param_acc *a;
	struct mparam pm;
	size_t k = 0;

	skip_cfws(&c);
	ct->valid = read_token(&c, ct->type, LIMIT_MIME_TYPE, &k);
	skip_cfws(&c);
	if (ct->valid && (!cur_has(&c, 1) || c.p[0] != '/'))
		ct->valid = false;
	if (ct->valid) {
		cur_skip(&c, 1);
		ct->type[k++] = '/';
		skip_cfws(&c);
		ct->valid = read_token(&c, ct->type, LIMIT_MIME_TYPE, &k);
	}
	ct->type[ct->valid ? k : 0] = '\0';
	skip_param(&c);
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return;
	a->name = "name";
	while (param_next(&c, &pm)) {
		if (!ct->has_boundary && mime_span_is(pm.attr, "boundary")) {
			ct->has_boundary = true;
			add_unquoted(&ct->boundary, &pm);
		}
		acc_offer(a, &pm);
	}
	acc_value(cv, a, &ct->name);
	free(a);
}

/* Parse a Content-Disposition value: its type and filename (UTF-8). */
void
mime_cdisp_parse(struct mime_conv *cv, struct mime_cdisp *cd,
    const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);
	struct param_acc *a;
	struct mparam pm;
	char tok[16];
	size_t k = 0;

	skip_cfws(&c);
	if (read_token(&c, tok, sizeof(tok) - 1, &k)) {
		tok[k] = '\0';
		cd->attachment = strcmp(tok, "attachment") == 0;
	}
	skip_param(&c);
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return;
	a->name = "filename";
	while (param_next(&c, &pm))
		acc_offer(a, &pm);
	acc_value(cv, a, &cd->filename);
	free(a);
}
