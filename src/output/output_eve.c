/*
 * output_eve.c: Suricata EVE JSON. One "smtp" event per transaction, with
 * an "smtp" object (helo, mail_from and rcpt_to as written, angle
 * brackets included, as Suricata logs them) and an "email" object (header values
 * and list items as written, attachment names), then one "fileinfo" event
 * per attachment carrying the same context. tx_id counts transactions of
 * the flow from 0. Not produced: flow_id, pcap_cnt (Suricata's own
 * counters), email.url and email.body_md5 (they would need the body,
 * which smtpsniff does not keep: see tests/conformance/DISAGREEMENTS.md).
 */
#include <string.h>

#include "common/json.h"
#include "output_int.h"

static void
eve_ts(struct dbuf *b, uint64_t ts_ns)
{
	char s[32];

	ts_format(ts_ns, s);
	/* "2009-10-05T06:06:07.529046Z" -> "...529046+0000" */
	s[strlen(s) - 1] = '\0';
	dbuf_addc(b, '"');
	dbuf_adds(b, s);
	dbuf_addlit(b, "+0000\"");
}

/* The path as the client wrote it: in angle brackets, or bare. */
static void
path(struct dbuf *b, const char *addr, bool bracketed)
{
	dbuf_adds(b, bracketed ? "\"<" : "\"");
	json_str_body(b, (const uint8_t *)addr, strlen(addr));
	dbuf_adds(b, bracketed ? ">\"" : "\"");
}

/* The part common to smtp and fileinfo events, up to "event_type". */
static void
head(struct dbuf *b, const struct record *r)
{
	const struct record_conn *c = r->conn;

	dbuf_addlit(b, "{\"timestamp\":");
	eve_ts(b, r->ts);
	dbuf_addlit(b, ",\"src_ip\":");
	out_ip(b, &c->client);
	dbuf_addlit(b, ",\"src_port\":");
	json_u64(b, c->client.port);
	dbuf_addlit(b, ",\"dest_ip\":");
	out_ip(b, &c->server);
	dbuf_addlit(b, ",\"dest_port\":");
	json_u64(b, c->server.port);
	dbuf_addlit(b, ",\"proto\":\"TCP\"");
	if (c->nvlan > 0) {
		dbuf_addlit(b, ",\"vlan\":[");
		for (unsigned i = 0; i < c->nvlan; i++) {
			if (i > 0)
				dbuf_addc(b, ',');
			json_u64(b, c->vlan[i]);
		}
		dbuf_addc(b, ']');
	}
	dbuf_addlit(b, ",\"app_proto\":\"smtp\",\"tx_id\":");
	json_u64(b, r->trans_depth - 1);
}

static void
smtp_and_email(struct dbuf *b, const struct record *r)
{
	const struct mime_result *m = r->mime;
	size_t i;

	dbuf_addlit(b, ",\"smtp\":{");
	dbuf_addlit(b, "\"helo\":");
	out_str_or_null(b, r->helo);
	if (r->has_mail && r->mail_from != NULL) {
		dbuf_addlit(b, ",\"mail_from\":");
		path(b, r->mail_from, r->mail_bracketed);
	}
	if (r->nrcpt > 0) {
		dbuf_addlit(b, ",\"rcpt_to\":[");
		for (i = 0; i < r->nrcpt; i++) {
			if (i > 0)
				dbuf_addc(b, ',');
			path(b, r->rcpt[i].addr ? r->rcpt[i].addr : "",
			    r->rcpt[i].bracketed);
		}
		dbuf_addc(b, ']');
	}
	dbuf_addc(b, '}');
	if (m == NULL)
		return;
	dbuf_addlit(b, ",\"email\":{\"status\":");
	dbuf_adds(b, r->status == RECORD_INCOMPLETE || !r->size_known ?
	    "\"PARSE_ERROR\"" : "\"PARSE_DONE\"");
	json_opt_cstr(b, "from", m->h.from);
	out_addr_items(b, "to", &m->h.to);
	out_addr_items(b, "cc", &m->h.cc);
	json_opt_cstr(b, "subject", m->h.subject);
	json_opt_cstr(b, "date", m->h.date);
	json_opt_cstr(b, "message_id", m->h.message_id);
	json_opt_cstr(b, "x_mailer", m->h.x_mailer);
	if (m->h.received.n > 0) {
		dbuf_addlit(b, ",\"received\":[");
		for (i = 0; i < m->h.received.n; i++) {
			if (i > 0)
				dbuf_addc(b, ',');
			json_cstr(b, m->h.received.v[i]);
		}
		dbuf_addc(b, ']');
	}
	if (m->natt > 0) {
		dbuf_addlit(b, ",\"attachment\":[");
		for (i = 0; i < m->natt; i++) {
			if (i > 0)
				dbuf_addc(b, ',');
			out_str_or_null(b, m->att[i].filename);
		}
		dbuf_addc(b, ']');
	}
	dbuf_addc(b, '}');
}

