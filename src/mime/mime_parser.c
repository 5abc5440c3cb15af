/*
 * mime_parser.c: the streaming parser of one message. Bytes are pushed
 * split anywhere; a line layer finds line ends with memchr and holds only
 * the head of a line that starts with '-' until it knows whether it is a
 * multipart delimiter (RFC 2046 §5.1.1); everything else flows straight to
 * the entity being read: its header block (RFC 5322 §2.2 unfolding, RFC
 * 2045 MIME fields, RFC 2047 words), or its body, which is dropped unless
 * it is an attachment, whose decoded bytes are hashed and counted.
 * It never buffers a whole line, part or message. An attached message
 * (message/rfc822, message/global) is an attachment, hashed whole, and is
 * also read as a message one level down (a child frame fed its decoded
 * bytes), to LIMIT_MIME_NESTING levels.
 */
#include <openssl/evp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/ascii.h"
#include "common/cur.h"
#include "common/limits.h"
#include "common/mem.h"
#include "mime_int.h"

enum mp_mode {
	MODE_HEADER,		/* a header block (the message's or a part's) */
	MODE_BODY,		/* an attachment's body, decoded and hashed */
	MODE_SKIP		/* preamble, epilogue, other bodies: dropped */
};

enum mp_ls {
	LS_START,		/* nothing of the line seen yet */
	LS_HOLD,		/* may be a delimiter: its head is held */
	LS_CONTENT,		/* the line is content */
	LS_DISCARD		/* the rest of a line cut by a gap */
};

enum mp_hl {
	HL_BEGIN,		/* at the start of a header line */
	HL_NAME,		/* in a field name */
	HL_VALUE,		/* in a field value (or a continuation) */
	HL_BAD			/* a line that is not a field: ignored */
};

enum mp_enc {
	ENC_IDENTITY,		/* 7bit, 8bit, binary (RFC 2045 §6.2) */
	ENC_BASE64,
	ENC_QP
};

/* How a held line head matches one delimiter "--boundary". */
enum mp_cs {
	CS_DEAD,
	CS_PREFIX,		/* k bytes of "--boundary" matched */
	CS_AFTER,		/* all of it */
	CS_DASH1,		/* and one '-' of the closing "--" */
	CS_DASH2,		/* and both */
	CS_WSP,			/* and transport padding */
	CS_CR			/* and a CR */
};

enum field_id {
	F_NONE,
	F_FROM,
	F_TO,
	F_CC,
	F_REPLY_TO,
	F_SUBJECT,
	F_MESSAGE_ID,
	F_IN_REPLY_TO,
	F_DATE,
	F_USER_AGENT,
	F_X_MAILER,
	F_X_ORIGINATING_IP,
	F_RECEIVED,
	F_CONTENT_TYPE,
	F_CONTENT_DISPOSITION,
	F_CONTENT_TRANSFER_ENCODING
};

#define FL_TOP		0x1	/* kept from the message's header block only */
#define FL_MULTI	0x2	/* every occurrence kept, else the first */

static const struct field_def {
	const char	*name;
	size_t		 len;
	enum field_id	 id;
	unsigned	 flags;
} field_defs[] = {
#define FIELD(name, id, flags)	{ name, sizeof(name) - 1, id, flags }
	FIELD("received",		F_RECEIVED,		FL_TOP | FL_MULTI),
	FIELD("from",			F_FROM,			FL_TOP),
	FIELD("to",			F_TO,			FL_TOP | FL_MULTI),
	FIELD("cc",			F_CC,			FL_TOP | FL_MULTI),
	FIELD("subject",		F_SUBJECT,		FL_TOP),
	FIELD("date",			F_DATE,			FL_TOP),
	FIELD("message-id",		F_MESSAGE_ID,		FL_TOP),
	FIELD("content-type",		F_CONTENT_TYPE,		0),
	FIELD("content-transfer-encoding", F_CONTENT_TRANSFER_ENCODING, 0),
	FIELD("content-disposition",	F_CONTENT_DISPOSITION,	0),
	FIELD("reply-to",		F_REPLY_TO,		FL_TOP),
	FIELD("in-reply-to",		F_IN_REPLY_TO,		FL_TOP),
	FIELD("user-agent",		F_USER_AGENT,		FL_TOP),
	FIELD("x-mailer",		F_X_MAILER,		FL_TOP),
	FIELD("x-originating-ip",	F_X_ORIGINATING_IP,	FL_TOP),
#undef FIELD
};

static const char *const event_names[MIME_EV_MAX] = {
	[MIME_EV_HEADER_LINE_TOO_LONG] = "header_line_too_long",
	[MIME_EV_HEADER_BLOCK_TOO_LONG] = "header_block_too_long",
	[MIME_EV_BODY_LINE_TOO_LONG] = "body_line_too_long",
	[MIME_EV_DEPTH_EXCEEDED] = "depth_exceeded",
	[MIME_EV_TOO_MANY_PARTS] = "too_many_parts",
	[MIME_EV_TOO_MANY_ATTACHMENTS] = "too_many_attachments",
	[MIME_EV_BOUNDARY_MISSING] = "boundary_missing",
	[MIME_EV_UNCLOSED_MULTIPART] = "unclosed_multipart",
	[MIME_EV_BAD_BASE64] = "bad_base64",
	[MIME_EV_BAD_QP] = "bad_qp",
	[MIME_EV_BAD_ENCODED_WORD] = "bad_encoded_word",
	[MIME_EV_UNKNOWN_CHARSET] = "unknown_charset",
	[MIME_EV_NUL_BYTE] = "nul_byte",
	[MIME_EV_BARE_LF] = "bare_lf",
	[MIME_EV_GAP] = "gap",
	[MIME_EV_LIST_TOO_LONG] = "list_too_long",
	[MIME_EV_BAD_TRANSFER_ENCODING] = "bad_transfer_encoding",
	[MIME_EV_NESTING_EXCEEDED] = "nesting_exceeded",
};

/* One open multipart. */
struct mp_level {
	uint8_t		*delim;		/* "--" boundary */
	size_t		 len;
	bool		 digest;	/* parts default to message/rfc822 */
	enum mp_cs	 st;		/* for the line being held */
	size_t		 k;
	bool		 close;
};

/* What the header block of the entity being read said. */
struct mp_entity {
	struct mime_ctype	 ct;
	struct mime_cdisp	 cd;
	bool			 has_ct;
	bool			 has_cd;
	bool			 has_cte;
	enum mp_enc		 enc;
	bool			 gapped;
};

/*
 * One frame per message being read: the transaction's message (the root)
 * and, one within another, the messages attached to it (RFC 2046 §5.2.1),
 * each fed the decoded bytes of its container as they are hashed. A frame
 * has its own line layer, multipart levels, header block and attachment
 * hashing; the result, its caps, the charset converter and the scratch
 * strings are the root's (mp->root), shared by all the frames.
 */
