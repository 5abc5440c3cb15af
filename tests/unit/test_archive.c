/*
 * test_archive.c: the packet archive. Rotation by packet time (-G) and by
 * size (-C), the -W ring, names that sort by time across workers, slices
 * read back as one capture, errors at open and a full disk (a file size
 * limit) that is counted, reported once and never stops the archive.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/archive.h"
#include "capture/capture.h"

#define NS	1000000000ull
#define MAXF	64

static char dir[64];

static int
setup(void **state)
{
	strcpy(dir, "/tmp/smtpsniff-archive-XXXXXX");
	return mkdtemp(dir) == NULL;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) != 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory's entries (hidden ones too when asked), sorted. */
static int
list(char **names, bool hidden)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_name[0] == '.' && !hidden)
			continue;
		assert_true(n < MAXF);
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), name_cmp);
	return n;
}

static void
free_list(char **names, int n)
{
	while (n-- > 0)
		free(names[n]);
}

/* Packets of one file (or the whole directory): ids (first byte), times. */
static int
read_back(const char *path, int *ids, uint64_t *ts, int max)
{
	char err[ERRBUF_SIZE], p[256];
	char *paths[1] = { p };
	struct capture *c;
	struct capture_pkt cp;
	int n = 0;

	snprintf(p, sizeof(p), "%s", path);
	c = capture_open_offline(paths, 1, err);
	assert_non_null(c);
	while (capture_next(c, &cp) == 1) {
		assert_true(n < max);
		assert_int_equal(cp.link, CAPTURE_LINK_EN10MB);
		if (ids != NULL)
			ids[n] = cp.data[0];
		if (ts != NULL)
			ts[n] = cp.ts_ns;
		n++;
	}
	capture_free(c);
	return n;
}

static int
slice_packets(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return read_back(path, NULL, NULL, 1000);
}

/* The first packet's time of a slice. */
static int
read_back_first(const char *name, uint64_t *ts)
{
	char path[256];
	uint64_t all[1000];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (read_back(path, NULL, all, 1000) < 1)
		return 0;
	*ts = all[0];
	return 1;
}

static int
put(struct archive *a, int id, uint64_t ts_ns, uint32_t len)
{
	static uint8_t frame[2048];
	struct capture_pkt p;

	memset(frame, 0xee, sizeof(frame));
	frame[0] = (uint8_t)id;
	p.ts_ns = ts_ns;
	p.caplen = len;
	p.wirelen = len;
	p.link = CAPTURE_LINK_EN10MB;
	p.data = frame;
	return archive_write(a, &p);
}

static struct archive *
open_archive(unsigned worker, uint32_t g, uint64_t c, uint32_t w)
{
	struct archive_config cfg = { .dir = dir, .rotate_s = g,
	    .rotate_bytes = c, .keep = w, .worker = worker };
	char err[ERRBUF_SIZE];
	struct archive *a;

	a = archive_open(&cfg, err);
	if (a == NULL)
		fail_msg("archive_open: %s", err);
	return a;
}

/*
 * -G 10: slices hold one 10-second interval of PACKET time each (the
 * packets are dated 1970: by the wall clock they would all be in one).
 * An interval without packets gives no slice; time going back stays.
 */
static void
test_rotation_by_packet_time(void **state)
{
	struct archive *a = open_archive(0, 10, 0, 0);
	char *names[MAXF];
	int n;

	assert_int_equal(put(a, 1, 1000 * NS + 500000000, 60), 0);
	assert_int_equal(put(a, 2, 1001 * NS, 60), 0);
	assert_int_equal(put(a, 3, 1009 * NS + 999999999, 60), 0);
	assert_int_equal(put(a, 4, 1010 * NS, 60), 0);
	assert_int_equal(put(a, 5, 1005 * NS, 60), 0);	/* back: stays */
	assert_int_equal(put(a, 6, 1045 * NS + 7, 60), 0);
	/* Finished slices are visible; the one being written is hidden. */
	n = list(names, false);
	assert_int_equal(n, 2);
	free_list(names, n);
	assert_int_equal(archive_close(a), 0);
	n = list(names, true);
	assert_int_equal(n, 3);
	/* Named for the first packet's time (UTC, ns), worker, sequence. */
	assert_string_equal(names[0],
	    "smtpsniff-19700101T001640.500000000Z-w000-000001.pcap");
	assert_string_equal(names[1],
	    "smtpsniff-19700101T001650.000000000Z-w000-000002.pcap");
	assert_string_equal(names[2],
	    "smtpsniff-19700101T001725.000000007Z-w000-000003.pcap");
	assert_int_equal(slice_packets(names[0]), 3);
	assert_int_equal(slice_packets(names[1]), 2);
	assert_int_equal(slice_packets(names[2]), 1);
	free_list(names, n);
}

