/*
 * probe.c: the --any-port probe. SMTP is told by its first line, not by
 * the first segment: a banner sent one byte at a time is still a banner.
 * - The server's first line decides: a 220 greeting, or 554 (RFC 5321
 *   §3.1: "no SMTP service here", still SMTP) is SMTP; any other line is
 *   not.
 * - A client that speaks first (worms do, before the greeting): EHLO or
 *   HELO is SMTP; another SMTP verb waits for the server's line; anything
 *   else is not SMTP.
 * - Before the server has said anything, the client may open a proxy
 *   tunnel, then probed again inside: HTTP CONNECT (RFC 9110 §9.3.6, the
 *   proxy's 2xx then an empty line), SOCKS4 and 4a (de-facto spec:
 *   openssh-portable's socks.c documents it), SOCKS5 (RFC 1928, with
 *   RFC 1929 user/password). A refusing proxy ends the probe.
 * Bytes are held, LIMIT_PROBE_BYTES per direction, until a verdict; with
 * no verdict by then the connection is not SMTP (counted).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/ascii.h"
#include "common/cur.h"
#include "common/mem.h"
#include "common/limits.h"
#include "common/span.h"
#include "session/probe.h"

enum tunnel {
	TUN_NONE,
	TUN_HTTP,
	TUN_SOCKS4,
	TUN_SOCKS5,
};

enum step {
	STEP_WAIT,		/* a message is not whole yet */
	STEP_PROGRESS,		/* one was taken */
	STEP_FAIL,		/* not what a tunnel sends */
	STEP_REFUSED,		/* the proxy said no */
};

#define SOCKS5_NO_AUTH		0x00
#define SOCKS5_USER_PASS	0x02	/* RFC 1929 */
#define METHOD_UNKNOWN		(-1)

struct session_probe {
	uint8_t		buf[2][LIMIT_PROBE_BYTES];
	size_t		len[2];
	int		first;		/* direction of the oldest byte, or -1 */
	enum tunnel	tun;
	uint8_t		step[2];	/* messages taken in the handshake */
	bool		done[2];	/* this side's handshake is over */
	int		method;		/* SOCKS5's chosen method */
	unsigned	ntunnels;
	uint64_t	cnt[PROBE_CNT_MAX];
};

struct session_probe *
session_probe_new(void)
{
	struct session_probe *pr;

	if ((pr = mem_calloc(1, sizeof(*pr))) == NULL)
		return NULL;
	pr->first = -1;
	pr->method = METHOD_UNKNOWN;
	return pr;
}

void
session_probe_free(struct session_probe *pr)
{
	mem_free(pr);
}

/* Byte i of s, or -1 past its end (through the cursor). */
static int
span_at(struct span s, size_t i)
{
	struct cur c = cur_make(s.p, s.len);

	return cur_peek_at(&c, i);
}

/* Drop the n oldest held bytes of direction d. */
static void
consume(struct session_probe *pr, int d, size_t n)
{
	memmove(pr->buf[d], pr->buf[d] + n, pr->len[d] - n);
	pr->len[d] -= n;
	if (pr->len[d] == 0 && pr->first == d)
		pr->first = pr->len[!d] > 0 ? !d : -1;
}

/* The first line held in direction d (without CR LF), if whole. */
static bool
first_line(const struct session_probe *pr, int d, struct span *line,
    size_t *used)
{
	struct cur c = cur_make(pr->buf[d], pr->len[d]);
	bool crlf;

	if (!cur_line(&c, line, &crlf))
		return false;
	*used = pr->len[d] - c.len;
	return true;
}

/* A reply line's code (RFC 5321 §4.2: 3 digits, then SP, "-" or end). */
static int
reply_code(struct span line)
{
	struct cur c = cur_make(line.p, line.len);
	int code = 0, i;
	uint8_t b;

	for (i = 0; i < 3; i++) {
		b = cur_u8(&c);
		if (c.err || !ascii_isdigit(b))
			return -1;
		code = code * 10 + (b - '0');
	}
	if (cur_has(&c, 1)) {
		b = cur_u8(&c);
		if (b != ' ' && b != '-')
			return -1;
	}
	return code;
}

