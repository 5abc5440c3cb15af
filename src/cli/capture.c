/*
 * capture.c: `smtpsniff capture -i IFACE`: the on-line sensor. The same
 * engine and sinks as `read` (pipeline.h), fed by live handles, one per
 * worker, between which the kernel spreads the connections.
 *
 * Order at start: the handles are opened as root; root is dropped (-Z);
 * then everything that must stay writable is opened or checked as the
 * user the sensor runs as, so a path it cannot write fails now, with a
 * message, and never months later at a SIGHUP.
 *
 * Signals are taken by this thread alone (sigtimedwait): INT and TERM stop
 * it, HUP asks the ordered stream's thread to reopen the line outputs.
 */
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/archive.h"
#include "capture/live.h"
#include "cli.h"
#include "common/mem.h"
#include "pipeline.h"

#define DEFAULT_USER	"smtpsniff"

struct cap_ctx {
	struct pipe		 p;
	struct capture_live_config lcfg;
	const char		*user;		/* -Z */
	unsigned		 stats_s;	/* --stats-interval */
	bool			 list;
	struct engine		*e;
	struct archive_config	 acfg;		/* -w DIR: dir set */
	struct archive		*arch[LIMIT_WORKERS];
	atomic_bool		 hup;
	uint64_t		 next_stats;	/* packet time, ns */
	uint64_t		 first_ts;	/* the clock's first value */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: smtpsniff capture -i IFACE [-q] [-c FILE] [-f FILTER]\n"
	    "       [-s SNAPLEN] [-B KIB] [--no-promisc] [--immediate]\n"
	    "       [--threads N] [-Z USER] [--stats-interval SECONDS]\n"
	    "       [-w DIR [-G SECONDS] [-C MB] [-W N]]\n"
	    "       [--any-port] [--auth-user] [-p PORTS] [--sensor NAME]\n"
	    "       [--spool-dir DIR] [--spool-max SIZE] [--memcap SIZE]\n"
	    "       [-o SPEC]...\n"
	    "       smtpsniff capture --list-interfaces\n"
	    "  Capture live from IFACE (\"any\": all) and write one record per\n"
	    "  SMTP transaction as it completes, to the outputs of `read`\n"
	    "  (-o, default sqlite:smtpsniff.db). SIGINT/SIGTERM: stop, write\n"
	    "  open transactions as incomplete, exit 0. SIGHUP: reopen the\n"
	    "  json:, zeek: and eve: files.\n"
	    "  -i IFACE     the interface\n"
	    "  -D, --list-interfaces  the interfaces, as tcpdump -D\n"
	    "  -f FILTER    BPF filter (default: the SMTP ports, every TCP\n"
	    "               port with --any-port, also in 802.1Q/QinQ, and\n"
	    "               non-first IP fragments)\n"
	    "  -s SNAPLEN   bytes kept of a packet (default 262144)\n"
	    "  -B KIB       kernel buffer, KiB (default: libpcap's)\n"
	    "  --no-promisc  leave the interface's mode alone\n"
	    "  --immediate  hand each packet over at once (less latency,\n"
	    "               more CPU)\n"
	    "  --threads N  workers, each with its own kernel queue\n"
	    "               (PACKET_FANOUT; default: the cores available)\n"
	    "  -Z USER      run as USER once the interface is open (default\n"
	    "               smtpsniff if that user exists; -Z root keeps root)\n"
	    "  -w DIR       also write the packets to rotated pcap slices in\n"
	    "               DIR (`smtpsniff read DIR` reads them as one)\n"
	    "  -G SECONDS   a new slice every SECONDS of packet time\n"
	    "  -C MB        a new slice past MB million bytes\n"
	    "  -W N         keep the last N slices of each worker (a ring;\n"
	    "               unlike tcpdump, it never stops)\n"
	    "  --stats-interval S  statistics every S seconds of packet time\n"
	    "               to the log and the outputs (default 60, 0: off)\n"
	    "  -o SPEC, -p, --any-port, --auth-user, --memcap, --sensor,\n"
	    "  --spool-dir, --spool-max, -c, -q: as for `read`\n");
}

