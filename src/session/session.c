/*
 * session.c: flows into SMTP sessions. Connections on an SMTP port are
 * SMTP from their first byte; with --any-port the others are probed by
 * their first bytes (the server's 220 greeting, or the client's EHLO or
 * HELO). A connection that opens with an HTTP CONNECT request (RFC 9110
 * §9.3.6) is a proxy tunnel: once the request and the proxy's answer have
 * passed, what follows is probed the same way, as Zeek does. Connections
 * that are not SMTP carry no state.
 */
#include <stdlib.h>
#include <string.h>

#include "session/session.h"

enum sess_kind {
	SESS_PROBE,
	SESS_TUNNEL,
	SESS_SMTP,
	SESS_DONE,		/* SMTP, over: its parser already released */
};

/* One connection that is, or may be, SMTP. */
struct session {
	enum sess_kind		 kind;
	struct record_session	*rs;
	struct record_conn	 rconn;		/* for the summary */
	struct record_session_info info;	/* kept when rs is freed */
	char			*banner, *helo, *auth_mech;
	uint8_t			 eoh[2];	/* progress through CRLF CRLF */
	bool			 hdr_done[2];
};

struct session_stage {
	struct session_config	 cfg;
	struct session_ops	 ops;
	void			*arg;
	struct session_stats	 st;
};

static bool
smtp_port(const struct session_stage *ss, uint16_t port)
{
	size_t i;

	for (i = 0; i < ss->cfg.nports; i++)
		if (ss->cfg.ports[i] == port)
			return true;
	return false;
}

static void
on_record(void *arg, const struct record *r)
{
	struct session_stage *ss = arg;
	size_t i;

	ss->st.records++;
	ss->st.status[r->status]++;
	if (r->mime != NULL) {
		for (i = 0; i < MIME_EV_MAX; i++)
			ss->st.mime_events[i] += r->mime->events[i];
		ss->st.attachments += r->mime->natt;
	}
	ss->ops.on_record(ss->arg, r);
}

static const struct record_ops rec_ops = { on_record };

/*
 * FNV-1a: the uid must depend only on the connection, so that reading a
 * capture twice, or live, gives the same ids. It keys no table here.
 */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void
session_make_uid(const struct flow_info *fi, char out[24])
{
	static const char b62[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint64_t h = 0xcbf29ce484222325ull;
	int k;

	h = fnv(h, &fi->af, 1);
	h = fnv(h, fi->client.ip, 16);
	h = fnv(h, &fi->client.port, 2);
	h = fnv(h, fi->server.ip, 16);
	h = fnv(h, &fi->server.port, 2);
	h = fnv(h, fi->vlan, sizeof(fi->vlan[0]) * fi->nvlan);
	h = fnv(h, &fi->ts_first, 8);
	out[0] = 'C';
	for (k = 1; k <= 11; k++) {
		h ^= h >> 33;
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 33;
		out[k] = b62[h % 62];
	}
	out[12] = '\0';
}

/* The SMTP session begins: its uid and record session. -1: no memory. */
static int
session_start(struct session_stage *ss, struct flow *f, struct session *s)
{
	const struct flow_info *fi = flow_get_info(f);
	struct record_conn *c = &s->rconn;

	memset(c, 0, sizeof(*c));
	session_make_uid(fi, c->uid);
	c->client.af = c->server.af = fi->af;
	memcpy(c->client.ip, fi->client.ip, 16);
	memcpy(c->server.ip, fi->server.ip, 16);
	c->client.port = fi->client.port;
	c->server.port = fi->server.port;
	c->nvlan = fi->nvlan;
	memcpy(c->vlan, fi->vlan, sizeof(c->vlan));
	c->ts_first = fi->ts_first;
	if ((s->rs = record_session_new(c, &ss->cfg.rcfg, &rec_ops, ss)) ==
	    NULL) {
		ss->st.alloc_failures++;
		return -1;
	}
	s->kind = SESS_SMTP;
	ss->st.sessions++;
	return 0;
}

static void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	record_session_free(s->rs);
	free(s->banner);
	free(s->helo);
	free(s->auth_mech);
	free(s);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Keep what the summary needs before the record session goes. */
static void
keep_info(struct session *s)
{
	record_session_get_info(s->rs, &s->info);
	s->banner = dup_or_null(s->info.banner);
	s->helo = dup_or_null(s->info.helo);
	s->auth_mech = dup_or_null(s->info.auth_mech);
	s->info.banner = s->banner;
	s->info.helo = s->helo;
	s->info.auth_mech = s->auth_mech;
}

/* The session's summary, and its anomalies into the stage's counts. */
static void
put_summary(struct session_stage *ss, struct flow *f, struct session *s,
    enum flow_end why)
{
	const struct flow_info *fi = flow_get_info(f);
	const struct flow_dir_stats *a = flow_get_dir_stats(f, FLOW_C2S);
	const struct flow_dir_stats *b = flow_get_dir_stats(f, FLOW_S2C);
	struct record_summary sum;
	size_t i;

	if (s->rs != NULL)
		record_session_get_info(s->rs, &s->info);
	memset(&sum, 0, sizeof(sum));
	sum.conn = &s->rconn;
	sum.ts_last = fi->ts_last;
	sum.banner = s->info.banner;
	sum.helo = s->info.helo;
	sum.ext = s->info.ext;
	sum.tls = s->info.tls;
	sum.auth_mech = s->info.auth_mech;
	sum.auth_result = s->info.auth_mech != NULL ?
	    record_auth_name(s->info.auth) : NULL;
	sum.transactions = s->info.transactions;
	sum.end_state = flow_end_name(why);
	sum.gaps = a->gaps + b->gaps;
	sum.gap_bytes = a->gap_bytes + b->gap_bytes;
	memcpy(sum.events, s->info.events, sizeof(sum.events));
	for (i = 0; i < SMTP_EV_MAX; i++)
		ss->st.events[i] += s->info.events[i];
	if (ss->ops.on_summary != NULL)
		ss->ops.on_summary(ss->arg, &sum);
}

static void
on_open(void *arg, struct flow *f)
{
	struct session_stage *ss = arg;
	const struct flow_info *fi = flow_get_info(f);
	bool port = smtp_port(ss, fi->server.port);
	struct session *s;

	flow_set_user(f, NULL);
	if (!port && !ss->cfg.any_port)
		return;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		ss->st.alloc_failures++;
		return;
	}
	s->kind = SESS_PROBE;
	if (port && session_start(ss, f, s) == -1) {
		free(s);
		return;
	}
	if (!port)
		ss->st.probed++;
	flow_set_user(f, s);
}

