/*
 * pipeline.c: the options, sinks and report that `read` and `capture`
 * share (pipeline.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/mem.h"
#include "pipeline.h"

void
pipe_init(struct pipe *p)
{
	static const uint16_t default_ports[] = { 25, 465, 587, 2525 };
	long n;

	memset(p, 0, sizeof(*p));
	memcpy(p->ports, default_ports, sizeof(default_ports));
	p->scfg.nports = sizeof(default_ports) / sizeof(default_ports[0]);
	p->memcap = LIMIT_MEMCAP_DEFAULT;
	/* One worker per core we may run on. */
	n = sysconf(_SC_NPROCESSORS_ONLN);
	p->threads = n < 1 ? 1 : n > LIMIT_WORKERS ? LIMIT_WORKERS :
	    (unsigned)n;
}

static int
parse_ports(struct pipe *p, const char *s)
{
	char *copy = strdup(s), *tok, *save = NULL, *end;
	long v;

	if (copy == NULL)
		return -1;
	p->scfg.nports = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		v = strtol(tok, &end, 10);
		if (*end != '\0' || v < 1 || v > 65535 ||
		    p->scfg.nports == LIMIT_SMTP_PORTS) {
			free(copy);
			return -1;
		}
		p->ports[p->scfg.nports++] = (uint16_t)v;
	}
	free(copy);
	return p->scfg.nports > 0 ? 0 : -1;
}

/* A config file's yes/no for an option without a value. */
static int
conf_bool(const char *v)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0)
		return 1;
	if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0)
		return 0;
	return -1;
}