static int
apply(void *arg, int code, const char *val, bool conf)
{
	struct cap_ctx *c = arg;
	char *end;
	long n;
	int r;

	if ((r = pipe_option(&c->p, code, val, conf)) != 0)
		return r;
	switch (code) {
	case 'i':
		c->lcfg.iface = val;
		return 1;
	case 'f':
		c->lcfg.filter = val;
		return 1;
	case 'Z':
		c->user = val;
		return 1;
	case 'w':
		c->acfg.dir = val;
		return 1;
	case OPT_NO_PROMISC:
		c->lcfg.promisc = false;
		return 1;
	case OPT_IMMEDIATE:
		c->lcfg.immediate = true;
		return 1;
	case OPT_LIST_IFACES:
		c->list = true;
		return 1;
	}
	errno = 0;
	n = strtol(val, &end, 10);
	if (errno != 0 || *end != '\0' || end == val)
		n = -1;
	switch (code) {
	case 's':
	case OPT_SNAPLEN:
		if (n < 64 || n > LIMIT_SNAPLEN_DEFAULT) {
			log_warnx("-s %s: expected 64 to %d", val,
			    LIMIT_SNAPLEN_DEFAULT);
			return -1;
		}
		c->lcfg.snaplen = (int)n;
		return 1;
	case 'B':
		if (n < 1 || n > INT_MAX / 1024) {
			log_warnx("-B %s: expected a size in KiB", val);
			return -1;
		}
		c->lcfg.buffer_kib = (int)n;
		return 1;
	case 'G':
		if (n < 1 || n > 86400 * 366) {
			log_warnx("-G %s: expected seconds, 1 or more", val);
			return -1;
		}
		c->acfg.rotate_s = (uint32_t)n;
		return 1;
	case 'C':
		if (n < 1 || (uint64_t)n > UINT64_MAX / 1000000u) {
			log_warnx("-C %s: expected millions of bytes, 1 or more",
			    val);
			return -1;
		}
		c->acfg.rotate_bytes = (uint64_t)n * 1000000u;
		return 1;
	case 'W':
		if (n < 1 || n > LIMIT_ARCHIVE_KEEP) {
			log_warnx("-W %s: expected 1 to %d slices", val,
			    LIMIT_ARCHIVE_KEEP);
			return -1;
		}
		c->acfg.keep = (uint32_t)n;
		return 1;
	case OPT_STATS_INTERVAL:
		if (n < 0 || n > 86400) {
			log_warnx("--stats-interval %s: expected 0 to 86400 "
			    "seconds", val);
			return -1;
		}
		c->stats_s = (unsigned)n;
		return 1;
	}
	return 0;
}

/*
 * -Z: the user the sensor runs as once its handles are open. Not root:
 * nothing to drop. Without -Z, the smtpsniff user if there is one.
 */
