/*
 * config.c: reading the configuration file (config.h): our own strict INI
 * reader. Debian's inih is unfit: its build cuts a value at an inline
 * " ;" comment and a line at 200 bytes, silently (docs/NOTES). Nothing is
 * expanded; a value is text, taken whole.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "cli.h"
#include "config.h"
#include "record/pseudo.h"

#define KEY_FILE_MAX	4096

static bool
blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Blanks cut from both ends, in place. */
static char *
trim(char *s)
{
	char *e;

	while (blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && blank(e[-1]))
		*--e = '\0';
	return s;
}

/* A key or section name: letters, digits, '_', '-', '.'. */
static bool
name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
		    *s == '.'))
			return false;
	return true;
}

/*
 * One line into buf (LIMIT_CONFIG_LINE + 2 bytes; at most
 * LIMIT_CONFIG_LINE of text, its LF and a CR
 * before it dropped). 1 for a line, 0 at the end of the file, -1 with
 * why in err: longer than the limit (an error, never a cut: a cut
 * password would fail later, far from its cause), a NUL byte (C strings
 * would end there, silently), or a read error.
 */
static int
read_line(FILE *fp, char *buf, char err[ERRBUF_SIZE])
{
	size_t n = 0;
	int ch;

	while ((ch = getc(fp)) != EOF && ch != '\n') {
		if (ch == '\0') {
			snprintf(err, ERRBUF_SIZE, "a NUL byte");
			return -1;
		}
		if (n == LIMIT_CONFIG_LINE + 1)	/* room for a CR */
			goto long_line;
		buf[n++] = (char)ch;
	}
	if (ferror(fp)) {
		snprintf(err, ERRBUF_SIZE, "%s", strerror(errno));
		return -1;
	}
	if (ch == EOF && n == 0)
		return 0;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > LIMIT_CONFIG_LINE)
		goto long_line;
	buf[n] = '\0';
	return 1;
long_line:
	snprintf(err, ERRBUF_SIZE, "line longer than %u bytes",
	    (unsigned)LIMIT_CONFIG_LINE);
	return -1;
}

/*
 * A value in double quotes (v at the opening quote), unquoted in place:
 * \" and \\ are the only escapes, and nothing but blanks may follow the
 * closing quote. -1 with why in err.
 */
static int
unquote(char *v, char err[ERRBUF_SIZE])
{
	char *r = v + 1, *w = v;

	for (; *r != '"'; r++) {
		if (*r == '\0') {
			snprintf(err, ERRBUF_SIZE, "unterminated quote");
			return -1;
		}
		if (*r == '\\') {
			r++;
			if (*r != '"' && *r != '\\') {
				snprintf(err, ERRBUF_SIZE, "unknown escape "
				    "in quotes (only \\\" and \\\\)");
				return -1;
			}
		}
		*w++ = *r;
	}
	*w = '\0';
	for (r++; *r != '\0'; r++)
		if (!blank(*r)) {
			snprintf(err, ERRBUF_SIZE, "text after the closing "
			    "quote");
			return -1;
		}
	return 0;
}

