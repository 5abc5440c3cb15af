/*
 * smtp_session.c: framing and reply matching for one SMTP connection.
 *
 * The client direction is in one of five modes: command lines, waiting
 * for the reply to DATA (a conforming client sends nothing then, RFC 2920
 * §3.1; bytes that come anyway are held), the message (dot-unstuffed, up
 * to CRLF "." CRLF, RFC 5321 §4.5.2), a BDAT chunk (RFC 3030: counted
 * bytes, no unstuffing), or TLS (nothing parsed once the client's bytes
 * after STARTTLS's 220 are a TLS record, RFC 3207 §4; bytes that are not
 * go on as clear text). The server direction is reply lines. Every
 * command goes into a queue of pending commands; each final reply
 * answers the oldest (RFC 2920 §3.2: replies come in command order),
 * which is what makes PIPELINING work whatever the packet interleaving,
 * except the greeting, which answers the connection (RFC 5321 §3.1) even
 * when the client spoke first.
 *
 * It never stores or reports AUTH continuation lines (RFC 4954 §4): they
 * are skipped up to their LF without being copied.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/ascii.h"
#include "common/base64.h"
#include "common/cur.h"
#include "common/dbuf.h"
#include "common/limits.h"
#include "smtp_int.h"

enum cmode {
	CM_CMD,
	CM_WAIT_DATA,
	CM_DATA,
	CM_BDAT,
	CM_TLS,
};

/* Where the message scanner is, relative to the start of a line. */
enum dstate {
	DS_BOL,		/* at the start of a line */
	DS_MID,		/* inside a line */
	DS_DOT,		/* a '.' at the start of a line */
	DS_DOT_CR,	/* ".\r" at the start of a line */
};

/* AUTH mechanisms whose first response carries the user name. */
enum auth_kind {
	AUTH_OTHER,
	AUTH_PLAIN,		/* RFC 4616: authzid NUL authcid NUL passwd */
	AUTH_LOGIN,		/* draft-murchison-sasl-login: user, then pass */
	AUTH_CRAM_MD5,		/* RFC 2195: "user" SP digest */
};

struct pending {
	uint64_t	 ts;
	uint32_t	 seq;
	uint8_t		 id;		/* enum smtp_cmd_id */
	bool		 bdat_last;
};

struct reply_acc {
	bool		 open;
	bool		 mismatch;
	uint16_t	 code;
	unsigned	 nlines;
	uint32_t	 ext;
	uint8_t		 mechs[LIMIT_SMTP_AUTH_MECHS];
	size_t		 mechs_len;
};

struct smtp_session {
	struct smtp_ops	 ops;
	void		*arg;
	uint64_t	 now;

	struct dbuf	 carry[2];	/* a line split across feeds */
	bool		 discard[2];	/* skipping an overlong line's rest */
	bool		 lastcr[2];	/* the line so far ends with CR */
	bool		 resync[2];	/* after a gap: check the next line */
	bool		 seen[2];
	bool		 tls;
	enum cmode	 cmode;

	enum dstate	 ds;
	bool		 bol_crlf;	/* that line start followed CRLF */
	uint8_t		 last[2];	/* the last two message bytes seen */

	uint64_t	 chunk_left;
	bool		 chunk_last;
	bool		 after_chunk;

	struct dbuf	 hold;		/* client bytes while WAIT_DATA */

	struct pending	*q;		/* ring, grown up to LIMIT_SMTP_PENDING */
	unsigned	 qcap;
	unsigned	 qhead;
	unsigned	 qlen;
	uint32_t	 next_seq;
	bool		 any_cmd;
	bool		 client_first;	/* a command came before any server byte */
	bool		 greeted;
	bool		 auth_cont;	/* next client line answers a 334 */
	bool		 auth_guess;	/* AUTH unanswered: odd lines answer it */
	uint8_t		 auth_kind;	/* enum auth_kind, for the user name */
	uint8_t		 auth_resp;	/* client responses seen for this AUTH */
	/* The first response, when the user name is wanted. */
	uint8_t		 auth_line[LIMIT_SMTP_AUTH_RESPONSE];
	size_t		 auth_len;	/* SIZE_MAX: too long, not kept */
	bool		 starttls_sent;
	bool		 starttls_ev;
	bool		 tls_wait;	/* STARTTLS got 220: is TLS next? */
	uint8_t		 probe[5];	/* client bytes that may begin TLS */
	size_t		 nprobe;
	bool		 no_probe;	/* re-feeding bytes found not TLS */
	struct dbuf	 shold;		/* server bytes while tls_wait */
	bool		 s2c_desync;	/* replies lost in a gap */
	bool		 closed;	/* QUIT answered: the session is over */

	struct reply_acc r;
	struct dbuf	 rfirst;	/* the first line of the reply */
	struct dbuf	 rlast;		/* the last reply line */
	uint32_t	 ext;
	bool		 ext_known;
};

static void	feed_c2s(struct smtp_session *, const uint8_t *, size_t);
static void	server_feed(struct smtp_session *, const uint8_t *, size_t);

static void
event(struct smtp_session *s, enum smtp_event ev, enum smtp_dir dir)
{
	if (s->ops.on_event != NULL)
		s->ops.on_event(s->arg, ev, dir);
}

/*
 * A session parser reporting to ops/arg. Returns NULL on ENOMEM.
 * Memory: the struct (about 4 KiB) plus line buffers capped at
 * LIMIT_SMTP_LINE per direction and LIMIT_SMTP_HOLD.
 */
