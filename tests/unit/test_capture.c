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
#include "common/limits.h"

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

/* A raw-IP pcap of n records: whole seconds sec[i], first byte ids[i]. */
static const char *
write_pcap_ids(const char *name, const uint32_t *sec, const int *ids, int n)
{
	static char path[128];
	uint8_t rec[20];
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "wb"));
	le32(fp, 0xa1b2c3d4);
	le32(fp, 2 | 4u << 16);
	le32(fp, 0);
	le32(fp, 0);
	le32(fp, 65535);
	le32(fp, 101);
	for (i = 0; i < n; i++) {
		le32(fp, sec[i]);
		le32(fp, 0);
		le32(fp, sizeof(rec));
		le32(fp, sizeof(rec));
		memset(rec, 0, sizeof(rec));
		rec[0] = (uint8_t)ids[i];
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

/*
 * Slices of two workers overlap in time: merged by packet time, equal
 * times in file order, each file's own order kept.
 */
static void
test_overlapping_files_merged_by_time(void **state)
{
	static const uint32_t sa[] = { 1, 3, 5, 7 }, sb[] = { 2, 3, 4, 8 };
	static const int ia[] = { 1, 3, 5, 7 }, ib[] = { 2, 33, 4, 8 };
	static const int want[] = { 1, 2, 3, 33, 4, 5, 7, 8 };
	static const uint32_t sc[] = { 3, 4 }, sd[] = { 3, 5 };
	static const int ic[] = { 40, 41 }, id[] = { 50, 51 };
	char a[128], b[128], err[ERRBUF_SIZE];
	char *paths[2] = { a, b };
	struct capture *c;
	struct capture_stats st;
	int ids[16], i, n;
	uint64_t ts[16];

	strcpy(a, write_pcap_ids("a.pcap", sa, ia, 4));
	strcpy(b, write_pcap_ids("b.pcap", sb, ib, 4));
	assert_non_null(c = capture_open_offline(paths, 2, err));
	n = read_all(c, ids, ts, 16);
	assert_int_equal(n, 8);
	for (i = 0; i < n; i++)
		assert_int_equal(ids[i], want[i]);
	capture_get_stats(c, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.packets, 8);
	assert_int_equal(st.bytes, 160);
	assert_int_equal(st.merge_deferred, 0);
	capture_free(c);

	/*
	 * Given the other way round, b starts later than a, which comes
	 * after it: a list out of time order is read in its order.
	 */
	paths[0] = b;
	paths[1] = a;
	assert_non_null(c = capture_open_offline(paths, 2, err));
	n = read_all(c, ids, ts, 16);
	assert_int_equal(n, 8);
	for (i = 0; i < 4; i++) {
		assert_int_equal(ids[i], ib[i]);
		assert_int_equal(ids[4 + i], ia[i]);
	}
	capture_free(c);

	/* Files that start at the same time: ties in file order. */
	strcpy(a, write_pcap_ids("c.pcap", sc, ic, 2));
	strcpy(b, write_pcap_ids("d.pcap", sd, id, 2));
	paths[0] = a;
	paths[1] = b;
	assert_non_null(c = capture_open_offline(paths, 2, err));
	assert_int_equal(read_all(c, ids, ts, 16), 4);
	assert_true(ids[0] == 40 && ids[1] == 50 && ids[2] == 41 &&
	    ids[3] == 51);
	capture_free(c);
	paths[0] = b;
	paths[1] = a;
	assert_non_null(c = capture_open_offline(paths, 2, err));
	assert_int_equal(read_all(c, ids, ts, 16), 4);
	assert_true(ids[0] == 50 && ids[1] == 40 && ids[2] == 41 &&
	    ids[3] == 51);
	capture_free(c);
}

/*
 * Files that do not overlap in time are read one after the other in the
 * order given, even when that is not time order (as before the merge),
 * with two files open at most (the one read, the next one peeked).
 */
static void
test_non_overlapping_files_read_in_given_order(void **state)
{
	static const uint32_t s1[] = { 10, 11 }, s2[] = { 1, 2 },
	    s3[] = { 20, 21 }, s4[] = { 15, 16 };
	static const int i1[] = { 1, 2 }, i2[] = { 3, 4 }, i3[] = { 5, 6 },
	    i4[] = { 7, 8 };
	char p1[128], p2[128], p3[128], p4[128], err[ERRBUF_SIZE];
	char *paths[4] = { p1, p2, p3, p4 };
	struct capture *c;
	struct capture_stats st;
	int ids[16], i, n;
	uint64_t ts[16];

	strcpy(p1, write_pcap_ids("1.pcap", s1, i1, 2));
	strcpy(p2, write_pcap_ids("2.pcap", s2, i2, 2));
	strcpy(p3, write_pcap_ids("3.pcap", s3, i3, 2));
	strcpy(p4, write_pcap_ids("4.pcap", s4, i4, 2));
	assert_non_null(c = capture_open_offline(paths, 4, err));
	n = read_all(c, ids, ts, 16);
	assert_int_equal(n, 8);
	for (i = 0; i < n; i++)
		assert_int_equal(ids[i], i + 1);
	capture_get_stats(c, &st);
	assert_int_equal(st.open_max, 2);
	capture_free(c);
}

/*
 * More files overlapping in time than may be open: every packet is
 * still read; the files past the cap come later than their time,
 * counted.
 */
static void
test_overlap_past_the_open_file_cap(void **state)
{
	char names[LIMIT_CAPTURE_OPEN_FILES + 8][128], name[32];
	char *paths[LIMIT_CAPTURE_OPEN_FILES + 8], err[ERRBUF_SIZE];
	struct capture *c;
	struct capture_stats st;
	uint32_t sec[2];
	int idv[2], ids[2 * (LIMIT_CAPTURE_OPEN_FILES + 8)], i, n;
	int nf = LIMIT_CAPTURE_OPEN_FILES + 8;
	uint64_t ts[2 * (LIMIT_CAPTURE_OPEN_FILES + 8)];

	for (i = 0; i < nf; i++) {
		sec[0] = 100 + (uint32_t)i;
		sec[1] = 1000 + (uint32_t)i;
		idv[0] = i;
		idv[1] = 128 + i;
		snprintf(name, sizeof(name), "%03d.pcap", i);
		strcpy(names[i], write_pcap_ids(name, sec, idv, 2));
		paths[i] = names[i];
	}
	assert_non_null(c = capture_open_offline(paths, (size_t)nf, err));
	n = read_all(c, ids, ts, 2 * nf);
	assert_int_equal(n, 2 * nf);
	capture_get_stats(c, &st);
	assert_int_equal(st.files, nf);
	assert_true(st.merge_deferred >= 1);
	assert_int_equal(st.open_max, LIMIT_CAPTURE_OPEN_FILES);
	/* Up to the cap, time order. */
	for (i = 0; i < LIMIT_CAPTURE_OPEN_FILES - 1; i++)
		assert_int_equal(ids[i], i);
	capture_free(c);
}

/*
 * A file whose first packet has no time is not placed by it: it is read
 * after the files before it, and that packet takes the time of the last
 * packet read, as when files were only concatenated.
 */
static void
test_file_starting_with_no_time_read_in_order(void **state)
{
	static const uint32_t sa[] = { 5, 6 }, sb[] = { 4, 7 };
	static const uint32_t fa[] = { 0, 0 }, fb[] = { 1000000, 0 };
	char a[128], b[128], err[ERRBUF_SIZE];
	char *paths[2] = { a, b };
	struct capture *c;
	struct capture_stats st;
	int ids[16];
	uint64_t ts[16];

	strcpy(a, write_pcap_times("a.pcap", sa, fa, 2, false));
	strcpy(b, write_pcap_times("b.pcap", sb, fb, 2, false));
	assert_non_null(c = capture_open_offline(paths, 2, err));
	assert_int_equal(read_all(c, ids, ts, 16), 4);
	assert_int_equal(ts[0], 5 * 1000000000ull);
	assert_int_equal(ts[1], 6 * 1000000000ull);
	assert_int_equal(ts[2], 6 * 1000000000ull);
	assert_int_equal(ts[3], 7 * 1000000000ull);
	assert_int_equal(ids[2], 1);	/* b's first */
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
		cmocka_unit_test_setup_teardown(
		    test_overlapping_files_merged_by_time, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_non_overlapping_files_read_in_given_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_overlap_past_the_open_file_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_file_starting_with_no_time_read_in_order, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
