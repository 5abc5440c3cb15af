/*
 * smtp.h: the SMTP session parser, push-style, with no I/O: the two byte
 * streams of a connection go in (smtp_session_feed), events come out
 * (struct smtp_ops). It does the framing: command lines, multi-line
 * replies, DATA with dot-unstuffing, BDAT chunks, AUTH continuation lines
 * (never reported), STARTTLS, and matches replies to commands through a
 * queue of pending commands, so PIPELINING works whatever the packet
 * interleaving. What a transaction means is the record layer's business.
 * References: RFC 5321, RFC 2920 (PIPELINING), RFC 3030 (CHUNKING),
 * RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 2034/3463 (enhanced codes).
 */
#ifndef SMTPSNIFF_SMTP_H
#define SMTPSNIFF_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/span.h"

enum smtp_dir {
	SMTP_C2S = 0,
	SMTP_S2C = 1,
};

enum smtp_cmd_id {
	SMTP_CMD_UNKNOWN = 0,
	SMTP_CMD_HELO,
	SMTP_CMD_EHLO,
	SMTP_CMD_LHLO,
	SMTP_CMD_MAIL,
	SMTP_CMD_RCPT,
	SMTP_CMD_DATA,
	SMTP_CMD_BDAT,
	SMTP_CMD_RSET,
	SMTP_CMD_NOOP,
	SMTP_CMD_VRFY,
	SMTP_CMD_EXPN,
	SMTP_CMD_HELP,
	SMTP_CMD_QUIT,
	SMTP_CMD_STARTTLS,
	SMTP_CMD_AUTH,
	SMTP_CMD_ETRN,
	SMTP_CMD_XCLIENT,
	SMTP_CMD_XFORWARD,
	/* Not sent by the client: what the reply after the message answers. */
	SMTP_CMD_DATA_END,
	SMTP_CMD_MAX
};

/* Extensions the server offered in its EHLO reply (RFC 5321 §4.1.1.1). */
#define SMTP_EXT_PIPELINING	0x0001
#define SMTP_EXT_CHUNKING	0x0002
#define SMTP_EXT_STARTTLS	0x0004
#define SMTP_EXT_AUTH		0x0008
#define SMTP_EXT_SIZE		0x0010
#define SMTP_EXT_8BITMIME	0x0020
#define SMTP_EXT_SMTPUTF8	0x0040
#define SMTP_EXT_DSN		0x0080
#define SMTP_EXT_ENHANCEDSTATUSCODES 0x0100
#define SMTP_EXT_BINARYMIME	0x0200

/*
 * Anomalies, from this parser and from the record layer. Counted, put in
 * the record's "anomalies", never fatal. docs/EVENTS.md lists them.
 */
enum smtp_event {
	SMTP_EV_BARE_LF,		/* line ended by LF alone */
	SMTP_EV_COMMAND_TOO_LONG,	/* past LIMIT_SMTP_LINE */
	SMTP_EV_REPLY_TOO_LONG,
	SMTP_EV_NUL_BYTE,
	SMTP_EV_UNKNOWN_COMMAND,
	SMTP_EV_INVALID_REPLY,		/* a server line that is no reply */
	SMTP_EV_UNEXPECTED_REPLY,	/* a reply with no command pending */
	SMTP_EV_REPLY_CODE_MISMATCH,	/* multi-line reply, codes differ */
	SMTP_EV_PIPELINING_WITHOUT_EXT,
	SMTP_EV_PENDING_OVERFLOW,	/* more than LIMIT_SMTP_PENDING */
	SMTP_EV_INVALID_BDAT,
	SMTP_EV_BDAT_SIZE_MISMATCH,	/* no command after a chunk */
	SMTP_EV_SMUGGLING_DOT,		/* <LF>.<CR><LF> and kin */
	SMTP_EV_REPLY_DURING_DATA,
	SMTP_EV_STARTTLS_PIPELINED,	/* data after STARTTLS before 220 */
	SMTP_EV_DATA_WITHOUT_WAIT,	/* message sent before the 354 */
	SMTP_EV_OUT_OF_SEQUENCE,	/* RCPT before MAIL, DATA without RCPT */
	SMTP_EV_TOO_MANY_RECIPIENTS,	/* past LIMIT_SMTP_RCPT: not kept */
	SMTP_EV_GAP,			/* bytes missing in either direction */
	SMTP_EV_AUTH_FAILED,
	SMTP_EV_STARTTLS_NOT_TLS,	/* STARTTLS got 220, then clear text */
	SMTP_EV_AUTH_MECHS_TOO_LONG,	/* past LIMIT_SMTP_AUTH_MECHS */
	SMTP_EV_AUTH_RESPONSE_TOO_LONG,	/* past LIMIT_SMTP_AUTH_RESPONSE */
	SMTP_EV_MAX
};