struct smtp_session *
smtp_session_new(const struct smtp_ops *ops, void *arg)
{
	struct smtp_session *s;

	if ((s = mem_calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->ops = *ops;
	s->arg = arg;
	dbuf_init_counted(&s->carry[0], LIMIT_SMTP_LINE);
	dbuf_init_counted(&s->carry[1], LIMIT_SMTP_LINE);
	dbuf_init_counted(&s->hold, LIMIT_SMTP_HOLD);
	dbuf_init_counted(&s->rfirst, LIMIT_SMTP_LINE);
	dbuf_init_counted(&s->rlast, LIMIT_SMTP_LINE);
	dbuf_init_counted(&s->shold, LIMIT_SMTP_TLS_HOLD);
	s->cmode = CM_CMD;
	return s;
}

void
smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	dbuf_fini(&s->carry[0]);
	dbuf_fini(&s->carry[1]);
	dbuf_fini(&s->hold);
	dbuf_fini(&s->rfirst);
	dbuf_fini(&s->rlast);
	dbuf_fini(&s->shold);
	mem_free(s->q);
	mem_free(s);
}

void
smtp_session_set_time(struct smtp_session *s, uint64_t ts)
{
	s->now = ts;
}

bool
smtp_session_is_tls(const struct smtp_session *s)
{
	return s->tls;
}

/* QUIT was answered 221, or the session went TLS: nothing more to parse. */
bool
smtp_session_is_over(const struct smtp_session *s)
{
	return s->closed || s->tls;
}

bool
smtp_session_server_seen(const struct smtp_session *s)
{
	return s->seen[SMTP_S2C];
}

uint32_t
smtp_session_ext(const struct smtp_session *s)
{
	return s->ext;
}

/* ---- the queue of commands waiting for their reply --------------------- */

/* Make room for one more pending command; false at the cap. */
static bool
q_grow(struct smtp_session *s)
{
	struct pending *nq;
	unsigned ncap, i;

	if (s->qlen < s->qcap)
		return true;
	if (s->qcap == LIMIT_SMTP_PENDING)
		return false;
	ncap = s->qcap ? s->qcap * 2 : 8;
	if (ncap > LIMIT_SMTP_PENDING)
		ncap = LIMIT_SMTP_PENDING;
	if ((nq = mem_malloc(ncap * sizeof(*nq))) == NULL)
		return false;
	for (i = 0; i < s->qlen; i++)
		nq[i] = s->q[(s->qhead + i) % s->qcap];
	mem_free(s->q);
	s->q = nq;
	s->qcap = ncap;
	s->qhead = 0;
	return true;
}

static void
q_push(struct smtp_session *s, enum smtp_cmd_id id, bool bdat_last,
    uint32_t seq)
{
	struct pending *p;

	if (!q_grow(s)) {
		if (s->qcap == 0)
			return;		/* no memory at all: not matched */
		/* Without a server direction, nothing ever answers. */
		if (s->seen[SMTP_S2C])
			event(s, SMTP_EV_PENDING_OVERFLOW, SMTP_C2S);
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qlen--;
	}
	p = &s->q[(s->qhead + s->qlen) % s->qcap];
	p->id = (uint8_t)id;
	p->bdat_last = bdat_last;
	p->seq = seq;
	p->ts = s->now;
	s->qlen++;
}

static void
q_pop(struct smtp_session *s)
{
	s->qhead = (s->qhead + 1) % s->qcap;
	s->qlen--;
}

static void
go_tls(struct smtp_session *s)
{
	s->tls = true;
	s->tls_wait = false;
	s->cmode = CM_TLS;
	dbuf_fini(&s->shold);
	if (s->ops.on_tls != NULL)
		s->ops.on_tls(s->arg);
}

/* ---- is it TLS? ------------------------------------------------------------ */

enum tls_verdict {
	TLS_NO,
	TLS_YES,
	TLS_MORE,	/* so far so good: more bytes needed */
};

/*
 * Do these bytes begin a TLS connection? Five bytes decide; fewer that
 * fit so far give TLS_MORE. Accepted:
 * - a TLS record header (RFC 8446 §5.1, RFC 5246 §6.2.1, RFC 6101 §5.2.1
 *   for SSL 3.0): content type 20-23 (change_cipher_spec, alert,
 *   handshake, application_data), version major 3 and minor 0-4, and a
 *   length of 1 to 2^14 + 2048 (RFC 5246 §6.2.3, the largest ciphertext);
 * - an SSL 2.0-compatible ClientHello (RFC 5246 Appendix E.2): a two-byte
 *   header with the high bit set and a length of at least 9, message type
 *   1, version 0.2 (SSL 2.0) or 3.0-3.4.
 * No SMTP command line can start so: a command begins with a letter.
 */
static enum tls_verdict
tls_probe(const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n < 5 ? n : 5);
	uint8_t b0, b1, b2, b3, b4;

	if (c.len == 0)
		return TLS_MORE;
	b0 = cur_u8(&c);
	if (b0 >= 20 && b0 <= 23) {
		if (c.len == 0)
			return TLS_MORE;
		if ((b1 = cur_u8(&c)) != 3)
			return TLS_NO;
		if (c.len == 0)
			return TLS_MORE;
		if ((b2 = cur_u8(&c)) > 4)
			return TLS_NO;
		if (c.len == 0)
			return TLS_MORE;
		if ((b3 = cur_u8(&c)) > ((16384 + 2048) >> 8))
			return TLS_NO;
		if (c.len == 0)
			return TLS_MORE;
		b4 = cur_u8(&c);
		return (b3 << 8 | b4) >= 1 && (b3 << 8 | b4) <= 16384 + 2048 ?
		    TLS_YES : TLS_NO;
	}
	if (b0 & 0x80) {
		if (c.len == 0)
			return TLS_MORE;
		b1 = cur_u8(&c);
		if (((b0 & 0x7f) << 8 | b1) < 9)
			return TLS_NO;
		if (c.len == 0)
			return TLS_MORE;
		if ((b2 = cur_u8(&c)) != 1)
			return TLS_NO;
		if (c.len == 0)
			return TLS_MORE;
		if ((b3 = cur_u8(&c)) != 0 && b3 != 3)
			return TLS_NO;
		if (c.len == 0)
			return TLS_MORE;
		b4 = cur_u8(&c);
		return (b3 == 0 && b4 == 2) || (b3 == 3 && b4 <= 4) ?
		    TLS_YES : TLS_NO;
	}
	return TLS_NO;
}

