/*
 * pipeline.h: what `read` and `capture` share, so the off-line and on-line
 * paths cannot drift apart: their common options (on the command line
 * and in the config file's [read] or [capture] section), the engine's
 * configuration, the record sinks, and the end-of-run report.
 */
#ifndef SMTPSNIFF_CLI_PIPELINE_H
#define SMTPSNIFF_CLI_PIPELINE_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "engine/engine.h"
#include "output/output.h"
#include "record/pseudo.h"

/* Codes of the long-only options (above any character). */
enum {
	OPT_ANY_PORT = 256,
	OPT_AUTH_USER,
	OPT_MEMCAP,
	OPT_SENSOR,
	OPT_SPOOL_DIR,
	OPT_SPOOL_MAX,
	OPT_THREADS,
	/* capture's own */
	OPT_NO_PROMISC,
	OPT_IMMEDIATE,
	OPT_LIST_IFACES,
	OPT_STATS_INTERVAL,
	OPT_SNAPLEN,
};

/* The long options both commands take (-q -c -o -p and the long-only). */
#define PIPE_LONGOPTS							\
	{ "help", no_argument, NULL, 'h' },				\
	{ "quiet", no_argument, NULL, 'q' },				\
	{ "config", required_argument, NULL, 'c' },			\
	{ "output", required_argument, NULL, 'o' },			\
	{ "ports", required_argument, NULL, 'p' },			\
	{ "any-port", no_argument, NULL, OPT_ANY_PORT },		\
	{ "auth-user", no_argument, NULL, OPT_AUTH_USER },		\
	{ "memcap", required_argument, NULL, OPT_MEMCAP },		\
	{ "sensor", required_argument, NULL, OPT_SENSOR },		\
	{ "spool-dir", required_argument, NULL, OPT_SPOOL_DIR },	\
	{ "spool-max", required_argument, NULL, OPT_SPOOL_MAX },	\
	{ "threads", required_argument, NULL, OPT_THREADS }

struct pipe {
	/* Options. */
	const char		*specs[LIMIT_OUTPUTS];
	size_t			 nspecs;
	const char		*conf_specs[LIMIT_OUTPUTS]; /* from -c */
	size_t			 nconf_specs;
	uint16_t		 ports[LIMIT_SMTP_PORTS];
	struct session_config	 scfg;
	const char		*sensor;
	char			 host[256];
	struct store_config	 stcfg;
	struct config		 conf;
	uint64_t		 memcap;
	unsigned		 threads;
	bool			 quiet;
	bool			 append;	/* capture: files are logs */

	/* Sinks. */
	struct output		*out[LIMIT_OUTPUTS];
	size_t			 nout;
	struct record_pseudo	*pseudo;	/* NULL: addresses as seen */
	uint64_t		 unpseudonymised;
	uint64_t		 records, summaries;
	int			 failed;
};

void	pipe_init(struct pipe *);
/*
 * Load -c FILE if argv has one, then apply its [section] keys through
 * apply (the command's own option handler). -1 with a message said.
 */
int	pipe_load_config(struct pipe *, int argc, char **argv,
	    const char *section, const struct option *longopts,
	    int (*apply)(void *arg, int code, const char *val, bool conf),
	    void *arg);
/* One option both commands know: 1 taken, 0 not ours, -1 bad (said). */
int	pipe_option(struct pipe *, int code, const char *val, bool conf);
/* After the options: the defaults and the config file's fallbacks. */
int	pipe_finish_options(struct pipe *);
/* The engine's flow, decode and session configuration. -1: said. */
int	pipe_engine_config(struct pipe *, struct engine_config *);
/* Open every output. -1 with the reason said. */
int	pipe_open_outputs(struct pipe *);
/* SIGHUP: the line outputs (json:, zeek:, eve: files) closed and opened
 * again at their paths, for logrotate. */
void	pipe_reopen_outputs(struct pipe *);
void	pipe_flush_outputs(struct pipe *);
void	pipe_on_record(void *arg, const struct record *);
void	pipe_on_summary(void *arg, const struct record_summary *);
/* Close the outputs, saying what was not written; 0, or -1 if anything
 * failed. */
int	pipe_close(struct pipe *);
void	pipe_free(struct pipe *);
void	pipe_print_engine(FILE *, const struct engine_stats *);

#endif /* SMTPSNIFF_CLI_PIPELINE_H */
