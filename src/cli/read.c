/*
 * read.c: `smtpsniff read [-o SPEC]... PATH...`: SMTP transaction records
 * from captures. It wires the flow layer to one record session per SMTP
 * connection (by server port, or by the first bytes with --any-port) and
 * the records to every output.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "output/output.h"
#include "record/pseudo.h"
#include "record/record.h"

#define MAX_OUTPUTS	16
#define MAX_PORTS	64

/*
 * What a connection is to us. Connections on an SMTP port start as SMTP;
 * with --any-port the others are probed by their first bytes. One that
 * begins with an HTTP CONNECT request (RFC 9110 §9.3.6) is a proxy
 * tunnel: once the request and the proxy's answer have passed (each ends
 * with an empty line), what follows is probed for SMTP, as Zeek does.
 * Connections that are not SMTP carry no state (NULL).
 */
enum conn_kind {
	CONN_PROBE,
	CONN_TUNNEL,
	CONN_SMTP,
	CONN_DONE,		/* SMTP, over: its state already released */
};

struct conn {
	enum conn_kind		 kind;
	struct record_session	*rs;
	struct record_conn	 rconn;		/* for the session's row */
	struct record_session_info info;	/* kept when rs is freed */
	char			*banner, *helo, *auth_mech;
	uint8_t			 eoh[2];	/* progress through CRLF CRLF */
	bool			 hdr_done[2];
};

struct read_ctx {
	struct output	*out[MAX_OUTPUTS];
	size_t		 nout;
	uint16_t	 ports[MAX_PORTS];
	size_t		 nports;
	bool		 any_port;
	struct record_config rcfg;
	uint64_t	 sessions;
	uint64_t	 records;
	uint64_t	 status[RECORD_INCOMPLETE + 1];
	uint64_t	 events[SMTP_EV_MAX];
	uint64_t	 mime_events[MIME_EV_MAX];
	uint64_t	 attachments;
	uint64_t	 unpseudonymised;	/* dropped: could not be */
	struct record_pseudo *pseudo;	/* NULL: addresses as seen */
	int		 failed;
};

static bool
smtp_port(const struct read_ctx *ctx, uint16_t port)
{
	size_t i;

	for (i = 0; i < ctx->nports; i++)
		if (ctx->ports[i] == port)
			return true;
	return false;
}