/* Whether a client line starts with an SMTP verb other than HELO/EHLO. */
static bool
other_smtp_verb(struct span line)
{
	static const char *const verbs[] = {
		"MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT",
		"VRFY", "EXPN", "HELP", "AUTH", "STARTTLS",
	};
	size_t i, n;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		n = strlen(verbs[i]);
		if (line.len >= n && ascii_casecmp(line.p,
		    (const uint8_t *)verbs[i], n) == 0 &&
		    (line.len == n || span_at(line, n) == ' '))
			return true;
	}
	return false;
}

/*
 * No tunnel in progress: decide on the first lines, or start a tunnel.
 * Returns PROBE_MORE with *progress set when a tunnel began.
 */
static enum probe_verdict
classify(struct session_probe *pr, bool *progress)
{
	static const char connect[] = "CONNECT ";
	struct span line;
	size_t used, n;
	int code;
	int b;

	*progress = false;
	if (pr->len[SMTP_S2C] > 0) {
		if (!first_line(pr, SMTP_S2C, &line, &used))
			goto client;
		code = reply_code(line);
		return code == 220 || code == 554 ? PROBE_SMTP :
		    PROBE_NOT_SMTP;
	}
	/* The server has said nothing yet: the client may open a tunnel. */
	if (pr->len[SMTP_C2S] == 0)
		return PROBE_MORE;
	b = span_at((struct span){ pr->buf[SMTP_C2S], pr->len[SMTP_C2S] },
	    0);
	if (b == 0x04 || b == 0x05) {	/* a SOCKS version */
		pr->tun = b == 0x04 ? TUN_SOCKS4 : TUN_SOCKS5;
		goto tunnel;
	}
	n = pr->len[SMTP_C2S] < 8 ? pr->len[SMTP_C2S] : 8;
	if (memcmp(pr->buf[SMTP_C2S], connect, n) == 0) {
		if (n < 8)
			return PROBE_MORE;
		pr->tun = TUN_HTTP;
		goto tunnel;
	}
client:
	if (!first_line(pr, SMTP_C2S, &line, &used))
		return PROBE_MORE;
	if (smtp_looks_like(SMTP_C2S, line.p, line.len))
		return PROBE_SMTP;
	/* A client early with MAIL: the server's greeting will tell. */
	return other_smtp_verb(line) ? PROBE_MORE : PROBE_NOT_SMTP;
tunnel:
	if (++pr->ntunnels > LIMIT_PROBE_TUNNELS) {
		pr->cnt[PROBE_CNT_TOO_DEEP]++;
		return PROBE_NOT_SMTP;
	}
	pr->step[0] = pr->step[1] = 0;
	pr->done[0] = pr->done[1] = false;
	pr->method = METHOD_UNKNOWN;
	*progress = true;
	return PROBE_MORE;
}

/* HTTP: the request or the answer, line by line to the empty line. */
static enum step
http_step(struct session_probe *pr, int d)
{
	struct span line;
	size_t used;
	int code;

	if (!first_line(pr, d, &line, &used))
		return STEP_WAIT;
	if (d == SMTP_S2C && pr->step[d] == 0) {
		/* "HTTP/1.1 200 Connection established" */
		if (line.len < 12 || memcmp(line.p, "HTTP/", 5) != 0)
			return STEP_FAIL;
		code = reply_code((struct span){ line.p + 9, line.len - 9 });
		if (span_at(line, 8) != ' ' || code < 0)
			return STEP_FAIL;
		if (code < 200 || code > 299)
			return STEP_REFUSED;
	}
	pr->step[d]++;
	if (line.len == 0 && pr->step[d] > 1)
		pr->done[d] = true;
	consume(pr, d, used);
	return STEP_PROGRESS;
}

/* Skip a NUL-terminated string; false if its NUL is not here yet. */
static bool
skip_cstring(struct cur *c)
{
	size_t k = cur_find(c, '\0');

	if (c->err || k == c->len) {
		c->err = true;
		return false;
	}
	return cur_skip(c, k + 1);
}

