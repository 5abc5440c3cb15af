/*
 * clone.c: a finished record, or a session summary, copied into one flat
 * block that owns all its strings and arrays. Records are lent to the
 * sinks for the callback's time only; with several workers they cross
 * threads and wait in the reorder window, so they must own their bytes.
 *
 * One walk does both passes: with no block it only measures, with one it
 * copies. The same code measuring and filling cannot disagree on sizes.
 */
#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#include "record.h"

struct flat {
	unsigned char	*base;		/* NULL: measure only */
	size_t		 used;
};

static void *
flat_alloc(struct flat *f, size_t n, size_t align)
{
	void *p;

	f->used = (f->used + align - 1) & ~(align - 1);
	p = f->base != NULL ? f->base + f->used : NULL;
	f->used += n;
	return p;
}

static char *
flat_str(struct flat *f, const char *s)
{
	size_t n;
	char *d;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	if ((d = flat_alloc(f, n, 1)) != NULL)
		memcpy(d, s, n);
	return d;
}

/*
 * A string member copied into the block; its place in the copy is set
 * once the copy exists (d NULL while measuring). s, d and f are the
 * walk's source, destination and block.
 */
#define STR(member) do {					\
	char *c_ = flat_str(f, s->member);			\
	if (d != NULL)						\
		d->member = c_;					\
} while (0)

static void
flat_addrs(struct flat *f, struct mime_addr_list *dst,
    const struct mime_addr_list *src)
{
	struct mime_addr *v;
	size_t i;

	v = flat_alloc(f, src->n * sizeof(*v), alignof(struct mime_addr));
	for (i = 0; i < src->n; i++) {
		char *raw = flat_str(f, src->v[i].raw);
		char *addr = flat_str(f, src->v[i].addr);

		if (v != NULL) {
			v[i].raw = raw;
			v[i].addr = addr;
		}
	}
	if (dst != NULL) {
		dst->v = src->n > 0 ? v : NULL;
		dst->n = src->n;
	}
}

static void
flat_strs(struct flat *f, struct mime_str_list *dst,
    const struct mime_str_list *src)
{
	char **v;
	size_t i;

	v = flat_alloc(f, src->n * sizeof(*v), alignof(char *));
	for (i = 0; i < src->n; i++) {
		char *s = flat_str(f, src->v[i]);

		if (v != NULL)
			v[i] = s;
	}
	if (dst != NULL) {
		dst->v = src->n > 0 ? v : NULL;
		dst->n = src->n;
	}
}

/* The walk; d is NULL while measuring. */
static void
flat_mime(struct flat *f, struct mime_result *d, const struct mime_result *s)
{
	struct mime_attachment *att;
	size_t i;

	if (d != NULL)
		*d = *s;
	STR(h.from);
	STR(h.reply_to);
	STR(h.subject);
	STR(h.message_id);
	STR(h.in_reply_to);
	STR(h.date);
	STR(h.user_agent);
	STR(h.x_mailer);
	STR(h.x_originating_ip);
	STR(h.content_type);
	flat_addrs(f, d != NULL ? &d->h.from_list : NULL, &s->h.from_list);
	flat_addrs(f, d != NULL ? &d->h.to : NULL, &s->h.to);
	flat_addrs(f, d != NULL ? &d->h.cc : NULL, &s->h.cc);
	flat_strs(f, d != NULL ? &d->h.received : NULL, &s->h.received);
	att = flat_alloc(f, s->natt * sizeof(*att),
	    alignof(struct mime_attachment));
	for (i = 0; i < s->natt; i++) {
		char *fn, *ct;

		if (att != NULL)
			att[i] = s->att[i];
		fn = flat_str(f, s->att[i].filename);
		ct = flat_str(f, s->att[i].content_type);
		if (att != NULL) {
			att[i].filename = fn;
			att[i].content_type = ct;
		}
	}
	if (d != NULL)
		d->att = s->natt > 0 ? att : NULL;
}

static struct record *
flat_record(struct flat *f, const struct record *s)
{
	struct record *d;
	struct record_conn *conn;
	struct record_rcpt *rcpt;
	struct mime_result *mime = NULL;
	size_t i;

	d = flat_alloc(f, sizeof(*d), alignof(struct record));
	if (d != NULL)
		*d = *s;
	conn = flat_alloc(f, sizeof(*conn), alignof(struct record_conn));
	if (conn != NULL)
		*conn = *s->conn;
	STR(banner);
	STR(helo);
	STR(auth_mech);
	STR(auth_user);
	STR(mail_from);
	STR(mail_params);
	STR(last_reply);
	STR(session_last_reply);
	rcpt = flat_alloc(f, s->nrcpt * sizeof(*rcpt),
	    alignof(struct record_rcpt));
	for (i = 0; i < s->nrcpt; i++) {
		char *a;

		if (rcpt != NULL)
			rcpt[i] = s->rcpt[i];
		a = flat_str(f, s->rcpt[i].addr);
		if (rcpt != NULL)
			rcpt[i].addr = a;
	}
	if (s->mime != NULL) {
		mime = flat_alloc(f, sizeof(*mime),
		    alignof(struct mime_result));
		flat_mime(f, mime, s->mime);
	}
	if (d != NULL) {
		d->conn = conn;
		d->rcpt = s->nrcpt > 0 ? rcpt : NULL;
		d->mime = mime;
	}
	return d;
}

static struct record_summary *
flat_summary(struct flat *f, const struct record_summary *s)
{
	struct record_summary *d;
	struct record_conn *conn;

	d = flat_alloc(f, sizeof(*d), alignof(struct record_summary));
	if (d != NULL)
		*d = *s;
	conn = flat_alloc(f, sizeof(*conn), alignof(struct record_conn));
	if (conn != NULL)
		*conn = *s->conn;
	STR(banner);
	STR(helo);
	STR(auth_mech);
	STR(auth_result);
	STR(end_state);
	if (d != NULL)
		d->conn = conn;
	return d;
}

size_t
record_flat_size(const struct record *r)
{
	struct flat f = { NULL, 0 };

	flat_record(&f, r);
	return f.used;
}

const struct record *
record_flatten(const struct record *r, void *block)
{
	struct flat f = { block, 0 };

	return flat_record(&f, r);
}

size_t
record_summary_flat_size(const struct record_summary *s)
{
	struct flat f = { NULL, 0 };

	flat_summary(&f, s);
	return f.used;
}

const struct record_summary *
record_summary_flatten(const struct record_summary *s, void *block)
{
	struct flat f = { block, 0 };

	return flat_summary(&f, s);
}