static int
drop_root(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if (user == NULL) {
		if (getpwnam(DEFAULT_USER) == NULL) {
			log_warnx("running as root: there is no user %s "
			    "(-Z USER names another; -Z root keeps root)",
			    DEFAULT_USER);
			return 0;
		}
		user = DEFAULT_USER;
	}
	if (strcmp(user, "root") == 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		log_warnx("-Z %s: no such user", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		log_warn("-Z %s: cannot become that user", user);
		return -1;
	}
	/* For good: a way back would be a way back for an exploit too. */
	if (pw->pw_uid != 0 && setuid(0) != -1) {
		log_warnx("-Z %s: root could be regained", user);
		return -1;
	}
	return 0;
}

/* A path's directory must let us create files: -wal, rotated logs. */
static int
check_dir(const char *what, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;

	/* A device or pipe (/dev/null, a FIFO) is not rotated: writable will do. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (access(path, W_OK) == 0)
			return 0;
		log_warnx("%s: %s is not writable by uid %u", what, path,
		    (unsigned)geteuid());
		return -1;
	}
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (access(dir, W_OK | X_OK) == -1) {
		log_warnx("%s: directory %s is not writable by uid %u (%s)",
		    what, dir, (unsigned)geteuid(), strerror(errno));
		return -1;
	}
	return 0;
}

/* What must stay writable, checked as the user we now run as. */
static int
check_paths(struct pipe *p)
{
	const char *s;
	bool server = false;
	size_t i;

	for (i = 0; i < p->nspecs; i++) {
		s = p->specs[i];
		if (strncmp(s, "sqlite:", 7) == 0) {
			if (check_dir(s, s + 7) == -1)
				return -1;
		} else if ((strncmp(s, "json:", 5) == 0 ||
		    strncmp(s, "zeek:", 5) == 0) && strcmp(s + 5, "-") != 0) {
			if (check_dir(s, s + 5) == -1)
				return -1;
		} else if (strncmp(s, "eve:", 4) == 0 &&
		    strcmp(s + 4, "-") != 0) {
			if (check_dir(s, s + 4) == -1)
				return -1;
		} else if (strncmp(s, "mysql:", 6) == 0 ||
		    strncmp(s, "postgresql:", 11) == 0 ||
		    strncmp(s, "postgres:", 9) == 0)
			server = true;
	}
	if (server) {
		s = p->stcfg.spool_dir != NULL ? p->stcfg.spool_dir : ".";
		if (access(s, W_OK | X_OK) == -1) {
			log_warnx("--spool-dir %s: not writable by uid %u (%s)",
			    s, (unsigned)geteuid(), strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * The periodic statistics: to the log, and to every output that keeps
 * them (json: and eve: lines, the databases' stats table; not zeek:).
 * In the ordered stream's thread, the one that writes the outputs.
 */
static void
write_stats(struct cap_ctx *c, uint64_t now)
{
	struct engine_stats es;
	struct sensor_stats ss;
	struct mem_stats ms;
	size_t i;

	engine_get_stats(c->e, &es);
	mem_get_stats(&ms);
	memset(&ss, 0, sizeof(ss));
	ss.ts = now;
	ss.uptime_ns = now - c->first_ts;
	ss.threads = es.workers;
	ss.packets = es.live.packets;
	ss.bytes = es.live.bytes;
	ss.kernel_received = es.live.kernel_recv;
	ss.kernel_drops = es.live.kernel_drops;
	ss.kernel_ifdrops = es.live.if_drops;
	ss.flows = es.flow.flows;
	ss.flows_active = es.flow.flows_active;
	ss.sessions = es.sess.sessions;
	ss.records = es.sess.records;
	ss.mem_limit = ms.limit;
	ss.mem_total = ms.used;
	memcpy(ss.mem_layer, ms.layer_used, sizeof(ss.mem_layer));
	fprintf(stderr, "smtpsniff: stats: time %" PRIu64 " packets %" PRIu64
	    " kernel_drops %" PRIu64 " if_drops %" PRIu64 " flows %" PRIu64
	    " flows_active %" PRIu64 " sessions %" PRIu64 " records %" PRIu64
	    " memory %" PRIu64 "\n", now / 1000000000u, ss.packets,
	    ss.kernel_drops, ss.kernel_ifdrops, ss.flows, ss.flows_active,
	    ss.sessions, ss.records, ss.mem_total);
	for (i = 0; i < c->p.nout; i++)
		if (c->p.out[i] != NULL &&
		    output_stats(c->p.out[i], &ss) == -1)
			c->p.failed = 1;
}

/* A worker's thread: its packets into its own slices (-w). */
static void
on_packet(void *arg, unsigned worker, const struct capture_pkt *cp)
{
	struct cap_ctx *c = arg;

	if (c->arch[worker] != NULL)
		(void)archive_write(c->arch[worker], cp);	/* counted */
}

/* The ordered stream's thread, a few times a second. */
static void
on_tick(void *arg, uint64_t now)
{
	struct cap_ctx *c = arg;

	if (atomic_exchange(&c->hup, false))
		pipe_reopen_outputs(&c->p);
	pipe_flush_outputs(&c->p);
	if (c->stats_s == 0 || now == 0 || now == UINT64_MAX)
		return;
	if (c->next_stats == 0) {
		c->first_ts = now;
		c->next_stats = now + (uint64_t)c->stats_s * 1000000000u;
	} else if (now >= c->next_stats) {
		c->next_stats = now + (uint64_t)c->stats_s * 1000000000u;
		write_stats(c, now);
	}
}

int
cli_capture(int argc, char **argv)
{
	static const struct option longopts[] = {
		PIPE_LONGOPTS,
		{ "interface", required_argument, NULL, 'i' },
		{ "filter", required_argument, NULL, 'f' },
		{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
		{ "buffer-size", required_argument, NULL, 'B' },
		{ "no-promisc", no_argument, NULL, OPT_NO_PROMISC },
		{ "immediate", no_argument, NULL, OPT_IMMEDIATE },
		{ "list-interfaces", no_argument, NULL, OPT_LIST_IFACES },
		{ "user", required_argument, NULL, 'Z' },
		{ "write", required_argument, NULL, 'w' },
		{ "rotate-seconds", required_argument, NULL, 'G' },
		{ "file-size", required_argument, NULL, 'C' },
		{ "files", required_argument, NULL, 'W' },
		{ "stats-interval", required_argument, NULL,
		    OPT_STATS_INTERVAL },
		{ NULL, 0, NULL, 0 },
	};
	static const struct engine_ops eops = { pipe_on_record,
	    pipe_on_summary, on_tick, on_packet };
	struct cap_ctx *c;
	struct archive_stats as, ast;
	struct capture_live *src[LIMIT_WORKERS];
	struct engine_config ec;
	struct engine_stats st;
	char err[ERRBUF_SIZE];
	sigset_t set;
	struct timespec to = { 1, 0 };
	unsigned i, nsrc = 0;
	int ch, r, sig, rc = 2;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("out of memory");
		return 2;
	}
	pipe_init(&c->p);
	c->p.append = true;
	c->lcfg.promisc = true;
	c->stats_s = 60;
	atomic_init(&c->hup, false);
	optind = 1;
	if (pipe_load_config(&c->p, argc, argv, "capture", longopts, apply,
	    c) == -1)
		goto done;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hqc:o:p:i:f:s:B:DZ:w:G:C:W:", longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			rc = 0;
			goto done;
		}
		if (ch == 'D')
			ch = OPT_LIST_IFACES;
		/* getopt said what was wrong; optarg is NULL. */
		if (ch == '?') {
			usage(stderr);
			goto done;
		}
		if ((r = apply(c, ch, optarg, false)) == -1)
			goto done;
		if (r == 0) {
			usage(stderr);
			goto done;
		}
	}
	if (c->list) {
		if (capture_list_interfaces(stdout, err) == -1) {
			log_warnx("%s", err);
			goto done;
		}
		rc = 0;
		goto done;
	}
	if (c->lcfg.iface == NULL || optind != argc) {
		usage(stderr);
		goto done;
	}
	if (pipe_finish_options(&c->p) == -1 ||
	    pipe_engine_config(&c->p, &ec) == -1)
		goto done;
	/* Several handles: one fan-out group, private to this process. */
	if (c->p.threads > 1)
		c->lcfg.fanout_group = ((unsigned)getpid() & 0xffff) | 1;
	for (nsrc = 0; nsrc < c->p.threads; nsrc++)
		if ((src[nsrc] = capture_live_open(&c->lcfg, c->p.ports,
		    c->p.scfg.nports, c->p.scfg.any_port, err)) == NULL) {
			log_warnx("%s", err);
			goto done;
		}
	if (drop_root(c->user) == -1 || check_paths(&c->p) == -1 ||
	    pipe_open_outputs(&c->p) == -1)
		goto done;
	if ((c->acfg.rotate_s || c->acfg.rotate_bytes || c->acfg.keep) &&
	    c->acfg.dir == NULL) {
		log_warnx("-G, -C and -W go with -w DIR");
		goto done;
	}
	/* As the user we run as: a DIR it cannot write fails now. */
	for (i = 0; c->acfg.dir != NULL && i < nsrc; i++) {
		c->acfg.worker = i;
		c->acfg.snaplen = (uint32_t)capture_live_snaplen(src[i]);
		if ((c->arch[i] = archive_open(&c->acfg, err)) == NULL) {
			log_warnx("%s", err);
			goto done;
		}
	}
	/* Signals wait for this thread; the engine's threads block them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	ec.sources = src;
	ec.idle_clock = true;
	if ((c->e = engine_new(&ec, &eops, c)) == NULL) {
		log_warnx("cannot start the workers");
		goto done;
	}
	fprintf(stderr, "smtpsniff: capture: listening on %s (threads %u)\n",
	    c->lcfg.iface, c->p.threads);
	fflush(stderr);
	rc = 0;
	for (;;) {
		sig = sigtimedwait(&set, NULL, &to);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (sig == SIGHUP)
			atomic_store(&c->hup, true);
		if (engine_failed(c->e)) {
			log_warnx("capture on %s failed: stopping",
			    c->lcfg.iface);
			rc = 1;
			break;
		}
	}
	engine_finish(c->e);
	engine_get_stats(c->e, &st);
	memset(&ast, 0, sizeof(ast));
	for (i = 0; i < nsrc; i++) {
		if (c->arch[i] == NULL)
			continue;
		archive_get_stats(c->arch[i], &as);
		ast.slices += as.slices;
		ast.packets += as.packets;
		ast.bytes += as.bytes;
		ast.deleted += as.deleted;
		ast.errors += as.errors;
		ast.dropped += as.dropped;
		if (archive_close(c->arch[i]) == -1)
			rc = 2;
		c->arch[i] = NULL;
	}
	if (ast.errors > 0 || ast.dropped > 0) {
		log_warnx("-w %s: %" PRIu64 " write errors, %" PRIu64
		    " packets not archived", c->acfg.dir, ast.errors,
		    ast.dropped);
		rc = 2;
	}
	if (pipe_close(&c->p) == -1)
		rc = 2;
	if (!c->p.quiet) {
		fprintf(stderr, "summary: interface %s threads %u packets %"
		    PRIu64 " bytes %" PRIu64 "\n", c->lcfg.iface,
		    c->p.threads, st.live.packets, st.live.bytes);
		fprintf(stderr, "  kernel: received %" PRIu64 " dropped %"
		    PRIu64 " ifdropped %" PRIu64 "\n", st.live.kernel_recv,
		    st.live.kernel_drops, st.live.if_drops);
		pipe_print_engine(stderr, &st);
		if (c->acfg.dir != NULL)
			fprintf(stderr, "  archive: rotated %" PRIu64 " packets %"
			    PRIu64 " bytes %" PRIu64 " deleted %" PRIu64
			    " errors %" PRIu64 " dropped %" PRIu64 "\n",
			    ast.slices, ast.packets, ast.bytes, ast.deleted,
			    ast.errors, ast.dropped);
	}
done:
	engine_free(c->e);
	for (i = 0; i < nsrc; i++) {
		archive_close(c->arch[i]);
		capture_live_close(src[i]);
	}
	pipe_free(&c->p);
	free(c);
	return rc;
}