static const struct config_section *
find_section(const struct config_section *t, const char *name)
{
	for (; t->name != NULL; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

static const struct config_key *
find_key(const struct config_section *sec, const char *name)
{
	const struct config_key *k;

	for (k = sec->keys; k->set != NULL; k++)
		if (k->name == NULL || strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/*
 * One line that is neither blank nor a comment: a section header, or a
 * key and its value for the current section. -1 with why in err.
 */
static int
parse_line(char *s, const struct config_section *table,
    const struct config_section **sec, void *arg, char err[ERRBUF_SIZE])
{
	const struct config_key *k;
	char *key, *val, *eq;
	size_t n;

	if (*s == '[') {
		n = strlen(s);
		if (s[n - 1] != ']') {
			snprintf(err, ERRBUF_SIZE, "expected [section]");
			return -1;
		}
		s[n - 1] = '\0';
		key = trim(s + 1);
		if (!name_ok(key)) {
			snprintf(err, ERRBUF_SIZE, "bad section name [%s]",
			    key);
			return -1;
		}
		if ((*sec = find_section(table, key)) == NULL) {
			snprintf(err, ERRBUF_SIZE, "unknown section [%s]",
			    key);
			return -1;
		}
		return 0;
	}
	if ((eq = strchr(s, '=')) == NULL) {
		snprintf(err, ERRBUF_SIZE, "expected key = value");
		return -1;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (!name_ok(key)) {
		snprintf(err, ERRBUF_SIZE, "bad key \"%.64s\"", key);
		return -1;
	}
	if (*sec == NULL || (k = find_key(*sec, key)) == NULL) {
		if (*sec == NULL || (*sec)->name[0] == '\0')
			snprintf(err, ERRBUF_SIZE, "unknown key %s", key);
		else
			snprintf(err, ERRBUF_SIZE, "unknown key %s in [%s]",
			    key, (*sec)->name);
		return -1;
	}
	if (*val == '"' && unquote(val, err) == -1)
		return -1;
	if (*val == '\0') {
		snprintf(err, ERRBUF_SIZE, "%s: no value", key);
		return -1;
	}
	return k->set(arg, key, val, err);
}

int
config_parse(const char *path, const struct config_section *table,
    void *arg, char err[ERRBUF_SIZE])
{
	const struct config_section *sec = find_section(table, "");
	char line[LIMIT_CONFIG_LINE + 2], why[ERRBUF_SIZE], *s;
	unsigned lineno = 0;
	FILE *fp;
	int rc = -1, got, k;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, ERRBUF_SIZE, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		lineno++;
		why[0] = '\0';
		if ((got = read_line(fp, line, why)) == 0)
			break;
		if (got == -1)
			goto fail;
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (parse_line(s, table, &sec, arg, why) == -1)
			goto fail;
	}
	rc = 0;
	goto done;
fail:
	k = snprintf(err, ERRBUF_SIZE, "%s:%u: ", path, lineno);
	if (k >= 0 && k < ERRBUF_SIZE)
		snprintf(err + k, ERRBUF_SIZE - (size_t)k, "%s", why);
done:
	/* The line may have held a password. */
	explicit_bzero(line, sizeof(line));
	fclose(fp);
	return rc;
}

/* A single-valued key: given twice is an error, not "the last one wins". */
static int
set(char **slot, const char *key, const char *v, char err[ERRBUF_SIZE])
{
	if (*slot != NULL) {
		snprintf(err, ERRBUF_SIZE, "%s: given twice (it takes one "
		    "value)", key);
		return -1;
	}
	if ((*slot = strdup(v)) == NULL) {
		snprintf(err, ERRBUF_SIZE, "out of memory");
		return -1;
	}
	return 0;
}

static int
set_sensor(void *arg, const char *key, const char *v, char err[ERRBUF_SIZE])
{
	return set(&((struct config *)arg)->sensor, key, v, err);
}

static int
set_spool_dir(void *arg, const char *key, const char *v,
    char err[ERRBUF_SIZE])
{
	return set(&((struct config *)arg)->spool_dir, key, v, err);
}

static int
set_spool_max(void *arg, const char *key, const char *v,
    char err[ERRBUF_SIZE])
{
	struct config *c = arg;

	if (c->spool_max != 0) {
		snprintf(err, ERRBUF_SIZE, "spool_max: given twice (it takes "
		    "one value)");
		return -1;
	}
	if (cli_parse_size(v, &c->spool_max) == -1 || c->spool_max == 0) {
		c->spool_max = 0;
		snprintf(err, ERRBUF_SIZE, "spool_max: expected a size above "
		    "0 (a number, K, M or G)");
		return -1;
	}
	return 0;
}

static int
set_db_password(void *arg, const char *key, const char *v,
    char err[ERRBUF_SIZE])
{
	return set(&((struct config *)arg)->db_password, key, v, err);
}

static int
set_key_file(void *arg, const char *key, const char *v,
    char err[ERRBUF_SIZE])
{
	return set(&((struct config *)arg)->pseudonymise_key_file, key, v, err);
}

static int
set_output(void *arg, const char *key, const char *v, char err[ERRBUF_SIZE])
{
	struct config *c = arg;

	if (c->noutputs == LIMIT_OUTPUTS) {
		snprintf(err, ERRBUF_SIZE, "at most %d outputs",
		    LIMIT_OUTPUTS);
		return -1;
	}
	if ((c->outputs[c->noutputs] = strdup(v)) == NULL) {
		snprintf(err, ERRBUF_SIZE, "out of memory");
		return -1;
	}
	c->noutputs++;
	return 0;
}

/* Keys before any [section]: what every file had before sections. */
static const struct config_key top_keys[] = {
	{ "sensor", set_sensor },
	{ "spool_dir", set_spool_dir },
	{ "spool_max", set_spool_max },
	{ "output", set_output },
	{ "db_password", set_db_password },
	{ "pseudonymise_key_file", set_key_file },
	{ NULL, NULL }
};

/* A key of [read] or [capture]: the command checks it against its own. */
static int
add_opt(struct config *c, const char *sec, const char *key, const char *v,
    char err[ERRBUF_SIZE])
{
	struct config_opt *o;
	size_t i;

	/* A key twice is an error, but for the outputs, a list. */
	for (i = 0; i < c->nopts; i++)
		if (strcmp(c->opts[i].section, sec) == 0 &&
		    strcmp(c->opts[i].key, key) == 0 &&
		    strcmp(key, "output") != 0) {
			snprintf(err, ERRBUF_SIZE, "%s: given twice (it takes "
			    "one value)", key);
			return -1;
		}
	if (c->nopts == LIMIT_CONFIG_OPTS) {
		snprintf(err, ERRBUF_SIZE, "at most %d keys in [read] and "
		    "[capture]", LIMIT_CONFIG_OPTS);
		return -1;
	}
	o = &c->opts[c->nopts];
	if ((o->section = strdup(sec)) == NULL ||
	    (o->key = strdup(key)) == NULL || (o->val = strdup(v)) == NULL) {
		free(o->section);
		free(o->key);
		memset(o, 0, sizeof(*o));
		snprintf(err, ERRBUF_SIZE, "out of memory");
		return -1;
	}
	c->nopts++;
	return 0;
}

static int
set_read_opt(void *arg, const char *key, const char *v, char err[ERRBUF_SIZE])
{
	return add_opt(arg, "read", key, v, err);
}

static int
set_capture_opt(void *arg, const char *key, const char *v,
    char err[ERRBUF_SIZE])
{
	return add_opt(arg, "capture", key, v, err);
}

static const struct config_key read_keys[] = {
	{ NULL, set_read_opt },
	{ NULL, NULL }
};

static const struct config_key capture_keys[] = {
	{ NULL, set_capture_opt },
	{ NULL, NULL }
};

/*
 * The sections the program knows. Any other is an error: a file written
 * for a later version (one with detection policy sections) must fail
 * loudly here rather than run with its thresholds ignored.
 */
static const struct config_section sections[] = {
	{ "", top_keys },
	{ "read", read_keys },
	{ "capture", capture_keys },
	{ NULL, NULL }
};

int
config_load(const char *path, struct config *c, char err[ERRBUF_SIZE])
{
	struct stat st;

	if (config_parse(path, sections, c, err) == -1)
		return -1;
	if (c->db_password != NULL && stat(path, &st) == 0 &&
	    (st.st_mode & 077) != 0)
		log_warnx("%s: holds a password and others may read it "
		    "(chmod 600)", path);
	return 0;
}

void
config_free(struct config *c)
{
	size_t i;

	free(c->sensor);
	free(c->spool_dir);
	for (i = 0; i < c->noutputs; i++) {
		/* A database URL may hold a password. */
		explicit_bzero(c->outputs[i], strlen(c->outputs[i]));
		free(c->outputs[i]);
	}
	if (c->db_password != NULL) {
		explicit_bzero(c->db_password, strlen(c->db_password));
		free(c->db_password);
	}
	free(c->pseudonymise_key_file);
	for (i = 0; i < c->nopts; i++) {
		free(c->opts[i].section);
		free(c->opts[i].key);
		/* password = ... may be among them: scrubbed likewise. */
		explicit_bzero(c->opts[i].val, strlen(c->opts[i].val));
		free(c->opts[i].val);
	}
	memset(c, 0, sizeof(*c));
}

const char *
config_db_password(const struct config *c)
{
	const char *env = getenv("SMTPSNIFF_DB_PASSWORD");

	return env != NULL && *env != '\0' ? env : c->db_password;
}

int
config_pseudonymiser(const struct config *c, struct record_pseudo **out,
    char err[ERRBUF_SIZE])
{
	const char *path = c->pseudonymise_key_file;
	unsigned char *key;
	FILE *fp;
	size_t n;

	*out = NULL;
	if (path == NULL)
		return 0;
	if ((fp = fopen(path, "rb")) == NULL) {
		snprintf(err, ERRBUF_SIZE, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((key = malloc(KEY_FILE_MAX)) == NULL) {
		fclose(fp);
		snprintf(err, ERRBUF_SIZE, "out of memory");
		return -1;
	}
	n = fread(key, 1, KEY_FILE_MAX, fp);
	fclose(fp);
	/* A key of a few bytes is a guessable key: refuse it. */
	if (n < 16)
		snprintf(err, ERRBUF_SIZE, "%s: a key needs at least 16 bytes "
		    "(head -c 32 /dev/urandom > FILE)", path);
	else if ((*out = record_pseudo_new(key, n)) == NULL)
		snprintf(err, ERRBUF_SIZE, "%s: not a usable key", path);
	explicit_bzero(key, KEY_FILE_MAX);
	free(key);
	return *out != NULL ? 0 : -1;
}