/*
 * A stray packet dated far ahead gets a slice of its own: the slices of
 * the packets after it go on rotating by their time.
 */
static void
test_stray_far_ahead_does_not_stop_rotation(void **state)
{
	struct archive *a = open_archive(0, 10, 0, 0);
	char *names[MAXF];
	int n;

	assert_int_equal(put(a, 1, 100 * NS, 60), 0);
	assert_int_equal(put(a, 2, 105 * NS, 60), 0);
	assert_int_equal(put(a, 3, 5000 * NS, 60), 0);	/* the stray */
	assert_int_equal(put(a, 4, 106 * NS, 60), 0);
	assert_int_equal(put(a, 5, 111 * NS, 60), 0);
	assert_int_equal(put(a, 6, 109 * NS, 60), 0);	/* a little back */
	assert_int_equal(put(a, 7, 121 * NS, 60), 0);
	assert_int_equal(archive_close(a), 0);
	n = list(names, true);
	assert_int_equal(n, 5);
	assert_int_equal(slice_packets(names[0]), 2);	/* 100, 105 */
	assert_int_equal(slice_packets(names[1]), 1);	/* 106 */
	assert_int_equal(slice_packets(names[2]), 2);	/* 111, 109 */
	assert_int_equal(slice_packets(names[3]), 1);	/* 121 */
	assert_int_equal(slice_packets(names[4]), 1);	/* 5000 */
	free_list(names, n);
}

/*
 * archive_tick: the packet clock (from elsewhere) ends a quiet worker's
 * slice when its -G interval is over, not before.
 */
static void
test_tick_finishes_a_quiet_slice(void **state)
{
	struct archive *a = open_archive(0, 10, 0, 0);
	char *names[MAXF];
	int n;

	assert_int_equal(put(a, 1, 5 * NS, 60), 0);
	assert_int_equal(archive_tick(a, 9 * NS + 999999999), 0);
	assert_int_equal(list(names, false), 0);
	assert_int_equal(archive_tick(a, 10 * NS), 0);
	n = list(names, false);
	assert_int_equal(n, 1);
	free_list(names, n);
	assert_int_equal(put(a, 2, 11 * NS, 60), 0);
	assert_int_equal(archive_close(a), 0);
	n = list(names, true);
	assert_int_equal(n, 2);
	assert_int_equal(slice_packets(names[0]), 1);
	assert_int_equal(slice_packets(names[1]), 1);
	free_list(names, n);
}

/*
 * -C: a slice never passes the size, unless its one packet does; every
 * byte is counted (24-byte file header, 16 per record).
 */
static void
test_rotation_by_size(void **state)
{
	struct archive *a = open_archive(3, 0, 24 + 3 * (16 + 100), 0);
	struct archive_stats st;
	char *names[MAXF], path[256];
	struct stat sb;
	int i, n;

	for (i = 0; i < 7; i++)
		assert_int_equal(put(a, i, 5 * NS + (uint64_t)i, 100), 0);
	assert_int_equal(put(a, 7, 6 * NS, 1000), 0);	/* alone: too big */
	assert_int_equal(put(a, 8, 6 * NS + 1, 100), 0);
	archive_get_stats(a, &st);
	assert_int_equal(archive_close(a), 0);
	n = list(names, true);
	assert_int_equal(n, 5);
	assert_int_equal(slice_packets(names[0]), 3);
	assert_int_equal(slice_packets(names[1]), 3);
	assert_int_equal(slice_packets(names[2]), 1);
	assert_int_equal(slice_packets(names[3]), 1);
	assert_int_equal(slice_packets(names[4]), 1);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		assert_int_equal(stat(path, &sb), 0);
		if (i != 3)
			assert_true(sb.st_size <= 24 + 3 * (16 + 100));
		assert_non_null(strstr(names[i], "-w003-"));
	}
	assert_int_equal(st.packets, 9);
	assert_int_equal(st.bytes, 5 * 24 + 8 * 116 + 1016);
	free_list(names, n);
}

/*
 * -W 3: three slices of this worker on disk (the one being written
 * included); older ones are deleted and writing never stops. Another
 * worker's slices are not this ring's.
 */
