/*
 * output.h: record sinks that write lines: json:PATH (the native records
 * of DESIGN.md), zeek:PATH (rows of Zeek's smtp.log as Zeek writes them in
 * JSON) and eve:PATH (Suricata EVE "smtp" events, plus "fileinfo" events
 * for attachments). PATH "-" is standard output. Several can be open at
 * once; each write is one whole line. sqlite:PATH writes to a database
 * (store/).
 */
#ifndef SMTPSNIFF_OUTPUT_H
#define SMTPSNIFF_OUTPUT_H

#include <stdint.h>

#include "common/log.h"
#include "record/record.h"
#include "store/store.h"

struct output;

/*
 * Open "kind:PATH": json:, zeek:, eve: (lines) or sqlite: (a database, for
 * the named sensor). NULL with a message in err on a bad spec or path.
 */
struct output	*output_open(const char *spec, const char *sensor,
		    char err[ERRBUF_SIZE]);
/* Write one record. -1 on a write error (reported once). */
int		 output_write(struct output *, const struct record *);
/* A connection ended: databases keep a row per session, lines do not. */
int		 output_session(struct output *, const struct store_session *);
/* Flush and close; -1 if anything could not be written. */
int		 output_close(struct output *);
uint64_t	 output_count(const struct output *);
/* Records that could not be written (a full disk, a failing database). */
uint64_t	 output_lost(const struct output *);
const char	*output_spec(const struct output *);

#endif /* SMTPSNIFF_OUTPUT_H */
