/*
 * test_store.c: the SQLite store keeps hostile strings byte for byte:
 * SQL metacharacters, quotes, invalid UTF-8. Everything is bound, nothing
 * is spliced into SQL. The spool: torn units, a full disk, its budget,
 * and a server that is not there (the servers themselves:
 * tests/store/check_servers.py).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/limits.h"
#include "store/spool.h"
#include "store/sql.h"
#include "store/store.h"
#include "store/unit.h"

static const char hostile_from[] =
    "x'); DROP TABLE messages; --\"@evil\xff\xfe.example";
static const char hostile_rcpt[] = "bob'--@example.net\xc3\x28";

static void
test_hostile_strings_round_trip_unchanged(void **state)
{
	char path[] = "/tmp/smtpsniff-store-XXXXXX", spec[64], err[ERRBUF_SIZE];
	struct record_conn conn;
	struct record_rcpt rc;
	struct record r;
	struct store_config cfg = { NULL, NULL, NULL, 0, 0 };
	struct store *s;
	sqlite3 *db;
	sqlite3_stmt *q;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "sqlite:%s", path);
	memset(&conn, 0, sizeof(conn));
	strcpy(conn.uid, "Cx");
	conn.client.af = conn.server.af = 4;
	memset(&rc, 0, sizeof(rc));
	rc.addr = (char *)hostile_rcpt;
	rc.code = 550;
	memset(&r, 0, sizeof(r));
	r.conn = &conn;
	r.trans_depth = 1;
	r.has_mail = true;
	r.mail_from = hostile_from;
	r.rcpt = &rc;
	r.nrcpt = 1;
	r.status = RECORD_REJECTED;
	r.last_reply = "550 no 'such' user";

	cfg.sensor = "t'est";
	assert_non_null(s = store_open(spec, &cfg, err));
	assert_int_equal(store_put_record(s, &r), 0);
	assert_int_equal(store_close(s), 0);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT m.mail_from, r.addr, "
	    "r.accepted, (SELECT name FROM sensors), m.mail_from_key "
	    "FROM messages m JOIN recipients r ON r.message_id = m.id", -1,
	    &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(q, 0), strlen(hostile_from));
	assert_memory_equal(sqlite3_column_text(q, 0), hostile_from,
	    strlen(hostile_from));
	assert_memory_equal(sqlite3_column_text(q, 1), hostile_rcpt,
	    strlen(hostile_rcpt));
	assert_int_equal(sqlite3_column_int(q, 2), 0);
	assert_string_equal((const char *)sqlite3_column_text(q, 3), "t'est");
	/* The search key: ASCII letters folded, other bytes as they were. */
	assert_int_equal(sqlite3_column_bytes(q, 4), strlen(hostile_from));
	assert_memory_equal(sqlite3_column_text(q, 4),
	    "x'); drop table messages; --\"@evil\xff\xfe.example",
	    strlen(hostile_from));
	sqlite3_finalize(q);
	sqlite3_close(db);
	unlink(path);
}

static void
test_unwritable_path_is_a_clear_error(void **state)
{
	struct store_config cfg = { "s", NULL, NULL, 0, 0 };
	char err[ERRBUF_SIZE];

	assert_null(store_open("sqlite:/nonexistent/dir/x.db", &cfg, err));
	assert_non_null(strstr(err, "/nonexistent/dir/x.db"));
}

static int
collect(void *arg, const uint8_t *p, size_t n)
{
	char *out = arg;

	strncat(out, (const char *)p, n);
	strcat(out, "|");
	return 0;
}

/* A unit cut short by a crash is dropped; units after it are not hidden. */
static void
test_spool_torn_tail_is_cut_and_appends_follow(void **state)
{
	char dir[] = "/tmp/smtpsniff-spool-XXXXXX", path[128], got[256];
	struct spool *sp;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.spool", dir);
	assert_non_null(sp = spool_new(path, LIMIT_SPOOL_MAX_DEFAULT));
	assert_int_equal(spool_units(sp), 0);
	assert_int_equal(spool_append(sp, "one", 3), 0);
	assert_int_equal(spool_append(sp, "two", 3), 0);
	spool_free(sp);
	/* A torn third unit: its length and two of its five bytes. */
	assert_non_null(fp = fopen(path, "ab"));
	fwrite("\x05\0\0\0th", 1, 6, fp);
	fclose(fp);

	assert_non_null(sp = spool_new(path, LIMIT_SPOOL_MAX_DEFAULT));
	assert_int_equal(spool_units(sp), 2);
	assert_int_equal(spool_append(sp, "four", 4), 0);
	got[0] = '\0';
	assert_int_equal(spool_replay(sp, collect, got), 3);
	assert_string_equal(got, "one|two|four|");
	assert_int_equal(spool_clear(sp), 0);
	assert_int_equal(spool_units(sp), 0);
	assert_int_equal(access(path, F_OK), -1);
	spool_free(sp);
	rmdir(dir);
}

/*
 * A database server that is not there: the store opens all the same and
 * spools; at close the records are still in the spool, counted.
 */