struct mime_parser {
	struct mime_parser	*root;		/* self for the root */
	struct mime_parser	*child;		/* next frame, kept */
	unsigned		 depth;		/* messages around */
	bool			 desc;		/* child reads body */
	bool			 sniff;		/* judge the label */
	size_t			 nsniff;
	unsigned		 nlv_all;	/* root: all levels */

	struct mime_result	 res;		/* root only, as below */
	struct mime_conv	 conv;
	bool			 finished;
	bool			 top;		/* in the message's header */
	enum mp_mode		 mode;
	size_t			 budget;	/* result string bytes used */
	size_t			 held;		/* the same, as memory held */
	size_t			 charged;	/* of it, in the memory budget */
	size_t			 cap_att;
	size_t			 cap_from;
	size_t			 cap_to;
	size_t			 cap_cc;
	size_t			 cap_rcv;

	/* Line layer. */
	enum mp_ls		 ls;
	bool			 cr;		/* piece ended with a CR */
	size_t			 linelen;
	unsigned		 pend_eol;	/* body line end not yet fed */
	size_t			 nhold;
	struct mp_level		 lv[LIMIT_MIME_DEPTH];
	unsigned		 nlv;

	/* Header block. */
	enum mp_hl		 hl;
	enum field_id		 field;
	size_t			 nname;
	bool			 name_ws;
	size_t			 hbytes;
	unsigned		 hfields;
	bool			 hover;		/* block cap hit */
	struct mstr		 val;		/* unfolded value of field */
	struct mstr		 scratch;	/* a result string being made */
	struct mstr		 scratch2;
	struct mp_entity	 ent;

	/* Attachment body. */
	enum mp_enc		 enc;
	size_t			 att;		/* index in res.att */
	bool			 md_ok;
	EVP_MD_CTX		*sha256;
	EVP_MD_CTX		*md5;
	struct mime_b64		 b64;
	struct mime_qp		 qp;

	uint8_t			 name[LIMIT_MIME_FIELD_NAME];
	/* "--" boundary "--" padding CR, and one more: full is too long. */
	uint8_t			 hold[2 + LIMIT_MIME_BOUNDARY + 2 +
				    LIMIT_MIME_BOUNDARY_LWSP + 2];
	/* The first line of an attached message labelled base64. */
	uint8_t			 sn[LIMIT_MIME_LINE];
	struct mime_sink	 sink;
};

/* Count an event in the message's result (the root's). */
static inline void
ev(struct mime_parser *mp, enum mime_event e, uint64_t n)
{
	mime_event_add(mp->root->res.events, e, n);
}

static void	line_end(struct mime_parser *, unsigned);
static void	hdr_complete(struct mime_parser *, bool);
static void	frame_push(struct mime_parser *, const uint8_t *, size_t);
static void	frame_finish(struct mime_parser *, bool);
static void	frame_reset(struct mime_parser *);
static struct mime_parser *frame_new(struct mime_parser *, unsigned);

static const uint8_t eol_bytes[] = "\r\n";

/* ---- result -------------------------------------------------------------- */

static void
addr_list_free(struct mime_addr_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].raw);
		free(l->v[i].addr);
	}
	free(l->v);
}

static void
result_free(struct mime_result *r)
{
	struct mime_headers *h = &r->h;
	size_t i;

	free(h->from);
	addr_list_free(&h->from_list);
	addr_list_free(&h->to);
	addr_list_free(&h->cc);
	free(h->reply_to);
	free(h->subject);
	free(h->message_id);
	free(h->in_reply_to);
	free(h->date);
	free(h->user_agent);
	free(h->x_mailer);
	free(h->x_originating_ip);
	free(h->content_type);
	for (i = 0; i < h->received.n; i++)
		free(h->received.v[i]);
	free(h->received.v);
	for (i = 0; i < r->natt; i++) {
		free(r->att[i].filename);
		free(r->att[i].content_type);
	}
	free(r->att);
	memset(r, 0, sizeof(*r));
}

/* Room for one more element in *v (n used of *cap, never past max). */
static bool
grow(void *vp, size_t *cap, size_t n, size_t elem, size_t max)
{
	void **v = vp, *nv;
	size_t ncap;

	if (n < *cap)
		return true;
	if (n >= max)
		return false;
	ncap = *cap ? *cap * 2 : 4;
	if (ncap > max)
		ncap = max;
	if ((nv = realloc(*v, ncap * elem)) == NULL)
		return false;
	*v = nv;
	*cap = ncap;
	return true;
}

/* A result string's cost beyond its bytes (allocator's word, rounding). */
#define RESULT_BLOCK_OVERHEAD	16
#define RESULT_CHARGE_STEP	4096

/*
 * Finish a result string: trimmed, charged to the message's budget
 * (LIMIT_MIME_RESULT_BYTES; past it the string is dropped and counted as
 * MIME_EV_LIST_TOO_LONG). Returns a malloc'ed copy, or NULL.
 */
static char *
res_string(struct mime_parser *mp, struct mstr *s)
{
	struct span t;
	char *r;

	if (s->trunc && !s->oom)
		ev(mp, MIME_EV_HEADER_LINE_TOO_LONG, 1);
	if (s->p != NULL) {
		t.p = (const uint8_t *)s->p;
		t.len = s->len;
		t = mime_trim(t);
		if (t.len > 0 && t.p != (const uint8_t *)s->p)
			memmove(s->p, t.p, t.len);
		s->len = t.len;
		s->p[s->len] = '\0';
	}
	if (s->len + 1 > LIMIT_MIME_RESULT_BYTES - mp->root->budget) {
		ev(mp, MIME_EV_LIST_TOO_LONG, 1);
		return NULL;
	}
	if ((r = malloc(s->len + 1)) == NULL)
		return NULL;
	if (s->len > 0)
		memcpy(r, s->p, s->len);
	r[s->len] = '\0';
	mp->root->budget += s->len + 1;
	/*
	 * Result strings count in the memory budget (common/mem.h), in steps
	 * of RESULT_CHARGE_STEP: charging each one cost 17% of header
	 * parsing. Given back when the result is freed.
	 */
	mp->root->held += s->len + 1 + RESULT_BLOCK_OVERHEAD;
	if (mp->root->held - mp->root->charged >= RESULT_CHARGE_STEP) {
		mem_charge(MEM_SESSIONS, mp->root->held - mp->root->charged);
		mp->root->charged = mp->root->held;
	}
	return r;
}

/* A scratch string emptied, with its cap set to max. */
static struct mstr *
scratch(struct mstr *s, size_t max)
{
	mstr_clear(s);
	s->max = max;
	return s;
}

