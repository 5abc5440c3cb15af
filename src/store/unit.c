/*
 * unit.c: a record, or a session's summary, as the values of its rows
 * (unit.h), and back.
 */
#include <arpa/inet.h>
#include <string.h>

#include "common/json.h"
#include "unit.h"

void
u_le(struct dbuf *b, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		dbuf_addc(b, (uint8_t)(v >> (8 * i)));
}

static void
u_i64(struct dbuf *b, int64_t v)
{
	dbuf_addc(b, SQL_INT);
	u_le(b, (uint64_t)v, 8);
}

static void
u_null(struct dbuf *b, enum sql_type t)
{
	dbuf_addc(b, (uint8_t)(t | TAG_NULL));
}

static void
u_mem(struct dbuf *b, enum sql_type t, const void *p, size_t n)
{
	dbuf_addc(b, (uint8_t)t);
	u_le(b, n, 4);
	dbuf_add(b, p, n);
}

static void
u_str(struct dbuf *b, enum sql_type t, const char *s)
{
	if (s == NULL)
		u_null(b, t);
	else
		u_mem(b, t, s, strlen(s));
}

/* An address's search key: ASCII letters in lower case (RFC 5321 2.4). */
static void
u_key(struct dbuf *b, const char *s)
{
	size_t i, n;

	if (s == NULL) {
		u_null(b, SQL_BYTES);
		return;
	}
	n = strlen(s);
	dbuf_addc(b, SQL_BYTES);
	u_le(b, n, 4);
	for (i = 0; i < n; i++)
		dbuf_addc(b, (uint8_t)(s[i] >= 'A' && s[i] <= 'Z' ?
		    s[i] + 32 : s[i]));
}

/* A JSON list (record.c) as one value. */
static void
u_addr_list(struct dbuf *b, struct dbuf *tmp, const struct mime_addr_list *l)
{
	dbuf_reset(tmp);
	record_addrs_json(tmp, l);
	u_mem(b, SQL_BYTES, tmp->p, tmp->len);
}

static void
u_str_list(struct dbuf *b, struct dbuf *tmp, const struct mime_str_list *l)
{
	dbuf_reset(tmp);
	record_strs_json(tmp, l);
	u_mem(b, SQL_BYTES, tmp->p, tmp->len);
}

static void
ip_text(const struct record_endpoint *e, char out[64])
{
	inet_ntop(e->af == 4 ? AF_INET : AF_INET6, e->ip, out, 64);
}

static void
u_session_key(struct dbuf *b, struct dbuf *tmp, const struct record_conn *c)
{
	char ip[64], ts[32];

	u_str(b, SQL_TEXT, c->uid);
	ip_text(&c->client, ip);
	u_str(b, SQL_TEXT, ip);
	u_i64(b, c->client.port);
	ip_text(&c->server, ip);
	u_str(b, SQL_TEXT, ip);
	u_i64(b, c->server.port);
	dbuf_reset(tmp);
	json_u16_list(tmp, c->vlan, c->nvlan);
	u_mem(b, SQL_TEXT, tmp->p, tmp->len);
	ts_format(c->ts_first, ts);
	u_str(b, SQL_TEXT, ts);
}

void
unit_message(struct dbuf *b, struct dbuf *tmp, const struct record *r)
{
	const struct mime_headers *hd = r->mime != NULL ? &r->mime->h : NULL;
	char ts[32], hex[65];
	size_t i, k;

	dbuf_reset(b);
	dbuf_addc(b, UNIT_MESSAGE);
	u_session_key(b, tmp, r->conn);
	u_i64(b, r->trans_depth);
	ts_format(r->ts, ts);
	u_str(b, SQL_TEXT, ts);
	u_str(b, SQL_BYTES, r->helo);
	u_str(b, SQL_BYTES, r->auth_mech);
	u_str(b, SQL_TEXT, r->auth_mech ? record_auth_name(r->auth) : NULL);
	u_str(b, SQL_BYTES, r->has_mail ? r->mail_from : NULL);
	u_key(b, r->has_mail ? r->mail_from : NULL);
	u_str(b, SQL_TEXT, record_status_name(r->status));
	u_str(b, SQL_BYTES, r->last_reply);
	if (r->size_known)
		u_i64(b, (int64_t)r->size);
	else
		u_null(b, SQL_INT);
	if (hd != NULL) {
		u_str(b, SQL_BYTES, hd->from);
		u_addr_list(b, tmp, &hd->to);
		u_addr_list(b, tmp, &hd->cc);
		u_str(b, SQL_BYTES, hd->reply_to);
		u_str(b, SQL_BYTES, hd->subject);
		u_str(b, SQL_BYTES, hd->message_id);
		u_str(b, SQL_BYTES, hd->in_reply_to);
		u_str(b, SQL_BYTES, hd->date);
		u_str(b, SQL_BYTES, hd->user_agent);
		u_str(b, SQL_BYTES, hd->x_originating_ip);
		u_str_list(b, tmp, &hd->received);
	} else {
		for (i = 0; i < 11; i++)
			u_null(b, SQL_BYTES);
	}
	dbuf_reset(tmp);
	record_anomalies_json(tmp, r->events, r->mime);
	u_mem(b, SQL_TEXT, tmp->p, tmp->len);
	u_i64(b, (int64_t)r->nrcpt);
	for (i = 0; i < r->nrcpt; i++) {
		const struct record_rcpt *rc = &r->rcpt[i];

		u_str(b, SQL_BYTES, rc->addr != NULL ? rc->addr : "");
		u_key(b, rc->addr != NULL ? rc->addr : "");
		if (rc->code != 0)
			u_i64(b, rc->code);
		else
			u_null(b, SQL_INT);
		u_str(b, SQL_TEXT, rc->enhanced[0] ? rc->enhanced : NULL);
		u_i64(b, rc->code >= 200 && rc->code < 300);
	}
	u_i64(b, r->mime != NULL ? (int64_t)r->mime->natt : 0);
	for (i = 0; r->mime != NULL && i < r->mime->natt; i++) {
		const struct mime_attachment *a = &r->mime->att[i];

		for (k = 0; k < 32; k++) {
			hex[2 * k] = "0123456789abcdef"[a->sha256[k] >> 4];
			hex[2 * k + 1] = "0123456789abcdef"[a->sha256[k] & 15];
		}
		hex[64] = '\0';
		u_str(b, SQL_BYTES, a->filename);
		u_str(b, SQL_BYTES, a->content_type);
		u_i64(b, (int64_t)a->size);
		u_str(b, SQL_TEXT, hex);
		u_i64(b, a->truncated);
		u_i64(b, a->depth);
	}
}