static void
test_unreachable_server_spools(void **state)
{
	char dir[] = "/tmp/smtpsniff-spool-XXXXXX", err[ERRBUF_SIZE];
	struct store_config cfg = { "s", dir, NULL, 0, 0 };
	struct store_stats st;
	struct record_conn conn;
	struct record r;
	struct store *s;
	struct spool *sp;
	char path[256];
	glob_t g;

	assert_non_null(mkdtemp(dir));
	memset(&conn, 0, sizeof(conn));
	strcpy(conn.uid, "Cy");
	conn.client.af = conn.server.af = 4;
	memset(&r, 0, sizeof(r));
	r.conn = &conn;
	r.trans_depth = 1;
	r.status = RECORD_ACCEPTED;
	/* Port 1 on loopback: nothing listens, the connection is refused. */
	assert_non_null(s = store_open("mysql://u@127.0.0.1:1/db", &cfg,
	    err));
	assert_int_equal(store_put_record(s, &r), 0);
	r.trans_depth = 2;
	assert_int_equal(store_put_record(s, &r), 0);
	assert_int_equal(store_close_stats(s, &st), 0);
	assert_int_equal(st.spooled, 2);
	assert_int_equal(st.pending, 2);
	assert_int_equal(st.written, 0);
	assert_int_equal(st.lost, 0);
	snprintf(path, sizeof(path), "%s/smtpsniff-*.spool", dir);
	assert_int_equal(glob(path, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	assert_non_null(sp = spool_new(g.gl_pathv[0], LIMIT_SPOOL_MAX_DEFAULT));
	assert_int_equal(spool_units(sp), 2);
	spool_clear(sp);
	spool_free(sp);
	globfree(&g);
	rmdir(dir);
}

/* Remove dir's spool files, and dir. */
static void
rm_spools(const char *dir)
{
	char pat[256];
	glob_t g;
	size_t k;

	snprintf(pat, sizeof(pat), "%s/*", dir);
	if (glob(pat, 0, NULL, &g) == 0) {
		for (k = 0; k < g.gl_pathc; k++)
			unlink(g.gl_pathv[k]);
		globfree(&g);
	}
	rmdir(dir);
}

/* Bytes of a file, or -1. */
static long long
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/*
 * A write that fails half way (a disk that filled; here the file size
 * limit, which cuts the write short the same way): the unit is refused,
 * the file is cut back to its whole units, and a unit appended when
 * there is room again is read back, not hidden behind a torn one.
 */
static void
test_spool_write_error_is_cut_off_and_appends_follow(void **state)
{
	char dir[] = "/tmp/smtpsniff-spool-XXXXXX", path[128], got[256];
	char big[100];
	struct rlimit old, rl;
	struct spool *sp;
	void (*prev)(int);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.spool", dir);
	memset(big, 'B', sizeof(big));
	prev = signal(SIGXFSZ, SIG_IGN);
	assert_non_null(sp = spool_new(path, LIMIT_SPOOL_MAX_DEFAULT));
	assert_int_equal(spool_append(sp, "one", 3), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl = old;
	rl.rlim_cur = 11 + 50;	/* "one" framed, and half of the next */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	errno = 0;
	assert_int_equal(spool_append(sp, big, sizeof(big)), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	assert_int_equal(file_size(path), 11);
	assert_int_equal(spool_append(sp, "three", 5), 0);
	assert_int_equal(spool_units(sp), 2);
	assert_int_equal(spool_bytes(sp), 11 + 13);
	got[0] = '\0';
	assert_int_equal(spool_replay(sp, collect, got), 2);
	assert_string_equal(got, "one|three|");
	spool_free(sp);
	/* The next run reads the same: nothing torn to cut. */
	assert_non_null(sp = spool_new(path, LIMIT_SPOOL_MAX_DEFAULT));
	assert_int_equal(spool_units(sp), 2);
	assert_int_equal(spool_bytes(sp), 24);
	assert_int_equal(spool_clear(sp), 0);
	spool_free(sp);
	rmdir(dir);
}

/*
 * The budget: units that fit are appended, the first that does not is
 * refused (EDQUOT) and the file is left as it was; a file a last run left
 * over a smaller budget is kept whole and refuses; emptied, it takes
 * units again.
 */
static void
test_spool_budget_refuses_and_keeps(void **state)
{
	char dir[] = "/tmp/smtpsniff-spool-XXXXXX", path[128], got[256];
	struct spool *sp;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.spool", dir);
	/* Three 4-byte units framed are 36 bytes. */
	assert_non_null(sp = spool_new(path, 3 * 12 + 5));
	assert_true(spool_has_room(sp, 4));
	assert_int_equal(spool_append(sp, "aaaa", 4), 0);
	assert_int_equal(spool_append(sp, "bbbb", 4), 0);
	assert_int_equal(spool_append(sp, "cccc", 4), 0);
	assert_false(spool_has_room(sp, 4));
	assert_false(spool_has_room(sp, 0));
	errno = 0;
	assert_int_equal(spool_append(sp, "dddd", 4), -1);
	assert_int_equal(errno, EDQUOT);
	assert_int_equal(spool_units(sp), 3);
	assert_int_equal(spool_bytes(sp), 36);
	assert_int_equal(file_size(path), 36);
	spool_free(sp);

	assert_non_null(sp = spool_new(path, 20));
	assert_int_equal(spool_units(sp), 3);
	assert_int_equal(spool_bytes(sp), 36);
	assert_int_equal(spool_max(sp), 20);
	assert_int_equal(spool_append(sp, "e", 1), -1);
	assert_int_equal(file_size(path), 36);
	got[0] = '\0';
	assert_int_equal(spool_replay(sp, collect, got), 3);
	assert_string_equal(got, "aaaa|bbbb|cccc|");
	assert_int_equal(spool_clear(sp), 0);
	assert_true(spool_has_room(sp, 12));
	assert_int_equal(spool_append(sp, "eeee", 4), 0);
	assert_int_equal(spool_bytes(sp), 12);
	assert_int_equal(spool_clear(sp), 0);
	spool_free(sp);
	rmdir(dir);
}

/* A record of session "Cz" with trans_depth depth, and its unit. */
static void
budget_record(struct record *r, struct record_conn *conn, int depth)
{
	memset(conn, 0, sizeof(*conn));
	strcpy(conn->uid, "Cz");
	conn->client.af = conn->server.af = 4;
	memset(r, 0, sizeof(*r));
	r->conn = conn;
	r->trans_depth = depth;
	r->has_mail = true;
	r->mail_from = "a@example.org";
	r->status = RECORD_ACCEPTED;
}

struct frames {
	struct dbuf	 b;	/* the units, each framed by its length */
	int		 n;
};

static int
keep_frame(void *arg, const uint8_t *p, size_t n)
{
	struct frames *f = arg;

	u_le(&f->b, n, 4);
	dbuf_add(&f->b, p, n);
	f->n++;
	return dbuf_status(&f->b);
}

/*
 * The units the spool of dir holds are those of the records of depth 1
 * to n, byte for byte and in order. Returns the file's size.
 */
static long long
spool_holds(const char *dir, int n)
{
	struct record_conn conn;
	struct record r;
	struct frames f;
	struct dbuf u, tmp;
	struct spool *sp;
	struct cur c;
	struct span got;
	char pat[256];
	long long size;
	glob_t g;
	int i;

	snprintf(pat, sizeof(pat), "%s/smtpsniff-*.spool", dir);
	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	size = file_size(g.gl_pathv[0]);
	assert_non_null(sp = spool_new(g.gl_pathv[0],
	    LIMIT_SPOOL_MAX_DEFAULT));
	dbuf_init(&f.b, 1u << 20);
	f.n = 0;
	assert_int_equal(spool_replay(sp, keep_frame, &f), n);
	assert_int_equal(f.n, n);
	dbuf_init(&u, LIMIT_STORE_UNIT_BYTES);
	dbuf_init(&tmp, LIMIT_STORE_UNIT_BYTES);
	c = cur_make(f.b.p, f.b.len);
	for (i = 1; i <= n; i++) {
		budget_record(&r, &conn, i);
		unit_message(&u, &tmp, &r);
		assert_true(cur_take_le32len(&c, &got));
		assert_int_equal(got.len, u.len);
		assert_memory_equal(got.p, u.p, u.len);
	}
	assert_int_equal(c.len, 0);
	dbuf_fini(&u);
	dbuf_fini(&tmp);
	dbuf_fini(&f.b);
	spool_free(sp);
	globfree(&g);
	return size;
}

/* What a function said on stderr, run with stderr into a file. */
static char *
stderr_of(void (*fn)(void *), void *arg)
{
	char path[] = "/tmp/smtpsniff-stderr-XXXXXX", *text;
	int fd, saved;
	long long n;
	FILE *fp;

	assert_true((fd = mkstemp(path)) >= 0);
	fflush(stderr);
	assert_true((saved = dup(2)) >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	fn(arg);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	close(fd);
	n = file_size(path);
	assert_true(n >= 0);
	assert_non_null(text = calloc(1, (size_t)n + 1));
	assert_non_null(fp = fopen(path, "rb"));
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	unlink(path);
	return text;
}

static int
count_of(const char *text, const char *what)
{
	int n = 0;

	for (; (text = strstr(text, what)) != NULL; text++)
		n++;
	return n;
}

struct budget_run {
	const char		*dir;
	uint64_t		 max;	/* the spool's budget */
	int			 from, to;	/* records of these depths */
	int			 rc;
	struct store_stats	 st;
};

/* One run: records from..to into a server that is not there. */
static void
budget_run(void *arg)
{
	struct budget_run *b = arg;
	struct store_config cfg = { "s", b->dir, NULL, b->max, 0 };
	struct record_conn conn;
	struct record r;
	struct store *s;
	char err[ERRBUF_SIZE];
	int i;

	/* Port 1 on loopback: nothing listens, the connection is refused. */
	assert_non_null(s = store_open("mysql://u@127.0.0.1:1/db", &cfg,
	    err));
	for (i = b->from; i <= b->to; i++) {
		budget_record(&r, &conn, i);
		assert_int_equal(store_put_record(s, &r), 0);
	}
	b->rc = store_close_stats(s, &b->st);
}

/*
 * A server that is not there and a spool budget of four units: four are
 * spooled, byte for byte, and the other six refused, counted as lost and
 * as spool_full, with one warning when the refusing starts and one at
 * close. The next run, with a budget smaller than the file, says so at
 * start, refuses and keeps the file whole; one with room appends after.
 */
static void
test_spool_budget_refuses_counts_and_keeps(void **state)
{
	char dir[] = "/tmp/smtpsniff-spool-XXXXXX";
	struct record_conn conn;
	struct record r;
	struct dbuf u, tmp;
	struct budget_run b;
	uint64_t frame;
	char *said;

	assert_non_null(mkdtemp(dir));
	dbuf_init(&u, LIMIT_STORE_UNIT_BYTES);
	dbuf_init(&tmp, LIMIT_STORE_UNIT_BYTES);
	budget_record(&r, &conn, 1);
	unit_message(&u, &tmp, &r);
	frame = 8 + u.len;	/* every depth encodes to the same size */
	dbuf_fini(&u);
	dbuf_fini(&tmp);

	memset(&b, 0, sizeof(b));
	b.dir = dir;
	b.max = 4 * frame + frame / 2;
	b.from = 1;
	b.to = 10;
	said = stderr_of(budget_run, &b);
	assert_int_equal(b.rc, -1);	/* something was lost */
	assert_int_equal(b.st.spooled, 4);
	assert_int_equal(b.st.pending, 4);
	assert_int_equal(b.st.lost, 6);
	assert_int_equal(b.st.spool_full, 6);
	assert_int_equal(b.st.spool_errors, 0);
	assert_int_equal(b.st.written, 0);
	assert_int_equal(count_of(said, "is full"), 1);
	assert_int_equal(count_of(said, "6 records refused"), 1);
	free(said);
	assert_int_equal(spool_holds(dir, 4), 4 * frame);

	/* A smaller budget than the file: said at start, all kept. */
	b.max = frame;
	b.from = 11;
	b.to = 12;
	said = stderr_of(budget_run, &b);
	assert_int_equal(b.st.spooled, 0);
	assert_int_equal(b.st.lost, 2);
	assert_int_equal(b.st.spool_full, 2);
	assert_int_equal(b.st.pending, 4);
	assert_int_equal(count_of(said, "over its budget"), 1);
	assert_int_equal(count_of(said, "is full"), 0);
	free(said);
	assert_int_equal(spool_holds(dir, 4), 4 * frame);

	/* Room for one more: it follows the four. */
	b.max = 5 * frame;
	b.from = 5;
	b.to = 6;
	said = stderr_of(budget_run, &b);
	assert_int_equal(b.st.spooled, 1);
	assert_int_equal(b.st.spool_full, 1);
	assert_int_equal(b.st.pending, 5);
	free(said);
	assert_int_equal(spool_holds(dir, 5), 5 * frame);
	rm_spools(dir);
}

/*
 * A spool that cannot be written (the disk full; here the file size
 * limit): each unit is counted as lost and as spool_errors, warned about
 * once, and the file keeps its whole units; the next run appends after
 * them.
 */
static void
test_spool_write_error_counts_lost(void **state)
{
	char dir[] = "/tmp/smtpsniff-spool-XXXXXX";
	struct record_conn conn;
	struct record r;
	struct dbuf u, tmp;
	struct budget_run b;
	struct rlimit old, rl;
	void (*prev)(int);
	uint64_t frame;

	assert_non_null(mkdtemp(dir));
	dbuf_init(&u, LIMIT_STORE_UNIT_BYTES);
	dbuf_init(&tmp, LIMIT_STORE_UNIT_BYTES);
	budget_record(&r, &conn, 1);
	unit_message(&u, &tmp, &r);
	frame = 8 + u.len;
	dbuf_fini(&u);
	dbuf_fini(&tmp);

	memset(&b, 0, sizeof(b));
	b.dir = dir;
	b.from = 1;
	b.to = 5;
	prev = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl = old;
	rl.rlim_cur = 2 * frame + frame / 2;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	budget_run(&b);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	assert_int_equal(b.rc, -1);
	assert_int_equal(b.st.spooled, 2);
	assert_int_equal(b.st.lost, 3);
	assert_int_equal(b.st.spool_errors, 3);
	assert_int_equal(b.st.spool_full, 0);
	assert_int_equal(b.st.pending, 2);
	assert_int_equal(spool_holds(dir, 2), 2 * frame);

	b.from = 3;
	b.to = 3;
	budget_run(&b);
	assert_int_equal(b.rc, 0);
	assert_int_equal(b.st.spooled, 1);
	assert_int_equal(b.st.pending, 3);
	assert_int_equal(spool_holds(dir, 3), 3 * frame);
	rm_spools(dir);
}

/* The helpers every driver and report leans on. */
static void
test_sql_helpers(void **state)
{
	struct sql_val v;
	struct dbuf out;
	unsigned order[8];

	v = sql_int(42);
	assert_int_equal(sql_val_int(&v), 42);
	v = sql_mem(SQL_BYTES, "1234", 4);	/* MySQL, PostgreSQL: text */
	assert_int_equal(sql_val_int(&v), 1234);
	v = sql_mem(SQL_BYTES, "12x", 3);
	assert_int_equal(sql_val_int(&v), -1);
	v = sql_null(SQL_INT);
	assert_int_equal(sql_val_int(&v), -1);
	v = sql_mem(SQL_BYTES, "123456789012345678901234567890", 30);
	assert_int_equal(sql_val_int(&v), -1);

	dbuf_init(&out, 1024);
	assert_int_equal(sql_unnumber("a = ?2 OR (?1 IS NULL AND b = ?2)",
	    &out, order, 8), 3);
	assert_string_equal((const char *)out.p,
	    "a = ? OR (? IS NULL AND b = ?)");
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 2);
	assert_int_equal(sql_unnumber("?1 ?1 ?1", &out, order, 2), -1);
	dbuf_fini(&out);
}

/*
 * The batch's byte cap and the writer's queue cap, hit with 1 MiB
 * records: both counted (nothing is lost at either). The writer commits
 * 64 MiB to SQLite far more slowly than the reader queues 16 MiB more,
 * so the reader waits; the batch reaches its byte cap long before its
 * second is up.
 */
static void
test_batch_and_queue_caps_are_counted(void **state)
{
	char path[] = "/tmp/smtpsniff-caps-XXXXXX", spec[64], err[ERRBUF_SIZE];
	size_t big = 1u << 20, n = LIMIT_STORE_BATCH_BYTES / big + 32, i;
	/* Batches held an hour: only the byte cap can commit one (a slow,
	 * loaded machine used to commit by age first: flaky under TSan). */
	struct store_config cfg = { "t", NULL, NULL, 0, 3600 * 1000 };
	struct record_conn conn;
	struct store_stats st;
	struct record r;
	struct store *s;
	char *reply;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "sqlite:%s", path);
	assert_non_null(reply = malloc(big + 1));
	memset(reply, 'x', big);
	reply[big] = '\0';
	memset(&conn, 0, sizeof(conn));
	strcpy(conn.uid, "Cq");
	conn.client.af = conn.server.af = 4;
	memset(&r, 0, sizeof(r));
	r.conn = &conn;
	r.status = RECORD_ACCEPTED;
	r.last_reply = reply;
	assert_non_null(s = store_open(spec, &cfg, err));
	for (i = 0; i < n; i++) {
		r.trans_depth = (unsigned)i + 1;
		assert_int_equal(store_put_record(s, &r), 0);
	}
	assert_int_equal(store_close_stats(s, &st), 0);
	assert_int_equal(st.written, n);
	assert_int_equal(st.lost, 0);
	assert_true(st.commits_full >= 1);
	assert_true(st.queue_waits >= 1);
	free(reply);
	unlink(path);
}

/* A unit's values read back through common/cur.h, and any cut refused. */
static void
test_unit_values_decode_and_every_cut_is_malformed(void **state)
{
	struct sql_val v[4];
	struct dbuf b;
	struct cur c;
	size_t cut;

	dbuf_init(&b, 1024);
	dbuf_addc(&b, SQL_INT);
	u_le(&b, (uint64_t)-5, 8);
	dbuf_addc(&b, SQL_BYTES);
	u_le(&b, 3, 4);
	dbuf_add(&b, "a\0b", 3);
	dbuf_addc(&b, SQL_TEXT | TAG_NULL);
	dbuf_addc(&b, SQL_TEXT);
	u_le(&b, 0, 4);
	assert_int_equal(dbuf_status(&b), 0);
	c = cur_make(b.p, b.len);
	assert_int_equal(unit_get(&c, v, 4), 0);
	assert_int_equal(c.len, 0);
	assert_int_equal(v[0].type, SQL_INT);
	assert_int_equal(v[0].i, -5);
	assert_int_equal(v[1].type, SQL_BYTES);
	assert_int_equal(v[1].n, 3);
	assert_memory_equal(v[1].p, "a\0b", 3);
	assert_true(v[2].null);
	assert_int_equal(v[2].type, SQL_TEXT);
	assert_false(v[3].null);
	assert_int_equal(v[3].n, 0);
	for (cut = 0; cut < b.len; cut++) {
		c = cur_make(b.p, cut);
		assert_int_equal(unit_get(&c, v, 4), -1);
		assert_true(c.err);
	}
	/* A tag that is no type, and a length beyond the unit. */
	c = cur_make((const uint8_t *)"\x07", 1);
	assert_int_equal(unit_get(&c, v, 1), -1);
	c = cur_make((const uint8_t *)"\x02\xff\xff\xff\xff" "ab", 7);
	assert_int_equal(unit_get(&c, v, 1), -1);
	assert_int_equal(unit_kind((struct span){ NULL, 0 }), 0);
	assert_int_equal(unit_kind((struct span){ (const uint8_t *)"S", 1 }),
	    UNIT_SESSION);
	dbuf_fini(&b);
}

/* ---- the periodic statistics (output_stats, capture) -------------------- */

static int	unit_seen;
static char	unit_ts[32];

/* A spooled unit: a STATS one, decoded whole into arg (ts copied, the
 * unit's bytes are the spool's only during the call). */
static int
check_stats_unit(void *arg, const uint8_t *p, size_t n)
{
	struct sql_val *v = arg;
	struct cur c = cur_make(p, n);

	unit_seen++;
	if (cur_u8(&c) != UNIT_STATS || unit_get(&c, v, STATS_N) == -1 ||
	    c.len != 0 || v[0].n >= sizeof(unit_ts))
		return -1;
	memcpy(unit_ts, v[0].p, v[0].n);
	v[0].p = unit_ts;
	return 0;
}

/* Every counter distinct; packets past INT64_MAX (stored as INT64_MAX). */
static void
stats_fill(struct sensor_stats *st, uint64_t ts_s)
{
	unsigned l;

	memset(st, 0, sizeof(*st));
	st->ts = ts_s * 1000000000ull + 614414000ull;
	st->uptime_ns = 3723004005006ull;
	st->threads = 3;
	st->packets = UINT64_MAX;
	st->bytes = 6000000000011ull;
	st->kernel_received = 7000000013ull;
	st->kernel_drops = 17;
	st->kernel_ifdrops = 19;
	st->flows = 23000000029ull;
	st->flows_active = 31;
	st->sessions = 37;
	st->records = 41;
	st->records_lost = 43;
	st->alerts = 47;
	st->mem_limit = 1073741824;
	for (l = 0; l < MEM_LAYER_MAX; l++) {
		st->mem_layer[l] = 53 + 6 * l;
		st->mem_total += st->mem_layer[l];
	}
}

/* The stats unit's values, in the stats table's column order. */
static void
stats_values(const struct sensor_stats *st, int64_t v[STATS_N - 1])
{
	uint64_t u[STATS_N - 1] = { st->uptime_ns, st->threads,
	    st->packets, st->bytes, st->kernel_received, st->kernel_drops,
	    st->kernel_ifdrops, st->flows, st->flows_active, st->sessions,
	    st->records, st->records_lost, st->alerts, st->mem_limit,
	    st->mem_total };
	unsigned i;

	for (i = 0; i < MEM_LAYER_MAX; i++)
		u[STATS_N - 1 - MEM_LAYER_MAX + i] = st->mem_layer[i];
	for (i = 0; i < STATS_N - 1; i++)
		v[i] = u[i] > INT64_MAX ? INT64_MAX : (int64_t)u[i];
}

/*
 * A row per stats record in SQLite, with this sensor's id and every
 * counter as given; the same ts again (a spool sent twice) is one row.
 */
static void
test_stats_rows_land_once_per_ts(void **state)
{
	char path[] = "/tmp/smtpsniff-stats-XXXXXX", spec[64], err[ERRBUF_SIZE];
	struct store_config cfg = { "st'ats", NULL, NULL, 0, 0 };
	struct sensor_stats st[2];
	struct store_stats ss;
	struct store *s;
	sqlite3 *db;
	sqlite3_stmt *q;
	int64_t want[STATS_N - 1];
	int fd, r, c;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "sqlite:%s", path);
	stats_fill(&st[0], 1254722769);
	stats_fill(&st[1], 1254722829);
	st[1].records = 99;
	assert_non_null(s = store_open(spec, &cfg, err));
	assert_int_equal(store_put_stats(s, &st[0]), 0);
	assert_int_equal(store_put_stats(s, &st[1]), 0);
	assert_int_equal(store_put_stats(s, &st[0]), 0);
	assert_int_equal(store_close_stats(s, &ss), 0);
	assert_int_equal(ss.written, 3);
	assert_int_equal(ss.lost, 0);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT se.name, st.ts,"
	    " uptime_ns, threads, packets, bytes, kernel_received,"
	    " kernel_drops, kernel_ifdrops, flows, flows_active, st.sessions,"
	    " records, records_lost, alerts, mem_limit, mem_total, mem_flows,"
	    " mem_reassembly, mem_fragments, mem_sessions, mem_records"
	    " FROM stats st"
	    " JOIN sensors se ON se.id = st.sensor_id ORDER BY st.ts", -1, &q,
	    NULL), SQLITE_OK);
	for (r = 0; r < 2; r++) {
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(q, 0),
		    "st'ats");
		assert_string_equal((const char *)sqlite3_column_text(q, 1),
		    r == 0 ? "2009-10-05T06:06:09.614414Z" :
		    "2009-10-05T06:07:09.614414Z");
		stats_values(&st[r], want);
		for (c = 0; c < STATS_N - 1; c++)
			if (sqlite3_column_int64(q, 2 + c) != want[c])
				fail_msg("row %d column %s: %lld, not %lld", r,
				    sqlite3_column_name(q, 2 + c),
				    (long long)sqlite3_column_int64(q, 2 + c),
				    (long long)want[c]);
	}
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	sqlite3_finalize(q);
	/* The schema: version 4. */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT max(version) FROM "
	    "schema_version", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), STORE_SCHEMA_VERSION);
	assert_int_equal(STORE_SCHEMA_VERSION, 4);
	sqlite3_finalize(q);
	sqlite3_close(db);
	unlink(path);
}

