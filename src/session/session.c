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

#include "common/mem.h"
#include "session/probe.h"
#include "session/session.h"

enum sess_kind {
	SESS_PROBE,		/* --any-port: not known yet */
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
	struct session_probe	*probe;		/* SESS_PROBE only */
};

/* The user state of a connection that is not SMTP: nothing to keep. */
static struct session not_smtp;

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
	/*
	 * Microseconds: the same connection gets the same uid from a live
	 * capture (ns) and from tcpdump's file of it (µs by default).
	 */
	uint64_t us = fi->ts_first / 1000;
	int k;

	h = fnv(h, &fi->af, 1);
	h = fnv(h, fi->client.ip, 16);
	h = fnv(h, &fi->client.port, 2);
	h = fnv(h, fi->server.ip, 16);
	h = fnv(h, &fi->server.port, 2);
	h = fnv(h, fi->vlan, sizeof(fi->vlan[0]) * fi->nvlan);
	h = fnv(h, &us, 8);
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

/* The probe's counts go into the stage's; its buffers go. */
static void
probe_done(struct session_stage *ss, struct session *s)
{
	if (s->probe == NULL)
		return;
	session_probe_count(s->probe, ss->st.probe);
	session_probe_free(s->probe);
	s->probe = NULL;
}

static void
session_free(struct session_stage *ss, struct session *s)
{
	if (s == NULL)
		return;
	probe_done(ss, s);
	record_session_free(s->rs);
	mem_free(s->banner);
	mem_free(s->helo);
	mem_free(s->auth_mech);
	mem_free(s);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? mem_strdup(s) : NULL;
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

/*
 * Nothing is allocated for a connection before its first payload byte
 * (issue 8 §3): a flood of SYNs costs the flow table, not sessions.
 */
static void
on_open(void *arg, struct flow *f)
{
	(void)arg;
	flow_set_user(f, NULL);
}

/*
 * The connection's first byte (or gap) came: follow it as SMTP, probe
 * it, or mark it as not ours. NULL when it is not followed.
 */
static struct session *
session_begin(struct session_stage *ss, struct flow *f)
{
	const struct flow_info *fi = flow_get_info(f);
	bool port = smtp_port(ss, fi->server.port);
	struct session *s;

	if (!port && !ss->cfg.any_port) {
		flow_set_user(f, &not_smtp);
		return NULL;
	}
	if ((s = mem_calloc(1, sizeof(*s))) == NULL)
		goto fail;
	if (port) {
		if (session_start(ss, f, s) == -1)
			goto fail;
	} else {
		if ((s->probe = session_probe_new()) == NULL)
			goto fail;
		s->kind = SESS_PROBE;
		ss->st.probed++;
	}
	flow_set_user(f, s);
	return s;
fail:
	ss->st.alloc_failures++;
	session_free(ss, s);
	flow_set_user(f, &not_smtp);
	return NULL;
}

/* Bytes for the SMTP parser; false once the session is over. */
static bool
smtp_feed(struct session *s, struct flow *f, enum smtp_dir sd,
    const uint8_t *p, size_t n)
{
	record_session_feed(s->rs, sd, p, n, flow_get_info(f)->ts_last);
	if (!record_session_is_over(s->rs)) {
		/* Mail in flight is evicted last (flow_table.c). */
		flow_set_busy(f, record_session_has_mail(s->rs));
		return true;
	}
	flow_set_busy(f, false);
	/*
	 * QUIT answered or TLS: nothing more will be parsed, so the records
	 * go out and the memory comes back now rather than when the
	 * connection's last packet has lingered away.
	 */
	record_session_end(s->rs, false);
	keep_info(s);
	record_session_free(s->rs);
	s->rs = NULL;
	s->kind = SESS_DONE;
	return false;
}

/* The probe said SMTP: start, and replay what it held, in order. */
static bool
probe_to_smtp(struct session_stage *ss, struct flow *f, struct session *s)
{
	const uint8_t *held;
	enum smtp_dir hd;
	size_t len;
	int i;

	if (session_start(ss, f, s) == -1)
		return false;
	for (i = 0; i < 2; i++)
		if ((len = session_probe_held(s->probe, i, &hd, &held)) > 0 &&
		    !smtp_feed(s, f, hd, held, len))
			break;
	probe_done(ss, s);
	return true;
}

static void
on_data(void *arg, struct flow *f, enum flow_dir d, const uint8_t *p,
    size_t n)
{
	struct session_stage *ss = arg;
	struct session *s = flow_get_user(f);
	enum smtp_dir sd = d == FLOW_C2S ? SMTP_C2S : SMTP_S2C;
	size_t taken;

	if (s == &not_smtp || n == 0)
		return;
	if (s == NULL && (s = session_begin(ss, f)) == NULL)
		return;
	if (s->kind == SESS_PROBE) {
		switch (session_probe_feed(s->probe, sd, p, n, &taken)) {
		case PROBE_MORE:
			return;
		case PROBE_NOT_SMTP:
			ss->st.probe_not_smtp++;
			goto not_ours;
		case PROBE_SMTP:
			if (!probe_to_smtp(ss, f, s))
				goto not_ours;
			p += taken;
			n -= taken;
			break;
		}
	}
	if (s->kind == SESS_SMTP && n > 0)
		smtp_feed(s, f, sd, p, n);
	return;
not_ours:
	session_free(ss, s);
	flow_set_user(f, &not_smtp);
}

static void
on_gap(void *arg, struct flow *f, enum flow_dir d, uint64_t len)
{
	struct session_stage *ss = arg;
	struct session *s = flow_get_user(f);

	if (s == &not_smtp)
		return;
	/* A session whose first bytes were lost is still one (port). */
	if (s == NULL && (s = session_begin(ss, f)) == NULL)
		return;
	if (s->kind == SESS_PROBE) {
		/* What follows a hole is no first line: not probed further. */
		ss->st.probe_gaps++;
		session_free(ss, s);
		flow_set_user(f, &not_smtp);
		return;
	}
	if (s->kind != SESS_SMTP)
		return;
	record_session_gap(s->rs, d == FLOW_C2S ? SMTP_C2S : SMTP_S2C, len);
	flow_set_busy(f, record_session_has_mail(s->rs));
}

static void
on_close(void *arg, struct flow *f, enum flow_end why)
{
	struct session_stage *ss = arg;
	struct session *s = flow_get_user(f);

	flow_set_user(f, NULL);
	if (s == NULL || s == &not_smtp)
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
	session_free(ss, s);
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
