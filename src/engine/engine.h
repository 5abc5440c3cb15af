/*
 * engine.h: the packets-to-records pipeline on one or several cores.
 *
 * A worker owns a flow table and a session stage (src/session/); flows are
 * spread over the workers by a symmetric, keyed hash of their addresses
 * and ports, so both directions of a connection meet in one worker. The
 * records and session summaries of all workers come out as ONE stream
 * ordered by the packet time at which each was finished: a bounded
 * reorder window holds a record until every worker's clock has passed
 * its time. Detection downstream sees one time-ordered stream whatever
 * the number of workers.
 *
 * Off-line (engine_packet): the caller's thread reads and decodes (so IP
 * fragments are put together before the hash) and hands each TCP segment
 * to its worker in batches. One worker runs inline, with no thread.
 * Live (engine_config.sources): each worker reads its own capture handle,
 * on which the kernel did the fan-out (PACKET_FANOUT, hash with defrag).
 *
 * Ties (records finished at the same packet time in different workers)
 * come out in worker order: the order is by time, not canonical within a
 * tick. Compare record sets, not files, across thread counts.
 */
#ifndef SMTPSNIFF_ENGINE_H
#define SMTPSNIFF_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "capture/live.h"
#include "decode/decode.h"
#include "flow/flow.h"
#include "session/session.h"

struct engine_config {
	unsigned		 nworkers;	/* 1..LIMIT_WORKERS */
	struct flow_config	 flow;
	struct decode_config	 decode;
	struct session_config	 session;
	/* Live: one open handle per worker; NULL: fed by engine_packet. */
	struct capture_live	**sources;
	/* Live: a quiet link's clock follows the wall clock (monotonic). */
	bool			 idle_clock;
};

/* Called in one thread (the caller's with one off-line worker, else the
 * engine's own), in packet-time order. */
struct engine_ops {
	void	(*on_record)(void *arg, const struct record *);
	void	(*on_summary)(void *arg, const struct record_summary *);
	/* About every LIMIT_ENGINE_TICK_MS of wall time, with the packet
	 * clock all workers have reached (threaded engines only). */
	void	(*on_tick)(void *arg, uint64_t now_ns);
	/* Live: each captured packet, in its worker's thread (the archive). */
	void	(*on_packet)(void *arg, unsigned worker,
		    const struct capture_pkt *);
};

struct engine_stats {
	unsigned		 workers;
	struct decode_stats	 dec;
	struct flow_table_stats	 flow;
	struct session_stats	 sess;
	struct capture_live_stats live;	/* summed over the handles */
	uint64_t		 live_errors;	/* handles that failed */
	uint64_t		 reorder_forced; /* let out early: window full */
	uint64_t		 reorder_max_bytes;
	uint64_t		 items;		/* records and summaries */
	uint64_t		 now;		/* the clock all have reached */
};

struct engine;

struct engine	*engine_new(const struct engine_config *,
		    const struct engine_ops *, void *arg);
/* Off-line: one captured packet. */
void		 engine_packet(struct engine *, const struct capture_pkt *);
/* Live: ask the workers to stop (any thread); engine_finish() waits. */
void		 engine_stop(struct engine *);
/* Live: whether a worker stopped by itself (its handle failed). */
bool		 engine_failed(struct engine *);
/* End every connection, deliver everything, stop the threads. */
void		 engine_finish(struct engine *);
void		 engine_get_stats(struct engine *, struct engine_stats *);
void		 engine_free(struct engine *);
/* The worker a connection goes to (both directions alike). */
unsigned	 engine_worker_of(const struct engine *, const struct pkt *);

#endif /* SMTPSNIFF_ENGINE_H */
