/*
 * sql.c: picking a driver by the spec's scheme, and the one rewrite every
 * driver needs: numbered parameters to positional ones.
 */
#include <stdlib.h>
#include <string.h>

#include "sql.h"

static const struct sql_driver *const drivers[] = {
	&sql_sqlite_driver,
	&sql_mysql_driver,
	&sql_pgsql_driver,
};

const struct sql_driver *
sql_driver_of(const char *spec)
{
	size_t i;

	for (i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strncmp(spec, drivers[i]->scheme,
		    strlen(drivers[i]->scheme)) == 0)
			return drivers[i];
	/* libpq takes both URI schemes (PostgreSQL docs 34.1.1.2). */
	if (strncmp(spec, "postgres://", 11) == 0)
		return &sql_pgsql_driver;
	return NULL;
}

int64_t
sql_val_int(const struct sql_val *v)
{
	char t[24], *end;
	long long n;

	if (v->null)
		return -1;
	if (v->type == SQL_INT)
		return v->i;
	if (v->n == 0 || v->n >= sizeof(t))
		return -1;
	memcpy(t, v->p, v->n);
	t[v->n] = '\0';
	n = strtoll(t, &end, 10);
	return *end == '\0' ? (int64_t)n : -1;
}

int
sql_unnumber(const char *sql, struct dbuf *out, unsigned order[],
    unsigned max)
{
	unsigned n = 0;
	const char *p;

	dbuf_reset(out);
	for (p = sql; *p != '\0'; p++) {
		if (*p == '?' && p[1] >= '1' && p[1] <= '9') {
			if (n == max)
				return -1;
			order[n++] = (unsigned)(p[1] - '0');
			p++;
			dbuf_addc(out, '?');
			continue;
		}
		dbuf_addc(out, *p);
	}
	dbuf_addc(out, '\0');
	return dbuf_status(out) == -1 ? -1 : (int)n;
}