/*
 * STARTTLS got its 220 and the client's next bytes are no TLS record:
 * the session goes on in clear text (RFC 3207 §4 has the client start
 * the handshake at once; two colluding ends, or a capture decrypted and
 * written back, do not). Reported, and the server bytes held meanwhile
 * are parsed now, in the order they came.
 */
static void
not_tls(struct smtp_session *s)
{
	struct dbuf h = s->shold;

	s->tls_wait = false;
	s->starttls_sent = false;
	event(s, SMTP_EV_STARTTLS_NOT_TLS, SMTP_C2S);
	dbuf_init_counted(&s->shold, LIMIT_SMTP_TLS_HOLD);
	if (h.len > 0)
		server_feed(s, h.p, h.len);
	dbuf_fini(&h);
}

/*
 * Server bytes while it is not known whether TLS follows STARTTLS: held.
 * A TLS server sends nothing before the ClientHello, but a capture can
 * order the two directions slightly wrong. Past the cap, the server's
 * own bytes decide.
 */
static void
tls_hold_server(struct smtp_session *s, const uint8_t *p, size_t n)
{
	if (s->shold.len + n <= LIMIT_SMTP_TLS_HOLD &&
	    dbuf_add(&s->shold, p, n) == 0)
		return;
	if (s->shold.len > 0 ? tls_probe(s->shold.p, s->shold.len) == TLS_YES :
	    tls_probe(p, n) == TLS_YES) {
		go_tls(s);
		return;
	}
	not_tls(s);
	server_feed(s, p, n);
}

/* ---- the message: DATA and BDAT ----------------------------------------- */

static void
start_data(struct smtp_session *s)
{
	s->cmode = CM_DATA;
	s->ds = DS_BOL;
	s->bol_crlf = true;
	/* The DATA line's CRLF: a dot first thing starts a line. */
	s->last[0] = '\r';
	s->last[1] = '\n';
}

static void
emit(struct smtp_session *s, const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);

	if (n == 0)
		return;
	if (n >= 2) {
		s->last[0] = (uint8_t)cur_peek_at(&c, n - 2);
		s->last[1] = (uint8_t)cur_peek_at(&c, n - 1);
	} else {
		s->last[0] = s->last[1];
		s->last[1] = (uint8_t)cur_peek(&c);
	}
	s->ops.on_data(s->arg, p, n);
}

static void
end_data(struct smtp_session *s)
{
	s->cmode = CM_CMD;
	q_push(s, SMTP_CMD_DATA_END, false, s->next_seq++);
	if (s->ops.on_data_end != NULL)
		s->ops.on_data_end(s->arg);
}

/*
 * Scan message bytes: drop the stuffed dot at line starts (RFC 5321
 * §4.5.2) and stop after CRLF "." CRLF. Other end-of-data shapes with a
 * bare LF (<LF>.<CR><LF>, <LF>.<LF>, <CR><LF>.<LF>) do not end the message
 * (RFC 5321 §2.3.8 allows only CRLF) and are the SMTP smuggling signature:
 * reported. Only dots matter, so the scan jumps from one '.' to the next
 * (memchr) and looks back to see whether it starts a line; the bytes in
 * between go up untouched. Returns the bytes consumed.
 */
static size_t
data_feed(struct smtp_session *s, const uint8_t *p, size_t n)
{
	struct cur w = cur_make(p, n), r;
	size_t i = 0, start = 0, j, k;
	uint8_t b1, b2;
	int b;

	while (i < n) {
		switch (s->ds) {
		case DS_MID:
		case DS_BOL:
			r = w;
			(void)cur_skip(&r, i);
			if ((k = cur_find(&r, '.')) == r.len) {
				emit(s, p + start, n - start);
				s->ds = DS_MID;
				return n;
			}
			j = i + k;
			/* The two bytes before the dot, from here or before. */
			b1 = j >= 1 ? (uint8_t)cur_peek_at(&w, j - 1) :
			    s->last[1];
			b2 = j >= 2 ? (uint8_t)cur_peek_at(&w, j - 2) :
			    (j == 1 ? s->last[1] : s->last[0]);
			if (b1 != '\n') {
				i = j + 1;	/* a dot inside a line */
				break;
			}
			emit(s, p + start, j - start);
			s->bol_crlf = b2 == '\r';
			s->last[0] = b1;	/* seen, if not passed on */
			s->last[1] = '.';
			s->ds = DS_DOT;
			i = j + 1;
			start = i;
			break;
		case DS_DOT:
			b = cur_peek_at(&w, i);
			if (b == '\r') {
				s->ds = DS_DOT_CR;
				s->last[0] = '.';
				s->last[1] = '\r';
				i++;
				start = i;
			} else if (b == '\n') {
				/* ".<LF>": a line of "." ended by a bare LF. */
				event(s, SMTP_EV_SMUGGLING_DOT, SMTP_C2S);
				s->ds = DS_MID;	/* the stuffed dot is dropped */
			} else {
				s->ds = DS_MID;	/* a stuffed dot: dropped */
			}
			break;
		case DS_DOT_CR:
			b = cur_peek_at(&w, i);
			if (b == '\n' && s->bol_crlf) {
				end_data(s);
				return i + 1;
			}
			if (b == '\n')
				event(s, SMTP_EV_SMUGGLING_DOT, SMTP_C2S);
			emit(s, (const uint8_t *)"\r", 1);
			s->ds = DS_MID;
			break;
		}
	}
	emit(s, p + start, n - start);
	return n;
}

