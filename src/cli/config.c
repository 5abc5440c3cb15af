/*
 * config.c: reading the configuration file. Values are plain text to the
 * end of the line (trimmed); no quoting, no escapes, nothing expanded.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "record/pseudo.h"

#define LINE_MAX_LEN	4096
#define KEY_FILE_MAX	4096

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
set(char **slot, const char *v)
{
	free(*slot);
	return (*slot = strdup(v)) == NULL ? -1 : 0;
}

int
config_load(const char *path, struct config *c, char err[ERRBUF_SIZE])
{
	char line[LINE_MAX_LEN + 2], *key, *val, *eq, *hash;
	struct stat st;
	unsigned lineno = 0;
	FILE *fp;
	int rc = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, ERRBUF_SIZE, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strlen(line) > LINE_MAX_LEN) {
			snprintf(err, ERRBUF_SIZE, "%s:%u: line too long",
			    path, lineno);
			goto done;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		key = trim(line);
		if (*key == '\0')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, ERRBUF_SIZE, "%s:%u: expected key = "
			    "value", path, lineno);
			goto done;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		if (*val == '\0') {
			snprintf(err, ERRBUF_SIZE, "%s:%u: %s: no value", path,
			    lineno, key);
			goto done;
		}
		if (strcmp(key, "sensor") == 0) {
			if (set(&c->sensor, val) == -1)
				goto oom;
		} else if (strcmp(key, "spool_dir") == 0) {
			if (set(&c->spool_dir, val) == -1)
				goto oom;
		} else if (strcmp(key, "db_password") == 0) {
			if (fstat(fileno(fp), &st) == 0 &&
			    (st.st_mode & 077) != 0)
				log_warnx("%s: holds a password and others "
				    "may read it (chmod 600)", path);
			if (set(&c->db_password, val) == -1)
				goto oom;
		} else if (strcmp(key, "pseudonymise_key_file") == 0) {
			if (set(&c->pseudonymise_key_file, val) == -1)
				goto oom;
		} else if (strcmp(key, "output") == 0) {
			if (c->noutputs == CONFIG_MAX_OUTPUTS) {
				snprintf(err, ERRBUF_SIZE, "%s:%u: at most %d "
				    "outputs", path, lineno,
				    CONFIG_MAX_OUTPUTS);
				goto done;
			}
			if ((c->outputs[c->noutputs] = strdup(val)) == NULL)
				goto oom;
			c->noutputs++;
		} else {
			snprintf(err, ERRBUF_SIZE, "%s:%u: unknown key %s",
			    path, lineno, key);
			goto done;
		}
	}
	if (ferror(fp)) {
		snprintf(err, ERRBUF_SIZE, "%s: %s", path, strerror(errno));
		goto done;
	}
	rc = 0;
	goto done;
oom:
	snprintf(err, ERRBUF_SIZE, "out of memory");
done:
	explicit_bzero(line, sizeof(line));
	fclose(fp);
	return rc;
}

void
config_free(struct config *c)
{
	size_t i;

	free(c->sensor);
	free(c->spool_dir);
	for (i = 0; i < c->noutputs; i++)
		free(c->outputs[i]);
	if (c->db_password != NULL) {
		explicit_bzero(c->db_password, strlen(c->db_password));
		free(c->db_password);
	}
	free(c->pseudonymise_key_file);
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
