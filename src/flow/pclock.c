/*
 * pclock.c: the packet clock (see pclock.h for the policy). A packet far
 * ahead or behind is "pending": the clock stays, and the flow table
 * stamps its connection with the clock's time. LIMIT_TIME_CONFIRM far
 * packets in a row that agree with each other (within LIMIT_TIME_JUMP_S)
 * make the jump real; one near packet before that makes them strays.
 */
#include <string.h>

#include "flow/pclock.h"

/* Far enough from UINT64_MAX that now + jump_ns never wraps. */
#define PCLOCK_MAX	(UINT64_MAX / 2)

void
pclock_init(struct pclock *c)
{
	memset(c, 0, sizeof(*c));
	c->jump_ns = (uint64_t)LIMIT_TIME_JUMP_S * 1000000000u;
	c->confirm = LIMIT_TIME_CONFIRM;
}

/* The packet's time on the clock's scale (shifted by jumps back). */
static uint64_t
on_scale(const struct pclock *c, uint64_t ts)
{
	uint64_t t;

	/* Saturating: a capture of nonsense times must not wrap. */
	if (__builtin_add_overflow(ts, c->offset, &t) ||
	    t > PCLOCK_MAX)
		t = PCLOCK_MAX;
	return t;
}

/* The far packets held so far were strays. */
static void
drop_pending(struct pclock *c)
{
	if (c->pend_dir > 0)
		c->st.stray_ahead += c->npend;
	else if (c->pend_dir < 0)
		c->st.stray_back += c->npend;
	c->pend_dir = 0;
	c->npend = 0;
}

/* pclock_admit() for every case (the inline one takes the common one). */
enum pclock_verdict
pclock_admit_slow(struct pclock *c, uint64_t ts)
{
	uint64_t t = on_scale(c, ts);
	int dir;

	if (!c->started) {
		c->started = true;
		c->now = t;
		return PCLOCK_OK;
	}
	if (t > c->now + c->jump_ns)
		dir = 1;
	else if (t + c->jump_ns < c->now)
		dir = -1;
	else {
		drop_pending(c);
		if (t > c->now)
			c->now = t;
		return PCLOCK_OK;
	}
	/* Far. Does it agree with the far ones before it? */
	if (c->pend_dir != dir || t > c->pend_last + c->jump_ns ||
	    t + c->jump_ns < c->pend_last) {
		drop_pending(c);
		c->pend_dir = dir;
	}
	c->pend_last = t;
	if (++c->npend < c->confirm)
		return PCLOCK_PENDING;
	if (dir > 0) {
		c->now = t;
		c->st.jumps_ahead++;
	} else {
		/* The clock stays monotonic: packet time is shifted. */
		if (__builtin_add_overflow(c->offset, c->now - t,
		    &c->offset))
			c->offset = PCLOCK_MAX;
		c->st.jumps_back++;
	}
	c->pend_dir = 0;
	c->npend = 0;
	return PCLOCK_JUMPED;
}
