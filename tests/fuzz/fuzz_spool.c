/*
 * fuzz_spool.c: libFuzzer target over what reads a spool file back: the
 * spool's framing (torn and garbage lengths), the unit decoder, and the
 * set-based writer's parsing of a batch (bulk.c), which runs against a
 * stand-in driver that answers like a server would: ids for the sessions
 * asked for, and every message inserted as new. A spool file is written
 * by this program, but it sits on a disk and is read after crashes: it is
 * input like any other. abort() when an invariant breaks.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/limits.h"
#include "store/bulk.h"
#include "store/spool.h"
#include "store/unit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok)
{
	if (!ok)
		abort();
}

/* ---- a stand-in server ---------------------------------------------------- */

static int64_t next_id;

static void *
fake_open(const char *spec, bool ro, const char *pw, bool *unreachable,
    char err[ERRBUF_SIZE])
{
	(void)spec; (void)ro; (void)pw; (void)err;
	*unreachable = false;
	return &next_id;
}

static const char *
fake_name(void *h)
{
	(void)h;
	return "fake";
}

static int
fake_exec(void *h, const char *sql)
{
	(void)h; (void)sql;
	return 0;
}

static int
fake_prepare(void *h, unsigned id, const char *sql)
{
	(void)h; (void)id; (void)sql;
	return 0;
}

static int64_t
fake_run(void *h, unsigned id, const struct sql_val *v, unsigned n,
    int64_t *rowid)
{
	(void)h; (void)id; (void)v; (void)n;
	*rowid = -1;
	return 0;
}

/* Every value bound must be what the unit said: lengths in bounds. */
static void
check_vals(const struct sql_val *v, unsigned n)
{
	unsigned i;
	volatile uint8_t x = 0;

	for (i = 0; i < n; i++) {
		check(v[i].type <= SQL_BYTES);
		if (!v[i].null && v[i].type != SQL_INT && v[i].n > 0)
			x ^= ((const uint8_t *)v[i].p)[v[i].n - 1];
	}
	(void)x;
}

static int
fake_query(void *h, const char *sql, const struct sql_val *v, unsigned n,
    sql_row_fn *fn, void *arg)
{
	struct sql_val row[3];
	unsigned i, ncols;

	(void)h;
	check(n <= SQL_MAXQUERYPARAM);
	check_vals(v, n);
	if (strncmp(sql, "SELECT uid, id", 14) == 0) {
		for (i = 1; i < n; i++) {
			row[0] = v[i];
			row[1] = sql_int(++next_id);
			fn(arg, row, 2);
		}
	} else if (strstr(sql, "RETURNING id, session_id, trans_depth") !=
	    NULL) {
		ncols = MSG_NCOLS;
		check(n % ncols == 0);
		for (i = 0; i < n; i += ncols) {
			row[0] = sql_int(++next_id);
			row[1] = v[i];
			row[2] = v[i + 1];
			fn(arg, row, 3);
		}
	}
	return 0;
}

static bool
fake_lost(void *h)
{
	(void)h;
	return false;
}

static void
fake_close(void *h)
{
	(void)h;
}

static const struct sql_driver fake = {
	"fake:", SQL_PGSQL, true, fake_open, fake_name, fake_exec,
	fake_prepare, fake_run, fake_query, fake_lost, fake_close, strdup,
};

/* ---- the target ----------------------------------------------------------- */

struct batch {
	struct dbuf	 b;
	unsigned	 units;
};

static int
take(void *arg, const uint8_t *p, size_t n)
{
	struct batch *x = arg;
	uint8_t len[4] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
	    (uint8_t)(n >> 24) };

	check(n <= LIMIT_STORE_UNIT_BYTES);
	dbuf_add(&x->b, len, 4);
	dbuf_add(&x->b, p, n);
	x->units++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct spool *sp;
	struct batch x;
	uint64_t units, malformed = 0;
	struct stat sb;
	int64_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "/tmp/fuzz-spool-%d", (int)getpid());
	if ((fp = fopen(path, "wb")) == NULL)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	check((sp = spool_new(path, LIMIT_SPOOL_MAX_DEFAULT)) != NULL);
	/* Counting cuts a torn tail off; what is left replays whole. */
	units = spool_units(sp);
	/* Its bytes, as the budget counts them, are the file's. */
	check(stat(path, &sb) == 0 && spool_bytes(sp) == (uint64_t)sb.st_size);
	dbuf_init(&x.b, 256u << 20);
	x.units = 0;
	n = spool_replay(sp, take, &x);
	check(n == (int64_t)units && x.units == units);
	if (x.units > 0) {
		next_id = 0;
		check(bulk_apply(&fake, &next_id, 1, x.b.p, x.b.len, x.units,
		    &malformed) == 0);
		check(malformed <= 2u * x.units);
	}
	/* Appending after a torn tail: the new unit is found. */
	check(spool_append(sp, "\x01", 1) == 0);
	x.units = 0;
	dbuf_reset(&x.b);
	check(spool_replay(sp, take, &x) == (int64_t)units + 1);
	dbuf_fini(&x.b);
	spool_free(sp);
	unlink(path);
	return 0;
}