struct smtp_cmd {
	enum smtp_cmd_id id;
	struct span	 verb;		/* as sent */
	struct span	 arg;		/* after the verb, trimmed */
	/* MAIL/RCPT: the path between < and > (or bare), and parameters. */
	struct span	 path;
	struct span	 params;
	bool		 path_ok;	/* FROM:/TO: and a path were found */
	bool		 path_bracketed; /* written <path>, as RFC 5321 asks */
	/* BDAT: RFC 3030 §2 */
	uint64_t	 bdat_size;
	bool		 bdat_last;
	bool		 bdat_ok;
	/* AUTH: the mechanism; the initial response is never exposed. */
	struct span	 auth_mech;
	bool		 pipelined;	/* sent while others were pending */
	uint32_t	 seq;		/* 0, 1, ... per session: ties replies */
	uint64_t	 ts;		/* when it was sent (packet time) */
};

struct smtp_reply {
	uint16_t	 code;		/* 0 when unknown */
	struct span	 first;		/* the first line, CRLF stripped */
	struct span	 line;		/* the last line, CRLF stripped */
	struct span	 text;		/* its text after "ddd " */
	struct span	 enhanced;	/* "2.1.5", or empty */
	unsigned	 nlines;
	/* For an EHLO reply: */
	uint32_t	 ext;		/* SMTP_EXT_* */
	struct span	 auth_mechs;	/* "PLAIN LOGIN", the last AUTH line */
};

struct smtp_ops {
	/* A command line (all but AUTH continuations), when it is sent. */
	void	(*on_cmd)(void *arg, const struct smtp_cmd *);
	/*
	 * A complete reply and the command it answers (NULL: the greeting,
	 * or a reply nothing was waiting for). 334 to AUTH is intermediate
	 * and reported with the AUTH command too.
	 */
	void	(*on_reply)(void *arg, const struct smtp_cmd *,
		    const struct smtp_reply *);
	/* Message bytes as the server receives them (unstuffed, chunks). */
	void	(*on_data)(void *arg, const uint8_t *, size_t);
	/* The client finished the message (final dot, or BDAT LAST done). */
	void	(*on_data_end)(void *arg);
	/*
	 * The session is encrypted from here on; nothing more is parsed.
	 * Called once the client's first bytes after STARTTLS's 220 are a
	 * TLS record (or the connection ends before they came), not at the
	 * 220: bytes that are no TLS record are parsed as clear text, with
	 * SMTP_EV_STARTTLS_NOT_TLS.
	 */
	void	(*on_tls)(void *arg);
	void	(*on_gap)(void *arg, enum smtp_dir, uint64_t len);
	void	(*on_event)(void *arg, enum smtp_event, enum smtp_dir);
	/*
	 * The user name of an AUTH PLAIN, LOGIN or CRAM-MD5 exchange, when
	 * this callback is set (else the responses are not even decoded).
	 * The password is decoded only inside the parser, in a buffer that
	 * is wiped at once; it is never handed out.
	 */
	void	(*on_auth_user)(void *arg, struct span user);
};

struct smtp_session;

struct smtp_session *smtp_session_new(const struct smtp_ops *, void *arg);
void		 smtp_session_free(struct smtp_session *);
/* Feed the next bytes of one direction; all of them are consumed. */
void		 smtp_session_feed(struct smtp_session *, enum smtp_dir,
		    const uint8_t *, size_t);
void		 smtp_session_gap(struct smtp_session *, enum smtp_dir,
		    uint64_t len);
/* The connection ended: pending partial lines are processed. */
void		 smtp_session_end(struct smtp_session *);
/* The time to stamp commands with (packet time, ns). */
void		 smtp_session_set_time(struct smtp_session *, uint64_t ts);
bool		 smtp_session_is_tls(const struct smtp_session *);
/*
 * Nothing more will be parsed: QUIT was answered 221, or the session is
 * known to be TLS (see on_tls). Not yet after STARTTLS's 220 alone.
 */
bool		 smtp_session_is_over(const struct smtp_session *);
/* True once the server direction has sent anything. */
bool		 smtp_session_server_seen(const struct smtp_session *);
uint32_t	 smtp_session_ext(const struct smtp_session *);

const char	*smtp_event_name(enum smtp_event);
const char	*smtp_cmd_name(enum smtp_cmd_id);

/*
 * Does this look like the start of SMTP? Used with --any-port: a server
 * greeting "220" or a client EHLO/HELO. dir is who sent the bytes.
 */
bool		 smtp_looks_like(enum smtp_dir, const uint8_t *, size_t);

#endif /* SMTPSNIFF_SMTP_H */
