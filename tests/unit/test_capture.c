/*
 * test_capture.c: many files read as one capture, directories in name
 * order, and files that are cut short, unreadable or not captures.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/capture.h"

static char dir[64];

static int
setup(void **state)
{
	strcpy(dir, "/tmp/smtpsniff-test-XXXXXX");
	return mkdtemp(dir) == NULL;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) != 0;
}

static void
le32(FILE *fp, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 24) };

	fwrite(b, 1, 4, fp);
}

/*
 * A classic pcap file (raw IP link type) of n 20-byte records whose first
 * byte is first_id + i and whose time is first_s + i seconds. cut_last
 * removes bytes from the end of the last record.
 */
static const char *
write_pcap(const char *name, int n, int first_id, uint32_t first_s,
    int cut_last, bool nano)
{
	static char path[128];
	uint8_t rec[20];
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "wb"));
	le32(fp, nano ? 0xa1b23c4d : 0xa1b2c3d4);
	le32(fp, 2 | 4u << 16);		/* version 2.4 */
	le32(fp, 0);
	le32(fp, 0);
	le32(fp, 65535);
	le32(fp, 101);			/* LINKTYPE_RAW */
	for (i = 0; i < n; i++) {
		le32(fp, first_s + (uint32_t)i);
		le32(fp, nano ? 123456789 : 123456);
		le32(fp, sizeof(rec));
		le32(fp, sizeof(rec));
		memset(rec, 0, sizeof(rec));
		rec[0] = (uint8_t)(first_id + i);
		fwrite(rec, 1, sizeof(rec) - (i == n - 1 ? cut_last : 0), fp);
	}
	fclose(fp);
	return path;
}

/* A raw-IP pcap whose records have the given seconds and fractions. */
static const char *
write_pcap_times(const char *name, const uint32_t *sec,
    const uint32_t *frac, int n, bool nano)
{
	static char path[128];
	uint8_t rec[20];
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "wb"));
	le32(fp, nano ? 0xa1b23c4d : 0xa1b2c3d4);
	le32(fp, 2 | 4u << 16);
	le32(fp, 0);
	le32(fp, 0);
	le32(fp, 65535);
	le32(fp, 101);
	for (i = 0; i < n; i++) {
		le32(fp, sec[i]);
		le32(fp, frac[i]);
		le32(fp, sizeof(rec));
		le32(fp, sizeof(rec));
		memset(rec, 0, sizeof(rec));
		rec[0] = (uint8_t)(i + 1);
		fwrite(rec, 1, sizeof(rec), fp);
	}
	fclose(fp);
	return path;
}

static int
read_all(struct capture *c, int *ids, uint64_t *ts, int max)
{
	struct capture_pkt p;
	int n = 0;

	while (capture_next(c, &p) == 1) {
		assert_true(n < max);
		ids[n] = p.data[0];
		ts[n] = p.ts_ns;
		assert_int_equal(p.link, CAPTURE_LINK_RAW);
		n++;
	}
	return n;
}

static void
test_files_read_as_one_capture_in_given_order(void **state)
{
	char a[128], b[128], err[ERRBUF_SIZE];
	char *paths[2] = { a, b };
	struct capture *c;
	struct capture_stats st;
	int ids[16], n;
	uint64_t ts[16];

	strcpy(a, write_pcap("one.pcap", 3, 10, 100, 0, false));
	strcpy(b, write_pcap("two.pcap", 2, 20, 103, 0, false));
	assert_non_null(c = capture_open_offline(paths, 2, err));
	n = read_all(c, ids, ts, 16);
	assert_int_equal(n, 5);
	assert_int_equal(ids[0], 10);
	assert_int_equal(ids[2], 12);
	assert_int_equal(ids[3], 20);
	assert_int_equal(ids[4], 21);
	assert_int_equal(ts[0], 100123456000ull);
	assert_int_equal(ts[4], 104123456000ull);
	capture_get_stats(c, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.file_errors, 0);
	assert_int_equal(st.packets, 5);
	assert_int_equal(st.bytes, 100);
	capture_free(c);
}

static void
test_directory_read_in_name_order_hidden_skipped(void **state)
{
	char sub[128], err[ERRBUF_SIZE], name[160];
	char *paths[1] = { sub };
	struct capture *c;
	int ids[16], n;
	uint64_t ts[16];

	snprintf(sub, sizeof(sub), "%s/slices", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_pcap("slices/b-002.pcap", 1, 2, 2, 0, false);
	write_pcap("slices/a-001.pcap", 1, 1, 1, 0, false);
	write_pcap("slices/c-003.pcap", 1, 3, 3, 0, true);
	snprintf(name, sizeof(name), "%s/.partial", sub);
	fclose(fopen(name, "w"));
	assert_non_null(c = capture_open_offline(paths, 1, err));
	n = read_all(c, ids, ts, 16);
	assert_int_equal(n, 3);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 2);
	assert_int_equal(ids[2], 3);
	/* Nanosecond pcap keeps its nanoseconds. */
	assert_int_equal(ts[2], 3123456789ull);
	capture_free(c);
}

