/*
 * output_zeek.c: rows of Zeek's smtp.log (base/protocols/smtp/main.zeek)
 * as Zeek's JSON writer prints them: the same field names, "id.orig_h"
 * style keys, ts as epoch seconds, sets and vectors as arrays, and unset
 * fields left out. Zeek's own conventions are followed where they differ
 * from our native record:
 * - mailfrom/rcptto without angle brackets; the null sender is unset;
 * - to/cc are the list items as written ("Name <addr>"), from is the
 *   whole header value;
 * - first_received is the LAST Received header of the message and
 *   second_received the one before it (Zeek overwrites as it reads);
 * - path is the server, the client, then one address per Received
 *   header (the second one written in it if there are two), skipping
 *   repeats of the previous element;
 * - user_agent is X-Mailer, User-Agent or X-User-Agent.
 * - trans_depth counts end-of-data replies seen before, plus one, and
 *   last_reply is the session's last reply when the row is written.
 * uid and fuids are ours (the conformance test sets ids aside).
 */
#include <arpa/inet.h>
#include <string.h>

#include "common/json.h"
#include "common/limits.h"
#include "output_int.h"

static bool
is_ipchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F') || c == '.' || c == ':';
}

/*
 * The addresses in a Received header that stand wrapped in [], (), {}
 * or spaces (Zeek's extract_ip_addresses with check_wrapping). Returns
 * the one Zeek picks: the second if there are two or more, else the
 * first; false if none.
 */
static bool
received_addr(const char *h, char out[INET6_ADDRSTRLEN])
{
	char cand[INET6_ADDRSTRLEN], found[2][INET6_ADDRSTRLEN];
	unsigned char buf[16];
	size_t i = 0, j, n = strlen(h), nfound = 0;
	char open, close;

	while (i < n) {
		if (!is_ipchar(h[i]) || (i > 0 && is_ipchar(h[i - 1]))) {
			i++;
			continue;
		}
		j = i;
		while (j < n && is_ipchar(h[j]))
			j++;
		if (j - i < sizeof(cand)) {
			memcpy(cand, h + i, j - i);
			cand[j - i] = '\0';
			/* Trailing dots belong to the sentence, not the address. */
			while (j - i > 0 && cand[j - i - 1] == '.')
				cand[--j - i] = '\0';
			open = i > 0 ? h[i - 1] : '\0';
			close = j < n ? h[j] : '\0';
			if ((inet_pton(AF_INET, cand, buf) == 1 ||
			    (strchr(cand, ':') && inet_pton(AF_INET6, cand,
			    buf) == 1)) &&
			    ((open == '[' && close == ']') ||
			    (open == '(' && close == ')') ||
			    (open == '{' && close == '}') ||
			    (open == ' ' && close == ' ') ||
			    (i == 0 && j == n))) {
				if (nfound < 2)
					strcpy(found[nfound], cand);
				nfound++;
			}
		}
		i = j + 1;
	}
	if (nfound == 0)
		return false;
	strcpy(out, found[nfound > 1 ? 1 : 0]);
	return true;
}

static void
path(struct dbuf *b, const struct record *r)
{
	char ips[LIMIT_ZEEK_PATH][INET6_ADDRSTRLEN], ip[INET6_ADDRSTRLEN];
	size_t n = 0, i;
	const struct record_conn *c = r->conn;

	inet_ntop(c->server.af == 4 ? AF_INET : AF_INET6, c->server.ip,
	    ips[n++], INET6_ADDRSTRLEN);
	inet_ntop(c->client.af == 4 ? AF_INET : AF_INET6, c->client.ip,
	    ips[n++], INET6_ADDRSTRLEN);
	for (i = 0; r->mime != NULL && i < r->mime->h.received.n &&
	    n < LIMIT_ZEEK_PATH; i++) {
		if (!received_addr(r->mime->h.received.v[i], ip))
			continue;
		if (strcmp(ips[n - 1], ip) != 0)
			strcpy(ips[n++], ip);
	}
	dbuf_addlit(b, ",\"path\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			dbuf_addc(b, ',');
		json_cstr(b, ips[i]);
	}
	dbuf_addc(b, ']');
}

int
output_zeek(struct dbuf *b, const struct record *r, uint64_t nth)
{
	const struct record_conn *c = r->conn;
	const struct mime_headers *h = r->mime != NULL ? &r->mime->h : NULL;
	char ip[INET6_ADDRSTRLEN];
	size_t i, n;

	(void)nth;
	dbuf_addlit(b, "{\"ts\":");
	out_epoch(b, r->ts);
	dbuf_addlit(b, ",\"uid\":");
	json_cstr(b, c->uid);
	dbuf_addlit(b, ",\"id.orig_h\":");
	out_ip(b, &c->client);
	dbuf_addlit(b, ",\"id.orig_p\":");
	json_u64(b, c->client.port);
	dbuf_addlit(b, ",\"id.resp_h\":");
	out_ip(b, &c->server);
	dbuf_addlit(b, ",\"id.resp_p\":");
	json_u64(b, c->server.port);
	dbuf_addlit(b, ",\"trans_depth\":");
	json_u64(b, r->zeek_depth);
	json_opt_cstr(b, "helo", r->helo);
	if (r->has_mail && r->mail_from != NULL && r->mail_from[0] != '\0')
		json_opt_cstr(b, "mailfrom", r->mail_from);
	for (i = 0, n = 0; i < r->nrcpt; i++) {
		if (r->rcpt[i].addr == NULL || r->rcpt[i].addr[0] == '\0')
			continue;
		dbuf_adds(b, n++ == 0 ? ",\"rcptto\":[" : ",");
		json_cstr(b, r->rcpt[i].addr);
	}
	if (n > 0)
		dbuf_addc(b, ']');
	if (h != NULL) {
		json_opt_cstr(b, "date", h->date);
		json_opt_cstr(b, "from", h->from);
		out_addr_items(b, "to", &h->to);
		out_addr_items(b, "cc", &h->cc);
		json_opt_cstr(b, "reply_to", h->reply_to);
		json_opt_cstr(b, "msg_id", h->message_id);
		json_opt_cstr(b, "in_reply_to", h->in_reply_to);
		json_opt_cstr(b, "subject", h->subject);
		if (h->x_originating_ip != NULL &&
		    received_addr(h->x_originating_ip, ip))
			json_opt_cstr(b, "x_originating_ip", ip);
		if (h->received.n >= 1)
			json_opt_cstr(b, "first_received",
			    h->received.v[h->received.n - 1]);
		if (h->received.n >= 2)
			json_opt_cstr(b, "second_received",
			    h->received.v[h->received.n - 2]);
	}
	json_opt_cstr(b, "last_reply", r->session_last_reply);
	path(b, r);
	if (h != NULL)
		json_opt_cstr(b, "user_agent", h->user_agent);
	dbuf_adds(b, r->tls ? ",\"tls\":true" : ",\"tls\":false");
	dbuf_addlit(b, "}\n");
	return dbuf_status(b);
}
