/*
 * record.h: SMTP transactions as records (DESIGN.md, "The transaction
 * record"). A record session consumes the events of one SMTP session
 * parser, feeds each message to its own MIME parser, and hands every
 * finished transaction to the sinks, in order, numbered by trans_depth.
 * A transaction is finished when the server answered the end of its data,
 * or it was rejected, aborted, or its connection ended or timed out.
 */
#ifndef SMTPSNIFF_RECORD_H
#define SMTPSNIFF_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"
#include "mime/mime.h"
#include "smtp/smtp.h"

enum record_status {
	RECORD_ACCEPTED,	/* end of data answered 2xx */
	RECORD_REJECTED,	/* MAIL, every RCPT, DATA or the data refused */
	RECORD_ABORTED,		/* envelope accepted, then RSET/QUIT/EHLO/end */
	RECORD_TLS,		/* STARTTLS answered 220 */
	RECORD_INCOMPLETE,	/* a gap, a timeout or a missing side hid it */
};

enum record_auth {
	RECORD_AUTH_NONE,	/* no AUTH seen */
	RECORD_AUTH_SUCCESS,	/* 235 */
	RECORD_AUTH_FAILURE,	/* 4xx/5xx */
	RECORD_AUTH_UNKNOWN,	/* no final reply seen */
};

struct record_endpoint {
	uint8_t		 af;		/* 4 or 6 */
	uint8_t		 ip[16];
	uint16_t	 port;
};

/* What the connection is; set by whoever creates the session. */
struct record_conn {
	char			 uid[24];
	struct record_endpoint	 client;
	struct record_endpoint	 server;
	uint16_t		 vlan[LIMIT_VLAN_TAGS];
	uint8_t			 nvlan;
	uint64_t		 ts_first;
};

struct record_rcpt {
	char		*addr;		/* as sent, between < and > */
	bool		 bracketed;	/* it was written <addr> */
	uint16_t	 code;		/* 0: no reply seen */
	char		 enhanced[16];	/* "5.1.1", or "" */
	uint32_t	 seq;
};

/* A finished transaction, lent to the sinks for the callback's time. */
struct record {
	const struct record_conn *conn;
	uint64_t		 ts;		/* its first command */
	unsigned		 trans_depth;
	const char		*banner;	/* NULL if not seen */
	const char		*helo;
	bool			 tls;
	const char		*auth_mech;	/* NULL if no AUTH */
	const char		*auth_user;	/* only if configured, else NULL */
	enum record_auth	 auth;
	unsigned		 auth_attempts;
	uint32_t		 ext;		/* SMTP_EXT_* offered */
	bool			 has_mail;
	const char		*mail_from;	/* "" is the null sender */
	bool			 mail_bracketed;
	const char		*mail_params;
	uint16_t		 mail_code;
	const struct record_rcpt *rcpt;
	size_t			 nrcpt;
	uint64_t		 rcpt_dropped;	/* past LIMIT_SMTP_RCPT */
	enum record_status	 status;
	const char		*last_reply;	/* NULL if none */
	/* For the Zeek sink: the session's last reply of any kind, and
	 * Zeek's depth (end-of-data replies seen before, plus one). */
	const char		*session_last_reply;
	unsigned		 zeek_depth;
	bool			 has_message;	/* DATA/BDAT content seen */
	bool			 size_known;
	uint64_t		 size;
	bool			 bdat;
	const struct mime_result *mime;		/* NULL without a message */
	uint32_t		 events[SMTP_EV_MAX];
};

struct record_ops {
	void	(*on_record)(void *arg, const struct record *);
};

/* What the operator asked for; all off by default. */
struct record_config {
	bool	auth_user;	/* keep AUTH user names (never passwords) */
};

struct record_session;

struct record_session *record_session_new(const struct record_conn *,
		    const struct record_config *, const struct record_ops *,
		    void *arg);
/* Finish what is open (why: the flow's end) and free everything. */
void		 record_session_end(struct record_session *, bool timed_out);
void		 record_session_free(struct record_session *);
/* Feed one direction (the flow layer's on_data) at packet time ts. */
void		 record_session_feed(struct record_session *, enum smtp_dir,
		    const uint8_t *, size_t, uint64_t ts);
void		 record_session_gap(struct record_session *, enum smtp_dir,
		    uint64_t len);
unsigned	 record_session_count(const struct record_session *);

/* The session as a whole (for the sessions table). Valid until freed. */
struct record_session_info {
	const char	*banner;
	const char	*helo;
	uint32_t	 ext;
	bool		 tls;
	const char	*auth_mech;
	enum record_auth auth;
	unsigned	 transactions;
	uint32_t	 events[SMTP_EV_MAX];	/* all of the session's */
};
void		 record_session_get_info(const struct record_session *,
		    struct record_session_info *);
/* The SMTP session is over (QUIT answered, or TLS): it may be ended now. */
bool		 record_session_is_over(const struct record_session *);
/* A transaction is open (begun, not yet handed over): mail in flight. */
bool		 record_session_has_mail(const struct record_session *);

/*
 * A session as a whole (the databases' sessions row), made when its
 * connection ends. The strings are borrowed for the callback's time.
 */
struct record_summary {
	const struct record_conn *conn;
	uint64_t	 ts_last;
	const char	*banner;
	const char	*helo;
	uint32_t	 ext;		/* SMTP_EXT_* offered */
	bool		 tls;
	const char	*auth_mech;
	const char	*auth_result;	/* NULL without AUTH */
	unsigned	 transactions;
	const char	*end_state;	/* the flow's: closed, reset, ... */
	uint64_t	 gaps;
	uint64_t	 gap_bytes;
	uint32_t	 events[SMTP_EV_MAX];
};

/*
 * A record or summary copied into one block that owns every string and
 * array (clone.c): the size to allocate (max_align_t-aligned), then the
 * copy, which points into the block. For records that cross threads.
 */
size_t		 record_flat_size(const struct record *);
const struct record *record_flatten(const struct record *, void *block);
size_t		 record_summary_flat_size(const struct record_summary *);
const struct record_summary *record_summary_flatten(
		    const struct record_summary *, void *block);

const char	*record_status_name(enum record_status);
struct dbuf;
int		 record_anomalies_json(struct dbuf *, const uint32_t *events,
		    const struct mime_result *);
const char	*record_auth_name(enum record_auth);
/*
 * JSON arrays of a header's bare addresses (items without one left out),
 * and of a header's strings: the records' lists and the databases' list
 * columns are the same text.
 */
void		 record_addrs_json(struct dbuf *, const struct mime_addr_list *);
void		 record_strs_json(struct dbuf *, const struct mime_str_list *);

#endif /* SMTPSNIFF_RECORD_H */