static void
test_truncated_last_record_reported_rest_kept(void **state)
{
	char a[128], b[128], err[ERRBUF_SIZE];
	char *paths[2] = { a, b };
	struct capture *c;
	struct capture_stats st;
	int ids[16], n;
	uint64_t ts[16];

	strcpy(a, write_pcap("cut.pcap", 3, 1, 1, 7, false));
	strcpy(b, write_pcap("after.pcap", 1, 9, 5, 0, false));
	assert_non_null(c = capture_open_offline(paths, 2, err));
	n = read_all(c, ids, ts, 16);
	/* Two whole records of the cut file, then the next file. */
	assert_int_equal(n, 3);
	assert_int_equal(ids[1], 2);
	assert_int_equal(ids[2], 9);
	capture_get_stats(c, &st);
	assert_int_equal(st.file_errors, 1);
	capture_free(c);
}

static void
test_non_capture_file_is_an_error_and_reading_goes_on(void **state)
{
	char a[128], b[128], err[ERRBUF_SIZE];
	char *paths[2] = { a, b };
	struct capture *c;
	struct capture_stats st;
	FILE *fp;
	int ids[16];
	uint64_t ts[16];

	snprintf(a, sizeof(a), "%s/notes.txt", dir);
	fp = fopen(a, "w");
	fputs("this is not a capture file at all\n", fp);
	fclose(fp);
	strcpy(b, write_pcap("good.pcap", 2, 1, 1, 0, false));
	assert_non_null(c = capture_open_offline(paths, 2, err));
	assert_int_equal(read_all(c, ids, ts, 16), 2);
	capture_get_stats(c, &st);
	assert_int_equal(st.file_errors, 1);
	assert_int_equal(st.files, 1);
	capture_free(c);
}

/*
 * Issue 8 §4: pcap seconds are unsigned 32-bit (2100 is not 2548, and
 * 0xffffff00 is 2106, not 1970); a fraction of a second or more is no
 * time: the packet is kept with the previous time, and counted.
 */
static void
test_packet_time_is_64_bit_and_validated(void **state)
{
	static const uint32_t sec[] = { 4102444800u, 0xffffff00u, 1000,
	    1001, 1002, 1003 };
	static const uint32_t usec[] = { 5, 6, 7, 1000000, 0xffffffffu, 8 };
	static const uint32_t nsec[] = { 5, 6, 7, 1000000000, 999999999, 8 };
	char a[128], err[ERRBUF_SIZE];
	char *paths[1] = { a };
	struct capture *c;
	struct capture_stats st;
	int ids[16];
	uint64_t ts[16];

	strcpy(a, write_pcap_times("times.pcap", sec, usec, 6, false));
	assert_non_null(c = capture_open_offline(paths, 1, err));
	assert_int_equal(read_all(c, ids, ts, 16), 6);
	assert_int_equal(ts[0], 4102444800000005000ull);
	assert_int_equal(ts[1], 4294967040000006000ull);
	assert_int_equal(ts[2], 1000000007000ull);
	/* No time: kept, with the previous packet's. */
	assert_int_equal(ids[3], 4);
	assert_int_equal(ts[3], ts[2]);
	assert_int_equal(ts[4], ts[2]);
	assert_int_equal(ts[5], 1003000008000ull);
	capture_get_stats(c, &st);
	assert_int_equal(st.ts_invalid, 2);
	capture_free(c);

	strcpy(a, write_pcap_times("times-ns.pcap", sec, nsec, 6, true));
	assert_non_null(c = capture_open_offline(paths, 1, err));
	assert_int_equal(read_all(c, ids, ts, 16), 6);
	assert_int_equal(ts[0], 4102444800000000005ull);
	assert_int_equal(ts[3], ts[2]);
	assert_int_equal(ts[4], 1002999999999ull);
	capture_get_stats(c, &st);
	assert_int_equal(st.ts_invalid, 1);
	capture_free(c);
}

static void
test_missing_path_fails_before_reading(void **state)
{
	char a[128], err[ERRBUF_SIZE];
	char *paths[2] = { a, "/nonexistent/capture.pcap" };

	strcpy(a, write_pcap("good.pcap", 1, 1, 1, 0, false));
	assert_null(capture_open_offline(paths, 2, err));
	assert_non_null(strstr(err, "/nonexistent/capture.pcap"));
	assert_non_null(strstr(err, "No such file"));
}

static void
test_empty_directory_is_an_error(void **state)
{
	char sub[128], err[ERRBUF_SIZE];
	char *paths[1] = { sub };

	snprintf(sub, sizeof(sub), "%s/empty", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_null(capture_open_offline(paths, 1, err));
	assert_non_null(strstr(err, "no capture files"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_files_read_as_one_capture_in_given_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_directory_read_in_name_order_hidden_skipped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_truncated_last_record_reported_rest_kept, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_non_capture_file_is_an_error_and_reading_goes_on,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_missing_path_fails_before_reading, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_empty_directory_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_packet_time_is_64_bit_and_validated, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