static void
finish_chunk(struct smtp_session *s)
{
	s->cmode = CM_CMD;
	s->after_chunk = true;
	if (s->chunk_last && s->ops.on_data_end != NULL)
		s->ops.on_data_end(s->arg);
}

static size_t
bdat_feed(struct smtp_session *s, const uint8_t *p, size_t n)
{
	size_t k = n < s->chunk_left ? n : (size_t)s->chunk_left;

	if (k > 0)
		s->ops.on_data(s->arg, p, k);
	s->chunk_left -= k;
	if (s->chunk_left == 0)
		finish_chunk(s);
	return k;
}

/* Feed the bytes held while waiting for the reply to DATA. */
static void
replay_hold(struct smtp_session *s)
{
	struct dbuf h = s->hold;

	dbuf_init_counted(&s->hold, LIMIT_SMTP_HOLD);
	if (h.len > 0)
		feed_c2s(s, h.p, h.len);
	dbuf_fini(&h);
}

static void
hold_feed(struct smtp_session *s, const uint8_t *p, size_t n)
{
	if (s->hold.len + n <= LIMIT_SMTP_HOLD &&
	    dbuf_add(&s->hold, p, n) == 0)
		return;
	/* No reply in sight: the client is sending its message anyway. */
	event(s, SMTP_EV_DATA_WITHOUT_WAIT, SMTP_C2S);
	start_data(s);
	replay_hold(s);
	feed_c2s(s, p, n);
}

/* ---- command lines -------------------------------------------------------- */

static bool
has_nul(struct span l)
{
	struct cur c = cur_make(l.p, l.len);

	return cur_find(&c, '\0') < l.len;
}

static enum auth_kind
auth_kind_of(struct span mech)
{
	if (mech.len == 5 && ascii_casecmp(mech.p, (const uint8_t *)"PLAIN",
	    5) == 0)
		return AUTH_PLAIN;
	if (mech.len == 5 && ascii_casecmp(mech.p, (const uint8_t *)"LOGIN",
	    5) == 0)
		return AUTH_LOGIN;
	if (mech.len == 8 && ascii_casecmp(mech.p,
	    (const uint8_t *)"CRAM-MD5", 8) == 0)
		return AUTH_CRAM_MD5;
	return AUTH_OTHER;
}

/*
 * A client response of the AUTH exchange. Only the first one of PLAIN,
 * LOGIN and CRAM-MD5 names the user, and only when asked is it decoded:
 * into a local buffer wiped before returning, so that the password PLAIN
 * carries along with the name goes nowhere.
 */
static void
auth_response(struct smtp_session *s, struct span b64)
{
	uint8_t buf[LIMIT_SMTP_AUTH_RESPONSE];
	struct span user = { buf, 0 };
	struct cur c;
	size_t k;
	int n;

	if (s->ops.on_auth_user == NULL || s->auth_resp++ != 0 ||
	    s->auth_kind == AUTH_OTHER)
		return;
	if (b64.len > sizeof(buf)) {
		event(s, SMTP_EV_AUTH_RESPONSE_TOO_LONG, SMTP_C2S);
		return;
	}
	if ((n = base64_decode(b64.p, b64.len, buf, sizeof(buf))) <= 0)
		goto done;
	c = cur_make(buf, (size_t)n);
	switch (s->auth_kind) {
	case AUTH_PLAIN:
		/* authzid NUL authcid NUL passwd: the authcid. */
		if ((k = cur_find(&c, '\0')) == c.len)
			goto done;
		(void)cur_skip(&c, k + 1);
		if ((k = cur_find(&c, '\0')) == c.len)
			goto done;
		(void)cur_take(&c, k, &user);
		break;
	case AUTH_CRAM_MD5:
		(void)cur_take(&c, cur_find(&c, ' '), &user);
		break;
	default:
		user = cur_rest(&c);
		break;
	}
	if (user.len > 0)
		s->ops.on_auth_user(s->arg, user);
done:
	explicit_bzero(buf, sizeof(buf));
}

/* A command line, its CR already stripped (crlf: it had one). */
static void
client_line(struct smtp_session *s, struct span line, bool crlf)
{
	struct smtp_cmd c;

	if (!crlf)
		event(s, SMTP_EV_BARE_LF, SMTP_C2S);
	if (has_nul(line))
		event(s, SMTP_EV_NUL_BYTE, SMTP_C2S);
	if (s->auth_guess) {
		/*
		 * AUTH sent and no reply seen (one-sided capture, or replies
		 * lost): lines that are no command answer a challenge we
		 * missed. Never reported, never kept.
		 */
		if (!smtp_cmd_is_known(line)) {
			auth_response(s, line);
			return;
		}
		s->auth_guess = false;
	}
	smtp_cmd_parse(line, &c);
	c.ts = s->now;
	c.seq = s->next_seq;
	c.pipelined = s->qlen > 0;
	if (s->after_chunk) {
		s->after_chunk = false;
		if (c.id == SMTP_CMD_UNKNOWN)
			event(s, SMTP_EV_BDAT_SIZE_MISMATCH, SMTP_C2S);
	}
	if (c.id == SMTP_CMD_UNKNOWN)
		event(s, SMTP_EV_UNKNOWN_COMMAND, SMTP_C2S);
	if (c.pipelined && s->ext_known && !(s->ext & SMTP_EXT_PIPELINING) &&
	    s->seen[SMTP_S2C])
		event(s, SMTP_EV_PIPELINING_WITHOUT_EXT, SMTP_C2S);
	s->any_cmd = true;
	if (s->ops.on_cmd != NULL)
		s->ops.on_cmd(s->arg, &c);
	q_push(s, c.id, c.bdat_last, s->next_seq++);
	switch (c.id) {
	case SMTP_CMD_DATA:
		if (s->seen[SMTP_S2C])
			s->cmode = CM_WAIT_DATA;
		else
			start_data(s);
		break;
	case SMTP_CMD_BDAT:
		if (!c.bdat_ok) {
			/* The client will not send a chunk it cannot size. */
			event(s, SMTP_EV_INVALID_BDAT, SMTP_C2S);
			break;
		}
		s->cmode = CM_BDAT;
		s->chunk_left = c.bdat_size;
		s->chunk_last = c.bdat_last;
		if (s->chunk_left == 0)
			finish_chunk(s);
		break;
	case SMTP_CMD_STARTTLS:
		s->starttls_sent = true;
		break;
	case SMTP_CMD_AUTH:
		s->auth_guess = true;
		s->auth_kind = (uint8_t)auth_kind_of(c.auth_mech);
		s->auth_resp = 0;
		s->auth_len = 0;
		if (c.arg.len > c.auth_mech.len + 1) {
			/* RFC 4954 §4: an initial response after the name. */
			struct cur a = cur_make(c.arg.p, c.arg.len);
			struct span ir;

			(void)cur_skip(&a, c.auth_mech.len + 1);
			ir = cur_rest(&a);

			if (!(ir.len == 1 && span_last(ir) == '='))
				auth_response(s, ir);
			else
				s->auth_resp++;
		}
		break;
	default:
		break;
	}
}