/* A header value as a result string: RFC 2047 decoded, UTF-8. */
static char *
hdr_string(struct mime_parser *mp, struct span v, size_t max)
{
	struct mstr *s = scratch(&mp->root->scratch, max);

	v = mime_trim(v);
	if (v.len > 0)
		mime_rfc2047_append(&mp->root->conv, s, v.p, v.len);
	return res_string(mp, s);
}

static char *
res_strdup(struct mime_parser *mp, const char *str)
{
	struct mstr *s = scratch(&mp->root->scratch, LIMIT_MIME_STRING);

	mstr_add_cut(s, str, strlen(str));
	return res_string(mp, s);
}

struct addr_ctx {
	struct mime_parser	*mp;
	struct mime_addr_list	*l;
	size_t			*cap;
};

static void
addr_item(void *arg, const struct mime_addr_item *it)
{
	struct addr_ctx *ac = arg;
	struct mime_parser *mp = ac->mp;
	struct mstr *spec, *s;
	char *raw, *addr = NULL;

	if (ac->l->n >= LIMIT_MIME_ADDRS ||
	    !grow(&ac->l->v, ac->cap, ac->l->n, sizeof(*ac->l->v),
	    LIMIT_MIME_ADDRS)) {
		ev(mp, MIME_EV_LIST_TOO_LONG, 1);
		return;
	}
	if ((raw = hdr_string(mp, it->raw, LIMIT_MIME_ADDR_STRING)) == NULL)
		return;
	spec = scratch(&mp->root->scratch2, LIMIT_MIME_ADDR_STRING);
	if (mime_addr_spec(it, spec)) {
		s = scratch(&mp->root->scratch, LIMIT_MIME_ADDR_STRING);
		mime_utf8_append(&mp->root->conv, s, (uint8_t *)spec->p,
		    spec->len);
		addr = res_string(mp, s);
	}
	ac->l->v[ac->l->n].raw = raw;
	ac->l->v[ac->l->n].addr = addr;
	ac->l->n++;
}

static void
addr_list(struct mime_parser *mp, struct mime_addr_list *l, size_t *cap,
    struct span v)
{
	struct addr_ctx ac = { mp, l, cap };

	mime_addr_split(v.p, v.len, addr_item, &ac);
}

/* ---- entities and multipart levels --------------------------------------- */

static void
entity_reset(struct mp_entity *e)
{
	mime_ctype_fini(&e->ct);
	mime_cdisp_fini(&e->cd);
	e->has_ct = false;
	e->has_cd = false;
	e->has_cte = false;
	e->enc = ENC_IDENTITY;
	e->gapped = false;
}

static void
level_pop(struct mime_parser *mp)
{
	mp->nlv--;
	mp->root->nlv_all--;
	mem_free(mp->lv[mp->nlv].delim);
	mp->lv[mp->nlv].delim = NULL;
}

static bool
level_push(struct mime_parser *mp, const struct mstr *b, bool digest)
{
	struct mp_level *l = &mp->lv[mp->nlv];

	if ((l->delim = mem_malloc(b->len + 2)) == NULL)
		return false;
	l->delim[0] = '-';
	l->delim[1] = '-';
	memcpy(l->delim + 2, b->p, b->len);
	l->len = b->len + 2;
	l->digest = digest;
	mp->nlv++;
	mp->root->nlv_all++;
	return true;
}

/* The start of a header block (the message's, or a part's). */
static void
hdr_begin(struct mime_parser *mp)
{
	mp->mode = MODE_HEADER;
	mp->hl = HL_BEGIN;
	mp->field = F_NONE;
	mstr_clear(&mp->val);
	mp->hbytes = 0;
	mp->hfields = 0;
	mp->hover = false;
	entity_reset(&mp->ent);
}

/* ---- attachments --------------------------------------------------------- */

static void
hash_sink(void *arg, const uint8_t *p, size_t n)
{
	struct mime_parser *mp = arg;

	mp->root->res.att[mp->att].size += n;
	if (mp->md_ok) {
		EVP_DigestUpdate(mp->sha256, p, n);
		EVP_DigestUpdate(mp->md5, p, n);
	}
	if (mp->desc)
		frame_push(mp->child, p, n);
}

/*
 * An attached message's body is read as a message of its own, one level
 * down, from its decoded bytes: a child frame, made once and kept. Past
 * LIMIT_MIME_NESTING (or LIMIT_MIME_PARTS) it is only hashed whole.
 */
static void
descend(struct mime_parser *mp)
{
	struct mime_result *r = &mp->root->res;

	if (mp->depth >= LIMIT_MIME_NESTING) {
		mime_event_add(r->events, MIME_EV_NESTING_EXCEEDED, 1);
		return;
	}
	if (r->parts < UINT32_MAX)
		r->parts++;
	if (r->parts > LIMIT_MIME_PARTS) {
		mime_event_add(r->events, MIME_EV_TOO_MANY_PARTS, 1);
		return;
	}
	if (mp->child == NULL &&
	    (mp->child = frame_new(mp->root, mp->depth + 1)) == NULL)
		return;
	frame_reset(mp->child);
	mp->desc = true;
}

static void
att_begin(struct mime_parser *mp, const char *type, const struct mstr *fname,
    enum mp_enc enc, bool message, bool sniff)
{
	struct mime_attachment *a;
	char *ct, *fn = NULL;

