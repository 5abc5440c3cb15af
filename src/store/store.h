/*
 * store.h: records into a database. One schema for every backend (see
 * docs/SCHEMA.md), created and migrated by the program through a schema
 * version table; writes batched in transactions; only prepared statements,
 * so no SQL is ever built from packet data. SQLite (the embedded default),
 * MariaDB and PostgreSQL, with a spool for the servers' outages.
 */
#ifndef SMTPSNIFF_STORE_H
#define SMTPSNIFF_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/log.h"
#include "common/mem.h"
#include "record/record.h"

#define STORE_SCHEMA_VERSION	4

struct store_config {
	const char	*sensor;	/* this sensor's name */
	const char	*spool_dir;	/* NULL: the working directory */
	const char	*password;	/* for a URL without one, or NULL */
	/* The spool's budget in bytes; 0: LIMIT_SPOOL_MAX_DEFAULT. */
	uint64_t	 spool_max;
	/* How long a batch is held, ms; 0: LIMIT_STORE_BATCH_MS (tests). */
	uint32_t	 batch_ms;
};

/*
 * The sensor's periodic statistics (capture --stats-interval): counters
 * since the start, read at one instant of the packet clock. Plain data:
 * whoever counts (any thread) fills it, the outputs write it as a
 * "stats" record (docs/RECORDS.md) or a row of the stats table
 * (docs/SCHEMA.md). Values past INT64_MAX are stored as INT64_MAX.
 */
struct sensor_stats {
	uint64_t	 ts;		/* packet clock, ns since the epoch */
	uint64_t	 uptime_ns;	/* packet clock since the first one */
	unsigned	 threads;	/* workers */
	uint64_t	 packets;	/* received by smtpsniff */
	uint64_t	 bytes;		/* their captured bytes */
	/* pcap_stats, summed over the handles: ps_recv, ps_drop, ps_ifdrop */
	uint64_t	 kernel_received;
	uint64_t	 kernel_drops;
	uint64_t	 kernel_ifdrops;
	uint64_t	 flows;		/* TCP connections seen */
	uint64_t	 flows_active;	/* in the flow tables now */
	uint64_t	 sessions;	/* SMTP sessions seen */
	uint64_t	 records;	/* transaction records made */
	uint64_t	 records_lost;	/* not written by some output */
	uint64_t	 alerts;
	/* The budget (common/mem.h): --memcap (0: none), in use, by layer. */
	uint64_t	 mem_limit;
	uint64_t	 mem_total;
	uint64_t	 mem_layer[MEM_LAYER_MAX];
};

/*
 * Units: a transaction's record, a session's summary or a stats record,
 * each one unit.
 * written + spooled + lost = units given; replayed: sent from a spool
 * (this run's or an earlier one's); pending: left in the spool at close.
 * Of the lost, spool_full were refused because the spool was at its
 * budget (store_config.spool_max), spool_errors because it could not be
 * written (a full disk).
 */
struct store_stats {
	uint64_t	 written;
	uint64_t	 spooled;
	uint64_t	 replayed;
	uint64_t	 lost;
	uint64_t	 pending;
	uint64_t	 spool_full;
	uint64_t	 spool_errors;
	/*
	 * Caps hit (common/limits.h), nothing lost: commits forced by the
	 * batch's unit or byte cap, and waits of the reader for the writer
	 * at the queue's cap (back-pressure).
	 */
	uint64_t	 commits_full;
	uint64_t	 queue_waits;
};

struct store;

/*
 * "sqlite:PATH", "mysql://...", "postgresql://..." (docs/SCHEMA.md). A
 * database server that cannot be reached is not an error: records go to
 * the spool until it can. NULL with a message in err otherwise.
 */
struct store	*store_open(const char *spec, const struct store_config *,
		    char err[ERRBUF_SIZE]);
int		 store_put_record(struct store *, const struct record *);
int		 store_put_session(struct store *, const struct record_summary *);
/* A stats record: a row of the stats table, spooled like the others. */
int		 store_put_stats(struct store *, const struct sensor_stats *);
/* Commit what is pending and close; -1 if anything was lost or failed. */
int		 store_close(struct store *);
/* The same, telling the final counts (st may be NULL). */
int		 store_close_stats(struct store *, struct store_stats *st);
bool		 store_spec_is_store(const char *spec);
const char	*store_name(const struct store *);

#endif /* SMTPSNIFF_STORE_H */