/*
 * The first reply of the session while commands are waiting: is it the
 * greeting? RFC 5321 §3.1, §4.3.2: the server speaks first, with 220 (or
 * 554, refusing service; 421 may come at any time, §3.8), and answers no
 * command with it. A client that talks before the greeting (the crude
 * engines of worms and spam bots do, and Postfix's postscreen pregreet
 * test looks for them) has its commands read after the greeting and
 * answered in order. This holds when the client's commands came before
 * the server's first byte. When the server had begun its line before
 * the command and ends it after, the line is the command's answer: a
 * greeting left without its CRLF runs into the answer that follows
 * (suricata-verify's bug-6053 captures), and one reply line is all the
 * two left. A capture picked up mid-session has no greeting: its first
 * reply answers the oldest command. A 220 that may answer a STARTTLS is
 * taken for that answer.
 */
static bool
is_greeting(const struct smtp_session *s, const struct smtp_reply *rep)
{
	if (!s->client_first)
		return false;
	if (rep->code == 220)
		return s->q[s->qhead].id != SMTP_CMD_STARTTLS;
	return rep->code == 554 || rep->code == 421;
}

static void
dispatch_reply(struct smtp_session *s, const struct smtp_reply *rep)
{
	struct smtp_cmd c;
	struct pending *h;

	memset(&c, 0, sizeof(c));
	if (s->qlen == 0 && s->s2c_desync)
		return;			/* answers to commands lost in a gap */
	if (!s->greeted) {
		s->greeted = true;
		if (s->qlen == 0 ? !s->any_cmd : is_greeting(s, rep)) {
			s->ops.on_reply(s->arg, NULL, rep);
			return;
		}
	}
	if (s->qlen == 0) {
		if (s->cmode == CM_DATA) {
			/* The server saw an end of data we did not. */
			event(s, SMTP_EV_REPLY_DURING_DATA, SMTP_S2C);
			end_data(s);
			dispatch_reply(s, rep);
			return;
		}
		if (rep->code != 421)	/* 421 may come at any time */
			event(s, SMTP_EV_UNEXPECTED_REPLY, SMTP_S2C);
		s->ops.on_reply(s->arg, NULL, rep);
		return;
	}
	s->s2c_desync = false;
	h = &s->q[s->qhead];
	c.id = (enum smtp_cmd_id)h->id;
	c.bdat_last = h->bdat_last;
	c.seq = h->seq;
	c.ts = h->ts;
	if (c.id == SMTP_CMD_AUTH)
		s->auth_guess = false;
	if (c.id == SMTP_CMD_AUTH && rep->code == 334) {
		/* RFC 4954 §4: a challenge; the client answers with a line. */
		s->auth_cont = true;
		s->ops.on_reply(s->arg, &c, rep);
		return;
	}
	q_pop(s);
	if ((c.id == SMTP_CMD_EHLO || c.id == SMTP_CMD_LHLO) &&
	    rep->code / 100 == 2) {
		s->ext = rep->ext;
		s->ext_known = true;
	}
	s->greeted = true;
	s->ops.on_reply(s->arg, &c, rep);
	switch (c.id) {
	case SMTP_CMD_DATA:
		if (s->cmode != CM_WAIT_DATA)
			break;
		if (rep->code == 354)
			start_data(s);
		else
			s->cmode = CM_CMD;	/* refused: commands follow */
		replay_hold(s);
		break;
	case SMTP_CMD_STARTTLS:
		/*
		 * RFC 3207 §4: the TLS handshake starts now. Whether it does
		 * is told by the client's next bytes (feed_c2s).
		 */
		if (rep->code == 220)
			s->tls_wait = true;
		break;
	case SMTP_CMD_QUIT:
		s->closed = rep->code == 221;	/* RFC 5321 §4.1.1.10 */
		break;
	default:
		break;
	}
}

