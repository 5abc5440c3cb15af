/*
 * cli.h: the subcommands, one file each, and what they share: the loop
 * that drives packets from the capture through decoding into the flow
 * table, and the end-of-run summary.
 */
#ifndef SMTPSNIFF_CLI_H
#define SMTPSNIFF_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/capture.h"
#include "decode/decode.h"
#include "flow/flow.h"

int	cli_flows(int argc, char **argv);
int	cli_read(int argc, char **argv);
int	cli_capture(int argc, char **argv);
int	cli_query(int argc, char **argv);

/*
 * Read every packet of cap into the flow table, then end all flows.
 * Returns 0, or 1 when a file could not be read whole (already reported).
 */
int	cli_run_offline(struct capture *, struct decoder *,
	    struct flow_table *);
void	cli_print_files(FILE *, const struct capture *);
void	cli_print_summary(FILE *, const struct decode_stats *,
	    const struct flow_table_stats *);
#define PROGRESS_STEP	(64u << 20)	/* bytes read between updates */
/* Progress on a terminal: how much of the files has been read. */
void	cli_progress(const struct capture *, bool last);
/* "512M", "2G", "65536": a size in bytes (K, M, G are powers of 1024). */
int	cli_parse_size(const char *, uint64_t *);

#endif /* SMTPSNIFF_CLI_H */