void
unit_session(struct dbuf *b, struct dbuf *tmp, const struct record_summary *ss)
{
	static const char *const ext_names[] = { "PIPELINING", "CHUNKING",
	    "STARTTLS", "AUTH", "SIZE", "8BITMIME", "SMTPUTF8", "DSN",
	    "ENHANCEDSTATUSCODES", "BINARYMIME" };
	char ts[32];
	size_t i, n = 0;

	dbuf_reset(b);
	dbuf_addc(b, UNIT_SESSION);
	u_session_key(b, tmp, ss->conn);
	ts_format(ss->ts_last, ts);
	u_str(b, SQL_TEXT, ts);
	u_str(b, SQL_BYTES, ss->banner);
	u_str(b, SQL_BYTES, ss->helo);
	dbuf_reset(tmp);
	for (i = 0; i < sizeof(ext_names) / sizeof(ext_names[0]); i++) {
		if (!(ss->ext & (1u << i)))
			continue;
		if (n++ > 0)
			dbuf_addc(tmp, ' ');
		dbuf_adds(tmp, ext_names[i]);
	}
	u_mem(b, SQL_TEXT, tmp->p, tmp->len);
	u_i64(b, ss->tls);
	u_str(b, SQL_BYTES, ss->auth_mech);
	u_str(b, SQL_TEXT, ss->auth_result);
	u_i64(b, ss->transactions);
	u_str(b, SQL_TEXT, ss->end_state);
	u_i64(b, (int64_t)ss->gaps);
	u_i64(b, (int64_t)ss->gap_bytes);
	dbuf_reset(tmp);
	record_anomalies_json(tmp, ss->events, NULL);
	u_mem(b, SQL_TEXT, tmp->p, tmp->len);
}

/*
 * The stats table has a column per memory layer (mem_flows ..
 * mem_records), in enum mem_layer's order: a new layer needs a new
 * column, and a schema version.
 */
_Static_assert(MEM_LAYER_MAX == 5, "a new memory layer needs its column "
    "in the stats table (store.c, unit.h, docs/SCHEMA.md)");

/* A counter as a signed 64-bit column: past INT64_MAX, INT64_MAX. */
static void
u_count(struct dbuf *b, uint64_t v)
{
	u_i64(b, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

void
unit_stats(struct dbuf *b, const struct sensor_stats *st)
{
	char ts[32];
	unsigned i;

	dbuf_reset(b);
	dbuf_addc(b, UNIT_STATS);
	ts_format(st->ts, ts);
	u_str(b, SQL_TEXT, ts);
	u_count(b, st->uptime_ns);
	u_count(b, st->threads);
	u_count(b, st->packets);
	u_count(b, st->bytes);
	u_count(b, st->kernel_received);
	u_count(b, st->kernel_drops);
	u_count(b, st->kernel_ifdrops);
	u_count(b, st->flows);
	u_count(b, st->flows_active);
	u_count(b, st->sessions);
	u_count(b, st->records);
	u_count(b, st->records_lost);
	u_count(b, st->alerts);
	u_count(b, st->mem_limit);
	u_count(b, st->mem_total);
	for (i = 0; i < MEM_LAYER_MAX; i++)
		u_count(b, st->mem_layer[i]);
}

/*
 * The cursor is read into a local copy and written back once: the values
 * stored into v may not alias it, which the compiler cannot know. Every
 * failure leaves by one exit, so the values are built only from reads
 * that succeeded (fewer instructions than main's own cursor had).
 */
int
unit_get(struct cur *c, struct sql_val *v, unsigned n)
{
	struct cur l = *c;
	struct span s;
	unsigned i;
	uint8_t tag;

	for (i = 0; i < n; i++) {
		tag = cur_u8(&l);
		if (l.err || (tag & ~TAG_NULL) > SQL_BYTES)
			goto bad;
		if (tag & TAG_NULL) {
			v[i] = sql_null((enum sql_type)(tag & ~TAG_NULL));
		} else if (tag == SQL_INT) {
			if (!cur_has(&l, 8))
				goto bad;
			v[i] = sql_int((int64_t)cur_le64(&l));
		} else {
			if (!cur_take_le32len(&l, &s))
				goto bad;
			v[i] = sql_mem((enum sql_type)tag, s.p, s.len);
		}
	}
	*c = l;
	return 0;
bad:
	l.err = true;
	*c = l;
	return -1;
}
