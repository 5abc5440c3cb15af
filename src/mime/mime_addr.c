/*
 * mime_addr.c: address lists (RFC 5322 §3.4: From, To, Cc) split into
 * items at top-level commas: commas inside quoted strings ("Doe, Jane"),
 * comments, angle brackets and domain literals do not split. A group
 * ("team: a@x, b@y;", "undisclosed-recipients:;") gives its members; its
 * name is dropped. A ';' outside a group separates too (Outlook users type
 * it). Each item keeps its text and, when it has one, its addr-spec: the
 * inside of <...> (obs-route dropped, RFC 5322 §4.4), or the bare address
 * with comments removed.
 */
#include <string.h>

#include "common/cur.h"
#include "mime_int.h"

struct splitter {
	const uint8_t	*p;
	size_t		 n;
	mime_addr_fn	*fn;
	void		*arg;
	size_t		 start;		/* of the current item */
	bool		 has_angle;
	size_t		 a_start;
	size_t		 a_end;
};

static void
emit(struct splitter *sp, size_t end)
{
	struct mime_addr_item it;

	it.raw.p = sp->p + sp->start;
	it.raw.len = end - sp->start;
	it.raw = mime_trim(it.raw);
	it.angle.p = NULL;
	it.angle.len = 0;
	if (sp->has_angle && sp->a_start >= sp->start && sp->a_end <= end) {
		it.angle.p = sp->p + sp->a_start;
		it.angle.len = sp->a_end - sp->a_start;
		it.angle = mime_trim(it.angle);
		if (it.angle.p == NULL)
			it.angle.p = sp->p + sp->a_start;
	}
	if (it.raw.len > 0)
		sp->fn(sp->arg, &it);
	sp->has_angle = false;
}

/*
 * Call fn for each non-empty item of the list p[0..n). The spans point
 * into p. Unclosed quotes, comments and brackets run to the end.
 */
void
mime_addr_split(const uint8_t *p, size_t n, mime_addr_fn *fn, void *arg)
{
	struct splitter sp = { p, n, fn, arg, 0, false, 0, 0 };
	struct cur c = cur_make(p, n);
	unsigned comment = 0;
	bool quoted = false, angle = false, literal = false, group = false;
	size_t pos;
	uint8_t b;

	if (n == 0)
		return;
	while (c.len > 0) {
		pos = n - c.len;
		b = cur_u8(&c);
		if (quoted || comment > 0) {
			if (b == '\\' && c.len > 0)
				cur_skip(&c, 1);
			else if (quoted && b == '"')
				quoted = false;
			else if (!quoted && b == '(')
				comment++;
			else if (!quoted && b == ')')
				comment--;
			continue;
		}
		if (literal) {
			if (b == ']')
				literal = false;
			continue;
		}
		if (angle) {
			if (b == '>') {
				angle = false;
				sp.a_end = pos;
			} else if (b == '"')
				quoted = true;
			continue;
		}
		switch (b) {
		case '"':
			quoted = true;
			break;
		case '(':
			comment = 1;
			break;
		case '[':
			literal = true;
			break;
		case '<':
			angle = true;
			sp.has_angle = true;
			sp.a_start = pos + 1;
			sp.a_end = n;
			break;
		case ',':
			emit(&sp, pos);
			sp.start = pos + 1;
			break;
		case ';':
			emit(&sp, pos);
			sp.start = pos + 1;
			group = false;
			break;
		case ':':
			if (!group) {
				/* The group's name is dropped. */
				group = true;
				sp.start = pos + 1;
				sp.has_angle = false;
			}
			break;
		}
	}
	emit(&sp, n);
}

/*
 * The addr-spec of an item, appended to out: the inside of <...>, else the
 * item without comments when it holds an '@' (the last word with one, if
 * a broken mailer left a name before it). False when the item has none.
 */
bool
mime_addr_spec(const struct mime_addr_item *it, struct mstr *out)
{
	struct mstr bare;
	struct span v;
	struct cur c;
	const uint8_t *q;
	size_t i, w = 0, start = 0;
	unsigned comment = 0;
	bool quoted = false, found = false;
	uint8_t b;

	if (it->angle.p != NULL) {
		v = it->angle;
		if (v.len > 0 && v.p[0] == '@' &&
		    (q = memrchr(v.p, ':', v.len)) != NULL) {
			v.len -= (size_t)(q + 1 - v.p);
			v.p = q + 1;
		}
		mstr_add_cut(out, v.p, v.len);
		return true;
	}
	mstr_init(&bare, it->raw.len);
	v = it->raw;
	if (memchr(it->raw.p, '(', it->raw.len) != NULL) {
		/* Comments removed (RFC 5322 §3.2.2). */
		c = cur_make(it->raw.p, it->raw.len);
		while (c.len > 0) {
			b = cur_u8(&c);
			if (comment > 0) {
				if (b == '\\' && c.len > 0)
					cur_skip(&c, 1);
				else if (b == '(')
					comment++;
				else if (b == ')')
					comment--;
				continue;
			}
			if (!quoted && b == '(') {
				comment = 1;
				continue;
			}
			if (b == '"')
				quoted = !quoted;
			else if (quoted && b == '\\' && c.len > 0) {
				mstr_addc(&bare, b);
				b = cur_u8(&c);
			}
			mstr_addc(&bare, b);
		}
		v.p = bare.p != NULL ? (const uint8_t *)bare.p : it->raw.p;
		v.len = bare.len;
	}
	v = mime_trim(v);
	/* Words outside quotes: keep from the last one holding an '@'. */
	quoted = false;
	for (i = 0; i < v.len; i++) {
		if (v.p[i] == '"')
			quoted = !quoted;
		else if (!quoted && mime_is_lwsp(v.p[i]))
			start = i + 1;
		else if (!quoted && v.p[i] == '@') {
			w = start;
			found = true;
		}
	}
	if (found)
		mstr_add_cut(out, v.p + w, v.len - w);
	mstr_fini(&bare);
	return found;
}