static void
test_ring_deletes_oldest_and_keeps_going(void **state)
{
	struct archive *a = open_archive(0, 1, 0, 3);
	struct archive *other = open_archive(1, 1, 0, 0);
	struct archive_stats st;
	char *names[MAXF];
	int ids[64], i, n;

	assert_int_equal(put(other, 99, 100 * NS, 60), 0);
	assert_int_equal(archive_close(other), 0);
	for (i = 0; i < 20; i++) {
		assert_int_equal(put(a, i, (100 + (uint64_t)i) * NS, 60), 0);
		n = list(names, true);
		/* Ours at most 3, plus the other worker's one. */
		assert_true(n <= 4);
		free_list(names, n);
	}
	archive_get_stats(a, &st);
	assert_int_equal(st.packets, 20);
	assert_int_equal(st.slices, 19);
	assert_int_equal(st.deleted, 17);
	assert_int_equal(archive_close(a), 0);
	n = list(names, true);
	assert_int_equal(n, 4);
	free_list(names, n);
	/* The newest three remain, and the other worker's slice. */
	n = read_back(dir, ids, NULL, 64);
	assert_int_equal(n, 4);
	assert_int_equal(ids[0], 99);
	assert_int_equal(ids[1], 17);
	assert_int_equal(ids[2], 18);
	assert_int_equal(ids[3], 19);

	/* A new run of the worker takes the ring over, -W 2: one is left. */
	a = open_archive(0, 1, 0, 2);
	archive_get_stats(a, &st);
	assert_int_equal(st.deleted, 1);
	assert_int_equal(put(a, 20, 200 * NS, 60), 0);
	assert_int_equal(archive_close(a), 0);
	n = read_back(dir, ids, NULL, 64);
	assert_int_equal(n, 3);
	assert_int_equal(ids[1], 19);
	assert_int_equal(ids[2], 20);
	/* The sequence went on: no name was used twice. */
	n = list(names, true);
	assert_non_null(strstr(names[2], "-w000-000021.pcap"));
	free_list(names, n);
}

/*
 * Two workers writing into one directory at once: the names sort by
 * time, and the directory reads back as one capture in time order.
 */
static void
test_names_sort_by_time_across_workers(void **state)
{
	struct archive *w0 = open_archive(0, 2, 0, 0);
	struct archive *w1 = open_archive(1, 2, 0, 0);
	char *names[MAXF];
	uint64_t ts[64], prev = 0;
	int ids[64], i, n;

	/* Worker 1 has the first packet, 0.3 s before worker 0's. */
	for (i = 0; i < 20; i++)
		assert_int_equal(put(i % 3 == 0 ? w1 : w0, i,
		    1764700000 * NS + (uint64_t)i * 300000000, 80), 0);
	assert_int_equal(archive_close(w0), 0);
	assert_int_equal(archive_close(w1), 0);
	n = list(names, true);
	assert_true(n >= 4);
	/* In name order, the slices' first packets are in time order. */
	for (i = 0; i < n; i++) {
		assert_int_equal(read_back_first(names[i], &ts[i]), 1);
		if (i > 0)
			assert_true(ts[i - 1] <= ts[i]);
	}
	assert_string_equal(names[0],
	    "smtpsniff-20251202T182640.000000000Z-w001-000001.pcap");
	assert_non_null(strstr(names[1], "T182640.300000000Z-w000-000001"));
	free_list(names, n);
	n = read_back(dir, ids, ts, 64);
	assert_int_equal(n, 20);
	for (i = 0; i < n; i++) {
		assert_int_equal(ids[i], i);
		assert_true(ts[i] >= prev);
		prev = ts[i];
	}
}

/* Every check that can fail does so at open, with a message. */
static void
test_bad_dir_fails_at_open(void **state)
{
	struct archive_config cfg = { .dir = "/nonexistent/archive" };
	char err[ERRBUF_SIZE], path[128];
	struct archive *a;
	pid_t pid;
	int status;
	FILE *fp;

	assert_null(archive_open(&cfg, err));
	assert_non_null(strstr(err, "/nonexistent/archive"));
	assert_non_null(strstr(err, "No such file"));

	snprintf(path, sizeof(path), "%s/file", dir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	cfg.dir = path;
	assert_null(archive_open(&cfg, err));
	assert_non_null(strstr(err, "not a directory"));

	cfg.dir = dir;
	cfg.worker = 1000;
	assert_null(archive_open(&cfg, err));
	assert_non_null(strstr(err, "worker 1000"));
	cfg.worker = 0;

	/*
	 * Unwritable. Root writes anywhere: then the check is made as
	 * nobody in a child, as archive_check after -Z drops root would.
	 */
	assert_int_equal(chmod(dir, 0555), 0);
	if (geteuid() != 0) {
		assert_null(archive_open(&cfg, err));
		assert_non_null(strstr(err, "cannot write in"));
		assert_non_null(strstr(err, "Permission denied"));
	} else {
		assert_non_null(a = open_archive(0, 0, 0, 0));
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setgid(65534) == -1 || setuid(65534) == -1)
				_exit(3);
			_exit(archive_check(a, err) == -1 &&
			    strstr(err, "cannot write in") != NULL &&
			    strstr(err, "Permission denied") != NULL ? 0 : 1);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		assert_int_equal(archive_close(a), 0);
	}
	assert_int_equal(chmod(dir, 0700), 0);
}