int
output_eve(struct dbuf *b, const struct record *r, uint64_t nth)
{
	const struct mime_attachment *a;
	size_t i;

	(void)nth;
	head(b, r);
	dbuf_addlit(b, ",\"event_type\":\"smtp\"");
	smtp_and_email(b, r);
	dbuf_addlit(b, "}\n");
	for (i = 0; r->mime != NULL && i < r->mime->natt; i++) {
		a = &r->mime->att[i];
		head(b, r);
		dbuf_addlit(b, ",\"event_type\":\"fileinfo\"");
		smtp_and_email(b, r);
		dbuf_addlit(b, ",\"fileinfo\":{\"filename\":");
		out_str_or_null(b, a->filename);
		dbuf_addlit(b, ",\"gaps\":");
		dbuf_adds(b, a->truncated ? "true" : "false");
		dbuf_addlit(b, ",\"state\":");
		dbuf_adds(b, a->truncated ? "\"TRUNCATED\"" : "\"CLOSED\"");
		dbuf_addlit(b, ",\"sha256\":");
		json_hex(b, a->sha256, sizeof(a->sha256));
		dbuf_addlit(b, ",\"md5\":");
		json_hex(b, a->md5, sizeof(a->md5));
		dbuf_addlit(b, ",\"stored\":false,\"size\":");
		json_u64(b, a->size);
		dbuf_addlit(b, ",\"tx_id\":");
		json_u64(b, r->trans_depth - 1);
		dbuf_addlit(b, "}}\n");
	}
	return dbuf_status(b);
}

/* "key":n, after an earlier member if comma */
static void
eve_count(struct dbuf *b, bool comma, const char *key, uint64_t v)
{
	if (comma)
		dbuf_addc(b, ',');
	json_key(b, key);
	json_u64(b, v);
}

/*
 * A "stats" event as Suricata 7 writes its counters: the same names where
 * the meaning is the same (uptime in whole seconds, capture.kernel_*,
 * decoder.pkts/bytes, flow.total/active/memuse, tcp.reassembly_memuse,
 * defrag.memuse, app_layer.flow.smtp for SMTP sessions, app_layer.tx.smtp
 * for transactions, detect.alert); ours: memory (the --memcap budget,
 * every layer), smtp.records_lost and threads (docs/RECORDS.md).
 */
int
output_eve_stats(struct dbuf *b, const struct sensor_stats *st)
{
	unsigned i;

	dbuf_addlit(b, "{\"timestamp\":");
	eve_ts(b, st->ts);
	dbuf_addlit(b, ",\"event_type\":\"stats\",\"stats\":{");
	eve_count(b, false, "uptime", st->uptime_ns / 1000000000u);
	dbuf_addlit(b, ",\"capture\":{");
	eve_count(b, false, "kernel_packets", st->kernel_received);
	eve_count(b, true, "kernel_drops", st->kernel_drops);
	eve_count(b, true, "kernel_ifdrops", st->kernel_ifdrops);
	dbuf_addlit(b, "},\"decoder\":{");
	eve_count(b, false, "pkts", st->packets);
	eve_count(b, true, "bytes", st->bytes);
	dbuf_addlit(b, "},\"flow\":{");
	eve_count(b, false, "total", st->flows);
	eve_count(b, true, "active", st->flows_active);
	eve_count(b, true, "memuse", st->mem_layer[MEM_FLOWS]);
	dbuf_addlit(b, "},\"tcp\":{");
	eve_count(b, false, "reassembly_memuse", st->mem_layer[MEM_REASSEMBLY]);
	dbuf_addlit(b, "},\"defrag\":{");
	eve_count(b, false, "memuse", st->mem_layer[MEM_FRAGMENTS]);
	dbuf_addlit(b, "},\"app_layer\":{\"flow\":{");
	eve_count(b, false, "smtp", st->sessions);
	dbuf_addlit(b, "},\"tx\":{");
	eve_count(b, false, "smtp", st->records);
	dbuf_addlit(b, "}},\"detect\":{");
	eve_count(b, false, "alert", st->alerts);
	dbuf_addlit(b, "},\"memory\":{");
	eve_count(b, false, "limit", st->mem_limit);
	eve_count(b, true, "total", st->mem_total);
	for (i = 0; i < MEM_LAYER_MAX; i++)
		eve_count(b, true, mem_layer_name((enum mem_layer)i),
		    st->mem_layer[i]);
	dbuf_addlit(b, "},\"smtp\":{");
	eve_count(b, false, "records_lost", st->records_lost);
	dbuf_addc(b, '}');
	eve_count(b, true, "threads", st->threads);
	dbuf_addlit(b, "}}\n");
	return dbuf_status(b);
}
