/*
 * test_output_zeek.c: the Zeek smtp.log path holds every Received header
 * the MIME parser kept: its cap (LIMIT_ZEEK_PATH) is never what cuts it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "output/output_int.h"

/* Elements of the "path" array of a row (strings without quotes in). */
static size_t
path_len(const char *row)
{
	const char *p = strstr(row, "\"path\":["), *e;
	size_t n = 0;

	assert_non_null(p);
	p += 8;
	assert_non_null(e = strchr(p, ']'));
	for (; p < e; p++)
		n += *p == '"';
	return n / 2;
}

static void
test_path_keeps_every_received_header(void **state)
{
	char *v[LIMIT_MIME_RECEIVED];
	struct record_conn conn;
	struct mime_result m;
	struct record r;
	struct dbuf b;
	size_t i;

	memset(&conn, 0, sizeof(conn));
	strcpy(conn.uid, "Cz");
	conn.client.af = conn.server.af = 4;
	conn.client.ip[0] = 192;
	conn.server.ip[0] = 10;
	memset(&m, 0, sizeof(m));
	/* Each hop a different address: nothing is merged as a repeat. */
	for (i = 0; i < LIMIT_MIME_RECEIVED; i++) {
		assert_non_null(v[i] = malloc(64));
		snprintf(v[i], 64, "from h%zu ([172.16.%zu.%zu]) by x", i,
		    i / 256, i % 256);
	}
	m.h.received.v = v;
	m.h.received.n = LIMIT_MIME_RECEIVED;
	memset(&r, 0, sizeof(r));
	r.conn = &conn;
	r.mime = &m;
	dbuf_init(&b, 1u << 20);
	assert_int_equal(output_zeek(&b, &r, 1), 0);
	dbuf_addc(&b, '\0');
	assert_int_equal(path_len((const char *)b.p), LIMIT_MIME_RECEIVED + 2);
	assert_non_null(strstr((const char *)b.p, "\"172.16.0.99\"]"));
	dbuf_fini(&b);
	for (i = 0; i < LIMIT_MIME_RECEIVED; i++)
		free(v[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_keeps_every_received_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