	if (mp->root->res.natt >= LIMIT_MIME_ATTACHMENTS) {
		ev(mp, MIME_EV_TOO_MANY_ATTACHMENTS, 1);
		mp->mode = MODE_SKIP;
		return;
	}
	mp->mode = MODE_SKIP;
	if (!grow(&mp->root->res.att, &mp->root->cap_att, mp->root->res.natt,
	    sizeof(*mp->root->res.att), LIMIT_MIME_ATTACHMENTS) ||
	    (ct = strdup(type)) == NULL)
		return;
	if (fname != NULL) {
		/* Its own cap: attachments are bounded by their count. */
		if (fname->trunc && !fname->oom)
			mime_event_add(mp->root->res.events,
			    MIME_EV_HEADER_LINE_TOO_LONG, 1);
		fn = strdup(fname->p);
	}
	a = &mp->root->res.att[mp->root->res.natt];
	memset(a, 0, sizeof(*a));
	a->content_type = ct;
	a->filename = fn;
	a->depth = mp->depth;
	a->truncated = mp->ent.gapped;
	mp->att = mp->root->res.natt++;
	mp->md_ok = EVP_DigestInit_ex(mp->sha256, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestInit_ex(mp->md5, EVP_md5(), NULL) == 1;
	mp->enc = enc;
	mime_b64_init(&mp->b64);
	mime_qp_init(&mp->qp);
	mp->sink.len = 0;
	mp->pend_eol = 0;
	mp->mode = MODE_BODY;
	mp->sniff = sniff;
	mp->nsniff = 0;
	mp->desc = false;
	if (message)
		descend(mp);
}

static bool
is_b64(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

static void	body_feed(struct mime_parser *, const uint8_t *, size_t);

/*
 * Judge the base64 label of an attached message by its first line, held
 * in sn until then: a header field (a byte that base64 never has: ':',
 * '-', ...) or an empty line means a message as written, whose label
 * is ignored (RFC 2046 §5.2.1, and the smtp-mime-encap-8649 evasion);
 * a line of base64 characters (or LIMIT_MIME_LINE of them, longer than
 * any header line, RFC 5322 §2.1.1) means an encoded message, decoded,
 * as mail clients do with what some mailers send.
 */
static void
sniff_decide(struct mime_parser *mp, bool b64)
{
	mp->sniff = false;
	mp->enc = b64 ? ENC_BASE64 : ENC_IDENTITY;
	body_feed(mp, mp->sn, mp->nsniff);
	mp->nsniff = 0;
}

static void
sniff_feed(struct mime_parser *mp, const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);
	uint8_t b;

	while (cur_has(&c, 1)) {
		b = c.p[0];
		if (b == '\r' || b == '\n')
			sniff_decide(mp, mp->nsniff > 0);
		else if (!is_b64(b) && b != ' ' && b != '\t')
			sniff_decide(mp, false);
		else if (mp->nsniff == sizeof(mp->sn))
			sniff_decide(mp, true);
		else {
			mp->sn[mp->nsniff++] = b;
			cur_skip(&c, 1);
			continue;
		}
		body_feed(mp, c.p, c.len);
		return;
	}
}

static void
body_feed(struct mime_parser *mp, const uint8_t *p, size_t n)
{
	size_t bad;

	if (mp->sniff) {
		sniff_feed(mp, p, n);
		return;
	}
	switch (mp->enc) {
	case ENC_BASE64:
		bad = mime_b64_feed(&mp->b64, p, n, &mp->sink);
		if (bad > 0)
			ev(mp, MIME_EV_BAD_BASE64, bad);
		break;
	case ENC_QP:
		bad = mime_qp_feed(&mp->qp, p, n, &mp->sink);
		if (bad > 0)
			ev(mp, MIME_EV_BAD_QP, bad);
		break;
	case ENC_IDENTITY:
		mime_sink_write(&mp->sink, p, n);
		break;
	}
}

/* The attachment's body ended (truncated: a gap, or no closing delimiter). */
static void
att_end(struct mime_parser *mp, bool truncated)
{
	struct mime_attachment *a;
	size_t bad;

	if (mp->mode != MODE_BODY)
		return;
	if (mp->sniff)
		sniff_decide(mp, mp->nsniff > 0);
	if (mp->enc == ENC_BASE64 &&
	    (bad = mime_b64_end(&mp->b64, &mp->sink)) > 0)
		ev(mp, MIME_EV_BAD_BASE64, bad);
	if (mp->enc == ENC_QP && (bad = mime_qp_end(&mp->qp, &mp->sink)) > 0)
		ev(mp, MIME_EV_BAD_QP, bad);
	mime_sink_flush(&mp->sink);
	if (mp->desc) {
		/* What it carries ends with it (and is cut where it is). */
		mp->desc = false;
		frame_finish(mp->child, truncated);
	}
	a = &mp->root->res.att[mp->att];
	if (truncated)
		a->truncated = true;
	if (mp->md_ok) {
		EVP_DigestFinal_ex(mp->sha256, a->sha256, NULL);
		EVP_DigestFinal_ex(mp->md5, a->md5, NULL);
	}
	mp->pend_eol = 0;
	mp->mode = MODE_SKIP;
}

/* The CTE token (RFC 2045 §6.1); unknown ones are taken as binary. */
static enum mp_enc
parse_cte(struct mime_parser *mp, struct span v)
{
	struct cur c;
	size_t n = 0;

	v = mime_trim(v);
	c = cur_make(v.p, v.len);
	while (cur_has(&c, 1) && c.p[0] > 0x20 && c.p[0] != ';' &&
	    c.p[0] != '(') {
		cur_skip(&c, 1);
		n++;
	}
	v.len = n;
	if (mime_span_is(v, "base64"))
		return ENC_BASE64;
	if (mime_span_is(v, "quoted-printable"))
		return ENC_QP;
	if (!mime_span_is(v, "7bit") && !mime_span_is(v, "8bit") &&
	    !mime_span_is(v, "binary"))
		ev(mp, MIME_EV_BAD_TRANSFER_ENCODING,
		    1);
	return ENC_IDENTITY;
}

/*
 * The header block of the entity ended (blank line: body follows; else a
 * delimiter or the end of the message came first and the body is empty).
 * Decides what the entity is: a multipart to open, an attachment to hash,
 * or a body to skip.
 */
static void
entity_classify(struct mime_parser *mp, bool body)
{
	struct mp_entity *e = &mp->ent;
	const struct mstr *fname = NULL;
	const char *type;
	enum mp_enc enc = e->enc;
	bool multipart, rfc822, global, attach, sniff = false;

	if (e->has_ct && e->ct.valid)
		type = e->ct.type;
	else if (mp->nlv > 0 && mp->lv[mp->nlv - 1].digest)
		type = "message/rfc822";	/* RFC 2046 §5.1.5 */
	else
		type = "text/plain";		/* RFC 2045 §5.2 */
	multipart = strncmp(type, "multipart/", 10) == 0;
	rfc822 = strcmp(type, "message/rfc822") == 0;
	global = strcmp(type, "message/global") == 0;
	/* RFC 2045 §6.4, RFC 2046 §5.2.1: no encoding for these. */
	if ((multipart || rfc822) && enc != ENC_IDENTITY) {
		ev(mp, MIME_EV_BAD_TRANSFER_ENCODING, 1);
		/* base64 is judged on the bytes (sniff_feed). */
		sniff = rfc822 && enc == ENC_BASE64;
		enc = ENC_IDENTITY;
	}
	/* RFC 6532 §3.5: any encoding on message/global; base64 judged too. */
	if (global && enc == ENC_BASE64) {
		sniff = true;
		enc = ENC_IDENTITY;
	}
	mp->mode = MODE_SKIP;
	if (multipart) {
		if (!body)
			return;
		if (!e->ct.has_boundary || e->ct.boundary.len == 0 ||
		    e->ct.boundary.trunc)
			ev(mp, MIME_EV_BOUNDARY_MISSING,
			    1);
		else if (mp->root->nlv_all >= LIMIT_MIME_DEPTH)
			ev(mp, MIME_EV_DEPTH_EXCEEDED,
			    1);
		else if (level_push(mp, &e->ct.boundary,
		    strcmp(type, "multipart/digest") == 0))
			return;		/* the preamble, skipped */
	}
	if (e->cd.filename.len > 0)
		fname = &e->cd.filename;
	else if (e->ct.name.len > 0)
		fname = &e->ct.name;
	attach = (e->has_cd && e->cd.attachment) || fname != NULL || rfc822 ||
	    global;
	if (attach)
		att_begin(mp, type, fname, enc, rfc822 || global, sniff);
}

/* ---- header block -------------------------------------------------------- */

static bool
field_seen(struct mime_parser *mp, enum field_id id)
{
	struct mime_headers *h = &mp->root->res.h;

	switch (id) {
	case F_FROM:
		return h->from != NULL;
	case F_REPLY_TO:
		return h->reply_to != NULL;
	case F_SUBJECT:
		return h->subject != NULL;
	case F_MESSAGE_ID:
		return h->message_id != NULL;
	case F_IN_REPLY_TO:
		return h->in_reply_to != NULL;
	case F_DATE:
		return h->date != NULL;
	case F_USER_AGENT:
		return h->user_agent != NULL;
	case F_X_MAILER:
		return h->x_mailer != NULL;
	case F_X_ORIGINATING_IP:
		return h->x_originating_ip != NULL;
	case F_CONTENT_TYPE:
		return mp->ent.has_ct;
	case F_CONTENT_DISPOSITION:
		return mp->ent.has_cd;
	case F_CONTENT_TRANSFER_ENCODING:
		return mp->ent.has_cte;
	default:
		return false;
	}
}

/* The field name is complete: keep the value only if we use it. */
static void
field_start(struct mime_parser *mp)
{
	const struct field_def *d;
	size_t i;

	mp->field = F_NONE;
	mstr_clear(&mp->val);
	if (mp->hover || mp->nname > sizeof(mp->name))
		return;
	for (i = 0; i < sizeof(field_defs) / sizeof(field_defs[0]); i++) {
		d = &field_defs[i];
		if (d->len != mp->nname ||
		    ascii_casecmp(mp->name, (const uint8_t *)d->name,
		    mp->nname) != 0)
			continue;
		if ((d->flags & FL_TOP) && !mp->top)
			return;
		if (!(d->flags & FL_MULTI) && field_seen(mp, d->id))
			return;
		mp->field = d->id;
		return;
	}
}

/* The field is complete (the next line is not a continuation): use it. */
static void
field_done(struct mime_parser *mp)
{
	static const uint8_t empty[1];
	struct mime_headers *h = &mp->root->res.h;
	struct span v = { mp->val.p ? (const uint8_t *)mp->val.p : empty,
	    mp->val.len };
	enum field_id id = mp->field;
	char *s;

	if (id == F_NONE)
		return;
	mp->field = F_NONE;
	if (mp->val.trunc && !mp->val.oom)
		ev(mp, MIME_EV_HEADER_LINE_TOO_LONG, 1);
	switch (id) {
	case F_FROM:
		h->from = hdr_string(mp, v, LIMIT_MIME_STRING);
		addr_list(mp, &h->from_list, &mp->root->cap_from, v);
		break;
	case F_TO:
		addr_list(mp, &h->to, &mp->root->cap_to, v);
		break;
	case F_CC:
		addr_list(mp, &h->cc, &mp->root->cap_cc, v);
		break;
	case F_REPLY_TO:
		h->reply_to = hdr_string(mp, v, LIMIT_MIME_STRING);
		break;
	case F_SUBJECT:
		h->subject = hdr_string(mp, v, LIMIT_MIME_STRING);
		break;
	case F_MESSAGE_ID:
		h->message_id = hdr_string(mp, v, LIMIT_MIME_STRING);
		break;
	case F_IN_REPLY_TO:
		h->in_reply_to = hdr_string(mp, v, LIMIT_MIME_STRING);
		break;
	case F_DATE:
		h->date = hdr_string(mp, v, LIMIT_MIME_STRING);
		break;
	case F_USER_AGENT:
		h->user_agent = hdr_string(mp, v, LIMIT_MIME_STRING);
		break;
	case F_X_MAILER:
		h->x_mailer = hdr_string(mp, v, LIMIT_MIME_STRING);
		break;
	case F_X_ORIGINATING_IP:
		h->x_originating_ip = hdr_string(mp, v, LIMIT_MIME_STRING);
		break;
	case F_RECEIVED:
		if (h->received.n >= LIMIT_MIME_RECEIVED ||
		    !grow(&h->received.v, &mp->root->cap_rcv, h->received.n,
		    sizeof(*h->received.v), LIMIT_MIME_RECEIVED)) {
			ev(mp, MIME_EV_LIST_TOO_LONG,
			    1);
			break;
		}
		if ((s = hdr_string(mp, v, LIMIT_MIME_STRING)) != NULL)
			h->received.v[h->received.n++] = s;
		break;
	case F_CONTENT_TYPE:
		mp->ent.has_ct = true;
		mime_ctype_parse(&mp->root->conv, &mp->ent.ct, v.p, v.len);
		break;
	case F_CONTENT_DISPOSITION:
		mp->ent.has_cd = true;
		mime_cdisp_parse(&mp->root->conv, &mp->ent.cd, v.p, v.len);
		break;
	case F_CONTENT_TRANSFER_ENCODING:
		mp->ent.has_cte = true;
		mp->ent.enc = parse_cte(mp, v);
		break;
	case F_NONE:
		break;
	}
	mstr_clear(&mp->val);
}

/*
 * Past the block's caps: the field being read is used as it is (cut), what
 * is left of the block is read but not kept.
 */
static void
hdr_over(struct mime_parser *mp)
{
	mp->hover = true;
	field_done(mp);
	ev(mp, MIME_EV_HEADER_BLOCK_TOO_LONG, 1);
}

/* Run the header line state machine over a piece of a line. */
static void
hdr_scan(struct mime_parser *mp, const uint8_t *p, size_t n)
{
	struct cur c = cur_make(p, n);
	uint8_t b;

	while (c.len > 0) {
		switch (mp->hl) {
		case HL_BEGIN:
			if (mime_is_wsp(c.p[0])) {
				/* A folded line (RFC 5322 §2.2.3). */
				mp->hl = HL_VALUE;
				break;
			}
			field_done(mp);
			mp->nname = 0;
			mp->name_ws = false;
			mp->hl = HL_NAME;
			if (!mp->hover &&
			    ++mp->hfields > LIMIT_MIME_HEADER_FIELDS)
				hdr_over(mp);
			break;
		case HL_NAME:
			/* RFC 5322 §3.6.8; WSP before ':' is §4.5 obs. */
			b = cur_u8(&c);
			if (b == ':') {
				field_start(mp);
				mp->hl = HL_VALUE;
			} else if (mime_is_wsp(b))
				mp->name_ws = true;
			else if (b > 0x20 && b < 0x7f && !mp->name_ws) {
				if (mp->nname < sizeof(mp->name))
					mp->name[mp->nname] = b;
				if (mp->nname <= sizeof(mp->name))
					mp->nname++;
			} else
				mp->hl = HL_BAD;
			break;
		case HL_VALUE:
			if (mp->field != F_NONE)
				mstr_add_cut(&mp->val, c.p, c.len);
			cur_skip(&c, c.len);
			break;
		case HL_BAD:
			cur_skip(&c, c.len);
			break;
		}
	}
}

/*
 * A piece of a header line (no line end in it). The block cap falls on
 * an exact byte, wherever the input was split.
 */
static void
hdr_data(struct mime_parser *mp, const uint8_t *p, size_t n)
{
	size_t room;

	if (!mp->hover && n > LIMIT_MIME_HEADER_BLOCK - mp->hbytes) {
		room = LIMIT_MIME_HEADER_BLOCK - mp->hbytes;
		mp->hbytes += room;
		hdr_scan(mp, p, room);
		if (!mp->hover)
			hdr_over(mp);
		p += room;
		n -= room;
	}
	mp->hbytes += n;
	hdr_scan(mp, p, n);
}

/* A header line ended. An empty one ends the block (RFC 5322 §2.1). */
static void
hdr_eol(struct mime_parser *mp, unsigned eol)
{
	if (!mp->hover && eol > LIMIT_MIME_HEADER_BLOCK - mp->hbytes)
		hdr_over(mp);
	mp->hbytes += eol;
	switch (mp->hl) {
	case HL_BEGIN:
		hdr_complete(mp, true);
		return;
	case HL_NAME:
	case HL_BAD:
		mp->field = F_NONE;	/* not a field: ignored */
		break;
	case HL_VALUE:
		break;
	}
	mp->hl = HL_BEGIN;
}

static void
hdr_complete(struct mime_parser *mp, bool body)
{
	struct mime_headers *h = &mp->root->res.h;

	field_done(mp);
	if (mp->top) {
		mp->top = false;
		h->complete = body;
		if (h->user_agent == NULL && h->x_mailer != NULL)
			h->user_agent = res_strdup(mp, h->x_mailer);
		if (mp->ent.has_ct)
			h->content_type = res_strdup(mp, mp->ent.ct.valid ?
			    mp->ent.ct.type : "text/plain");
	}
	entity_classify(mp, body);
}

/* ---- the line layer ------------------------------------------------------ */

/* Skip k bytes of input; those after the message's header are its body. */
static void
take(struct mime_parser *mp, struct cur *c, size_t k)
{
	cur_skip(c, k);
	if (!mp->top && mp->depth == 0)
		mp->root->res.body_bytes += k;
}

/* Content of the current line (never a line end) to the current entity. */
static void
deliver(struct mime_parser *mp, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	switch (mp->mode) {
	case MODE_HEADER:
		hdr_data(mp, p, n);
		break;
	case MODE_BODY:
		if (mp->pend_eol > 0) {
			body_feed(mp, eol_bytes + 2 - mp->pend_eol,
			    mp->pend_eol);
			mp->pend_eol = 0;
		}
		body_feed(mp, p, n);
		break;
	case MODE_SKIP:
		break;
	}
}

/* The end of a part: whatever it was reading is complete. */
static void
entity_end(struct mime_parser *mp, bool truncated)
{
	if (mp->mode == MODE_HEADER)
		hdr_complete(mp, false);
	if (mp->mode == MODE_BODY)
		att_end(mp, truncated);
	mp->mode = MODE_SKIP;
}

/*
 * A delimiter line of level i (RFC 2046 §5.1.1): the line end before it
 * belongs to it, so the current part ends without it. A delimiter of an
 * enclosing level closes the inner ones too (RFC 2046 §5.1.2).
 */
static void
delimiter(struct mime_parser *mp, unsigned i, bool close)
{
	mp->pend_eol = 0;
	entity_end(mp, false);
	while (mp->nlv > i + 1) {
		ev(mp, MIME_EV_UNCLOSED_MULTIPART, 1);
		level_pop(mp);
	}
	if (close) {
		level_pop(mp);
		return;		/* the epilogue, skipped */
	}
	if (mp->root->res.parts < UINT32_MAX)
		mp->root->res.parts++;
	if (mp->root->res.parts > LIMIT_MIME_PARTS) {
		ev(mp, MIME_EV_TOO_MANY_PARTS, 1);
		return;
	}
	hdr_begin(mp);
}

/* Advance level l's match with byte b; false when it cannot match. */
static bool
cand_step(struct mp_level *l, uint8_t b)
{
	switch (l->st) {
	case CS_PREFIX:
		if (b != l->delim[l->k])
			break;
		if (++l->k == l->len) {
			l->st = CS_AFTER;
			l->close = false;
		}
		return true;
	case CS_AFTER:
		if (b == '-') {
			l->st = CS_DASH1;
			return true;
		}
		/* FALLTHROUGH */
	case CS_DASH2:
	case CS_WSP:
		if (b == ' ' || b == '\t') {
			l->st = CS_WSP;
			return true;
		}
		if (b == '\r') {
			l->st = CS_CR;
			return true;
		}
		break;
	case CS_DASH1:
		if (b == '-') {
			l->st = CS_DASH2;
			l->close = true;
			return true;
		}
		break;
	case CS_CR:
	case CS_DEAD:
		break;
	}
	l->st = CS_DEAD;
	return false;
}

/* The innermost level whose delimiter the held line is, or -1. */
static int
cand_hit(struct mime_parser *mp)
{
	unsigned i;

	for (i = mp->nlv; i-- > 0;) {
		switch (mp->lv[i].st) {
		case CS_AFTER:
		case CS_DASH2:
		case CS_WSP:
		case CS_CR:
			return (int)i;
		default:
			break;
		}
	}
	return -1;
}

/* The held head is content after all. */
static void
hold_release(struct mime_parser *mp)
{
	size_t n = mp->nhold;

	mp->ls = LS_CONTENT;
	mp->nhold = 0;
	if (n > 0 && mp->hold[n - 1] == '\r') {
		mp->cr = true;
		n--;
	}
	mp->linelen += n;
	deliver(mp, mp->hold, n);
}

/* The held line ended: a delimiter, or content. */
static void
hold_lf(struct mime_parser *mp)
{
	size_t n = mp->nhold;
	unsigned eol = 1;
	int i;

	if (n > 0 && mp->hold[n - 1] == '\r') {
		eol = 2;
		n--;
	}
	mp->nhold = 0;
	if ((i = cand_hit(mp)) < 0) {
		mp->linelen += n;
		deliver(mp, mp->hold, n);
		line_end(mp, eol);
		return;
	}
	if (eol == 1)
		ev(mp, MIME_EV_BARE_LF, 1);
	mp->linelen = 0;
	mp->ls = LS_START;
	delimiter(mp, (unsigned)i, mp->lv[i].close);
}

/* At a line start, or holding a line that may be a delimiter. */
static void
line_head(struct mime_parser *mp, struct cur *c)
{
	unsigned i;
	bool alive;
	uint8_t b;

	if (mp->ls == LS_START) {
		if (mp->nlv == 0 || c->p[0] != '-') {
			mp->ls = LS_CONTENT;
			return;
		}
		for (i = 0; i < mp->nlv; i++) {
			mp->lv[i].st = CS_PREFIX;
			mp->lv[i].k = 0;
		}
		mp->nhold = 0;
		mp->ls = LS_HOLD;
	}
	while (c->len > 0) {
		b = c->p[0];
		take(mp, c, 1);
		if (b == '\n') {
			hold_lf(mp);
			return;
		}
		mp->hold[mp->nhold++] = b;
		alive = false;
		for (i = 0; i < mp->nlv; i++)
			if (mp->lv[i].st != CS_DEAD && cand_step(&mp->lv[i], b))
				alive = true;
		if (!alive || mp->nhold == sizeof(mp->hold)) {
			hold_release(mp);
			return;
		}
	}
}

/* Inside a content line: up to its end, straight through. */
static void
line_content(struct mime_parser *mp, struct cur *c)
{
	const uint8_t *lf;
	size_t k, d;

	if (mp->cr) {
		mp->cr = false;
		if (c->p[0] == '\n') {
			take(mp, c, 1);
			line_end(mp, 2);
			return;
		}
		mp->linelen++;
		deliver(mp, eol_bytes, 1);
	}
	if ((lf = memchr(c->p, '\n', c->len)) == NULL) {
		k = c->len;
		d = k;
		if (c->p[k - 1] == '\r') {
			mp->cr = true;
			d--;
		}
		mp->linelen += d;
		deliver(mp, c->p, d);
		take(mp, c, k);
		return;
	}
	k = (size_t)(lf - c->p);
	d = (k > 0 && c->p[k - 1] == '\r') ? k - 1 : k;
	mp->linelen += d;
	deliver(mp, c->p, d);
	take(mp, c, k + 1);
	line_end(mp, d < k ? 2 : 1);
}

/* After a gap: the rest of the cut line is dropped. */
static void
line_discard(struct mime_parser *mp, struct cur *c)
{
	const uint8_t *lf;

	if ((lf = memchr(c->p, '\n', c->len)) == NULL) {
		take(mp, c, c->len);
		return;
	}
	take(mp, c, (size_t)(lf - c->p) + 1);
	mp->ls = LS_START;
	mp->linelen = 0;
	if (mp->mode == MODE_HEADER)
		mp->hl = HL_BEGIN;
}

/* A content line ended with eol (1: LF, 2: CRLF). */
static void
line_end(struct mime_parser *mp, unsigned eol)
{
	if (mp->linelen > LIMIT_MIME_LINE)
		ev(mp, mp->mode == MODE_HEADER ?
		    MIME_EV_HEADER_LINE_TOO_LONG : MIME_EV_BODY_LINE_TOO_LONG,
		    1);
	mp->linelen = 0;
	if (eol == 1)
		ev(mp, MIME_EV_BARE_LF, 1);
	mp->ls = LS_START;
	switch (mp->mode) {
	case MODE_HEADER:
		hdr_eol(mp, eol);
		break;
	case MODE_BODY:
		/* Held: it belongs to a delimiter if one follows. */
		if (mp->pend_eol > 0)
			body_feed(mp, eol_bytes + 2 - mp->pend_eol,
			    mp->pend_eol);
		mp->pend_eol = eol;
		break;
	case MODE_SKIP:
		break;
	}
}

/* ---- frames -------------------------------------------------------------- */

/*
 * A frame at depth, sharing root's result (root NULL: the frame is the
 * root, and owns the result, the converter and the scratch strings).
 */
static struct mime_parser *
frame_new(struct mime_parser *root, unsigned depth)
{
	struct mime_parser *mp;

	/*
	 * Zero all but the buffers at the end (the delimiter hold, the
	 * sniffed line and the 8 KiB hash staging area): their contents are
	 * only ever read after being written, and zeroing them cost more
	 * than the rest of a message's header parsing.
	 */
	if ((mp = mem_malloc(sizeof(*mp))) == NULL)
		return NULL;
	memset(mp, 0, offsetof(struct mime_parser, hold));
	mp->root = root != NULL ? root : mp;
	mp->depth = depth;
	mp->sink.len = 0;
	mp->sha256 = EVP_MD_CTX_new();
	mp->md5 = EVP_MD_CTX_new();
	if (mp->sha256 == NULL || mp->md5 == NULL) {
		EVP_MD_CTX_free(mp->md5);
		EVP_MD_CTX_free(mp->sha256);
		mem_free(mp);
		return NULL;
	}
	if (root == NULL) {
		mime_conv_init(&mp->conv, mp->res.events);
		mstr_init(&mp->scratch, LIMIT_MIME_STRING);
		mstr_init(&mp->scratch2, LIMIT_MIME_STRING);
	}
	mstr_init(&mp->val, LIMIT_MIME_HEADER_FIELD);
	mime_ctype_init(&mp->ent.ct);
	mime_cdisp_init(&mp->ent.cd);
	mp->sink.fn = hash_sink;
	mp->sink.arg = mp;
	return mp;
}

/* Drop what a frame (and the frames below it) hold for one message. */
static void
frame_clear(struct mime_parser *mp)
{
	for (; mp != NULL; mp = mp->child) {
		while (mp->nlv > 0)
			level_pop(mp);
		mstr_fini(&mp->val);
		mp->desc = false;
	}
}

static void
frame_free(struct mime_parser *mp)
{
	struct mime_parser *next;

	for (; mp != NULL; mp = next) {
		next = mp->child;
		while (mp->nlv > 0)
			level_pop(mp);
		mstr_fini(&mp->val);
		mime_ctype_fini(&mp->ent.ct);
		mime_cdisp_fini(&mp->ent.cd);
		EVP_MD_CTX_free(mp->md5);
		EVP_MD_CTX_free(mp->sha256);
		mem_free(mp);
	}
}

/* Ready for a message: the root's, or one attached (top false). */
static void
frame_reset(struct mime_parser *mp)
{
	frame_clear(mp);
	mp->finished = false;
	mp->top = mp->depth == 0;
	mp->mode = MODE_SKIP;
	mp->ls = LS_START;
	mp->cr = false;
	mp->linelen = 0;
	mp->pend_eol = 0;
	mp->nhold = 0;
	mp->enc = ENC_IDENTITY;
	mp->att = 0;
	mp->md_ok = false;
	mp->sniff = false;
	mp->nsniff = 0;
	mp->sink.len = 0;
	hdr_begin(mp);
}

static void
frame_push(struct mime_parser *mp, const uint8_t *p, size_t n)
{
	struct cur c;

	if (mp->finished || n == 0)
		return;
	c = cur_make(p, n);
	while (c.len > 0) {
		/*
		 * A body we do not keep, and no multipart open whose delimiter
		 * could end it: nothing more can come of this message, so the
		 * rest is counted, not scanned (a one-part text message is the
		 * common case). Decided per line start, so whatever the split
		 * the same lines are looked at.
		 */
		if (mp->mode == MODE_SKIP && mp->nlv == 0 && !mp->top &&
		    mp->ls == LS_START) {
			take(mp, &c, c.len);
			break;
		}
		switch (mp->ls) {
		case LS_CONTENT:
			line_content(mp, &c);
			break;
		case LS_DISCARD:
			line_discard(mp, &c);
			break;
		case LS_START:
		case LS_HOLD:
			line_head(mp, &c);
			break;
		}
	}
}

/*
 * The end of a frame's message: a last line without its line end is
 * taken as it is, open attachments are closed (truncated if cut, or if a
 * multipart was left open around them) and open multiparts counted as
 * unclosed.
 */
static void
frame_finish(struct mime_parser *mp, bool cut)
{
	int i;

	if (mp->finished)
		return;
	if (mp->ls == LS_HOLD) {
		if ((i = cand_hit(mp)) >= 0) {
			mp->nhold = 0;
			mp->linelen = 0;
			delimiter(mp, (unsigned)i, mp->lv[i].close);
		} else
			hold_release(mp);
	}
	if (mp->cr) {
		mp->cr = false;
		mp->linelen++;
		deliver(mp, eol_bytes, 1);
	}
	if (mp->linelen > LIMIT_MIME_LINE)
		ev(mp, mp->mode == MODE_HEADER ?
		    MIME_EV_HEADER_LINE_TOO_LONG : MIME_EV_BODY_LINE_TOO_LONG,
		    1);
	if (mp->mode == MODE_HEADER)
		hdr_complete(mp, false);
	if (mp->mode == MODE_BODY && mp->pend_eol > 0) {
		/* No delimiter follows: the line end is content. */
		body_feed(mp, eol_bytes + 2 - mp->pend_eol, mp->pend_eol);
		mp->pend_eol = 0;
	}
	att_end(mp, cut || mp->nlv > 0);
	while (mp->nlv > 0) {
		ev(mp, MIME_EV_UNCLOSED_MULTIPART, 1);
		level_pop(mp);
	}
	mp->mode = MODE_SKIP;
	mp->finished = true;
}

/* ---- public -------------------------------------------------------------- */

/*
 * A parser ready for a message, or NULL (ENOMEM). The caller owns it and
 * frees it with mime_parser_free().
 */
struct mime_parser *
mime_parser_new(void)
{
	struct mime_parser *mp;

	if ((mp = frame_new(NULL, 0)) == NULL)
		return NULL;
	mime_parser_reset(mp);
	return mp;
}

/* Release the parser and everything it owns, its result included. */
void
mime_parser_free(struct mime_parser *mp)
{
	if (mp == NULL)
		return;
	result_free(&mp->res);
	mem_uncharge(MEM_SESSIONS, mp->charged);
	mstr_fini(&mp->scratch);
	mstr_fini(&mp->scratch2);
	mime_conv_fini(&mp->conv);
	frame_free(mp);
}

/*
 * Start a new message: the previous result and all per-message memory are
 * released (the iconv descriptor cache, digest contexts and the frames for
 * attached messages are kept).
 */
void
mime_parser_reset(struct mime_parser *mp)
{
	result_free(&mp->res);
	mem_uncharge(MEM_SESSIONS, mp->charged);
	frame_reset(mp);
	mp->nlv_all = 0;
	mp->budget = 0;
	mp->held = 0;
	mp->charged = 0;
	mp->cap_att = 0;
	mp->cap_from = 0;
	mp->cap_to = 0;
	mp->cap_cc = 0;
	mp->cap_rcv = 0;
	mp->conv.opens = 0;
	mp->res.parts = 1;		/* the message itself */
}

/*
 * The next n bytes of the message (as the server received it: after
 * dot-unstuffing or BDAT joining), split anywhere. Never fails: anomalies
 * are counted in the result's events. Ignored after mime_parser_finish().
 */
void
mime_parser_push(struct mime_parser *mp, const uint8_t *p, size_t n)
{
	if (mp->finished || n == 0)
		return;
	mp->res.bytes += n;
	frame_push(mp, p, n);
}

/*
 * len bytes of the message are missing. The attachment being read is
 * closed as truncated with what was seen (an attached message being read
 * is ended there, its own attachment truncated too), a header field being
 * read is dropped, and parsing resumes at the next line (a delimiter, for
 * bodies).
 */
void
mime_parser_gap(struct mime_parser *mp, uint64_t len)
{
	if (mp->finished || len == 0)
		return;
	mime_event_add(mp->res.events, MIME_EV_GAP, 1);
	mp->ls = LS_DISCARD;
	mp->cr = false;
	mp->nhold = 0;
	mp->linelen = 0;
	switch (mp->mode) {
	case MODE_HEADER:
		mp->field = F_NONE;
		mstr_clear(&mp->val);
		mp->hl = HL_BAD;
		mp->ent.gapped = true;
		break;
	case MODE_BODY:
		mp->pend_eol = 0;
		att_end(mp, true);
		break;
	case MODE_SKIP:
		break;
	}
	mp->pend_eol = 0;
}

/* The end of the message (see frame_finish). */
void
mime_parser_finish(struct mime_parser *mp)
{
	frame_finish(mp, false);
}

/* The result so far; valid until the next reset or free. */
const struct mime_result *
mime_parser_result(const struct mime_parser *mp)
{
	return &mp->res;
}

/* The event's name (lower case, as in docs/MIME.md); "unknown" if none. */
const char *
mime_event_name(enum mime_event ev)
{
	if ((unsigned)ev >= MIME_EV_MAX)
		return "unknown";
	return event_names[ev];
}
