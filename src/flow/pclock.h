/*
 * pclock.h: the packet clock. Time inside smtpsniff is the packets' time,
 * but one packet must not carry it for everyone: a packet dated far from
 * "now" (LIMIT_TIME_JUMP_S) moves the clock only when the packets after
 * it agree (LIMIT_TIME_CONFIRM of them in a row): a real jump, as between
 * files read as one capture days apart, or a capture host's clock that
 * was set back. If time comes back first, the far ones were strays: the
 * clock never moved for them, and they are counted. The clock is
 * monotonic: a confirmed jump back shifts the packets' time onto it.
 */
#ifndef SMTPSNIFF_FLOW_PCLOCK_H
#define SMTPSNIFF_FLOW_PCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/limits.h"

enum pclock_verdict {
	PCLOCK_OK,		/* near now: the clock follows it */
	PCLOCK_PENDING,		/* far: held back until others agree */
	PCLOCK_JUMPED,		/* others agreed: the clock jumped */
};

struct pclock_stats {
	uint64_t	jumps_ahead;	/* confirmed jumps forward */
	uint64_t	jumps_back;	/* confirmed jumps back */
	uint64_t	stray_ahead;	/* packets far ahead, then time came back */
	uint64_t	stray_back;	/* packets far behind, likewise */
};

struct pclock {
	uint64_t	now;		/* ns, never goes back */
	uint64_t	offset;		/* added to packet time (jumps back) */
	bool		started;
	int		pend_dir;	/* +1 ahead, -1 behind, 0 none */
	uint64_t	pend_last;	/* the last far packet, clock time */
	unsigned	npend;
	uint64_t	jump_ns;	/* LIMIT_TIME_JUMP_S, in ns */
	unsigned	confirm;	/* LIMIT_TIME_CONFIRM */
	struct pclock_stats st;
};

void		pclock_init(struct pclock *);
enum pclock_verdict pclock_admit_slow(struct pclock *, uint64_t ts);

/*
 * Admit one packet's time (ns since 1970); the clock is c->now after.
 * Inline for the common case: no jump back so far, nothing pending, and
 * the time within LIMIT_TIME_JUMP_S of the clock.
 */
static inline enum pclock_verdict
pclock_admit(struct pclock *c, uint64_t ts)
{
	if (c->offset == 0 && c->npend == 0 && c->started) {
		if (ts >= c->now && ts - c->now <= c->jump_ns) {
			c->now = ts;
			return PCLOCK_OK;
		}
		if (ts < c->now && c->now - ts <= c->jump_ns)
			return PCLOCK_OK;
	}
	return pclock_admit_slow(c, ts);
}

#endif /* SMTPSNIFF_FLOW_PCLOCK_H */