static void
on_record(void *arg, const struct record *r)
{
	struct read_ctx *ctx = arg;
	size_t i;

	ctx->records++;
	ctx->status[r->status]++;
	for (i = 0; i < SMTP_EV_MAX; i++)
		ctx->events[i] += r->events[i];
	if (r->mime != NULL) {
		for (i = 0; i < MIME_EV_MAX; i++)
			ctx->mime_events[i] += r->mime->events[i];
		ctx->attachments += r->mime->natt;
	}
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

static const struct record_ops rec_ops = { on_record };

/*
 * A session id that depends only on the connection (time of its first
 * packet, endpoints, VLANs), so that reading a capture twice, or live,
 * gives the same ids.
 */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void
make_uid(const struct flow_info *fi, char out[24])
{
	static const char b62[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint64_t h = 0xcbf29ce484222325ull;
	int k;

	h = fnv(h, &fi->af, 1);
	h = fnv(h, fi->client.ip, 16);
	h = fnv(h, &fi->client.port, 2);
	h = fnv(h, fi->server.ip, 16);
	h = fnv(h, &fi->server.port, 2);
	h = fnv(h, fi->vlan, sizeof(fi->vlan[0]) * fi->nvlan);
	h = fnv(h, &fi->ts_first, 8);
	out[0] = 'C';
	for (k = 1; k <= 11; k++) {
		h ^= h >> 33;
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 33;
		out[k] = b62[h % 62];
	}
	out[12] = '\0';
}

static struct record_session *
start_session(struct read_ctx *ctx, struct flow *f, struct record_conn *keep)
{
	const struct flow_info *fi = flow_get_info(f);
	struct record_conn conn;
	struct record_session *rs;

	memset(&conn, 0, sizeof(conn));
	make_uid(fi, conn.uid);
	conn.client.af = conn.server.af = fi->af;
	memcpy(conn.client.ip, fi->client.ip, 16);
	memcpy(conn.server.ip, fi->server.ip, 16);
	conn.client.port = fi->client.port;
	conn.server.port = fi->server.port;
	conn.nvlan = fi->nvlan;
	memcpy(conn.vlan, fi->vlan, sizeof(conn.vlan));
	conn.ts_first = fi->ts_first;
	*keep = conn;
	if ((rs = record_session_new(&conn, &ctx->rcfg, &rec_ops, ctx)) ==
	    NULL) {
		ctx->failed = 1;
		return NULL;
	}
	ctx->sessions++;
	return rs;
}

static void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	record_session_free(c->rs);
	free(c->banner);
	free(c->helo);
	free(c->auth_mech);
	free(c);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Keep what the session's row needs before the record session goes. */
static void
keep_info(struct conn *c)
{
	record_session_get_info(c->rs, &c->info);
	c->banner = dup_or_null(c->info.banner);
	c->helo = dup_or_null(c->info.helo);
	c->auth_mech = dup_or_null(c->info.auth_mech);
	c->info.banner = c->banner;
	c->info.helo = c->helo;
	c->info.auth_mech = c->auth_mech;
}

/* One row per SMTP connection, for the outputs that keep sessions. */
static void
put_session(void *arg, struct flow *f, struct conn *c, enum flow_end why)
{
	struct read_ctx *ctx = arg;
	const struct flow_info *fi = flow_get_info(f);
	const struct flow_dir_stats *a = flow_get_dir_stats(f, FLOW_C2S);
	const struct flow_dir_stats *b = flow_get_dir_stats(f, FLOW_S2C);
	struct store_session ss;
	size_t i;

	if (c->rs != NULL)
		record_session_get_info(c->rs, &c->info);
	memset(&ss, 0, sizeof(ss));
	ss.conn = &c->rconn;
	ss.ts_last = fi->ts_last;
	ss.banner = c->info.banner;
	ss.helo = c->info.helo;
	ss.ext = c->info.ext;
	ss.tls = c->info.tls;
	ss.auth_mech = c->info.auth_mech;
	ss.auth_result = c->info.auth_mech != NULL ?
	    record_auth_name(c->info.auth) : NULL;
	ss.transactions = c->info.transactions;
	ss.end_state = flow_end_name(why);
	ss.gaps = a->gaps + b->gaps;
	ss.gap_bytes = a->gap_bytes + b->gap_bytes;
	memcpy(ss.events, c->info.events, sizeof(ss.events));
	for (i = 0; i < ctx->nout; i++)
		if (output_session(ctx->out[i], &ss) == -1)
			ctx->failed = 1;
}

static void
on_open(void *arg, struct flow *f)
{
	struct read_ctx *ctx = arg;
	const struct flow_info *fi = flow_get_info(f);
	struct conn *c;

	if (!smtp_port(ctx, fi->server.port) && !ctx->any_port) {
		flow_set_user(f, NULL);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		ctx->failed = 1;
		flow_set_user(f, NULL);
		return;
	}
	c->kind = CONN_PROBE;
	if (smtp_port(ctx, fi->server.port)) {
		c->kind = CONN_SMTP;
		if ((c->rs = start_session(ctx, f, &c->rconn)) == NULL) {
			free(c);
			c = NULL;
		}
	}
	flow_set_user(f, c);
}

/* Skip one direction's HTTP header; returns the bytes it took. */
static size_t
tunnel_skip(struct conn *c, enum flow_dir d, const uint8_t *p, size_t n)
{
	static const uint8_t eoh[4] = { '\r', '\n', '\r', '\n' };
	size_t i;

	for (i = 0; i < n && !c->hdr_done[d]; i++) {
		if (p[i] == eoh[c->eoh[d]])
			c->eoh[d]++;
		else
			c->eoh[d] = p[i] == '\r' ? 1 : 0;
		if (c->eoh[d] == 4)
			c->hdr_done[d] = true;
	}
	return i;
}

static void
on_data(void *arg, struct flow *f, enum flow_dir d, const uint8_t *p,
    size_t n)
{
	struct read_ctx *ctx = arg;
	struct conn *c = flow_get_user(f);
	enum smtp_dir sd = d == FLOW_C2S ? SMTP_C2S : SMTP_S2C;
	size_t k;

	if (c == NULL)
		return;
	if (c->kind == CONN_PROBE && d == FLOW_C2S && n >= 8 &&
	    memcmp(p, "CONNECT ", 8) == 0)
		c->kind = CONN_TUNNEL;
	if (c->kind == CONN_TUNNEL) {
		if (!c->hdr_done[d]) {
			k = tunnel_skip(c, d, p, n);
			p += k;
			n -= k;
		}
		if (!c->hdr_done[FLOW_C2S] || !c->hdr_done[FLOW_S2C] ||
		    n == 0)
			return;
		c->kind = CONN_PROBE;	/* the tunnel is open */
	}
	if (c->kind == CONN_PROBE) {
		if (n == 0)
			return;
		if (!smtp_looks_like(sd, p, n) ||
		    (c->rs = start_session(ctx, f, &c->rconn)) == NULL) {
			conn_free(c);
			flow_set_user(f, NULL);
			return;
		}
		c->kind = CONN_SMTP;
	}
	if (c->kind != CONN_SMTP)
		return;
	record_session_feed(c->rs, sd, p, n, flow_get_info(f)->ts_last);
	if (record_session_is_over(c->rs)) {
		/*
		 * QUIT answered or TLS: nothing more will be parsed, so the
		 * records go out and the memory comes back now rather than
		 * when the connection's last packet has lingered away.
		 */
		record_session_end(c->rs, false);
		keep_info(c);
		record_session_free(c->rs);
		c->rs = NULL;
		c->kind = CONN_DONE;
	}
}

static void
on_gap(void *arg, struct flow *f, enum flow_dir d, uint64_t len)
{
	struct conn *c = flow_get_user(f);

	(void)arg;
	if (c == NULL || c->kind != CONN_SMTP)
		return;
	record_session_gap(c->rs, d == FLOW_C2S ? SMTP_C2S : SMTP_S2C, len);
}

static void
on_close(void *arg, struct flow *f, enum flow_end why)
{
	struct conn *c = flow_get_user(f);

	(void)arg;
	if (c == NULL)
		return;
	if (c->kind == CONN_SMTP) {
		record_session_end(c->rs, why == FLOW_END_TIMEOUT ||
		    why == FLOW_END_EVICTED);
		put_session(arg, f, c, why);
	} else if (c->kind == CONN_DONE) {
		put_session(arg, f, c, why);
	}
	conn_free(c);
}

static int
parse_ports(struct read_ctx *ctx, const char *s)
{
	char *copy = strdup(s), *tok, *save = NULL, *end;
	long v;

	if (copy == NULL)
		return -1;
	ctx->nports = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		v = strtol(tok, &end, 10);
		if (*end != '\0' || v < 1 || v > 65535 ||
		    ctx->nports == MAX_PORTS) {
			free(copy);
			return -1;
		}
		ctx->ports[ctx->nports++] = (uint16_t)v;
	}
	free(copy);
	return ctx->nports > 0 ? 0 : -1;
}

static void
print_summary(FILE *fp, const struct read_ctx *ctx)
{
	int i;

	fprintf(fp, "  smtp: sessions %" PRIu64 " transactions %" PRIu64,
	    ctx->sessions, ctx->records);
	for (i = 0; i <= RECORD_INCOMPLETE; i++)
		if (ctx->status[i] != 0)
			fprintf(fp, " %s %" PRIu64,
			    record_status_name((enum record_status)i),
			    ctx->status[i]);
	fprintf(fp, " attachments %" PRIu64 "\n", ctx->attachments);
	fprintf(fp, "  anomalies:");
	for (i = 0; i < SMTP_EV_MAX; i++)
		if (ctx->events[i] != 0)
			fprintf(fp, " %s %" PRIu64,
			    smtp_event_name((enum smtp_event)i),
			    ctx->events[i]);
	for (i = 0; i < MIME_EV_MAX; i++)
		if (ctx->mime_events[i] != 0)
			fprintf(fp, " mime_%s %" PRIu64,
			    mime_event_name((enum mime_event)i),
			    ctx->mime_events[i]);
	fputc('\n', fp);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: smtpsniff read [-q] [-c FILE] [--any-port] [--auth-user]\n"
	    "       [-p PORTS] [--sensor NAME] [--spool-dir DIR]\n"
	    "       [-o SPEC]... "
	    "PATH...\n"
	    "  Read pcap/pcapng files (or directories of them, in name order)\n"
	    "  as one capture and write one record per SMTP transaction.\n"
	    "  -o SPEC      sqlite:PATH (database, the default:\n"
	    "               sqlite:smtpsniff.db), mysql://USER@HOST[:PORT]/DB,\n"
	    "               postgresql://USER@HOST[:PORT]/DB (password from\n"
	    "               SMTPSNIFF_DB_PASSWORD), json:PATH (native records),\n"
	    "               zeek:PATH (Zeek smtp.log JSON), eve:PATH (Suricata\n"
	    "               EVE JSON); PATH - is stdout; repeatable\n"
	    "  --sensor NAME  this sensor's name in the database (hostname)\n"
	    "  -c FILE      configuration (smtpsniff(1): sensor, spool_dir,\n"
	    "               output, db_password, pseudonymise_key_file)\n"
	    "  --spool-dir DIR  where records wait while a database server\n"
	    "               is away (the working directory)\n"
	    "  -p PORTS     SMTP server ports, comma-separated\n"
	    "               (default 25,465,587,2525)\n"
	    "  --any-port   find SMTP on any port by its greeting or EHLO\n"
	    "  --auth-user  record the user name of AUTH PLAIN, LOGIN and\n"
	    "               CRAM-MD5 (passwords are never kept)\n"
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
		{ "sensor", required_argument, NULL, 'S' },
		{ "spool-dir", required_argument, NULL, 'D' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint16_t default_ports[] = { 25, 465, 587, 2525 };
	struct flow_ops ops = { on_open, on_data, on_gap, on_close };
	struct read_ctx *ctx;
	struct flow_config cfg;
	struct capture *cap = NULL;
	struct decoder *dec = NULL;
	struct flow_table *ft = NULL;
	char err[ERRBUF_SIZE], host[256];
	const char *specs[MAX_OUTPUTS], *sensor = NULL;
	struct store_config scfg = { NULL, NULL, NULL };
	struct config conf;
	struct output_summary sum;
	size_t nspecs = 0, i;
	int ch, quiet = 0, rc = 2;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		log_warnx("out of memory");
		return 2;
	}
	memset(&conf, 0, sizeof(conf));
	memcpy(ctx->ports, default_ports, sizeof(default_ports));
	ctx->nports = sizeof(default_ports) / sizeof(default_ports[0]);
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
			if (nspecs == MAX_OUTPUTS) {
				log_warnx("at most %d outputs", MAX_OUTPUTS);
				goto done;
			}
			specs[nspecs++] = optarg;
			break;
		case 'p':
			if (parse_ports(ctx, optarg) == -1) {
				log_warnx("-p %s: expected ports 1-65535, "
				    "comma-separated", optarg);
				goto done;
			}
			break;
		case 'A':
			ctx->any_port = true;
			break;
		case 'U':
			ctx->rcfg.auth_user = true;
			break;
		case 'S':
			sensor = optarg;
			break;
		case 'D':
			scfg.spool_dir = optarg;
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
	flow_config_default(&cfg);
	cfg.server_ports = ctx->ports;
	cfg.nserver_ports = ctx->nports;
	if ((dec = decoder_new()) == NULL ||
	    (ft = flow_table_new(&cfg, &ops, ctx)) == NULL) {
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
			fprintf(stderr, "  store %s: written %" PRIu64
			    " spooled %" PRIu64 " replayed %" PRIu64
			    " pending %" PRIu64 " lost %" PRIu64 "\n",
			    sum.name, sum.st.written, sum.st.spooled,
			    sum.st.replayed, sum.st.pending, sum.st.lost);
	}
	if (ctx->failed)
		rc = 2;
	if (!quiet) {
		cli_print_summary(stderr, cap, dec, ft);
		print_summary(stderr, ctx);
	}
done:
	for (i = 0; i < ctx->nout; i++)
		if (ctx->out[i] != NULL)
			output_close(ctx->out[i], NULL);
	flow_table_free(ft);
	decoder_free(dec);
	capture_free(cap);
	record_pseudo_free(ctx->pseudo);
	free(ctx);
	config_free(&conf);
	return rc;
}
