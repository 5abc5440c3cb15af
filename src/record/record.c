/*
 * record.c: from SMTP session events to transaction records.
 *
 * Commands open and extend transactions as the client sends them; replies
 * settle them when they come, matched through the command's sequence
 * number (pipelining lets the client start the next transaction before
 * the last one is answered, so several can be in flight). A transaction
 * is handed to the sinks once the client has moved on (end of data, RSET,
 * QUIT, a new MAIL or EHLO, RFC 5321 §4.1.4) and every reply it waits for
 * has arrived, or when the connection ends. Each message goes through its
 * own MIME parser while it streams; the body is then dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/json.h"
#include "record.h"

#define SEQMAP		LIMIT_SMTP_PENDING

struct tx {
	uint32_t		 id;
	uint32_t		 seq;		/* of the command that began it */
	uint64_t		 ts;
	char			*helo;		/* the last accepted HELO/EHLO */
	char			*helo_sent;	/* a newer one, not answered yet */
	uint32_t		 helo_seq;	/* that one's command */
	bool			 has_mail;
	char			*mail_from;
	char			*mail_params;
	bool			 mail_bracketed;
	uint16_t		 mail_code;
	uint32_t		 mail_seq;
	struct record_rcpt	*rcpt;
	size_t			 nrcpt;
	size_t			 rcpt_cap;
	uint64_t		 rcpt_dropped;
	bool			 data_cmd;	/* DATA sent (maybe refused) */
	bool			 data_sent;	/* the message may flow */
	uint16_t		 data_code;	/* reply to DATA */
	bool			 data_end;	/* the client finished it */
	uint16_t		 final_code;	/* reply to the end of data */
	bool			 bdat;
	bool			 closed;	/* the client moved on */
	bool			 cut;		/* still open when time ran out */
	bool			 superseded;	/* a newer MAIL awaits its reply */
	bool			 gap;
	unsigned		 pending;	/* replies still to come */
	char			*last_reply;
	size_t			 last_reply_cap;
	uint64_t		 size;
	bool			 has_message;
	struct mime_parser	*mime;
	uint32_t		 events[SMTP_EV_MAX];
};

struct seqmap {
	uint32_t	seq;
	uint32_t	tx_id;		/* 0: none */
	int		rcpt;		/* index, or -1 */
};

struct record_session {
	struct record_conn	 conn;
	struct record_ops	 ops;
	void			*arg;
	struct smtp_session	*smtp;
	uint64_t		 now;

	char			*banner;
	char			*helo;
	char			*auth_mech;
	char			*auth_user;
	enum record_auth	 auth;
	unsigned		 auth_attempts;
	uint32_t		 ext;
	bool			 tls;
	uint64_t		 starttls_ts;
	char			*starttls_reply;
	char			*pending_helo;	/* HELO/EHLO sent, not answered */
	bool			 helo_wait;	/* pending_helo awaits its reply */
	uint32_t		 helo_seq;
	bool			 not_tls;	/* STARTTLS 220, then clear text */
	char			*last_reply_any;
	size_t			 last_reply_any_cap;
	unsigned		 msgs_answered;	/* end-of-data replies seen */
	struct mime_parser	*spare_mime;	/* reused by the next message */
	uint32_t		 alias_from;	/* a merged transaction's id */
	uint32_t		 alias_to;

	struct tx		*tx[LIMIT_RECORD_TX];	/* FIFO, oldest first */
	unsigned		 ntx;
	uint32_t		 next_tx_id;
	unsigned		 depth;
	struct seqmap		 map[SEQMAP];
	uint32_t		 loose_events[SMTP_EV_MAX];
	uint32_t		 all_events[SMTP_EV_MAX];	/* emitted ones */
};

/* ---- small helpers --------------------------------------------------------- */

/*
 * A NUL-terminated copy of at most LIMIT_SMTP_FIELD bytes; NUL bytes
 * (which a C string cannot hold) become U+FFFD. Other bytes are kept as
 * sent: storage and output decide how to show them.
 */
