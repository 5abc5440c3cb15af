/*
 * output.h: record sinks that write lines: json:PATH (the native records
 * of DESIGN.md), zeek:PATH (rows of Zeek's smtp.log as Zeek writes them in
 * JSON) and eve:PATH (Suricata EVE "smtp" events, plus "fileinfo" events
 * for attachments), and the sensor's periodic statistics in json: and
 * eve:. PATH "-" is standard output. Several can be open at
 * once; each write is one whole line. A database spec writes to a
 * database (store/).
 */
#ifndef SMTPSNIFF_OUTPUT_H
#define SMTPSNIFF_OUTPUT_H

#include <stdint.h>

#include "common/log.h"
#include "record/record.h"
#include "store/store.h"

struct output;

/*
 * Open "kind:PATH": json:, zeek:, eve: (lines), or a database (sqlite:,
 * mysql://, postgresql://) for the configured sensor. NULL with a message
 * in err on a bad spec or path.
 */
struct output	*output_open(const char *spec, const struct store_config *,
		    bool append, char err[ERRBUF_SIZE]);
/* Hand what a file output holds to the kernel (live: a quiet link's
 * records must not wait in a buffer). -1 on a write error. */
int		 output_flush(struct output *);
/* Write one record. -1 on a write error (reported once). */
int		 output_write(struct output *, const struct record *);
/* A connection ended: databases keep a row per session, lines do not. */
int		 output_session(struct output *, const struct record_summary *);
/*
 * The sensor's periodic statistics (struct sensor_stats, store/store.h):
 * a "stats" line to json:, a "stats" event to eve:, a row of the stats
 * table to a database (spooled like records while a server is away);
 * nothing to zeek: (smtp.log has no such rows). Call it from the thread
 * that writes the records (an output is not shared between threads); the
 * struct may be filled on any. Not counted among the records. -1 on a
 * write error (reported once).
 */
int		 output_stats(struct output *, const struct sensor_stats *);
/* What became of an output's records, told at its close. */
struct output_summary {
	char			 name[256];	/* no password */
	uint64_t		 records;
	uint64_t		 lost;		/* not written, not spooled */
	bool			 store;
	struct store_stats	 st;		/* a database's units */
};

/* Flush and close; -1 if anything could not be written. sum may be NULL. */
int		 output_close(struct output *, struct output_summary *sum);

#endif /* SMTPSNIFF_OUTPUT_H */