/*
 * With the server away, a stats record waits in the spool like a record:
 * one unit of kind STATS whose values read back as what was given.
 */
static void
test_stats_spooled_while_server_away(void **state)
{
	char dir[] = "/tmp/smtpsniff-spool-XXXXXX", err[ERRBUF_SIZE];
	char path[256];
	struct store_config cfg = { "s", dir, NULL, 0, 0 };
	struct sql_val v[STATS_N];
	struct store_stats ss;
	struct sensor_stats st;
	struct store *s;
	struct spool *sp;
	int64_t want[STATS_N - 1];
	glob_t g;
	int i;

	assert_non_null(mkdtemp(dir));
	stats_fill(&st, 1254722769);
	assert_non_null(s = store_open("mysql://u@127.0.0.1:1/db", &cfg,
	    err));
	assert_int_equal(store_put_stats(s, &st), 0);
	assert_int_equal(store_close_stats(s, &ss), 0);
	assert_int_equal(ss.spooled, 1);
	assert_int_equal(ss.pending, 1);
	assert_int_equal(ss.lost, 0);
	snprintf(path, sizeof(path), "%s/smtpsniff-*.spool", dir);
	assert_int_equal(glob(path, 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 1);
	assert_non_null(sp = spool_new(g.gl_pathv[0], LIMIT_SPOOL_MAX_DEFAULT));
	unit_seen = 0;
	assert_int_equal(spool_replay(sp, check_stats_unit, v), 1);
	assert_int_equal(unit_seen, 1);
	assert_int_equal(v[0].type, SQL_TEXT);
	assert_int_equal(v[0].n, strlen("2009-10-05T06:06:09.614414Z"));
	assert_memory_equal(v[0].p, "2009-10-05T06:06:09.614414Z", v[0].n);
	stats_values(&st, want);
	for (i = 0; i < STATS_N - 1; i++) {
		assert_int_equal(v[1 + i].type, SQL_INT);
		assert_int_equal(v[1 + i].i, want[i]);
	}
	spool_clear(sp);
	spool_free(sp);
	globfree(&g);
	rmdir(dir);
}

/* Parse a mysql:// URL from a copy; the error (or "") in err. */
static int
url(const char *spec, struct sql_mysql_url *u, char *buf, char *err)
{
	strcpy(buf, spec);
	err[0] = '\0';
	return sql_mysql_url_parse(buf, u, err);
}

static void
test_mysql_url_decoded_and_split(void **state)
{
	struct sql_mysql_url u;
	char buf[256], err[ERRBUF_SIZE];

	assert_int_equal(url("mysql://root@127.0.0.1:3306/smtpsniff", &u, buf,
	    err), 0);
	assert_string_equal(u.user, "root");
	assert_null(u.pass);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 3306);
	assert_string_equal(u.db, "smtpsniff");
	assert_null(u.sock);
	/* Every character a password may hold, percent-encoded. */
	assert_int_equal(url("mysql://u%40x%3a:%23p%3B%3d%22%20%27%5C%25+%3F"
	    "@db.example:1/d%2Fb", &u, buf, err), 0);
	assert_string_equal(u.user, "u@x:");
	assert_string_equal(u.pass, "#p;=\" '\\%+?");
	assert_string_equal(u.host, "db.example");
	assert_int_equal(u.port, 1);
	assert_string_equal(u.db, "d/b");
	/* '@' and '/' unencoded in a password, as before decoding came. */
	assert_int_equal(url("mysql://u:p@s/w:@h/db", &u, buf, err), 0);
	assert_string_equal(u.user, "u");
	assert_string_equal(u.pass, "p@s/w:");
	assert_string_equal(u.host, "h");
	assert_int_equal(u.port, 0);
	assert_int_equal(url("mysql://u:@h/db", &u, buf, err), 0);
	assert_string_equal(u.pass, "");
	/* IPv6 in brackets, with and without a port. */
	assert_int_equal(url("mysql://u:p@[::1]:3306/db", &u, buf, err), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 3306);
	assert_string_equal(u.pass, "p");
	assert_int_equal(url("mysql://u@[2001:DB8::5]/db", &u, buf, err), 0);
	assert_string_equal(u.host, "2001:DB8::5");
	assert_int_equal(u.port, 0);
	assert_int_equal(url("mysql://u@[::ffff:192.0.2.1]:65535/db", &u, buf,
	    err), 0);
	assert_string_equal(u.host, "::ffff:192.0.2.1");
	assert_int_equal(u.port, 65535);
	/* A socket path, encoded or holding '@' and '?'. */
	assert_int_equal(url("mysql://u@localhost/db?socket=%2Ftmp%2Fa%20b",
	    &u, buf, err), 0);
	assert_string_equal(u.sock, "/tmp/a b");
	assert_string_equal(u.db, "db");
	assert_int_equal(url("mysql://u@localhost/db?socket=/t@x/s?k", &u, buf,
	    err), 0);
	assert_string_equal(u.user, "u");
	assert_string_equal(u.sock, "/t@x/s?k");
}

