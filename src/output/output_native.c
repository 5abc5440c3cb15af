/*
 * output_native.c: the native record, one JSON object per line, with the
 * field names of DESIGN.md ("The transaction record"). Absent values are
 * null, lists are always present.
 */
#include "common/json.h"
#include "output_int.h"

static void
field(struct dbuf *b, const char *key, const char *v)
{
	dbuf_addc(b, ',');
	json_key(b, key);
	out_str_or_null(b, v);
}

static void
header(struct dbuf *b, const struct mime_headers *h)
{
	dbuf_addc(b, '{');
	json_key(b, "from");
	out_str_or_null(b, h->from);
	dbuf_addc(b, ',');
	json_key(b, "to");
	record_addrs_json(b, &h->to);
	dbuf_addc(b, ',');
	json_key(b, "cc");
	record_addrs_json(b, &h->cc);
	field(b, "reply_to", h->reply_to);
	field(b, "subject", h->subject);
	field(b, "message_id", h->message_id);
	field(b, "in_reply_to", h->in_reply_to);
	field(b, "date", h->date);
	field(b, "user_agent", h->user_agent);
	field(b, "x_originating_ip", h->x_originating_ip);
	dbuf_addc(b, ',');
	json_key(b, "received");
	record_strs_json(b, &h->received);
	dbuf_addc(b, '}');
}

static void
attachments(struct dbuf *b, const struct mime_result *m)
{
	const struct mime_attachment *a;
	size_t i;

	json_key(b, "attachments");
	dbuf_addc(b, '[');
	for (i = 0; m != NULL && i < m->natt; i++) {
		a = &m->att[i];
		if (i > 0)
			dbuf_addc(b, ',');
		dbuf_addc(b, '{');
		json_key(b, "filename");
		out_str_or_null(b, a->filename);
		field(b, "content_type", a->content_type);
		dbuf_addlit(b, ",\"size\":");
		json_u64(b, a->size);
		dbuf_addlit(b, ",\"sha256\":");
		json_hex(b, a->sha256, sizeof(a->sha256));
		/* Attached messages around it: 0 for the message's own. */
		dbuf_addlit(b, ",\"depth\":");
		json_u64(b, a->depth);
		if (a->truncated)
			dbuf_addlit(b, ",\"truncated\":true");
		dbuf_addc(b, '}');
	}
	dbuf_addc(b, ']');
}

int
output_native(struct dbuf *b, const struct record *r, uint64_t nth)
{
	const struct record_conn *c = r->conn;
	size_t i;

	(void)nth;
	dbuf_addlit(b, "{\"type\":\"smtp\",\"ts\":");
	json_ts(b, r->ts);
	dbuf_addlit(b, ",\"session\":");
	json_cstr(b, c->uid);
	dbuf_addlit(b, ",\"trans_depth\":");
	json_u64(b, r->trans_depth);
	dbuf_addc(b, ',');
	out_endpoint(b, "client", &c->client);
	dbuf_addc(b, ',');
	out_endpoint(b, "server", &c->server);
	dbuf_addlit(b, ",\"vlan\":");
	json_u16_list(b, c->vlan, c->nvlan);
	field(b, "banner", r->banner);
	field(b, "helo", r->helo);
	dbuf_adds(b, r->tls ? ",\"tls\":true" : ",\"tls\":false");
	dbuf_addlit(b, ",\"auth\":");
	if (r->auth_mech != NULL) {
		dbuf_addlit(b, "{\"mechanism\":");
		json_cstr(b, r->auth_mech);
		dbuf_addlit(b, ",\"result\":");
		json_cstr(b, record_auth_name(r->auth));
		dbuf_addlit(b, ",\"attempts\":");
		json_u64(b, r->auth_attempts);
		if (r->auth_user != NULL) {
			dbuf_addlit(b, ",\"user\":");
			json_cstr(b, r->auth_user);
		}
		dbuf_addc(b, '}');
	} else {
		dbuf_addlit(b, "null");
	}
	field(b, "mail_from", r->has_mail ? r->mail_from : NULL);
	dbuf_addlit(b, ",\"rcpt\":[");
	for (i = 0; i < r->nrcpt; i++) {
		if (i > 0)
			dbuf_addc(b, ',');
		dbuf_addlit(b, "{\"addr\":");
		out_str_or_null(b, r->rcpt[i].addr);
		dbuf_addlit(b, ",\"code\":");
		if (r->rcpt[i].code != 0)
			json_u64(b, r->rcpt[i].code);
		else
			dbuf_addlit(b, "null");
		if (r->rcpt[i].enhanced[0] != '\0') {
			dbuf_addlit(b, ",\"enhanced\":");
			json_cstr(b, r->rcpt[i].enhanced);
		}
		dbuf_addc(b, '}');
	}
	dbuf_addc(b, ']');
	dbuf_addlit(b, ",\"status\":");
	json_cstr(b, record_status_name(r->status));
	field(b, "last_reply", r->last_reply);
	dbuf_addlit(b, ",\"size\":");
	if (r->size_known)
		json_u64(b, r->size);
	else
		dbuf_addlit(b, "null");
	dbuf_addlit(b, ",\"header\":");
	if (r->mime != NULL)
		header(b, &r->mime->h);
	else
		dbuf_addlit(b, "null");
	dbuf_addc(b, ',');
	attachments(b, r->mime);
	dbuf_addlit(b, ",\"anomalies\":");
	record_anomalies_json(b, r->events, r->mime);
	dbuf_addlit(b, "}\n");
	return dbuf_status(b);
}

/* ,"key":n */
static void
count(struct dbuf *b, const char *key, uint64_t v)
{
	dbuf_addc(b, ',');
	json_key(b, key);
	json_u64(b, v);
}

/*
 * {"type":"stats",...}: the sensor's counters since the start, at ts of
 * the packet clock (docs/RECORDS.md, "Statistics").
 */
int
output_native_stats(struct dbuf *b, const struct sensor_stats *st)
{
	unsigned i;

	dbuf_addlit(b, "{\"type\":\"stats\",\"ts\":");
	json_ts(b, st->ts);
	dbuf_addlit(b, ",\"uptime\":");
	out_epoch(b, st->uptime_ns);
	count(b, "threads", st->threads);
	count(b, "packets", st->packets);
	count(b, "bytes", st->bytes);
	dbuf_addlit(b, ",\"kernel\":{\"received\":");
	json_u64(b, st->kernel_received);
	count(b, "drops", st->kernel_drops);
	count(b, "ifdrops", st->kernel_ifdrops);
	dbuf_addlit(b, "},\"flows\":{\"total\":");
	json_u64(b, st->flows);
	count(b, "active", st->flows_active);
	dbuf_addc(b, '}');
	count(b, "sessions", st->sessions);
	count(b, "records", st->records);
	count(b, "records_lost", st->records_lost);
	count(b, "alerts", st->alerts);
	/* No budget (--memcap 0): null, not a limit of 0 bytes. */
	dbuf_addlit(b, ",\"memory\":{\"limit\":");
	if (st->mem_limit > 0)
		json_u64(b, st->mem_limit);
	else
		dbuf_addlit(b, "null");
	count(b, "total", st->mem_total);
	for (i = 0; i < MEM_LAYER_MAX; i++)
		count(b, mem_layer_name((enum mem_layer)i), st->mem_layer[i]);
	dbuf_addlit(b, "}}\n");
	return dbuf_status(b);
}
