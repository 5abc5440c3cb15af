/*
 * store.c: picks the backend by the spec's scheme and hands the records
 * to it. The backends share the schema (docs/SCHEMA.md) and its rules:
 * prepared statements only, batched writes, a record stored once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static const struct store_backend *const backends[] = {
	&store_sqlite_backend,
};

struct store {
	const struct store_backend	*be;
	void				*h;
};

static const struct store_backend *
backend_of(const char *spec)
{
	size_t i;

	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strncmp(spec, backends[i]->scheme,
		    strlen(backends[i]->scheme)) == 0)
			return backends[i];
	return NULL;
}

bool
store_spec_is_store(const char *spec)
{
	return backend_of(spec) != NULL;
}

struct store *
store_open(const char *spec, const char *sensor, char err[ERRBUF_SIZE])
{
	const struct store_backend *be = backend_of(spec);
	struct store *s;

	if (be == NULL) {
		snprintf(err, ERRBUF_SIZE, "%s: not a database spec", spec);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	s->be = be;
	if ((s->h = be->open(spec, sensor, err)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

int
store_put_record(struct store *s, const struct record *r)
{
	return s->be->put_record(s->h, r);
}

int
store_put_session(struct store *s, const struct store_session *ss)
{
	return s->be->put_session(s->h, ss);
}

int
store_close(struct store *s)
{
	int rc;

	if (s == NULL)
		return 0;
	rc = s->be->close(s->h);
	free(s);
	return rc;
}