/* SOCKS4: VN CD DSTPORT DSTIP USERID NUL [DOMAIN NUL]; answer 0 0x5A ... */
static enum step
socks4_step(struct session_probe *pr, int d)
{
	struct cur c = cur_make(pr->buf[d], pr->len[d]);
	uint32_t ip;
	uint8_t cd;

	if (d == SMTP_C2S) {
		cur_u8(&c);
		cd = cur_u8(&c);
		cur_be16(&c);
		ip = cur_be32(&c);
		if (!c.err && cd != 0x01)	/* only CONNECT carries SMTP */
			return STEP_FAIL;
		skip_cstring(&c);
		/* SOCKS4a: 0.0.0.x (x != 0) means a domain name follows. */
		if (!c.err && ip != 0 && ip <= 0xff)
			skip_cstring(&c);
	} else {
		if (cur_u8(&c) != 0 && !c.err)
			return STEP_FAIL;
		cd = cur_u8(&c);
		cur_skip(&c, 6);
		if (!c.err && cd != 0x5a)
			return STEP_REFUSED;
	}
	if (c.err)
		return STEP_WAIT;
	consume(pr, d, pr->len[d] - c.len);
	pr->done[d] = true;
	return STEP_PROGRESS;
}

/* An RFC 1928 §4/§6 address: ATYP, then the address, then the port. */
static void
socks5_addr(struct cur *c, bool *bad)
{
	switch (cur_u8(c)) {
	case 0x01:
		cur_skip(c, 4);
		break;
	case 0x03:
		cur_skip(c, cur_u8(c));
		break;
	case 0x04:
		cur_skip(c, 16);
		break;
	default:
		if (!c->err)
			*bad = true;
	}
	cur_be16(c);
}

/*
 * SOCKS5 (RFC 1928): method offer and choice, RFC 1929 user/password if
 * chosen, then CONNECT and its reply. Other methods (GSSAPI) may wrap the
 * data: such a tunnel is not followed.
 */
static enum step
socks5_step(struct session_probe *pr, int d)
{
	struct cur c = cur_make(pr->buf[d], pr->len[d]);
	bool bad = false;
	uint8_t v, b;

	if (d == SMTP_C2S) {
		switch (pr->step[d]) {
		case 0:			/* VER NMETHODS METHODS */
			v = cur_u8(&c);
			b = cur_u8(&c);
			cur_skip(&c, b);
			bad = !c.err && (v != 5 || b == 0);
			break;
		case 1:			/* the chosen method's exchange */
			if (pr->method == METHOD_UNKNOWN)
				return STEP_WAIT;
			if (pr->method == SOCKS5_USER_PASS) {
				v = cur_u8(&c);
				cur_skip(&c, cur_u8(&c));
				cur_skip(&c, cur_u8(&c));
				bad = !c.err && v != 1;
			}
			break;
		default:		/* VER CMD RSV ADDR PORT */
			v = cur_u8(&c);
			b = cur_u8(&c);
			cur_u8(&c);
			socks5_addr(&c, &bad);
			bad |= !c.err && (v != 5 || b != 0x01);
			break;
		}
	} else {
		switch (pr->step[d]) {
		case 0:			/* VER METHOD */
			v = cur_u8(&c);
			b = cur_u8(&c);
			if (c.err)
				break;
			if (v != 5)
				return STEP_FAIL;
			if (b == 0xff)
				return STEP_REFUSED;
			if (b != SOCKS5_NO_AUTH && b != SOCKS5_USER_PASS)
				return STEP_FAIL;
			pr->method = b;
			break;
		case 1:			/* RFC 1929 §2: VER STATUS */
			if (pr->method == SOCKS5_USER_PASS) {
				cur_u8(&c);
				if (cur_u8(&c) != 0 && !c.err)
					return STEP_REFUSED;
			}
			break;
		default:		/* VER REP RSV ADDR PORT */
			v = cur_u8(&c);
			b = cur_u8(&c);
			cur_u8(&c);
			socks5_addr(&c, &bad);
			if (!c.err && !bad && v == 5 && b != 0)
				return STEP_REFUSED;
			bad |= !c.err && v != 5;
			break;
		}
	}
	if (bad)
		return STEP_FAIL;
	if (c.err)
		return STEP_WAIT;
	consume(pr, d, pr->len[d] - c.len);
	if (++pr->step[d] == 3)
		pr->done[d] = true;
	return STEP_PROGRESS;
}