static void
server_line(struct smtp_session *s, struct span line, bool crlf)
{
	struct reply_acc *r = &s->r;
	struct smtp_reply rep;
	struct span text, mechs = { NULL, 0 };
	uint16_t code;
	bool more;
	uint32_t ext;

	if (!crlf)
		event(s, SMTP_EV_BARE_LF, SMTP_S2C);
	if (has_nul(line))
		event(s, SMTP_EV_NUL_BYTE, SMTP_S2C);
	if (!smtp_reply_line(line, &code, &more, &text)) {
		event(s, SMTP_EV_INVALID_REPLY, SMTP_S2C);
		return;
	}
	if (!r->open) {
		memset(r, 0, sizeof(*r));
		r->open = true;
		r->code = code;
		dbuf_reset(&s->rfirst);
		if (dbuf_add(&s->rfirst, line.p, line.len) == -1)
			dbuf_init_counted(&s->rfirst, LIMIT_SMTP_LINE);
	} else if (code != r->code && !r->mismatch) {
		r->mismatch = true;
		event(s, SMTP_EV_REPLY_CODE_MISMATCH, SMTP_S2C);
	}
	r->nlines++;
	if (r->nlines > 1) {
		/* EHLO keywords: every line after the first (§4.1.1.1). */
		ext = smtp_reply_ext(text, &mechs);
		r->ext |= ext;
		if (ext == SMTP_EXT_AUTH && mechs.len > 0) {
			r->mechs_len = mechs.len < sizeof(r->mechs) ?
			    mechs.len : sizeof(r->mechs);
			memcpy(r->mechs, mechs.p, r->mechs_len);
			if (mechs.len > sizeof(r->mechs))
				event(s, SMTP_EV_AUTH_MECHS_TOO_LONG,
				    SMTP_S2C);
		}
	}
	if (more)
		return;
	r->open = false;
	dbuf_reset(&s->rlast);
	if (dbuf_add(&s->rlast, line.p, line.len) == -1)
		dbuf_init_counted(&s->rlast, LIMIT_SMTP_LINE);
	memset(&rep, 0, sizeof(rep));
	rep.code = r->code;
	rep.line.p = s->rlast.p;
	rep.line.len = s->rlast.len;
	rep.first.p = s->rfirst.p;
	rep.first.len = s->rfirst.len;
	if (rep.line.len > 3) {
		rep.text.p = rep.line.p + 4;
		rep.text.len = rep.line.len - 4;
	}
	rep.enhanced = smtp_reply_enhanced(rep.text);
	rep.nlines = r->nlines;
	rep.ext = r->ext;
	rep.auth_mechs.p = r->mechs;
	rep.auth_mechs.len = r->mechs_len;
	dispatch_reply(s, &rep);
}

static bool	line_plausible(enum smtp_dir, struct span);

/*
 * A whole line (perhaps cut at the cap). crlf: the byte before its LF
 * was CR, wherever it was (a cut line's CR is not in it); it is stripped
 * here when the line holds it.
 */
static void
dispatch_line(struct smtp_session *s, enum smtp_dir dir, struct span line,
    bool crlf)
{
	if (crlf && span_last(line) == '\r')
		line.len--;
	if (s->resync[dir]) {
		s->resync[dir] = false;
		if (!line_plausible(dir, line))
			return;
	}
	if (dir == SMTP_C2S)
		client_line(s, line, crlf);
	else
		server_line(s, line, crlf);
}

/*
 * Take one line (or the start of one) from p. Lines whole in p are parsed
 * in place; a line split across feeds is carried, capped at
 * LIMIT_SMTP_LINE (then cut, reported, and the rest skipped to its LF).
 * Whether the line ended CRLF is told by the byte before its LF wherever
 * that byte was: in this feed, an earlier one, or the discarded rest of
 * an overlong line. Returns the bytes consumed.
 */
static size_t
line_feed(struct smtp_session *s, enum smtp_dir dir, const uint8_t *p,
    size_t n)
{
	struct dbuf *c = &s->carry[dir];
	struct cur in = cur_make(p, n);
	size_t body = cur_find(&in, '\n');
	bool lf = body < n;
	size_t room;
	struct span line;
	bool crlf;

	if (body > 0)
		s->lastcr[dir] = cur_peek_at(&in, body - 1) == '\r';
	if (!s->discard[dir]) {
		if (c->len == 0 && lf && body <= LIMIT_SMTP_LINE) {
			(void)cur_take(&in, body, &line);
			s->lastcr[dir] = false;
			dispatch_line(s, dir, line, body > 0 &&
			    span_last(line) == '\r');
			return body + 1;
		}
		room = LIMIT_SMTP_LINE - c->len;
		if (body > room) {
			s->discard[dir] = true;
			event(s, dir == SMTP_C2S ? SMTP_EV_COMMAND_TOO_LONG :
			    SMTP_EV_REPLY_TOO_LONG, dir);
		}
		if (dbuf_add(c, p, body < room ? body : room) == -1)
			dbuf_init_counted(c, LIMIT_SMTP_LINE);
	}
	if (!lf)
		return n;
	/* The line is complete (perhaps cut at the cap): parse it. */
	crlf = s->lastcr[dir];
	s->lastcr[dir] = false;
	s->discard[dir] = false;
	line.p = c->p;
	line.len = c->len;
	if (line.p != NULL)
		dispatch_line(s, dir, line, crlf);
	dbuf_reset(c);
	return body + 1;
}

/*
 * The first line after a gap: we may have come in mid-line. It is taken
 * if it reads as a command (or a reply) from its first byte, else dropped.
 */
static bool
line_plausible(enum smtp_dir dir, struct span line)
{
	uint16_t code;
	bool more;
	struct span text;

	if (dir == SMTP_C2S)
		return smtp_cmd_is_known(line);
	return smtp_reply_line(line, &code, &more, &text);
}

/*
 * An AUTH response line: skipped to its LF. Copied (into a fixed buffer)
 * only when the user name is wanted and it is the first response.
 */
