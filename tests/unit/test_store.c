/*
 * test_store.c: the SQLite store keeps hostile strings byte for byte:
 * SQL metacharacters, quotes, invalid UTF-8. Everything is bound, nothing
 * is spliced into SQL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

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

	assert_non_null(s = store_open(spec, "t'est", err));
	assert_int_equal(store_put_record(s, &r), 0);
	assert_int_equal(store_close(s), 0);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT m.mail_from, r.addr, "
	    "r.accepted, (SELECT name FROM sensors) FROM messages m "
	    "JOIN recipients r ON r.message_id = m.id", -1, &q, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_bytes(q, 0), strlen(hostile_from));
	assert_memory_equal(sqlite3_column_text(q, 0), hostile_from,
	    strlen(hostile_from));
	assert_memory_equal(sqlite3_column_text(q, 1), hostile_rcpt,
	    strlen(hostile_rcpt));
	assert_int_equal(sqlite3_column_int(q, 2), 0);
	assert_string_equal((const char *)sqlite3_column_text(q, 3), "t'est");
	sqlite3_finalize(q);
	sqlite3_close(db);
	unlink(path);
}

static void
test_unwritable_path_is_a_clear_error(void **state)
{
	char err[ERRBUF_SIZE];

	assert_null(store_open("sqlite:/nonexistent/dir/x.db", "s", err));
	assert_non_null(strstr(err, "/nonexistent/dir/x.db"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_strings_round_trip_unchanged),
		cmocka_unit_test(test_unwritable_path_is_a_clear_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