/*
 * A full disk (here: a file size limit, EFBIG): counted, reported once,
 * never fatal; packets are dropped from the archive for 10 s of packet
 * time, then a new slice is tried; what was written before stays
 * readable.
 */
static void
test_write_error_counted_not_fatal(void **state)
{
	struct archive *a = open_archive(0, 0, 0, 0);
	struct archive_stats st;
	struct rlimit old, lim;
	char *names[MAXF];
	int i, n, ok = 0;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 24 + 40 * (16 + 1000) + 500;	/* a cut record */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	/* Several buffers' worth: stdio's flush fails part-way. */
	for (i = 0; i < 200; i++)
		ok += put(a, i, 10 * NS + (uint64_t)i * 1000, 1000) == 0;
	archive_get_stats(a, &st);
	assert_true(st.errors >= 1);
	assert_true(st.dropped >= 1);
	assert_int_equal(st.packets + st.dropped, 200);
	assert_true(ok < 200);
	/* Room again; 10 s of packet time later the archive writes. */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(put(a, 7, 10 * NS + 5 * NS, 60), -1);
	assert_int_equal(put(a, 8, 10 * NS + 11 * NS, 60), 0);
	assert_int_equal(archive_close(a), 0);
	signal(SIGXFSZ, SIG_DFL);
	n = list(names, true);
	assert_int_equal(n, 2);
	/* The first slice ends at a cut: the reader keeps what is whole. */
	assert_true(slice_packets(names[0]) >= 1);
	assert_int_equal(slice_packets(names[1]), 1);
	free_list(names, n);
}

/* An unfinished slice an earlier run left (a crash) is made visible. */
static void
test_unfinished_slice_of_earlier_run_recovered(void **state)
{
	struct archive *a = open_archive(2, 0, 0, 0);
	struct archive_stats st;
	char *names[MAXF], from[256], to[256], empty[256];
	FILE *fp;
	int n;

	assert_int_equal(put(a, 1, 50 * NS, 60), 0);
	assert_int_equal(put(a, 2, 51 * NS, 60), 0);
	assert_int_equal(archive_close(a), 0);
	n = list(names, true);
	assert_int_equal(n, 1);
	snprintf(to, sizeof(to), "%s/%s", dir, names[0]);
	snprintf(from, sizeof(from), "%s/.%s", dir, names[0]);
	assert_int_equal(rename(to, from), 0);
	free_list(names, n);
	/* And an empty one: removed. */
	snprintf(empty, sizeof(empty), "%s/.smtpsniff-19700101T000100."
	    "000000000Z-w002-000009.pcap", dir);
	assert_non_null(fp = fopen(empty, "w"));
	fclose(fp);

	a = open_archive(2, 0, 0, 0);
	archive_get_stats(a, &st);
	assert_int_equal(st.recovered, 1);
	assert_int_equal(put(a, 3, 52 * NS, 60), 0);
	assert_int_equal(archive_close(a), 0);
	n = list(names, true);
	assert_int_equal(n, 2);
	assert_non_null(strstr(names[1], "-w002-000002.pcap"));
	free_list(names, n);
	assert_int_equal(read_back(dir, NULL, NULL, 64), 3);
}

/* A change of link type starts a slice: one link type per pcap file. */
static void
test_link_change_starts_a_slice(void **state)
{
	struct archive *a = open_archive(0, 0, 0, 0);
	struct capture_pkt p = { .ts_ns = 9 * NS, .caplen = 20, .wirelen = 20,
	    .link = CAPTURE_LINK_RAW, .data = (const uint8_t *)"0123456789"
	    "0123456789" };
	char *names[MAXF], err[ERRBUF_SIZE];
	char *paths[1] = { dir };
	struct capture *c;
	struct capture_pkt cp;
	int n;

	assert_int_equal(put(a, 1, 8 * NS, 60), 0);
	assert_int_equal(archive_write(a, &p), 0);
	assert_int_equal(archive_close(a), 0);
	n = list(names, true);
	assert_int_equal(n, 2);
	free_list(names, n);
	assert_non_null(c = capture_open_offline(paths, 1, err));
	assert_int_equal(capture_next(c, &cp), 1);
	assert_int_equal(cp.link, CAPTURE_LINK_EN10MB);
	assert_int_equal(capture_next(c, &cp), 1);
	assert_int_equal(cp.link, CAPTURE_LINK_RAW);
	assert_int_equal(cp.caplen, 20);
	assert_int_equal(capture_next(c, &cp), 0);
	capture_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rotation_by_packet_time,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_by_size,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_tick_finishes_a_quiet_slice, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_stray_far_ahead_does_not_stop_rotation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_ring_deletes_oldest_and_keeps_going, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_names_sort_by_time_across_workers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_dir_fails_at_open,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_write_error_counted_not_fatal, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_unfinished_slice_of_earlier_run_recovered, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_link_change_starts_a_slice, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