static char *
str_copy(struct span s)
{
	size_t n = s.len < LIMIT_SMTP_FIELD ? s.len : LIMIT_SMTP_FIELD;
	size_t i, o = 0, nul = 0;
	char *d;

	for (i = 0; i < n; i++)
		nul += s.p[i] == '\0';
	if ((d = mem_malloc(n + 2 * nul + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s.p[i] == '\0') {
			memcpy(d + o, "\xef\xbf\xbd", 3);
			o += 3;
		} else {
			d[o++] = (char)s.p[i];
		}
	}
	d[o] = '\0';
	return d;
}

static void
str_set(char **dst, struct span s)
{
	mem_free(*dst);
	*dst = str_copy(s);
}

/*
 * Overwrite a string kept in a reused buffer (*cap bytes): replies come
 * many times per transaction, their copies should not cost an allocation
 * each. NUL bytes become '?' here (reply text only).
 */
static void
str_keep(char **dst, size_t *cap, struct span s)
{
	size_t n = s.len < LIMIT_SMTP_FIELD ? s.len : LIMIT_SMTP_FIELD, i;
	char *d;

	if (*dst == NULL || *cap < n + 1) {
		if ((d = mem_realloc(*dst, n + 1)) == NULL)
			return;
		*dst = d;
		*cap = n + 1;
	}
	for (i = 0; i < n; i++)
		(*dst)[i] = s.p[i] != '\0' ? (char)s.p[i] : '?';
	(*dst)[n] = '\0';
}

static char *
str_dup(const char *s)
{
	return s != NULL ? mem_strdup(s) : NULL;
}

static struct tx *
tx_current(struct record_session *rs)
{
	return rs->ntx > 0 ? rs->tx[rs->ntx - 1] : NULL;
}

static struct tx *
tx_by_id(struct record_session *rs, uint32_t id)
{
	unsigned i;

	if (id != 0 && id == rs->alias_from)
		id = rs->alias_to;
	for (i = 0; i < rs->ntx; i++)
		if (rs->tx[i]->id == id)
			return rs->tx[i];
	return NULL;
}

static void
tx_free(struct tx *t)
{
	size_t i;

	if (t == NULL)
		return;
	mem_free(t->helo);
	mem_free(t->helo_sent);
	mem_free(t->mail_from);
	mem_free(t->mail_params);
	for (i = 0; i < t->nrcpt; i++)
		mem_free(t->rcpt[i].addr);
	mem_free(t->rcpt);
	mem_free(t->last_reply);
	mime_parser_free(t->mime);
	mem_free(t);
}

static void
map_put(struct record_session *rs, uint32_t seq, const struct tx *t, int rcpt)
{
	struct seqmap *m = &rs->map[seq % SEQMAP];

	m->seq = seq;
	m->tx_id = t != NULL ? t->id : 0;
	m->rcpt = rcpt;
}

static const struct seqmap *
map_get(const struct record_session *rs, uint32_t seq)
{
	const struct seqmap *m = &rs->map[seq % SEQMAP];

	return (m->seq == seq && m->tx_id != 0) ? m : NULL;
}

/*
 * A MIME parser for a new message: the session's spare one if it has
 * one (reset), else a new one. Messages of a session follow one another,
 * so one parser usually serves them all.
 */
static struct mime_parser *
mime_take(struct record_session *rs)
{
	struct mime_parser *mp = rs->spare_mime;

	if (mp == NULL)
		return mime_parser_new();
	rs->spare_mime = NULL;
	mime_parser_reset(mp);
	return mp;
}

/* A transaction is done with: keep its parser for the next message. */
static void
tx_release(struct record_session *rs, struct tx *t)
{
	if (t->mime != NULL && rs->spare_mime == NULL) {
		rs->spare_mime = t->mime;
		t->mime = NULL;
	}
	tx_free(t);
}

/* ---- status and emission ----------------------------------------------- */

static bool
is2xx(uint16_t c)
{
	return c >= 200 && c < 300;
}

static bool
any_rcpt_accepted(const struct tx *t)
{
	size_t i;

	for (i = 0; i < t->nrcpt; i++)
		if (is2xx(t->rcpt[i].code))
			return true;
	return false;
}

static bool
all_rcpt_refused(const struct tx *t)
{
	size_t i;

	if (t->nrcpt == 0)
		return false;
	for (i = 0; i < t->nrcpt; i++)
		if (t->rcpt[i].code == 0 || is2xx(t->rcpt[i].code))
			return false;
	return true;
}

/* DESIGN.md: what became of the transaction. */
static enum record_status
tx_status(const struct record_session *rs, const struct tx *t)
{
	if (t->gap || !smtp_session_server_seen(rs->smtp))
		return RECORD_INCOMPLETE;
	if (t->has_mail && t->mail_code != 0 && !is2xx(t->mail_code))
		return RECORD_REJECTED;
	if (t->final_code != 0)
		return is2xx(t->final_code) ? RECORD_ACCEPTED : RECORD_REJECTED;
	if (t->data_code != 0 && t->data_code != 354 && !t->data_end)
		return RECORD_REJECTED;
	if (all_rcpt_refused(t))
		return RECORD_REJECTED;
	/*
	 * The connection went quiet, was evicted, or the capture ended
	 * while the client was still in this transaction: what it would
	 * have done next is hidden (DESIGN.md), it did not abort.
	 */
	if (t->cut)
		return RECORD_INCOMPLETE;
	if (t->has_mail && is2xx(t->mail_code) && any_rcpt_accepted(t))
		return RECORD_ABORTED;
	if (t->pending > 0)
		return RECORD_INCOMPLETE;	/* answers never came */
	return RECORD_REJECTED;
}

static void
emit(struct record_session *rs, struct tx *t)
{
	struct record r;
	int i;

	memset(&r, 0, sizeof(r));
	r.conn = &rs->conn;
	r.ts = t->ts;
	r.trans_depth = ++rs->depth;
	r.banner = rs->banner;
	/* A HELO/EHLO whose reply never came: taken as sent. */
	r.helo = t->helo_sent != NULL ? t->helo_sent : t->helo;
	r.tls = rs->tls;
	r.auth_mech = rs->auth_mech;
	r.auth_user = rs->auth_user;
	r.auth = rs->auth;
	r.auth_attempts = rs->auth_attempts;
	r.ext = rs->ext;
	r.has_mail = t->has_mail;
	r.mail_from = t->mail_from;
	r.mail_bracketed = t->mail_bracketed;
	r.mail_params = t->mail_params;
	r.mail_code = t->mail_code;
	r.rcpt = t->rcpt;
	r.nrcpt = t->nrcpt;
	r.rcpt_dropped = t->rcpt_dropped;
	r.status = tx_status(rs, t);
	r.last_reply = t->last_reply;
	r.session_last_reply = rs->last_reply_any;
	r.zeek_depth = rs->msgs_answered + 1;
	r.has_message = t->has_message;
	r.size = t->size;
	/*
	 * A message sent before DATA was answered (before the greeting,
	 * say) and then refused was never received as one: no size.
	 */
	r.size_known = t->has_message && t->data_end && !t->gap &&
	    !(t->data_code != 0 && t->data_code != 354);
	r.bdat = t->bdat;
	if (t->mime != NULL) {
		mime_parser_finish(t->mime);
		r.mime = mime_parser_result(t->mime);
	}
	for (i = 0; i < SMTP_EV_MAX; i++) {
		r.events[i] = t->events[i];
		rs->all_events[i] += t->events[i];
	}
	/* Every record after a STARTTLS that led to no TLS says so. */
	if (rs->not_tls && r.events[SMTP_EV_STARTTLS_NOT_TLS] == 0)
		r.events[SMTP_EV_STARTTLS_NOT_TLS] = 1;
	rs->ops.on_record(rs->arg, &r);
}

/* Hand the oldest transaction over, settled or not, and forget it. */
static void
emit_oldest(struct record_session *rs)
{
	struct tx *t = rs->tx[0];

	emit(rs, t);
	if (t->final_code != 0)
		rs->msgs_answered++;
	tx_release(rs, t);
	memmove(rs->tx, rs->tx + 1, (rs->ntx - 1) * sizeof(rs->tx[0]));
	rs->ntx--;
}

/*
 * Hand over, in order, the transactions that are settled. One whose
 * replies are still to come waits for them even while the server has
 * said nothing yet: a client may send its whole conversation before the
 * greeting, and the replies come after it (RFC 5321 §3.1). Only the end
 * of the connection (all) or LIMIT_RECORD_TX settles one without them.
 */
static void
flush_ready(struct record_session *rs, bool all)
{
	struct tx *t;

	while (rs->ntx > 0) {
		t = rs->tx[0];
		if (!all && !(t->closed && !t->superseded && t->pending == 0))
			break;
		emit_oldest(rs);
	}
}

/* The client moved on from the current transaction. */
static void
close_current(struct record_session *rs)
{
	struct tx *t = tx_current(rs);

	if (t != NULL)
		t->closed = true;
	flush_ready(rs, false);
}

static struct tx *
tx_new(struct record_session *rs, const struct smtp_cmd *c)
{
	struct tx *t;

	if (rs->ntx == LIMIT_RECORD_TX) {
		/*
		 * More in flight than we hold (limits.h): the oldest is
		 * written as it stands, counted; the others keep waiting
		 * for their replies.
		 */
		rs->tx[0]->closed = true;
		rs->tx[0]->events[SMTP_EV_PENDING_OVERFLOW]++;
		emit_oldest(rs);
		flush_ready(rs, false);
	}
	if ((t = mem_calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->id = ++rs->next_tx_id;
	t->seq = c->seq;
	t->ts = c->ts;
	t->helo = str_dup(rs->helo);
	if (rs->helo_wait) {
		/* Pipelined after a HELO/EHLO: its reply settles the name. */
		t->helo_sent = str_dup(rs->pending_helo);
		t->helo_seq = rs->helo_seq;
	}
	/* Events seen between transactions go with the next one. */
	memcpy(t->events, rs->loose_events, sizeof(t->events));
	memset(rs->loose_events, 0, sizeof(rs->loose_events));
	rs->tx[rs->ntx++] = t;
	return t;
}

/* The open transaction the next envelope command belongs to, if any. */
static struct tx *
tx_open(struct record_session *rs)
{
	struct tx *t = tx_current(rs);

	return (t != NULL && !t->closed && !t->data_end) ? t : NULL;
}

static struct tx *
tx_for_envelope(struct record_session *rs, const struct smtp_cmd *c)
{
	struct tx *t = tx_open(rs);

	if (t != NULL)
		return t;
	rs->loose_events[SMTP_EV_OUT_OF_SEQUENCE]++;
	return tx_new(rs, c);
}

/* The transaction before t in flight, if any. */
static struct tx *
tx_before(struct record_session *rs, const struct tx *t)
{
	unsigned i;

	for (i = 1; i < rs->ntx; i++)
		if (rs->tx[i] == t)
			return rs->tx[i - 1];
	return NULL;
}

/*
 * A MAIL while a transaction is open: RFC 5321 §4.1.1.2 has the server
 * refuse it (503) and keep the open one, or a lenient server start anew.
 * Which one, only its reply says: the open one waits for it.
 */
static void
mail_while_open(struct record_session *rs)
{
	struct tx *t = tx_open(rs);

	if (t == NULL)
		return;
	if (smtp_session_server_seen(rs->smtp) && t->has_mail &&
	    (t->mail_code == 0 || is2xx(t->mail_code)) && !t->data_sent)
		t->superseded = true;
	else
		close_current(rs);
}

/* A refused nested MAIL: what followed it belongs to the open one. */
static void
merge_into(struct record_session *rs, struct tx *older, struct tx *newer)
{
	struct record_rcpt *nr;
	size_t i, base = older->nrcpt;
	unsigned k;

	/*
	 * Replies still to come for the newer one's commands now belong to
	 * the older: re-point them, recipients to their new index.
	 */
	for (k = 0; k < SEQMAP; k++) {
		struct seqmap *m = &rs->map[k];

		if (m->tx_id != newer->id)
			continue;
		m->tx_id = older->id;
		if (m->rcpt >= 0)
			m->rcpt = base + (size_t)m->rcpt < LIMIT_SMTP_RCPT ?
			    (int)(base + (size_t)m->rcpt) : -1;
	}
	for (i = 0; i < newer->nrcpt; i++) {
		if (older->nrcpt >= LIMIT_SMTP_RCPT) {
			/* The cap holds across merges too. */
			older->rcpt_dropped++;
			older->events[SMTP_EV_TOO_MANY_RECIPIENTS]++;
			continue;	/* freed with newer below */
		}
		if (older->nrcpt == older->rcpt_cap) {
			size_t ncap = older->rcpt_cap ? older->rcpt_cap * 2 : 4;

			if ((nr = mem_realloc(older->rcpt, ncap * sizeof(*nr))) ==
			    NULL)
				break;
			older->rcpt = nr;
			older->rcpt_cap = ncap;
		}
		older->rcpt[older->nrcpt++] = newer->rcpt[i];
		newer->rcpt[i].addr = NULL;
	}
	older->rcpt_dropped += newer->rcpt_dropped;
	older->pending += newer->pending;
	older->data_sent |= newer->data_sent;
	older->bdat |= newer->bdat;
	for (k = 0; k < SMTP_EV_MAX; k++)
		older->events[k] += newer->events[k];
	older->superseded = false;
	rs->alias_from = newer->id;
	rs->alias_to = older->id;
	for (k = 0; k < rs->ntx; k++)
		if (rs->tx[k] == newer)
			break;
	memmove(rs->tx + k, rs->tx + k + 1,
	    (rs->ntx - k - 1) * sizeof(rs->tx[0]));
	rs->ntx--;
	tx_free(newer);
}

/* ---- SMTP events ----------------------------------------------------------- */

static void
add_rcpt(struct record_session *rs, const struct smtp_cmd *c)
{
	struct record_rcpt *nr;
	struct tx *t;

	if ((t = tx_for_envelope(rs, c)) == NULL)
		return;
	if (!t->has_mail)
		t->events[SMTP_EV_OUT_OF_SEQUENCE]++;
	t->pending++;
	if (t->nrcpt >= LIMIT_SMTP_RCPT) {
		t->rcpt_dropped++;
		t->events[SMTP_EV_TOO_MANY_RECIPIENTS]++;
		map_put(rs, c->seq, t, -1);
		return;
	}
	if (t->nrcpt == t->rcpt_cap) {
		size_t ncap = t->rcpt_cap ? t->rcpt_cap * 2 : 4;

		if ((nr = mem_realloc(t->rcpt, ncap * sizeof(*nr))) == NULL) {
			t->pending--;
			return;
		}
		t->rcpt = nr;
		t->rcpt_cap = ncap;
	}
	memset(&t->rcpt[t->nrcpt], 0, sizeof(t->rcpt[0]));
	t->rcpt[t->nrcpt].addr = str_copy(c->path);
	t->rcpt[t->nrcpt].bracketed = c->path_bracketed;
	t->rcpt[t->nrcpt].seq = c->seq;
	map_put(rs, c->seq, t, (int)t->nrcpt);
	t->nrcpt++;
}

static void
on_cmd(void *arg, const struct smtp_cmd *c)
{
	struct record_session *rs = arg;
	struct tx *t;

	switch (c->id) {
	case SMTP_CMD_HELO:
	case SMTP_CMD_EHLO:
	case SMTP_CMD_LHLO:
		/*
		 * RFC 5321 §4.1.4: an accepted EHLO resets the transaction;
		 * a refused one changes nothing. So the name counts from
		 * its 2xx (on_reply), as the reset does. Until then it is
		 * pending; with no server to answer it, it is taken as sent
		 * (and the client has moved on from what was open).
		 */
		mem_free(rs->pending_helo);
		rs->pending_helo = str_copy(c->arg);
		rs->helo_wait = true;
		rs->helo_seq = c->seq;
		if (!smtp_session_server_seen(rs->smtp))
			close_current(rs);
		break;
	case SMTP_CMD_MAIL:
		mail_while_open(rs);
		if ((t = tx_new(rs, c)) == NULL)
			break;
		t->has_mail = true;
		t->mail_from = str_copy(c->path);
		t->mail_bracketed = c->path_bracketed;
		t->mail_params = str_copy(c->params);
		t->mail_seq = c->seq;
		t->pending++;
		map_put(rs, c->seq, t, -1);
		break;
	case SMTP_CMD_RCPT:
		add_rcpt(rs, c);
		break;
	case SMTP_CMD_DATA:
		/* Without an envelope too: a refused attempt is a record. */
		if ((t = tx_for_envelope(rs, c)) == NULL)
			break;
		if (t->nrcpt == 0)
			t->events[SMTP_EV_OUT_OF_SEQUENCE]++;
		t->data_cmd = true;
		if (!smtp_session_server_seen(rs->smtp))
			t->data_sent = true;	/* nobody to say 354 */
		t->pending++;
		map_put(rs, c->seq, t, -1);
		break;
	case SMTP_CMD_BDAT:
		if (!c->bdat_ok)
			break;		/* no chunk follows: nothing to record */
		if ((t = tx_for_envelope(rs, c)) == NULL)
			break;
		if (t->nrcpt == 0)
			t->events[SMTP_EV_OUT_OF_SEQUENCE]++;
		t->data_sent = true;
		t->bdat = true;
		t->pending++;
		map_put(rs, c->seq, t, -1);
		break;
	case SMTP_CMD_RSET:
	case SMTP_CMD_QUIT:
		close_current(rs);
		break;
	case SMTP_CMD_STARTTLS:
		rs->starttls_ts = c->ts;
		break;
	case SMTP_CMD_AUTH:
		str_set(&rs->auth_mech, c->auth_mech);
		rs->auth_attempts++;
		rs->auth = RECORD_AUTH_UNKNOWN;
		break;
	default:
		break;
	}
}

static void
set_last_reply(struct tx *t, const struct smtp_reply *r)
{
	str_keep(&t->last_reply, &t->last_reply_cap, r->line);
}

/* The oldest transaction whose end of data is still unanswered. */
static struct tx *
tx_awaiting_end(struct record_session *rs)
{
	unsigned i;

	for (i = 0; i < rs->ntx; i++)
		if (rs->tx[i]->data_end && rs->tx[i]->final_code == 0)
			return rs->tx[i];
	return NULL;
}

/*
 * The reply to a HELO/EHLO settles it (RFC 5321 §4.1.4): accepted (2xx),
 * its name holds from that command on and the transactions begun before
 * it are over; refused, nothing changes and the name before it stays.
 * No anomaly either way: a refusal is the server's answer, not a
 * protocol fault (Zeek and Suricata raise nothing; they keep the name
 * as sent).
 */
static void
helo_reply(struct record_session *rs, const struct smtp_cmd *c,
    const struct smtp_reply *r)
{
	bool ok = is2xx(r->code);
	unsigned i;
	struct tx *t;

	for (i = 0; i < rs->ntx; i++) {
		t = rs->tx[i];
		if (t->helo_sent == NULL || t->helo_seq != c->seq)
			continue;
		if (ok) {
			mem_free(t->helo);
			t->helo = t->helo_sent;
		} else {
			mem_free(t->helo_sent);
		}
		t->helo_sent = NULL;
	}
	if (c->seq == rs->helo_seq && rs->helo_wait) {
		rs->helo_wait = false;
		if (ok) {
			mem_free(rs->helo);
			rs->helo = rs->pending_helo;
			rs->pending_helo = NULL;
		}
	}
	if (!ok)
		return;
	if (c->id != SMTP_CMD_HELO)
		rs->ext = r->ext;
	/*
	 * Only what was begun before this command ends: MAIL, RCPT and DATA
	 * pipelined after an EHLO (RFC 2920 §3.1 says not to, clients do)
	 * belong to the transaction it opens.
	 */
	for (i = 0; i < rs->ntx; i++)
		if (rs->tx[i]->seq < c->seq)
			rs->tx[i]->closed = true;
	flush_ready(rs, false);
}

static void
mail_reply(struct record_session *rs, struct tx *t, uint16_t code)
{
	struct tx *older = tx_before(rs, t);

	t->mail_code = code;
	if (older == NULL || !older->superseded)
		return;
	if (code == 503) {
		/* "nested MAIL command": the open transaction goes on. */
		t->pending--;
		merge_into(rs, older, t);
	} else {
		older->superseded = false;
		older->closed = true;
	}
}

static void
on_reply(void *arg, const struct smtp_cmd *c, const struct smtp_reply *r)
{
	struct record_session *rs = arg;
	const struct seqmap *m = NULL;
	struct tx *t = NULL;
	struct record_rcpt *rc;

	str_keep(&rs->last_reply_any, &rs->last_reply_any_cap, r->line);
	if (c == NULL) {
		if (rs->banner == NULL)
			rs->banner = str_copy(r->first);
		return;
	}
	if ((m = map_get(rs, c->seq)) != NULL)
		t = tx_by_id(rs, m->tx_id);
	switch (c->id) {
	case SMTP_CMD_EHLO:
	case SMTP_CMD_LHLO:
	case SMTP_CMD_HELO:
		helo_reply(rs, c, r);
		break;
	case SMTP_CMD_AUTH:
		if (r->code == 334)
			break;
		if (r->code == 235) {
			rs->auth = RECORD_AUTH_SUCCESS;
		} else {
			rs->auth = RECORD_AUTH_FAILURE;
			if ((t = tx_open(rs)) != NULL)
				t->events[SMTP_EV_AUTH_FAILED]++;
			else
				rs->loose_events[SMTP_EV_AUTH_FAILED]++;
		}
		return;
	case SMTP_CMD_STARTTLS:
		if (r->code == 220)
			str_set(&rs->starttls_reply, r->line);
		break;
	case SMTP_CMD_MAIL:
		if (t != NULL) {
			set_last_reply(t, r);
			t->pending--;
			mail_reply(rs, t, r->code);
			t = NULL;
		}
		break;
	case SMTP_CMD_RCPT:
		if (t != NULL && m->rcpt >= 0 && (size_t)m->rcpt < t->nrcpt) {
			rc = &t->rcpt[m->rcpt];
			rc->code = r->code;
			if (r->enhanced.len > 0 &&
			    r->enhanced.len < sizeof(rc->enhanced)) {
				memcpy(rc->enhanced, r->enhanced.p,
				    r->enhanced.len);
				rc->enhanced[r->enhanced.len] = '\0';
			}
		}
		break;
	case SMTP_CMD_DATA:
		if (t != NULL) {
			t->data_code = r->code;
			/*
			 * Refused: a transaction stays open (RFC 5321 §3.3:
			 * more RCPT may follow); an attempt without MAIL or
			 * RCPT has nothing to continue.
			 */
			if (r->code == 354)
				t->data_sent = true;
			else if (!t->has_mail && t->nrcpt == 0)
				t->closed = true;
		}
		break;
	case SMTP_CMD_BDAT:
		if (t != NULL && c->bdat_last) {
			t->final_code = r->code;
			t->closed = true;
		}
		break;
	case SMTP_CMD_DATA_END:
		if ((t = tx_awaiting_end(rs)) != NULL) {
			t->final_code = r->code;
			t->closed = true;
			if (t->pending > 0)
				t->pending--;
			set_last_reply(t, r);
			t = NULL;
		}
		break;
	default:
		break;
	}
	if (t != NULL) {
		set_last_reply(t, r);
		if (t->pending > 0)
			t->pending--;
	}
	flush_ready(rs, false);
}

/* The transaction whose message is streaming now. */
static struct tx *
tx_in_data(struct record_session *rs)
{
	struct tx *t = tx_current(rs);

	return (t != NULL && !t->data_end && (t->data_sent || t->data_cmd)) ?
	    t : NULL;
}

static void
on_data(void *arg, const uint8_t *p, size_t n)
{
	struct record_session *rs = arg;
	struct tx *t = tx_in_data(rs);

	if (t == NULL) {
		rs->loose_events[SMTP_EV_OUT_OF_SEQUENCE]++;
		return;
	}
	if (!t->has_message) {
		t->has_message = true;
		t->mime = mime_take(rs);
	}
	t->size += n;
	if (t->mime != NULL)
		mime_parser_push(t->mime, p, n);
}

static void
on_data_end(void *arg)
{
	struct record_session *rs = arg;
	struct tx *t = tx_in_data(rs);

	if (t == NULL)
		return;
	if (!t->has_message) {
		t->has_message = true;	/* an empty message is a message */
		t->mime = mime_take(rs);
	}
	t->data_end = true;
	if (!t->bdat)
		t->pending++;	/* the reply to the end of data */
	if (!smtp_session_server_seen(rs->smtp))
		t->closed = true;
	flush_ready(rs, false);
}

static void
on_tls(void *arg)
{
	struct record_session *rs = arg;
	struct record r;
	unsigned i;

	/* What was open in clear text ends here. */
	for (i = 0; i < rs->ntx; i++)
		rs->tx[i]->closed = true;
	flush_ready(rs, true);
	rs->tls = true;
	/* One record says the session went encrypted (like Zeek's tls=T). */
	memset(&r, 0, sizeof(r));
	r.conn = &rs->conn;
	r.ts = rs->starttls_ts ? rs->starttls_ts : rs->now;
	r.trans_depth = ++rs->depth;
	r.banner = rs->banner;
	r.helo = rs->helo_wait ? rs->pending_helo : rs->helo;
	r.tls = true;
	r.auth_mech = rs->auth_mech;
	r.auth_user = rs->auth_user;
	r.auth = rs->auth;
	r.auth_attempts = rs->auth_attempts;
	r.ext = rs->ext;
	r.status = RECORD_TLS;
	r.last_reply = rs->starttls_reply;
	r.session_last_reply = rs->starttls_reply;
	r.zeek_depth = rs->msgs_answered + 1;
	memcpy(r.events, rs->loose_events, sizeof(r.events));
	for (i = 0; i < SMTP_EV_MAX; i++)
		rs->all_events[i] += rs->loose_events[i];
	memset(rs->loose_events, 0, sizeof(rs->loose_events));
	rs->ops.on_record(rs->arg, &r);
}

static void
on_gap(void *arg, enum smtp_dir dir, uint64_t len)
{
	struct record_session *rs = arg;
	struct tx *t = tx_current(rs);
	unsigned i;

	for (i = 0; i < rs->ntx; i++)
		if (!rs->tx[i]->closed || rs->tx[i]->pending > 0)
			rs->tx[i]->gap = true;
	if (dir == SMTP_C2S && (t = tx_in_data(rs)) != NULL) {
		t->size += len;
		if (t->mime != NULL)
			mime_parser_gap(t->mime, len);
	}
}

static void
on_event(void *arg, enum smtp_event ev, enum smtp_dir dir)
{
	struct record_session *rs = arg;
	struct tx *t = tx_current(rs);

	(void)dir;
	if (ev == SMTP_EV_STARTTLS_NOT_TLS)
		rs->not_tls = true;
	if (t != NULL && !(t->closed && t->pending == 0))
		t->events[ev]++;
	else
		rs->loose_events[ev]++;
}

static void
on_auth_user(void *arg, struct span user)
{
	struct record_session *rs = arg;

	str_set(&rs->auth_user, user);
}

static const struct smtp_ops record_smtp_ops = {
	on_cmd, on_reply, on_data, on_data_end, on_tls, on_gap, on_event, NULL,
};

/* ---- the session ----------------------------------------------------------- */

/*
 * A record session for one connection; conn is copied. Records go to
 * ops->on_record as they finish. NULL on ENOMEM.
 */
struct record_session *
record_session_new(const struct record_conn *conn,
    const struct record_config *cfg, const struct record_ops *ops, void *arg)
{
	struct record_session *rs;
	struct smtp_ops sops = record_smtp_ops;

	if ((rs = mem_calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	rs->conn = *conn;
	rs->ops = *ops;
	rs->arg = arg;
	if (cfg != NULL && cfg->auth_user)
		sops.on_auth_user = on_auth_user;
	if ((rs->smtp = smtp_session_new(&sops, rs)) == NULL) {
		mem_free(rs);
		return NULL;
	}
	return rs;
}

void
record_session_feed(struct record_session *rs, enum smtp_dir dir,
    const uint8_t *p, size_t n, uint64_t ts)
{
	rs->now = ts;
	smtp_session_set_time(rs->smtp, ts);
	smtp_session_feed(rs->smtp, dir, p, n);
}

void
record_session_gap(struct record_session *rs, enum smtp_dir dir,
    uint64_t len)
{
	smtp_session_gap(rs->smtp, dir, len);
}

/*
 * The connection ended (timed_out: by the idle timeout, an eviction or
 * the end of the capture, which hide outcomes). Every open transaction
 * is settled and handed over.
 */
void
record_session_end(struct record_session *rs, bool timed_out)
{
	unsigned i;

	smtp_session_end(rs->smtp);
	for (i = 0; i < rs->ntx; i++) {
		rs->tx[i]->cut = timed_out && !rs->tx[i]->closed;
		rs->tx[i]->closed = true;
		rs->tx[i]->superseded = false;
	}
	flush_ready(rs, true);
}

void
record_session_free(struct record_session *rs)
{
	unsigned i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->ntx; i++)
		tx_free(rs->tx[i]);
	smtp_session_free(rs->smtp);
	mime_parser_free(rs->spare_mime);
	mem_free(rs->banner);
	mem_free(rs->helo);
	mem_free(rs->auth_mech);
	mem_free(rs->auth_user);
	mem_free(rs->starttls_reply);
	mem_free(rs->pending_helo);
	mem_free(rs->last_reply_any);
	mem_free(rs);
}

void
record_session_get_info(const struct record_session *rs,
    struct record_session_info *info)
{
	int i;

	unsigned k;

	info->banner = rs->banner;
	/* As in the records: a HELO/EHLO never answered, as sent. */
	info->helo = rs->helo_wait ? rs->pending_helo : rs->helo;
	info->ext = rs->ext;
	info->tls = rs->tls;
	info->auth_mech = rs->auth_mech;
	info->auth = rs->auth;
	info->transactions = rs->depth;
	/*
	 * Every event of the session: those of the records handed over,
	 * those of transactions still in flight, and those that belong to
	 * no transaction (a session that carried none has only these).
	 */
	for (i = 0; i < SMTP_EV_MAX; i++)
		info->events[i] = rs->all_events[i] + rs->loose_events[i];
	for (k = 0; k < rs->ntx; k++)
		for (i = 0; i < SMTP_EV_MAX; i++)
			info->events[i] += rs->tx[k]->events[i];
}

bool
record_session_is_over(const struct record_session *rs)
{
	return smtp_session_is_over(rs->smtp);
}

/* Transactions begun and not yet handed over: mail in flight. */
bool
record_session_has_mail(const struct record_session *rs)
{
	return rs->ntx > 0;
}

unsigned
record_session_count(const struct record_session *rs)
{
	return rs->depth;
}

const char *
record_status_name(enum record_status s)
{
	switch (s) {
	case RECORD_ACCEPTED:	return "accepted";
	case RECORD_REJECTED:	return "rejected";
	case RECORD_ABORTED:	return "aborted";
	case RECORD_TLS:	return "tls";
	case RECORD_INCOMPLETE:	return "incomplete";
	}
	return "unknown";
}

const char *
record_auth_name(enum record_auth a)
{
	switch (a) {
	case RECORD_AUTH_NONE:		return "none";
	case RECORD_AUTH_SUCCESS:	return "success";
	case RECORD_AUTH_FAILURE:	return "failure";
	case RECORD_AUTH_UNKNOWN:	return "unknown";
	}
	return "unknown";
}

/*
 * The anomaly names as a JSON array: the SMTP events seen, then the MIME
 * parser's with a "mime_" prefix (some names exist in both layers).
 * Shared by the JSON records and the databases' anomalies columns.
 */
int
record_anomalies_json(struct dbuf *b, const uint32_t *events,
    const struct mime_result *m)
{
	int i, n = 0;

	dbuf_addc(b, '[');
	for (i = 0; i < SMTP_EV_MAX; i++) {
		if (events[i] == 0)
			continue;
		if (n++ > 0)
			dbuf_addc(b, ',');
		json_cstr(b, smtp_event_name((enum smtp_event)i));
	}
	for (i = 0; m != NULL && i < MIME_EV_MAX; i++) {
		if (m->events[i] == 0)
			continue;
		if (n++ > 0)
			dbuf_addc(b, ',');
		dbuf_addlit(b, "\"mime_");
		dbuf_adds(b, mime_event_name((enum mime_event)i));
		dbuf_addc(b, '"');
	}
	return dbuf_addc(b, ']');
}

void
record_addrs_json(struct dbuf *b, const struct mime_addr_list *l)
{
	size_t i, n = 0;

	dbuf_addc(b, '[');
	for (i = 0; l != NULL && i < l->n; i++) {
		if (l->v[i].addr == NULL)
			continue;
		if (n++ > 0)
			dbuf_addc(b, ',');
		json_cstr(b, l->v[i].addr);
	}
	dbuf_addc(b, ']');
}

void
record_strs_json(struct dbuf *b, const struct mime_str_list *l)
{
	size_t i;

	dbuf_addc(b, '[');
	for (i = 0; l != NULL && i < l->n; i++) {
		if (i > 0)
			dbuf_addc(b, ',');
		json_cstr(b, l->v[i]);
	}
	dbuf_addc(b, ']');
}