static enum step
tunnel_step(struct session_probe *pr, int d)
{
	if (pr->done[d])
		return STEP_WAIT;
	switch (pr->tun) {
	case TUN_HTTP:
		return http_step(pr, d);
	case TUN_SOCKS4:
		return socks4_step(pr, d);
	case TUN_SOCKS5:
		return socks5_step(pr, d);
	default:
		return STEP_FAIL;
	}
}

/* Take what the held bytes allow: a verdict, or PROBE_MORE. */
static enum probe_verdict
advance(struct session_probe *pr)
{
	static const enum probe_count opened[] = {
		[TUN_HTTP] = PROBE_CNT_HTTP_TUNNEL,
		[TUN_SOCKS4] = PROBE_CNT_SOCKS4_TUNNEL,
		[TUN_SOCKS5] = PROBE_CNT_SOCKS5_TUNNEL,
	};
	enum probe_verdict v;
	enum step s;
	bool progress;
	int d;

	for (;;) {
		if (pr->tun == TUN_NONE) {
			v = classify(pr, &progress);
			if (v != PROBE_MORE || !progress)
				return v;
			continue;
		}
		progress = false;
		for (d = 0; d < 2; d++) {
			while ((s = tunnel_step(pr, d)) == STEP_PROGRESS)
				progress = true;
			if (s == STEP_REFUSED)
				pr->cnt[PROBE_CNT_TUNNEL_REFUSED]++;
			if (s == STEP_REFUSED || s == STEP_FAIL)
				return PROBE_NOT_SMTP;
		}
		if (pr->done[0] && pr->done[1]) {
			pr->cnt[opened[pr->tun]]++;
			pr->tun = TUN_NONE;	/* open: probe what is inside */
			continue;
		}
		if (!progress)
			return PROBE_MORE;
	}
}

enum probe_verdict
session_probe_feed(struct session_probe *pr, enum smtp_dir dir,
    const uint8_t *p, size_t n, size_t *taken)
{
	enum probe_verdict v;
	size_t k;
	int d = dir;

	*taken = 0;
	for (;;) {
		k = LIMIT_PROBE_BYTES - pr->len[d];
		if (k > n - *taken)
			k = n - *taken;
		if (k > 0) {
			memcpy(pr->buf[d] + pr->len[d], p + *taken, k);
			pr->len[d] += k;
			*taken += k;
			if (pr->first == -1)
				pr->first = d;
		}
		if ((v = advance(pr)) != PROBE_MORE)
			return v;
		if (*taken == n)
			return PROBE_MORE;
		if (pr->len[d] == LIMIT_PROBE_BYTES) {
			pr->cnt[PROBE_CNT_FULL]++;
			return PROBE_NOT_SMTP;
		}
	}
}

size_t
session_probe_held(const struct session_probe *pr, int i, enum smtp_dir *d,
    const uint8_t **p)
{
	int which;

	*d = SMTP_C2S;
	*p = NULL;
	if (pr->first == -1)
		return 0;
	which = i == 0 ? pr->first : !pr->first;
	*d = (enum smtp_dir)which;
	*p = pr->buf[which];
	return pr->len[which];
}

void
session_probe_count(const struct session_probe *pr,
    uint64_t cnt[PROBE_CNT_MAX])
{
	int i;

	for (i = 0; i < PROBE_CNT_MAX; i++)
		cnt[i] += pr->cnt[i];
}

const char *
session_probe_count_name(enum probe_count c)
{
	static const char *const names[PROBE_CNT_MAX] = {
		[PROBE_CNT_HTTP_TUNNEL] = "http_tunnels",
		[PROBE_CNT_SOCKS4_TUNNEL] = "socks4_tunnels",
		[PROBE_CNT_SOCKS5_TUNNEL] = "socks5_tunnels",
		[PROBE_CNT_TUNNEL_REFUSED] = "tunnels_refused",
		[PROBE_CNT_FULL] = "probe_full",
		[PROBE_CNT_TOO_DEEP] = "tunnels_too_deep",
	};

	return (unsigned)c < PROBE_CNT_MAX ? names[c] : "unknown";
}