int
pipe_load_config(struct pipe *p, int argc, char **argv, const char *section,
    const struct option *longopts,
    int (*apply)(void *arg, int code, const char *val, bool conf), void *arg)
{
	const struct option *o;
	const char *path = NULL;
	char err[ERRBUF_SIZE], name[64];
	size_t i, j;
	int b;

	/* -c first, wherever it stands: the command line overrides it. */
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if ((strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) && i + 1 < (size_t)argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
	}
	if (path == NULL)
		return 0;
	if (config_load(path, &p->conf, err) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	for (i = 0; i < p->conf.nopts; i++) {
		const struct config_opt *c = &p->conf.opts[i];

		if (strcmp(c->section, section) != 0)
			continue;
		snprintf(name, sizeof(name), "%s", c->key);
		for (j = 0; name[j] != '\0'; j++)
			if (name[j] == '_')
				name[j] = '-';
		for (o = longopts; o->name != NULL; o++)
			if (strcmp(o->name, name) == 0)
				break;
		if (o->name == NULL || o->val == 'h' || o->val == 'c' ||
		    o->val == OPT_LIST_IFACES) {
			log_warnx("%s: [%s] %s: no such option", path,
			    section, c->key);
			return -1;
		}
		if (o->has_arg == no_argument) {
			if ((b = conf_bool(c->val)) == -1) {
				log_warnx("%s: [%s] %s: expected yes or no",
				    path, section, c->key);
				return -1;
			}
			if (b == 0)
				continue;
		}
		if (apply(arg, o->val, o->has_arg == no_argument ? NULL :
		    c->val, true) != 1) {
			log_warnx("%s: [%s] %s: see above", path, section,
			    c->key);
			return -1;
		}
	}
	return 0;
}

int
pipe_option(struct pipe *p, int code, const char *val, bool conf)
{
	uint64_t v;
	char *end;
	long n;

	switch (code) {
	case 'q':
		p->quiet = true;
		return 1;
	case 'c':
		return 1;	/* pipe_load_config's */
	case 'o':
		if (conf) {
			if (p->nconf_specs == LIMIT_OUTPUTS)
				goto too_many;
			p->conf_specs[p->nconf_specs++] = val;
			return 1;
		}
		if (p->nspecs == LIMIT_OUTPUTS)
			goto too_many;
		p->specs[p->nspecs++] = val;
		return 1;
	case 'p':
		if (parse_ports(p, val) == -1) {
			log_warnx("-p %s: expected at most %d ports 1-65535, "
			    "comma-separated", val, LIMIT_SMTP_PORTS);
			return -1;
		}
		return 1;
	case OPT_ANY_PORT:
		p->scfg.any_port = true;
		return 1;
	case OPT_AUTH_USER:
		p->scfg.rcfg.auth_user = true;
		return 1;
	case OPT_SENSOR:
		p->sensor = val;
		return 1;
	case OPT_MEMCAP:
		if (cli_parse_size(val, &v) == -1 || v < LIMIT_MEMCAP_MIN) {
			log_warnx("--memcap %s: expected a size of at least "
			    "%uM (a number, K, M or G)", val,
			    LIMIT_MEMCAP_MIN >> 20);
			return -1;
		}
		p->memcap = v;
		return 1;
	case OPT_SPOOL_DIR:
		p->stcfg.spool_dir = val;
		return 1;
	case OPT_SPOOL_MAX:
		if (cli_parse_size(val, &v) == -1 || v == 0) {
			log_warnx("--spool-max %s: expected a size above 0 (a "
			    "number, K, M or G)", val);
			return -1;
		}
		p->stcfg.spool_max = v;
		return 1;
	case OPT_THREADS:
		errno = 0;
		n = strtol(val, &end, 10);
		if (errno != 0 || *end != '\0' || end == val || n < 1 ||
		    n > LIMIT_WORKERS) {
			log_warnx("--threads %s: expected 1 to %d", val,
			    LIMIT_WORKERS);
			return -1;
		}
		p->threads = (unsigned)n;
		return 1;
	}
	return 0;
too_many:
	log_warnx("at most %d outputs", LIMIT_OUTPUTS);
	return -1;
}

int
pipe_finish_options(struct pipe *p)
{
	char err[ERRBUF_SIZE];
	size_t i;

	/* The command line wins over the file, whose [section] wins over
	 * its top keys. */
	for (i = 0; p->nspecs == 0 && i < p->nconf_specs; i++)
		p->specs[i] = p->conf_specs[i];
	if (p->nspecs == 0)
		p->nspecs = p->nconf_specs;
	for (i = 0; p->nspecs == 0 && i < p->conf.noutputs; i++)
		p->specs[i] = p->conf.outputs[i];
	if (p->nspecs == 0)
		p->nspecs = p->conf.noutputs;
	if (p->nspecs == 0)
		p->specs[p->nspecs++] = "sqlite:smtpsniff.db";	/* DESIGN.md */
	if (p->sensor == NULL)
		p->sensor = p->conf.sensor;
	if (p->stcfg.spool_dir == NULL)
		p->stcfg.spool_dir = p->conf.spool_dir;
	if (p->stcfg.spool_max == 0)
		p->stcfg.spool_max = p->conf.spool_max > 0 ?
		    p->conf.spool_max : LIMIT_SPOOL_MAX_DEFAULT;
	p->stcfg.password = config_db_password(&p->conf);
	if (config_pseudonymiser(&p->conf, &p->pseudo, err) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	if (p->sensor == NULL) {
		if (gethostname(p->host, sizeof(p->host) - 1) == -1)
			strcpy(p->host, "sensor");
		p->host[sizeof(p->host) - 1] = '\0';
		p->sensor = p->host;
	}
	p->stcfg.sensor = p->sensor;
	p->scfg.ports = p->ports;
	return 0;
}

int
pipe_engine_config(struct pipe *p, struct engine_config *ec)
{
	memset(ec, 0, sizeof(*ec));
	mem_set_limit(p->memcap);
	/* No hash key (getrandom failed): said already; nothing to do. */
	if (flow_config_default(&ec->flow) == -1 ||
	    decode_config_default(&ec->decode) == -1)
		return -1;
	ec->flow.server_ports = p->ports;
	ec->flow.nserver_ports = p->scfg.nports;
	ec->session = p->scfg;
	ec->nworkers = p->threads;
	return 0;
}

int
pipe_open_outputs(struct pipe *p)
{
	char err[ERRBUF_SIZE];
	size_t i;

	for (i = 0; i < p->nspecs; i++) {
		if ((p->out[p->nout] = output_open(p->specs[i], &p->stcfg,
		    p->append, err)) == NULL) {
			log_warnx("%s", err);
			return -1;
		}
		p->nout++;
	}
	return 0;
}

/* The outputs that are files of lines, which logrotate moves. */
static bool
is_line_file(const char *spec)
{
	const char *c = strchr(spec, ':');

	if (c == NULL || strcmp(c + 1, "-") == 0)
		return false;
	return strncmp(spec, "json:", 5) == 0 ||
	    strncmp(spec, "zeek:", 5) == 0 || strncmp(spec, "eve:", 4) == 0;
}

void
pipe_flush_outputs(struct pipe *p)
{
	size_t i;

	for (i = 0; i < p->nout; i++)
		if (p->out[i] != NULL && output_flush(p->out[i]) == -1)
			p->failed = 1;
}

void
pipe_reopen_outputs(struct pipe *p)
{
	char err[ERRBUF_SIZE];
	size_t i;

	for (i = 0; i < p->nout; i++) {
		if (!is_line_file(p->specs[i]))
			continue;
		if (p->out[i] != NULL && output_close(p->out[i], NULL) == -1)
			p->failed = 1;
		if ((p->out[i] = output_open(p->specs[i], &p->stcfg, p->append, err)) ==
		    NULL) {
			/* Said, and tried again at the next SIGHUP. */
			log_warnx("SIGHUP: %s", err);
			p->failed = 1;
		}
	}
}

void
pipe_on_record(void *arg, const struct record *r)
{
	struct pipe *p = arg;
	size_t i;

	p->records++;
	/* Pseudonymised before any output sees it, or not written at all. */
	if (p->pseudo != NULL &&
	    (r = record_pseudonymise(p->pseudo, r)) == NULL) {
		if (p->unpseudonymised++ == 0)
			log_warnx("a record could not be pseudonymised (out "
			    "of memory): not written");
		p->failed = 1;
		return;
	}
	for (i = 0; i < p->nout; i++)
		if (p->out[i] != NULL && output_write(p->out[i], r) == -1)
			p->failed = 1;
}

/* One row per SMTP connection, for the outputs that keep sessions. */
void
pipe_on_summary(void *arg, const struct record_summary *sum)
{
	struct pipe *p = arg;
	size_t i;

	p->summaries++;
	for (i = 0; i < p->nout; i++)
		if (p->out[i] != NULL && output_session(p->out[i], sum) == -1)
			p->failed = 1;
}

int
pipe_close(struct pipe *p)
{
	struct output_summary sum;
	size_t i;

	for (i = 0; i < p->nout; i++) {
		if (p->out[i] == NULL)
			continue;
		if (output_close(p->out[i], &sum) == -1)
			p->failed = 1;
		p->out[i] = NULL;
		/* Nothing is lost silently: say what did not get written. */
		if (sum.lost > 0)
			log_warnx("%s: %" PRIu64 " of %" PRIu64 " %s NOT "
			    "written", sum.name, sum.lost, sum.store ?
			    sum.st.written + sum.st.spooled + sum.st.lost :
			    sum.records, sum.store ? "records and sessions" :
			    "records");
		if (sum.store && !p->quiet)
			fprintf(stderr, "  store %s: queue_cap %u batch_cap %u"
			    "\n", sum.name, LIMIT_STORE_QUEUE_BYTES,
			    LIMIT_STORE_BATCH_BYTES);
		if (sum.store && !p->quiet)
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
	return p->failed ? -1 : 0;
}

void
pipe_free(struct pipe *p)
{
	size_t i;

	for (i = 0; i < p->nout; i++)
		if (p->out[i] != NULL)
			output_close(p->out[i], NULL);
	p->nout = 0;
	record_pseudo_free(p->pseudo);
	p->pseudo = NULL;
	config_free(&p->conf);
}

static void
print_sessions(FILE *fp, const struct session_stats *st)
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

/* After the capture's line: decoding, flows, sessions, the workers. */
void
pipe_print_engine(FILE *fp, const struct engine_stats *st)
{
	cli_print_summary(fp, &st->dec, &st->flow);
	print_sessions(fp, &st->sess);
	if (st->workers > 1)
		fprintf(fp, "  workers: %u reorder_max_bytes %" PRIu64
		    " reorder_forced %" PRIu64 "\n", st->workers,
		    st->reorder_max_bytes, st->reorder_forced);
}
