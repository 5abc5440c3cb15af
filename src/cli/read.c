/*
 * read.c: `smtpsniff read [-o SPEC]... PATH...`: SMTP transaction records
 * from captures. It wires capture, decoding, the flow table and the
 * session stage (src/session/) together, and the records and session
 * summaries that come out to every output.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/mem.h"
#include "config.h"
#include "output/output.h"
#include "record/pseudo.h"
#include "record/record.h"
#include "session/session.h"

struct read_ctx {
	struct output	*out[LIMIT_OUTPUTS];
	size_t		 nout;
	uint16_t	 ports[LIMIT_SMTP_PORTS];
	struct session_config scfg;
	struct record_pseudo *pseudo;	/* NULL: addresses as seen */
	uint64_t	 unpseudonymised;	/* dropped: could not be */
	int		 failed;
};

static void
on_record(void *arg, const struct record *r)
{
	struct read_ctx *ctx = arg;
	size_t i;

	/* Pseudonymised before any output sees it, or not written at all. */
	if (ctx->pseudo != NULL &&
	    (r = record_pseudonymise(ctx->pseudo, r)) == NULL) {
		if (ctx->unpseudonymised++ == 0)
			log_warnx("a record could not be pseudonymised (out "
			    "of memory): not written");
		ctx->failed = 1;
		return;
	}
	for (i = 0; i < ctx->nout; i++)
		if (output_write(ctx->out[i], r) == -1)
			ctx->failed = 1;
}

/* One row per SMTP connection, for the outputs that keep sessions. */
static void
on_summary(void *arg, const struct record_summary *sum)
{
	struct read_ctx *ctx = arg;
	size_t i;

	for (i = 0; i < ctx->nout; i++)
		if (output_session(ctx->out[i], sum) == -1)
			ctx->failed = 1;
}

static int
parse_ports(struct read_ctx *ctx, const char *s)
{
	char *copy = strdup(s), *tok, *save = NULL, *end;
	long v;

	if (copy == NULL)
		return -1;
	ctx->scfg.nports = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		v = strtol(tok, &end, 10);
		if (*end != '\0' || v < 1 || v > 65535 ||
		    ctx->scfg.nports == LIMIT_SMTP_PORTS) {
			free(copy);
			return -1;
		}
		ctx->ports[ctx->scfg.nports++] = (uint16_t)v;
	}
	free(copy);
	return ctx->scfg.nports > 0 ? 0 : -1;
}