static void
test_mysql_url_malformed_is_a_clear_error(void **state)
{
	static const struct {
		const char	*spec, *why;
	} bad[] = {
		{ "mysql://u:p%4@h/db", "bad %-escape in the password" },
		{ "mysql://u:p%zz@h/db", "bad %-escape in the password" },
		{ "mysql://u:p%@h/db", "bad %-escape in the password" },
		{ "mysql://u:p%00x@h/db", "%00 in the password" },
		{ "mysql://u%g1@h/db", "bad %-escape in the user" },
		{ "mysql://u@h/d%1", "bad %-escape in the database name" },
		{ "mysql://u@h/db?socket=%2", "bad %-escape in the socket path" },
		{ "mysql://u@[::1:3306/db", "no ']' after the IPv6 address" },
		{ "mysql://u@[::1/db", "no ']' after the IPv6 address" },
		{ "mysql://u@[]/db", "not an IPv6 address in [...]" },
		{ "mysql://u@[host]/db", "not an IPv6 address in [...]" },
		{ "mysql://u@[::1]x/db", "expected :PORT or /DB after ']'" },
		{ "mysql://u@[::1]", "expected :PORT or /DB after ']'" },
		{ "mysql://u@h:0/db", "port out of range (1-65535)" },
		{ "mysql://u@h:65536/db", "port out of range (1-65535)" },
		{ "mysql://u@[::1]:99999999999999999999999/db",
		    "port out of range (1-65535)" },
		{ "mysql://u@h:/db", "bad port" },
		{ "mysql://u@h:-1/db", "bad port" },
		{ "mysql://u@h:33x/db", "bad port" },
		{ "mysql://u@h:+5/db", "bad port" },
		{ "mysql://h/db", "no USER@ before the host" },
		{ "mysql://u@h", "no /DB after the host" },
		{ "mysql://@h/db", "no user" },
		{ "mysql://u@/db", "no host" },
		{ "mysql://u@:3306/db", "no host" },
		{ "mysql://u@h/", "no database name" },
		{ "mysql://u@h/db?ssl=1", "the only parameter is ?socket=PATH" },
		{ "mysql://u@h/db?socket=", "the only parameter is ?socket=PATH" },
		{ "mariadb://u@h/db", "not a mysql:// URL" },
	};
	struct sql_mysql_url u;
	char buf[256], err[ERRBUF_SIZE];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (url(bad[i].spec, &u, buf, err) != -1 ||
		    strncmp(err, bad[i].why, strlen(bad[i].why)) != 0)
			fail_msg("%s: \"%s\", not \"%s\"", bad[i].spec, err,
			    bad[i].why);
	}
}

