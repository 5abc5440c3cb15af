/*
 * read.c: `smtpsniff read [-o SPEC]... PATH...`: SMTP transaction records
 * from captures. It feeds a capture's packets to the engine (src/engine/:
 * decoding, flow tables and session stages on one or several workers) and
 * its one ordered stream of records and session summaries to every
 * output.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pipeline.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: smtpsniff read [-q] [-c FILE] [--any-port] [--auth-user]\n"
	    "       [-p PORTS] [--sensor NAME] [--spool-dir DIR]\n"
	    "       [--spool-max SIZE] [--memcap SIZE] [--threads N]\n"
	    "       [-o SPEC]... PATH...\n"
	    "  Read pcap/pcapng files (or directories of them, in name order)\n"
	    "  as one capture and write one record per SMTP transaction.\n"
	    "  -o SPEC      sqlite:PATH (database, the default:\n"
	    "               sqlite:smtpsniff.db),\n"
	    "               mysql://USER[:PASS]@HOST[:PORT]/DB (percent-encoded,\n"
	    "               [IPv6] hosts),\n"
	    "               postgresql://USER@HOST[:PORT]/DB (password from\n"
	    "               SMTPSNIFF_DB_PASSWORD), json:PATH (native records),\n"
	    "               zeek:PATH (Zeek smtp.log JSON), eve:PATH (Suricata\n"
	    "               EVE JSON); PATH - is stdout; repeatable\n"
	    "  --sensor NAME  this sensor's name in the database (hostname)\n"
	    "  -c FILE      configuration (smtpsniff(1)): sensor, spool_dir,\n"
	    "               spool_max, output, db_password,\n"
	    "               pseudonymise_key_file, and any option in [read]\n"
	    "  --threads N  workers, connections spread over them by a hash\n"
	    "               (default: the cores available); records are the\n"
	    "               same for any N, in the order they finish\n"
	    "  --spool-dir DIR  where records wait while a database server\n"
	    "               is away (the working directory)\n"
	    "  --spool-max SIZE  the spool's budget, in bytes or with K, M, G\n"
	    "               (default 1G); past it, new records are refused\n"
	    "               and counted as lost, what is spooled is kept\n"
	    "  -p PORTS     SMTP server ports, comma-separated\n"
	    "               (default 25,465,587,2525)\n"
	    "  --any-port   find SMTP on any port by its greeting or EHLO\n"
	    "  --auth-user  record the user name of AUTH PLAIN, LOGIN and\n"
	    "               CRAM-MD5 (passwords are never kept)\n"
	    "  --memcap SIZE  memory for connections, reassembly, sessions and\n"
	    "               MIME state, in bytes or with K, M, G (default 512M);\n"
	    "               past it, connections are evicted: half-open ones\n"
	    "               first, then idle sessions, mail in flight last\n"
	    "  -q           no summary on stderr\n");
}

/* The command's own options: none besides the shared ones. */
static int
apply(void *arg, int code, const char *val, bool conf)
{
	return pipe_option(arg, code, val, conf);
}

/* Every packet of cap through the engine; then every connection ends. */
static int
run(struct capture *cap, struct engine *e)
{
	struct capture_pkt cp;
	struct capture_stats cs;
	bool tty = isatty(STDERR_FILENO) == 1;
	uint64_t read_bytes = 0, next = PROGRESS_STEP;

	while (capture_next(cap, &cp) == 1) {
		engine_packet(e, &cp);
		if (tty && (read_bytes += cp.caplen) >= next) {
			cli_progress(cap, false);
			next += PROGRESS_STEP;
		}
	}
	if (tty && next > PROGRESS_STEP)
		cli_progress(cap, true);
	engine_finish(e);
	capture_get_stats(cap, &cs);
	return cs.file_errors ? 1 : 0;
}

int
cli_read(int argc, char **argv)
{
	static const struct option longopts[] = {
		PIPE_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct engine_ops eops = { pipe_on_record,
	    pipe_on_summary, NULL, NULL };
	struct pipe *p;
	struct engine *e = NULL;
	struct engine_config ec;
	struct engine_stats st;
	struct capture *cap = NULL;
	char err[ERRBUF_SIZE];
	int ch, r, rc = 2;

	if ((p = malloc(sizeof(*p))) == NULL) {
		log_warnx("out of memory");
		return 2;
	}
	pipe_init(p);
	optind = 1;
	if (pipe_load_config(p, argc, argv, "read", longopts, apply, p) == -1)
		goto done;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hqc:o:p:", longopts, NULL)) !=
	    -1) {
		if (ch == 'h') {
			usage(stdout);
			rc = 0;
			goto done;
		}
		if ((r = pipe_option(p, ch, optarg, false)) == -1)
			goto done;
		if (r == 0) {
			usage(stderr);
			goto done;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		goto done;
	}
	if (pipe_finish_options(p) == -1)
		goto done;
	if ((cap = capture_open_offline(argv + optind,
	    (size_t)(argc - optind), err)) == NULL) {
		log_warnx("%s", err);
		goto done;
	}
	if (pipe_open_outputs(p) == -1 || pipe_engine_config(p, &ec) == -1)
		goto done;
	if ((e = engine_new(&ec, &eops, p)) == NULL) {
		log_warnx("out of memory");
		goto done;
	}
	rc = run(cap, e);
	engine_get_stats(e, &st);
	if (pipe_close(p) == -1)
		rc = 2;
	if (st.sess.alloc_failures > 0) {
		log_warnx("%" PRIu64 " SMTP sessions not followed: out of "
		    "memory", st.sess.alloc_failures);
		rc = 2;
	}
	if (!p->quiet) {
		cli_print_files(stderr, cap);
		pipe_print_engine(stderr, &st);
	}
done:
	engine_free(e);
	pipe_free(p);
	capture_free(cap);
	free(p);
	return rc;
}