static void
print_summary(FILE *fp, const struct session_stats *st)
{
	int i;

	fprintf(fp, "  smtp: sessions %" PRIu64 " transactions %" PRIu64,
	    st->sessions, st->records);
	for (i = 0; i <= RECORD_INCOMPLETE; i++)
		if (st->status[i] != 0)
			fprintf(fp, " %s %" PRIu64,
			    record_status_name((enum record_status)i),
			    st->status[i]);
	fprintf(fp, " attachments %" PRIu64 "\n", st->attachments);
	if (st->probed > 0) {
		fprintf(fp, "  any-port: probed %" PRIu64 " not_smtp %" PRIu64
		    " gaps %" PRIu64, st->probed, st->probe_not_smtp,
		    st->probe_gaps);
		for (i = 0; i < PROBE_CNT_MAX; i++)
			if (st->probe[i] != 0)
				fprintf(fp, " %s %" PRIu64,
				    session_probe_count_name(
				    (enum probe_count)i), st->probe[i]);
		fputc('\n', fp);
	}
	fprintf(fp, "  anomalies:");
	for (i = 0; i < SMTP_EV_MAX; i++)
		if (st->events[i] != 0)
			fprintf(fp, " %s %" PRIu64,
			    smtp_event_name((enum smtp_event)i),
			    st->events[i]);
	for (i = 0; i < MIME_EV_MAX; i++)
		if (st->mime_events[i] != 0)
			fprintf(fp, " mime_%s %" PRIu64,
			    mime_event_name((enum mime_event)i),
			    st->mime_events[i]);
	fputc('\n', fp);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: smtpsniff read [-q] [-c FILE] [--any-port] [--auth-user]\n"
	    "       [-p PORTS] [--sensor NAME] [--spool-dir DIR]\n"
	    "       [--spool-max SIZE] [--memcap SIZE] [-o SPEC]... PATH...\n"
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
	    "  -c FILE      configuration (smtpsniff(1): sensor, spool_dir,\n"
	    "               spool_max, output, db_password,\n"
	    "               pseudonymise_key_file)\n"
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

int
cli_read(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "output", required_argument, NULL, 'o' },
		{ "ports", required_argument, NULL, 'p' },
		{ "any-port", no_argument, NULL, 'A' },
		{ "auth-user", no_argument, NULL, 'U' },
		{ "memcap", required_argument, NULL, 'M' },
		{ "sensor", required_argument, NULL, 'S' },
		{ "spool-dir", required_argument, NULL, 'D' },
		{ "spool-max", required_argument, NULL, 'B' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint16_t default_ports[] = { 25, 465, 587, 2525 };
	static const struct session_ops sops = { on_record, on_summary };
	struct read_ctx *ctx;
	struct session_stage *stage = NULL;
	struct flow_config cfg;
	struct decode_config dcfg;
	struct capture *cap = NULL;
	struct decoder *dec = NULL;
	struct flow_table *ft = NULL;
	char err[ERRBUF_SIZE], host[256];
	const char *specs[LIMIT_OUTPUTS], *sensor = NULL;
	struct store_config scfg = { NULL, NULL, NULL, 0, 0 };
	struct config conf;
	struct output_summary sum;
	size_t nspecs = 0, i;
	int ch, quiet = 0, rc = 2;
	uint64_t memcap = LIMIT_MEMCAP_DEFAULT;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		log_warnx("out of memory");
		return 2;
	}
	memset(&conf, 0, sizeof(conf));
	memcpy(ctx->ports, default_ports, sizeof(default_ports));
	ctx->scfg.nports = sizeof(default_ports) / sizeof(default_ports[0]);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hqc:o:p:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			config_free(&conf);
			free(ctx);
			return 0;
		case 'q':
			quiet = 1;
			break;
		case 'c':
			if (config_load(optarg, &conf, err) == -1) {
				log_warnx("%s", err);
				goto done;
			}
			break;
		case 'o':
			if (nspecs == LIMIT_OUTPUTS) {
				log_warnx("at most %d outputs", LIMIT_OUTPUTS);
				goto done;
			}
			specs[nspecs++] = optarg;
			break;
		case 'p':
			if (parse_ports(ctx, optarg) == -1) {
				log_warnx("-p %s: expected at most %d ports "
				    "1-65535, comma-separated", optarg,
				    LIMIT_SMTP_PORTS);
				goto done;
			}
			break;
		case 'A':
			ctx->scfg.any_port = true;
			break;
		case 'U':
			ctx->scfg.rcfg.auth_user = true;
			break;
		case 'S':
			sensor = optarg;
			break;
		case 'M':
			if (cli_parse_size(optarg, &memcap) == -1 ||
			    memcap < LIMIT_MEMCAP_MIN) {
				log_warnx("--memcap %s: expected a size of at "
				    "least %uM (a number, K, M or G)", optarg,
				    LIMIT_MEMCAP_MIN >> 20);
				goto done;
			}
			break;
		case 'D':
			scfg.spool_dir = optarg;
			break;
		case 'B':
			if (cli_parse_size(optarg, &scfg.spool_max) == -1 ||
			    scfg.spool_max == 0) {
				log_warnx("--spool-max %s: expected a size "
				    "above 0 (a number, K, M or G)", optarg);
				goto done;
			}
			break;
		default:
			usage(stderr);
			goto done;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		goto done;
	}
	/* The command line wins over the file. */
	for (i = 0; nspecs == 0 && i < conf.noutputs; i++)
		specs[i] = conf.outputs[i];
	if (nspecs == 0)
		nspecs = conf.noutputs;
	if (nspecs == 0)
		specs[nspecs++] = "sqlite:smtpsniff.db";	/* DESIGN.md */
	if (sensor == NULL)
		sensor = conf.sensor;
	if (scfg.spool_dir == NULL)
		scfg.spool_dir = conf.spool_dir;
	if (scfg.spool_max == 0)
		scfg.spool_max = conf.spool_max > 0 ? conf.spool_max :
		    LIMIT_SPOOL_MAX_DEFAULT;
	scfg.password = config_db_password(&conf);
	if (config_pseudonymiser(&conf, &ctx->pseudo, err) == -1) {
		log_warnx("%s", err);
		goto done;
	}
	if (sensor == NULL) {
		if (gethostname(host, sizeof(host) - 1) == -1)
			strcpy(host, "sensor");
		host[sizeof(host) - 1] = '\0';
		sensor = host;
	}
	if ((cap = capture_open_offline(argv + optind,
	    (size_t)(argc - optind), err)) == NULL) {
		log_warnx("%s", err);
		goto done;
	}
	for (i = 0; i < nspecs; i++) {
		scfg.sensor = sensor;
		if ((ctx->out[ctx->nout] = output_open(specs[i], &scfg, err)) ==
		    NULL) {
			log_warnx("%s", err);
			goto done;
		}
		ctx->nout++;
	}
	mem_set_limit(memcap);
	/* No hash key (getrandom failed): said already; nothing to do. */
	if (flow_config_default(&cfg) == -1 ||
	    decode_config_default(&dcfg) == -1)
		goto done;
	cfg.server_ports = ctx->ports;
	cfg.nserver_ports = ctx->scfg.nports;
	ctx->scfg.ports = ctx->ports;
	if ((dec = decoder_new_config(&dcfg)) == NULL ||
	    (stage = session_stage_new(&ctx->scfg, &sops, ctx)) == NULL ||
	    (ft = flow_table_new(&cfg, session_stage_flow_ops(), stage)) ==
	    NULL) {
		log_warnx("out of memory");
		goto done;
	}
	/* Ends every connection at the end: their records are written. */
	rc = cli_run_offline(cap, dec, ft);
	for (i = 0; i < ctx->nout; i++) {
		if (output_close(ctx->out[i], &sum) == -1)
			ctx->failed = 1;
		ctx->out[i] = NULL;
		/* Nothing is lost silently: say what did not get written. */
		if (sum.lost > 0)
			log_warnx("%s: %" PRIu64 " of %" PRIu64 " %s NOT "
			    "written", sum.name, sum.lost, sum.store ?
			    sum.st.written + sum.st.spooled + sum.st.lost :
			    sum.records, sum.store ? "records and sessions" :
			    "records");
		if (sum.store && !quiet)
			fprintf(stderr, "  store %s: queue_cap %u batch_cap %u"
			    "\n", sum.name, LIMIT_STORE_QUEUE_BYTES,
			    LIMIT_STORE_BATCH_BYTES);
		if (sum.store && !quiet)
			fprintf(stderr, "  store %s: written %" PRIu64
			    " spooled %" PRIu64 " replayed %" PRIu64
			    " pending %" PRIu64 " lost %" PRIu64
			    " commits_full %" PRIu64 " queue_waits %" PRIu64
			    " spool_full %" PRIu64 " spool_errors %" PRIu64
			    "\n", sum.name, sum.st.written, sum.st.spooled,
			    sum.st.replayed, sum.st.pending, sum.st.lost,
			    sum.st.commits_full, sum.st.queue_waits,
			    sum.st.spool_full, sum.st.spool_errors);
	}
	if (session_stage_get_stats(stage)->alloc_failures > 0) {
		log_warnx("%" PRIu64 " SMTP sessions not followed: out of "
		    "memory", session_stage_get_stats(stage)->alloc_failures);
		ctx->failed = 1;
	}
	if (ctx->failed)
		rc = 2;
	if (!quiet) {
		cli_print_summary(stderr, cap, dec, ft);
		print_summary(stderr, session_stage_get_stats(stage));
	}
done:
	for (i = 0; i < ctx->nout; i++)
		if (ctx->out[i] != NULL)
			output_close(ctx->out[i], NULL);
	flow_table_free(ft);
	session_stage_free(stage);
	decoder_free(dec);
	capture_free(cap);
	record_pseudo_free(ctx->pseudo);
	free(ctx);
	config_free(&conf);
	return rc;
}
