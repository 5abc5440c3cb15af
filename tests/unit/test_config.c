/*
 * test_config.c: the configuration file read strictly (cli/config.h):
 * comments only on their own lines, values taken whole or in double
 * quotes, sections by table, every error naming its line, no line cut.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/config.h"
#include "common/limits.h"

static char path[64];

/* A file holding n bytes of text (n: NULs may be inside). */
static const char *
file_n(const char *text, size_t n)
{
	FILE *fp;
	int fd;

	strcpy(path, "/tmp/smtpsniff-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	assert_int_equal(fwrite(text, 1, n, fp), n);
	fclose(fp);
	return path;
}

static const char *
file(const char *text)
{
	return file_n(text, strlen(text));
}

/* Load text; the error (or "") in err. */
static int
load(const char *text, struct config *c, char err[ERRBUF_SIZE])
{
	int rc;

	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	rc = config_load(file(text), c, err);
	unlink(path);
	return rc;
}

/* The error of text, without the file name: "LINE: why". */
static const char *
error_of(const char *text)
{
	static char err[ERRBUF_SIZE];
	struct config c;
	size_t n;

	assert_int_equal(load(text, &c, err), -1);
	config_free(&c);
	n = strlen(path);
	assert_memory_equal(err, path, n);
	assert_int_equal(err[n], ':');
	return err + n + 1;
}

static void
test_value_with_hash_semicolon_equals_quotes_spaces_taken_whole(void **state)
{
	char err[ERRBUF_SIZE];
	struct config c;

	assert_int_equal(load("db_password = p#1; x=y \"q\" 'z' #end\n",
	    &c, err), 0);
	assert_string_equal(c.db_password, "p#1; x=y \"q\" 'z' #end");
	config_free(&c);
	/* Starting with a comment character is still a value. */
	assert_int_equal(load("db_password=#;=\n", &c, err), 0);
	assert_string_equal(c.db_password, "#;=");
	config_free(&c);
}

static void
test_comment_only_at_line_start(void **state)
{
	char err[ERRBUF_SIZE];
	struct config c;

	assert_int_equal(load("# a comment = x\n  ; another\n\t# indented\n"
	    "\n   \nsensor = s1 # not a comment\n", &c, err), 0);
	assert_string_equal(c.sensor, "s1 # not a comment");
	assert_null(c.db_password);
	config_free(&c);
}

static void
test_quoted_value_keeps_blanks_and_unescapes(void **state)
{
	char err[ERRBUF_SIZE];
	struct config c;

	assert_int_equal(load("db_password = \"  a \\\"b\\\" \\\\ #;= c  \""
	    "  \n", &c, err), 0);
	assert_string_equal(c.db_password, "  a \"b\" \\ #;= c  ");
	config_free(&c);
	/* A backslash outside quotes is a plain character. */
	assert_int_equal(load("db_password = a\\b\"c\n", &c, err), 0);
	assert_string_equal(c.db_password, "a\\b\"c");
	config_free(&c);
}

static void
test_bad_quotes_are_errors_naming_the_line(void **state)
{
	assert_string_equal(error_of("sensor = s\ndb_password = \"abc\n"),
	    "2: unterminated quote");
	assert_string_equal(error_of("db_password = \"ab\\\"\n"),
	    "1: unterminated quote");
	assert_string_equal(error_of("\n\ndb_password = \"a\\nb\"\n"),
	    "3: unknown escape in quotes (only \\\" and \\\\)");
	assert_string_equal(error_of("db_password = \"a\" b\n"),
	    "1: text after the closing quote");
}

static void
test_today_files_keep_working(void **state)
{
	char err[ERRBUF_SIZE];
	struct config c;

	assert_int_equal(load("# test\noutput = mysql://u@h/db\n"
	    "sensor = conf-sensor\r\noutput=json:-\nspool_dir=/tmp/x\n"
	    "pseudonymise_key_file = /k\ndb_password = pw", &c, err), 0);
	assert_int_equal(c.noutputs, 2);
	assert_string_equal(c.outputs[0], "mysql://u@h/db");
	assert_string_equal(c.outputs[1], "json:-");
	assert_string_equal(c.sensor, "conf-sensor");
	assert_string_equal(c.spool_dir, "/tmp/x");
	assert_string_equal(c.pseudonymise_key_file, "/k");
	assert_string_equal(c.db_password, "pw");
	config_free(&c);
}

/* spool_max: a size as --spool-max takes it; anything else is an error. */
static void
test_spool_max_is_a_size(void **state)
{
	char err[ERRBUF_SIZE];
	struct config c;

	assert_int_equal(load("spool_max = 512M\n", &c, err), 0);
	assert_int_equal(c.spool_max, 512ull << 20);
	config_free(&c);
	assert_int_equal(load("spool_max = 65536\n", &c, err), 0);
	assert_int_equal(c.spool_max, 65536);
	config_free(&c);
	assert_string_equal(error_of("sensor = s\nspool_max = 1T\n"),
	    "2: spool_max: expected a size above 0 (a number, K, M or G)");
	assert_string_equal(error_of("spool_max = 0\n"),
	    "1: spool_max: expected a size above 0 (a number, K, M or G)");
}

static void
test_errors_name_their_line(void **state)
{
	assert_string_equal(error_of("sensor = a\n\noutptu = x\n"),
	    "3: unknown key outptu");
	assert_string_equal(error_of("sensor\n"), "1: expected key = value");
	assert_string_equal(error_of("sensor =  \n"), "1: sensor: no value");
	assert_string_equal(error_of("sensor = \"\"\n"), "1: sensor: no value");
	assert_string_equal(error_of("= x\n"), "1: bad key \"\"");
	assert_string_equal(error_of("sen sor = x\n"), "1: bad key \"sen sor\"");
	assert_string_equal(error_of("[policy]\nsensor = x\n"),
	    "1: unknown section [policy]");
	assert_string_equal(error_of("[policy\n"), "1: expected [section]");
	assert_string_equal(error_of("[]\n"), "1: bad section name []");
	assert_string_equal(error_of("[a] # c\n"), "1: expected [section]");
	/* One value per key: a second one is an error, not the winner. */
	assert_string_equal(error_of("sensor = a\nsensor = b\n"),
	    "2: sensor: given twice (it takes one value)");
	assert_string_equal(error_of("spool_max = 1M\nspool_max = 2M\n"),
	    "2: spool_max: given twice (it takes one value)");
}

static void
test_nul_byte_is_an_error(void **state)
{
	char err[ERRBUF_SIZE];
	struct config c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(config_load(file_n("sensor = ab\0cd\n", 15), &c,
	    err), -1);
	unlink(path);
	assert_non_null(strstr(err, ":1: a NUL byte"));
	config_free(&c);
}

static void
test_overlong_line_is_an_error_not_a_cut(void **state)
{
	char err[ERRBUF_SIZE], *text, want[64];
	struct config c;
	size_t n = LIMIT_CONFIG_LINE;

	/* Exactly the limit (CR LF not counted): read whole. */
	assert_non_null(text = malloc(n + 16));
	memcpy(text, "sensor = ", 9);
	memset(text + 9, 'x', n - 9);
	memcpy(text + n, "\r\n", 3);
	assert_int_equal(load(text, &c, err), 0);
	assert_int_equal(strlen(c.sensor), n - 9);
	config_free(&c);
	/* One byte more, even at the end of the file: refused. */
	memset(text + 9, 'x', n - 8);
	text[n + 1] = '\0';
	snprintf(want, sizeof(want), "1: line longer than %u bytes",
	    (unsigned)LIMIT_CONFIG_LINE);
	assert_string_equal(error_of(text), want);
	free(text);
}

static void
test_too_many_outputs(void **state)
{
	char text[LIMIT_OUTPUTS * 32], want[64];
	size_t i, n = 0;

	for (i = 0; i <= LIMIT_OUTPUTS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "output = json:%zu\n", i);
	snprintf(want, sizeof(want), "%d: at most %d outputs",
	    LIMIT_OUTPUTS + 1, LIMIT_OUTPUTS);
	assert_string_equal(error_of(text), want);
}

/* A table with sections, as the detection policy will add them. */
struct pol {
	char	log[512];
};

static int
pol_set(void *arg, const char *key, const char *val, char err[ERRBUF_SIZE])
{
	struct pol *p = arg;
	size_t n = strlen(p->log);

	if (strcmp(val, "bad") == 0) {
		snprintf(err, ERRBUF_SIZE, "%s: bad value", key);
		return -1;
	}
	snprintf(p->log + n, sizeof(p->log) - n, "%s=%s|", key, val);
	return 0;
}

static const struct config_key pol_top[] = {
	{ "sensor", pol_set }, { NULL, NULL } };
static const struct config_key pol_policy[] = {
	{ "threshold", pol_set }, { "window", pol_set }, { NULL, NULL } };
static const struct config_key pol_networks[] = {
	{ NULL, pol_set }, { NULL, NULL } };
static const struct config_section pol_table[] = {
	{ "", pol_top }, { "policy", pol_policy },
	{ "networks", pol_networks }, { NULL, NULL } };

static void
test_sections_by_table(void **state)
{
	char err[ERRBUF_SIZE];
	struct pol p;

	memset(&p, 0, sizeof(p));
	assert_int_equal(config_parse(file("sensor = s\n[policy]\n"
	    "threshold = 3\n  [ networks ]  \ninternal = 10.0.0.0/8\n"
	    "dmz=192.0.2.0/24\n[policy]\nwindow = \"60 s\"\n"), pol_table, &p,
	    err), 0);
	unlink(path);
	assert_string_equal(p.log, "sensor=s|threshold=3|internal=10.0.0.0/8|"
	    "dmz=192.0.2.0/24|window=60 s|");
	/* A top-level key inside a section is unknown there. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(config_parse(file("[policy]\nsensor = s\n"),
	    pol_table, &p, err), -1);
	unlink(path);
	assert_non_null(strstr(err, ":2: unknown key sensor in [policy]"));
	/* A setter's refusal names the line too. */
	assert_int_equal(config_parse(file("[policy]\n\nwindow = bad\n"),
	    pol_table, &p, err), -1);
	unlink(path);
	assert_non_null(strstr(err, ":3: window: bad value"));
}

static void
test_missing_file(void **state)
{
	char err[ERRBUF_SIZE];
	struct config c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(config_load("/nonexistent/smtpsniff.conf", &c, err),
	    -1);
	assert_non_null(strstr(err, "/nonexistent/smtpsniff.conf: "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		  test_value_with_hash_semicolon_equals_quotes_spaces_taken_whole),
		cmocka_unit_test(test_comment_only_at_line_start),
		cmocka_unit_test(test_quoted_value_keeps_blanks_and_unescapes),
		cmocka_unit_test(test_bad_quotes_are_errors_naming_the_line),
		cmocka_unit_test(test_today_files_keep_working),
		cmocka_unit_test(test_spool_max_is_a_size),
		cmocka_unit_test(test_errors_name_their_line),
		cmocka_unit_test(test_nul_byte_is_an_error),
		cmocka_unit_test(test_overlong_line_is_an_error_not_a_cut),
		cmocka_unit_test(test_too_many_outputs),
		cmocka_unit_test(test_sections_by_table),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