/* Skip one direction's HTTP header; returns the bytes it took. */
static size_t
tunnel_skip(struct session *s, enum flow_dir d, const uint8_t *p, size_t n)
{
	static const uint8_t eoh[4] = { '\r', '\n', '\r', '\n' };
	size_t i;

	for (i = 0; i < n && !s->hdr_done[d]; i++) {
		if (p[i] == eoh[s->eoh[d]])
			s->eoh[d]++;
		else
			s->eoh[d] = p[i] == '\r' ? 1 : 0;
		if (s->eoh[d] == 4)
			s->hdr_done[d] = true;
	}
	return i;
}

static void
on_data(void *arg, struct flow *f, enum flow_dir d, const uint8_t *p,
    size_t n)
{
	struct session_stage *ss = arg;
	struct session *s = flow_get_user(f);
	enum smtp_dir sd = d == FLOW_C2S ? SMTP_C2S : SMTP_S2C;
	size_t k;

	if (s == NULL)
		return;
	if (s->kind == SESS_PROBE && d == FLOW_C2S && n >= 8 &&
	    memcmp(p, "CONNECT ", 8) == 0) {
		s->kind = SESS_TUNNEL;
		ss->st.tunnels++;
	}
	if (s->kind == SESS_TUNNEL) {
		if (!s->hdr_done[d]) {
			k = tunnel_skip(s, d, p, n);
			p += k;
			n -= k;
		}
		if (!s->hdr_done[FLOW_C2S] || !s->hdr_done[FLOW_S2C] ||
		    n == 0)
			return;
		s->kind = SESS_PROBE;	/* the tunnel is open */
	}
	if (s->kind == SESS_PROBE) {
		if (n == 0)
			return;
		if (!smtp_looks_like(sd, p, n) ||
		    session_start(ss, f, s) == -1) {
			session_free(s);
			flow_set_user(f, NULL);
			return;
		}
	}
	if (s->kind != SESS_SMTP)
		return;
	record_session_feed(s->rs, sd, p, n, flow_get_info(f)->ts_last);
	if (record_session_is_over(s->rs)) {
		/*
		 * QUIT answered or TLS: nothing more will be parsed, so the
		 * records go out and the memory comes back now rather than
		 * when the connection's last packet has lingered away.
		 */
		record_session_end(s->rs, false);
		keep_info(s);
		record_session_free(s->rs);
		s->rs = NULL;
		s->kind = SESS_DONE;
	}
}

static void
on_gap(void *arg, struct flow *f, enum flow_dir d, uint64_t len)
{
	struct session *s = flow_get_user(f);

	(void)arg;
	if (s == NULL || s->kind != SESS_SMTP)
		return;
	record_session_gap(s->rs, d == FLOW_C2S ? SMTP_C2S : SMTP_S2C, len);
}

static void
on_close(void *arg, struct flow *f, enum flow_end why)
{
	struct session_stage *ss = arg;
	struct session *s = flow_get_user(f);

	if (s == NULL)
		return;
	if (s->kind == SESS_SMTP) {
		/*
		 * A timeout, an eviction or the end of the capture hides
		 * the outcome of what is open: the client did not abort.
		 */
		record_session_end(s->rs, why == FLOW_END_TIMEOUT ||
		    why == FLOW_END_EVICTED || why == FLOW_END_OPEN);
		put_summary(ss, f, s, why);
	} else if (s->kind == SESS_DONE) {
		put_summary(ss, f, s, why);
	}
	session_free(s);
	flow_set_user(f, NULL);
}

static const struct flow_ops session_flow_ops = {
	on_open, on_data, on_gap, on_close
};

const struct flow_ops *
session_stage_flow_ops(void)
{
	return &session_flow_ops;
}

/*
 * A stage that follows the connections of one flow table. The config is
 * copied, but cfg->ports is borrowed and must outlive the stage. NULL
 * when out of memory.
 */
struct session_stage *
session_stage_new(const struct session_config *cfg,
    const struct session_ops *ops, void *arg)
{
	struct session_stage *ss;

	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return NULL;
	ss->cfg = *cfg;
	ss->ops = *ops;
	ss->arg = arg;
	return ss;
}

/* The flow table must have been finished (or freed) first. */
void
session_stage_free(struct session_stage *ss)
{
	free(ss);
}

const struct session_stats *
session_stage_get_stats(const struct session_stage *ss)
{
	return &ss->st;
}
