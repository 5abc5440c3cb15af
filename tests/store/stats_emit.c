/*
 * stats_emit.c: the periodic statistics through the outputs, for the
 * tests, until `capture` makes them (tests/store/check.py,
 * check_servers.py). Opens every -o SPEC as `read` does, writes N stats
 * records with output_stats() and closes them; prints each record as the
 * JSON object of its struct (the field names of struct sensor_stats,
 * mem_layer as a list) on stdout, so that a test compares what the
 * outputs hold with what was given, and the store's summary on stderr.
 *
 * usage: stats_emit [--sensor NAME] [--spool-dir DIR] [--seed K] [-n N]
 *        -o SPEC...
 * Record i (from 0) of seed K: ts 2023-11-14T22:13:20 + K hours + i
 * minutes, every counter distinct, some past 2^32 and, with --huge, one
 * past INT64_MAX.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

#define MAX_SPECS	8

static void
fill(struct sensor_stats *st, uint64_t k, uint64_t i, bool huge)
{
	uint64_t base = k * 1000000 + i * 1000;
	unsigned l;

	memset(st, 0, sizeof(*st));
	st->ts = (1700000000ull + k * 3600 + i * 60) * 1000000000ull +
	    123456789ull;
	st->uptime_ns = (i + 1) * 60 * 1000000000ull + k * 1000 + 4005006;
	st->threads = (unsigned)(k % 7 + 1);
	st->packets = (5ull << 32) + base + 1;
	st->bytes = (6ull << 36) + base + 2;
	st->kernel_received = (5ull << 32) + base + 3;
	st->kernel_drops = base + 4;
	st->kernel_ifdrops = base + 5;
	st->flows = base + 6;
	st->flows_active = base + 7;
	st->sessions = base + 8;
	st->records = base + 9;
	st->records_lost = base + 10;
	st->alerts = base + 11;
	st->mem_limit = (k % 2) ? 0 : (1ull << 30);
	for (l = 0; l < MEM_LAYER_MAX; l++) {
		st->mem_layer[l] = base + 100 + l;
		st->mem_total += st->mem_layer[l];
	}
	if (huge)
		st->packets = UINT64_MAX;
}

static void
print(const struct sensor_stats *st)
{
	unsigned l;

	printf("{\"ts\":%" PRIu64 ",\"uptime_ns\":%" PRIu64 ",\"threads\":%u,"
	    "\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ","
	    "\"kernel_received\":%" PRIu64 ",\"kernel_drops\":%" PRIu64 ","
	    "\"kernel_ifdrops\":%" PRIu64 ",\"flows\":%" PRIu64 ","
	    "\"flows_active\":%" PRIu64 ",\"sessions\":%" PRIu64 ","
	    "\"records\":%" PRIu64 ",\"records_lost\":%" PRIu64 ","
	    "\"alerts\":%" PRIu64 ",\"mem_limit\":%" PRIu64 ","
	    "\"mem_total\":%" PRIu64 ",\"mem_layer\":[", st->ts,
	    st->uptime_ns, st->threads, st->packets, st->bytes,
	    st->kernel_received, st->kernel_drops, st->kernel_ifdrops,
	    st->flows, st->flows_active, st->sessions, st->records,
	    st->records_lost, st->alerts, st->mem_limit, st->mem_total);
	for (l = 0; l < MEM_LAYER_MAX; l++)
		printf("%s%" PRIu64, l > 0 ? "," : "", st->mem_layer[l]);
	printf("]}\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sensor", required_argument, NULL, 's' },
		{ "spool-dir", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 'k' },
		{ "huge", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_config cfg = { "stats-test", NULL, NULL, 0, 0 };
	struct output *out[MAX_SPECS];
	struct output_summary sum;
	struct sensor_stats st;
	const char *specs[MAX_SPECS];
	char err[ERRBUF_SIZE];
	unsigned long n = 1, k = 0, i;
	size_t nspecs = 0, j;
	bool huge = false;
	int ch, rc = 0;

	while ((ch = getopt_long(argc, argv, "n:o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': cfg.sensor = optarg; break;
		case 'd': cfg.spool_dir = optarg; break;
		case 'k': k = strtoul(optarg, NULL, 10); break;
		case 'H': huge = true; break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'o':
			if (nspecs == MAX_SPECS)
				return 2;
			specs[nspecs++] = optarg;
			break;
		default:
			fprintf(stderr, "usage: stats_emit [--sensor NAME] "
			    "[--spool-dir DIR] [--seed K] [--huge] [-n N] "
			    "-o SPEC...\n");
			return 2;
		}
	}
	for (j = 0; j < nspecs; j++)
		if ((out[j] = output_open(specs[j], &cfg, false, err)) == NULL) {
			fprintf(stderr, "%s\n", err);
			while (j-- > 0)
				output_close(out[j], NULL);
			return 2;
		}
	for (i = 0; i < n; i++) {
		fill(&st, k, i, huge);
		for (j = 0; j < nspecs; j++)
			if (output_stats(out[j], &st) == -1)
				rc = 1;
		print(&st);
	}
	fflush(stdout);
	for (j = 0; j < nspecs; j++) {
		if (output_close(out[j], &sum) == -1)
			rc = 1;
		if (sum.store)
			fprintf(stderr, "store %s: written %" PRIu64 " spooled %"
			    PRIu64 " replayed %" PRIu64 " pending %" PRIu64
			    " lost %" PRIu64 "\n", sum.name, sum.st.written,
			    sum.st.spooled, sum.st.replayed, sum.st.pending,
			    sum.st.lost);
		else
			fprintf(stderr, "%s: records %" PRIu64 " lost %" PRIu64
			    "\n", sum.name, sum.records, sum.lost);
	}
	return rc;
}