static size_t
auth_skip(struct smtp_session *s, const uint8_t *p, size_t n)
{
	struct cur in = cur_make(p, n);
	size_t k = cur_find(&in, '\n');
	struct span line;

	if (s->ops.on_auth_user != NULL && s->auth_resp == 0 &&
	    s->auth_len != SIZE_MAX) {
		if (k > sizeof(s->auth_line) - s->auth_len) {
			s->auth_len = SIZE_MAX;		/* too long */
			event(s, SMTP_EV_AUTH_RESPONSE_TOO_LONG, SMTP_C2S);
		} else {
			(void)cur_copy(&in, s->auth_line + s->auth_len, k);
			s->auth_len += k;
		}
	}
	if (k == n)
		return n;
	if (s->ops.on_auth_user != NULL && s->auth_resp == 0) {
		if (s->auth_len != SIZE_MAX) {
			line.p = s->auth_line;
			line.len = s->auth_len;
			if (span_last(line) == '\r')
				line.len--;
			auth_response(s, line);
		}
		explicit_bzero(s->auth_line, sizeof(s->auth_line));
		s->auth_len = 0;
	}
	s->auth_resp = s->auth_resp ? s->auth_resp : 1;
	s->auth_cont = false;
	dbuf_reset(&s->carry[SMTP_C2S]);
	return k + 1;
}

/*
 * At a client line start after STARTTLS (or before any command, for
 * implicit TLS): do the bytes kept so far and these begin TLS? Bytes
 * that may (fewer than tls_probe needs) are kept in s->probe.
 */
static enum tls_verdict
probe_c2s(struct smtp_session *s, const uint8_t *p, size_t n)
{
	uint8_t w[sizeof(s->probe)];
	struct cur in = cur_make(p, n);
	size_t k = sizeof(w) - s->nprobe;
	enum tls_verdict v;

	if (k > n)
		k = n;
	memcpy(w, s->probe, s->nprobe);
	(void)cur_copy(&in, w + s->nprobe, k);
	v = tls_probe(w, s->nprobe + k);
	if (v == TLS_MORE) {
		memcpy(s->probe, w, s->nprobe + k);
		s->nprobe += k;
	} else if (v == TLS_YES) {
		s->nprobe = 0;
	}
	return v;
}

/* The bytes probe_c2s kept were no TLS: they are the start of a line. */
static void
probe_refeed(struct smtp_session *s)
{
	uint8_t b[sizeof(s->probe)];
	size_t m = s->nprobe;

	memcpy(b, s->probe, m);
	s->nprobe = 0;
	s->no_probe = true;
	feed_c2s(s, b, m);
	s->no_probe = false;
}

static void
feed_c2s(struct smtp_session *s, const uint8_t *p, size_t n)
{
	size_t k;

	while (n > 0) {
		switch (s->cmode) {
		case CM_TLS:
			return;
		case CM_DATA:
			k = data_feed(s, p, n);
			break;
		case CM_BDAT:
			k = bdat_feed(s, p, n);
			break;
		case CM_WAIT_DATA:
			hold_feed(s, p, n);
			return;
		case CM_CMD:
		default:
			if (s->carry[SMTP_C2S].len == 0 &&
			    !s->discard[SMTP_C2S] && !s->resync[SMTP_C2S]) {
				if (s->auth_cont) {
					k = auth_skip(s, p, n);
					break;
				}
				if (!s->no_probe && (s->starttls_sent ||
				    s->tls_wait || !s->any_cmd ||
				    s->nprobe > 0)) {
					/* After STARTTLS, or implicit TLS. */
					switch (probe_c2s(s, p, n)) {
					case TLS_YES:
						go_tls(s);
						return;
					case TLS_MORE:
						return;
					case TLS_NO:
						break;
					}
					/*
					 * Not TLS. The server bytes held are
					 * parsed first (they came first), and
					 * what they do is looked at again.
					 */
					if (s->tls_wait) {
						not_tls(s);
						continue;
					}
					if (s->nprobe > 0) {
						probe_refeed(s);
						continue;
					}
				}
			}
			if (s->starttls_sent && !s->starttls_ev &&
			    s->seen[SMTP_S2C] && s->qlen > 0 &&
			    s->q[(s->qhead + s->qlen - 1) % s->qcap].id ==
			    SMTP_CMD_STARTTLS) {
				/* CVE-2011-0411: commands after STARTTLS. */
				s->starttls_ev = true;
				event(s, SMTP_EV_STARTTLS_PIPELINED, SMTP_C2S);
			}
			k = line_feed(s, SMTP_C2S, p, n);
			break;
		}
		p += k;
		n -= k;
	}
}

/* Server bytes: reply lines, until STARTTLS's 220 leaves TLS in doubt. */
static void
server_feed(struct smtp_session *s, const uint8_t *p, size_t n)
{
	size_t k;

	while (n > 0 && !s->tls) {
		if (s->tls_wait) {
			tls_hold_server(s, p, n);
			return;
		}
		k = line_feed(s, SMTP_S2C, p, n);
		p += k;
		n -= k;
	}
}

/*
 * Feed the next bytes of one direction. All are consumed: a partial line
 * is carried inside the session until its end arrives.
 */
void
smtp_session_feed(struct smtp_session *s, enum smtp_dir dir,
    const uint8_t *p, size_t n)
{
	if (n == 0 || s->tls)
		return;
	if (dir == SMTP_S2C && !s->seen[dir])
		s->client_first = s->any_cmd;
	s->seen[dir] = true;
	if (dir == SMTP_C2S) {
		feed_c2s(s, p, n);
		return;
	}
	if (!s->greeted && !s->any_cmd && s->carry[SMTP_S2C].len == 0 &&
	    !s->tls_wait && tls_probe(p, n) != TLS_NO) {
		go_tls(s);		/* the server speaks TLS first */
		return;
	}
	server_feed(s, p, n);
}

/*
 * len bytes of one direction are missing. The layer above is told; the
 * parser drops what it was assembling and resynchronises: at the next
 * line, or (in a message) still looking for its end.
 */