/* The driver says why, and never shows a password it could not use. */
static void
test_mysql_bad_url_error_names_the_fault(void **state)
{
	struct store_config cfg = { "t", NULL, NULL, 0, 0 };
	char err[ERRBUF_SIZE];

	assert_null(store_open("mysql://u:s3cret%zz@127.0.0.1:1/db", &cfg,
	    err));
	assert_non_null(strstr(err, "bad %-escape in the password"));
	assert_null(strstr(err, "s3cret"));
	assert_null(store_open("mysql://u:s3cret@[::1:1/db", &cfg, err));
	assert_non_null(strstr(err, "no ']' after the IPv6 address"));
	assert_null(strstr(err, "s3cret"));
}

/*
 * A store's name (in messages, the summary, the spool's file name) has
 * no password, however the URL holds it: '@' and '/' in a MySQL
 * password, percent-encoded ones, PostgreSQL's password= parameter.
 */
static void
test_store_name_never_shows_a_password(void **state)
{
	static const struct {
		const char	*spec, *name;
	} c[] = {
		{ "mysql://u:s3c@r/et@127.0.0.1:1/db",
		    "mysql://u@127.0.0.1:1/db" },
		{ "mysql://u:s3%23c%40ret@[::1]:1/db?socket=/a@b",
		    "mysql://u@[::1]:1/db?socket=/a@b" },
		{ "postgresql://u:s3%23cret@127.0.0.1:1/db",
		    "postgresql://u@127.0.0.1:1/db" },
		{ "postgresql://u@127.0.0.1:1/db?password=s3%23cret&"
		    "connect_timeout=1", "postgresql://u@127.0.0.1:1/db?"
		    "connect_timeout=1" },
	};
	char dir[] = "/tmp/smtpsniff-name-XXXXXX", err[ERRBUF_SIZE];
	char path[256];
	struct store_config cfg = { "t", dir, NULL, 0, 0 };
	struct store *s;
	glob_t g;
	size_t i, k;

	assert_non_null(mkdtemp(dir));
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		/* Nothing listens on port 1: the store spools. */
		assert_non_null(s = store_open(c[i].spec, &cfg, err));
		assert_string_equal(store_name(s), c[i].name);
		assert_int_equal(store_close(s), 0);
	}
	snprintf(path, sizeof(path), "%s/*", dir);
	if (glob(path, 0, NULL, &g) == 0) {
		for (k = 0; k < g.gl_pathc; k++)
			unlink(g.gl_pathv[k]);
		globfree(&g);
	}
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_strings_round_trip_unchanged),
		cmocka_unit_test(test_unwritable_path_is_a_clear_error),
		cmocka_unit_test(test_spool_torn_tail_is_cut_and_appends_follow),
		cmocka_unit_test(test_unreachable_server_spools),
		cmocka_unit_test(
		    test_spool_write_error_is_cut_off_and_appends_follow),
		cmocka_unit_test(test_spool_budget_refuses_and_keeps),
		cmocka_unit_test(test_spool_budget_refuses_counts_and_keeps),
		cmocka_unit_test(test_spool_write_error_counts_lost),
		cmocka_unit_test(test_sql_helpers),
		cmocka_unit_test(test_batch_and_queue_caps_are_counted),
		cmocka_unit_test(
		    test_unit_values_decode_and_every_cut_is_malformed),
		cmocka_unit_test(test_mysql_url_decoded_and_split),
		cmocka_unit_test(test_mysql_url_malformed_is_a_clear_error),
		cmocka_unit_test(test_mysql_bad_url_error_names_the_fault),
		cmocka_unit_test(test_store_name_never_shows_a_password),
		cmocka_unit_test(test_stats_rows_land_once_per_ts),
		cmocka_unit_test(test_stats_spooled_while_server_away),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
