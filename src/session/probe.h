/*
 * probe.h: is a connection on an unknown port SMTP? (--any-port). Bytes of
 * both directions are buffered, bounded, until the first line of one of
 * them settles it, after any proxy tunnel the client opened first (HTTP
 * CONNECT, SOCKS4, SOCKS4a, SOCKS5). Internal to the session stage.
 */
#ifndef SMTPSNIFF_SESSION_PROBE_H
#define SMTPSNIFF_SESSION_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "smtp/smtp.h"

enum probe_verdict {
	PROBE_MORE,		/* undecided: feed more */
	PROBE_SMTP,		/* replay the buffered bytes, then the rest */
	PROBE_NOT_SMTP,
};

/* Why a probe said no, or what it went through (counters). */
enum probe_count {
	PROBE_CNT_HTTP_TUNNEL,		/* CONNECT tunnels opened */
	PROBE_CNT_SOCKS4_TUNNEL,	/* SOCKS4 and 4a */
	PROBE_CNT_SOCKS5_TUNNEL,
	PROBE_CNT_TUNNEL_REFUSED,	/* the proxy said no */
	PROBE_CNT_FULL,			/* LIMIT_PROBE_BYTES without a verdict */
	PROBE_CNT_TOO_DEEP,		/* past LIMIT_PROBE_TUNNELS */
	PROBE_CNT_MAX
};

struct session_probe;

struct session_probe *session_probe_new(void);
void		 session_probe_free(struct session_probe *);
/*
 * Take the next bytes of one direction. *taken says how many of them the
 * probe holds now: after PROBE_SMTP, the caller replays the held bytes
 * (session_probe_held, in order) and then feeds p + *taken itself.
 */
enum probe_verdict session_probe_feed(struct session_probe *,
		    enum smtp_dir, const uint8_t *p, size_t n, size_t *taken);
/*
 * The held bytes, in the order they came: i = 0 and 1. Returns their
 * length (0: none) with their direction and bytes.
 */
size_t		 session_probe_held(const struct session_probe *, int i,
		    enum smtp_dir *, const uint8_t **);
/* Counters of what this probe met, added into cnt. */
void		 session_probe_count(const struct session_probe *,
		    uint64_t cnt[PROBE_CNT_MAX]);
const char	*session_probe_count_name(enum probe_count);

#endif /* SMTPSNIFF_SESSION_PROBE_H */