void
smtp_session_gap(struct smtp_session *s, enum smtp_dir dir, uint64_t len)
{
	if (s->tls)
		return;
	event(s, SMTP_EV_GAP, dir);
	if (s->ops.on_gap != NULL)
		s->ops.on_gap(s->arg, dir, len);
	dbuf_reset(&s->carry[dir]);
	s->lastcr[dir] = false;
	if (dir == SMTP_C2S && s->tls_wait) {
		/*
		 * The bytes that would tell are lost. STARTTLS was accepted:
		 * take it that TLS followed, as it does but for collusion.
		 */
		s->nprobe = 0;
		go_tls(s);
		return;
	}
	if (dir == SMTP_C2S)
		s->nprobe = 0;
	if (dir == SMTP_S2C) {
		dbuf_reset(&s->shold);
		/* The replies in the gap are lost, and with them the queue. */
		s->r.open = false;
		s->discard[dir] = false;
		s->resync[dir] = true;
		s->qlen = 0;
		s->s2c_desync = true;
		return;
	}
	switch (s->cmode) {
	case CM_DATA:
		s->ds = DS_MID;		/* somewhere inside a line */
		break;
	case CM_BDAT:
		if (len < s->chunk_left) {
			s->chunk_left -= len;
		} else {
			s->chunk_left = 0;
			finish_chunk(s);
			s->resync[dir] = true;
		}
		break;
	case CM_WAIT_DATA:
		dbuf_reset(&s->hold);
		s->cmode = CM_CMD;
		s->resync[dir] = true;
		break;
	default:
		s->auth_cont = false;
		s->discard[dir] = false;
		s->resync[dir] = true;
		break;
	}
}

/* The connection ended: a last line without its LF is still a line. */
void
smtp_session_end(struct smtp_session *s)
{
	struct span line;
	int d;

	if (s->tls)
		return;
	if (s->tls_wait || s->nprobe > 0) {
		/*
		 * STARTTLS was accepted and the client said nothing more, or
		 * only bytes that fit a TLS record so far: TLS it was.
		 */
		go_tls(s);
		return;
	}
	if (s->cmode == CM_WAIT_DATA) {
		/*
		 * No reply to DATA ever came. Held bytes that hold an end of
		 * data were the message; anything else, commands.
		 */
		if (s->hold.len >= 5 && memmem(s->hold.p, s->hold.len,
		    "\r\n.\r\n", 5) != NULL) {
			event(s, SMTP_EV_DATA_WITHOUT_WAIT, SMTP_C2S);
			start_data(s);
		} else {
			s->cmode = CM_CMD;
		}
		replay_hold(s);
	}
	for (d = 0; d < 2; d++) {
		if (s->carry[d].len == 0 || s->tls ||
		    (d == SMTP_C2S && s->cmode != CM_CMD))
			continue;
		line.p = s->carry[d].p;
		line.len = s->carry[d].len;
		/* No LF at all: not a bare LF either. */
		dispatch_line(s, (enum smtp_dir)d, line, true);
		dbuf_reset(&s->carry[d]);
	}
}

bool
smtp_looks_like(enum smtp_dir dir, const uint8_t *p, size_t n)
{
	struct cur in = cur_make(p, n);
	struct span line = { p, cur_find(&in, '\n') };
	struct smtp_cmd c;
	uint16_t code;
	bool more;
	struct span text;

	if (dir == SMTP_S2C)
		return smtp_reply_line(line, &code, &more, &text) &&
		    code == 220;
	smtp_cmd_parse(line, &c);
	return c.id == SMTP_CMD_EHLO || c.id == SMTP_CMD_HELO;
}

const char *
smtp_event_name(enum smtp_event ev)
{
	static const char *const names[SMTP_EV_MAX] = {
		[SMTP_EV_BARE_LF] = "bare_lf",
		[SMTP_EV_COMMAND_TOO_LONG] = "command_too_long",
		[SMTP_EV_REPLY_TOO_LONG] = "reply_too_long",
		[SMTP_EV_NUL_BYTE] = "nul_byte",
		[SMTP_EV_UNKNOWN_COMMAND] = "unknown_command",
		[SMTP_EV_INVALID_REPLY] = "invalid_reply",
		[SMTP_EV_UNEXPECTED_REPLY] = "unexpected_reply",
		[SMTP_EV_REPLY_CODE_MISMATCH] = "reply_code_mismatch",
		[SMTP_EV_PIPELINING_WITHOUT_EXT] = "pipelining_without_ext",
		[SMTP_EV_PENDING_OVERFLOW] = "pending_overflow",
		[SMTP_EV_INVALID_BDAT] = "invalid_bdat",
		[SMTP_EV_BDAT_SIZE_MISMATCH] = "bdat_size_mismatch",
		[SMTP_EV_SMUGGLING_DOT] = "smuggling_dot",
		[SMTP_EV_REPLY_DURING_DATA] = "reply_during_data",
		[SMTP_EV_STARTTLS_PIPELINED] = "starttls_pipelined",
		[SMTP_EV_DATA_WITHOUT_WAIT] = "data_without_wait",
		[SMTP_EV_OUT_OF_SEQUENCE] = "out_of_sequence",
		[SMTP_EV_TOO_MANY_RECIPIENTS] = "too_many_recipients",
		[SMTP_EV_GAP] = "gap",
		[SMTP_EV_AUTH_FAILED] = "auth_failed",
		[SMTP_EV_STARTTLS_NOT_TLS] = "starttls_not_tls",
		[SMTP_EV_AUTH_MECHS_TOO_LONG] = "auth_mechs_too_long",
		[SMTP_EV_AUTH_RESPONSE_TOO_LONG] = "auth_response_too_long",
	};

	if ((unsigned)ev >= SMTP_EV_MAX || names[ev] == NULL)
		return "unknown";
	return names[ev];
}
