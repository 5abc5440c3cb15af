/*
 * output_int.h: the formats, shared by the output_*.c files only.
 */
#ifndef SMTPSNIFF_OUTPUT_INT_H
#define SMTPSNIFF_OUTPUT_INT_H

#include "common/dbuf.h"
#include "output.h"

/* Append one or more complete lines for the record to b. */
typedef int	output_format_fn(struct dbuf *b, const struct record *,
		    uint64_t nth);

output_format_fn	output_native;
output_format_fn	output_zeek;
output_format_fn	output_eve;

/* Append the stats line (or nothing: a format without one). */
typedef int	output_stats_fn(struct dbuf *b, const struct sensor_stats *);

output_stats_fn		output_native_stats;
output_stats_fn		output_eve_stats;

/* Helpers shared by the formats. */
int	out_ip(struct dbuf *, const struct record_endpoint *);
int	out_endpoint(struct dbuf *, const char *key,
	    const struct record_endpoint *);
int	out_str_or_null(struct dbuf *, const char *);
int	out_epoch(struct dbuf *, uint64_t ts_ns);	/* 1254722767.529046 */
int	out_addr_items(struct dbuf *, const char *key,
	    const struct mime_addr_list *);

#endif /* SMTPSNIFF_OUTPUT_INT_H */
