/*
 * session.h: the session stage, the one place that turns flows into SMTP
 * sessions. It decides which connections are SMTP (by server port, or by
 * probing their first bytes with --any-port, through proxy tunnels), gives
 * each session its uid, feeds its bytes and gaps to a record session, and
 * ends it with its connection. `read` (and live capture) register its
 * flow ops with the flow table and only wire its output to the sinks, so
 * the on-line and off-line paths cannot drift apart.
 */
#ifndef SMTPSNIFF_SESSION_H
#define SMTPSNIFF_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/flow.h"
#include "record/record.h"
#include "session/probe.h"

struct session_config {
	const uint16_t	*ports;		/* SMTP server ports */
	size_t		 nports;
	bool		 any_port;	/* probe the other connections */
	struct record_config rcfg;
};

/* What comes out, in order: records as they finish, a summary per end. */
struct session_ops {
	void	(*on_record)(void *arg, const struct record *);
	void	(*on_summary)(void *arg, const struct record_summary *);
};

struct session_stats {
	uint64_t	sessions;	/* SMTP sessions started */
	uint64_t	probed;		/* connections probed (--any-port) */
	uint64_t	probe_not_smtp;	/* probed and found not SMTP */
	uint64_t	probe_gaps;	/* probing ended by a hole */
	uint64_t	probe[PROBE_CNT_MAX];	/* tunnels, caps hit */
	uint64_t	records;
	uint64_t	status[RECORD_INCOMPLETE + 1];
	/* Every session's anomalies, also those outside a transaction. */
	uint64_t	events[SMTP_EV_MAX];
	uint64_t	mime_events[MIME_EV_MAX];
	uint64_t	attachments;
	uint64_t	alloc_failures;	/* sessions not followed: no memory */
};

struct session_stage;

struct session_stage *session_stage_new(const struct session_config *,
		    const struct session_ops *, void *arg);
void		 session_stage_free(struct session_stage *);
/* The flow ops to create the flow table with, its arg being the stage. */
const struct flow_ops *session_stage_flow_ops(void);
const struct session_stats *session_stage_get_stats(
		    const struct session_stage *);
/* The session id of a connection: its endpoints, VLANs and first time. */
void		 session_make_uid(const struct flow_info *, char out[24]);

#endif /* SMTPSNIFF_SESSION_H */
