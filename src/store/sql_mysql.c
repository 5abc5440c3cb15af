/*
 * sql_mysql.c: the MariaDB/MySQL driver (MariaDB Connector/C), for a
 * central store that many sensors share: mysql://USER[:PASS]@HOST[:PORT]/DB
 * or mysql://USER@localhost/DB?socket=PATH, the password also from the
 * environment or the configuration. The connection's character set is "binary": wire
 * bytes go to BLOB columns and come back exactly, never converted.
 */
#include <errmsg.h>
#include <mysqld_error.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"

struct my {
	char		*name;		/* the spec without its password */
	MYSQL		*db;
	MYSQL_STMT	*st[SQL_MAXSTMT];
	unsigned	 nparam[SQL_MAXSTMT];
	bool		 lost;
};

/* Parameters of one execution, borrowed from the values. */
struct binds {
	MYSQL_BIND	*b;
	unsigned long	*len;
	long long	*ll;
};

static const char *
my_name(void *h)
{
	return ((struct my *)h)->name;
}

/* Client errors that mean the server is not there (errmsg.h). */
static bool
gone(unsigned e)
{
	return e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR ||
	    e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	    e == CR_UNKNOWN_HOST || e == CR_SERVER_LOST_EXTENDED ||
	    e == ER_SERVER_SHUTDOWN || e == ER_CONNECTION_KILLED;
}

static int
my_fail(struct my *m, unsigned errnum, const char *msg)
{
	if (gone(errnum))
		m->lost = true;
	log_warnx("%s: %s", m->name, msg);
	return -1;
}

static void
my_close(void *h)
{
	struct my *m = h;
	int i;

	if (m == NULL)
		return;
	for (i = 0; i < SQL_MAXSTMT; i++)
		if (m->st[i] != NULL)
			mysql_stmt_close(m->st[i]);
	if (m->db != NULL)
		mysql_close(m->db);
	free(m->name);
	free(m);
}

/*
 * Split mysql://USER[:PASS]@HOST[:PORT]/DB[?socket=PATH] in place; -1 if
 * it does not have that shape.
 */
static int
parse_url(char *u, char **user, char **pass, char **host, unsigned *port,
    char **db, char **sock)
{
	char *at, *slash, *colon, *q, *end;
	unsigned long p;

	if (strncmp(u, "mysql://", 8) != 0)
		return -1;
	u += 8;
	if ((at = strrchr(u, '@')) == NULL)
		return -1;
	*at = '\0';
	*user = u;
	if ((colon = strchr(u, ':')) != NULL) {
		*colon = '\0';
		*pass = colon + 1;
	}
	*host = at + 1;
	if ((slash = strchr(*host, '/')) == NULL)
		return -1;
	*slash = '\0';
	*db = slash + 1;
	if ((q = strchr(*db, '?')) != NULL) {
		*q = '\0';
		if (strncmp(q + 1, "socket=", 7) != 0)
			return -1;
		*sock = q + 8;
	}
	if ((colon = strchr(*host, ':')) != NULL) {
		*colon = '\0';
		p = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || p == 0 || p > 65535)
			return -1;
		*port = (unsigned)p;
	}
	return **user != '\0' && **db != '\0' && **host != '\0' ? 0 : -1;
}

static int
my_exec(void *h, const char *sql)
{
	struct my *m = h;

	if (mysql_query(m->db, sql) != 0)
		return my_fail(m, mysql_errno(m->db), mysql_error(m->db));
	return 0;
}

static void *
my_open(const char *spec, bool readonly, const char *password,
    bool *unreachable, char err[ERRBUF_SIZE])
{
	struct my *m;
	char *copy, *user = NULL, *pass = NULL, *host = NULL, *db = NULL;
	char *sock = NULL;
	unsigned port = 0, timeout = 5;
	int n;

	*unreachable = false;
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (copy = strdup(spec)) == NULL) {
		free(m);
		snprintf(err, ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	if (parse_url(copy, &user, &pass, &host, &port, &db, &sock) == -1) {
		snprintf(err, ERRBUF_SIZE, "expected mysql://USER[:PASS]@HOST"
		    "[:PORT]/DB[?socket=PATH]");
		goto fail;
	}
	if (pass == NULL)
		pass = (char *)password;
	/* Messages name the database without the password. */
	if (port != 0)
		n = asprintf(&m->name, "mysql://%s@%s:%u/%s", user, host, port,
		    db);
	else
		n = asprintf(&m->name, "mysql://%s@%s/%s", user, host, db);
	if (n == -1 || (m->db = mysql_init(NULL)) == NULL) {
		m->name = NULL;
		snprintf(err, ERRBUF_SIZE, "out of memory");
		goto fail;
	}
	mysql_options(m->db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m->db, MYSQL_SET_CHARSET_NAME, "binary");
	if (mysql_real_connect(m->db, host, user, pass, db, port, sock, 0) ==
	    NULL) {
		*unreachable = gone(mysql_errno(m->db));
		snprintf(err, ERRBUF_SIZE, "%s: %s", m->name,
		    mysql_error(m->db));
		goto fail;
	}
	/*
	 * Lists built by the query command (GROUP_CONCAT) are cut at 1 KiB
	 * by default, silently.
	 */
	if (my_exec(m, "SET SESSION group_concat_max_len = 16777216") == -1 ||
	    (readonly && my_exec(m, "SET SESSION TRANSACTION READ ONLY") ==
	    -1)) {
		snprintf(err, ERRBUF_SIZE, "%s: %s", m->name,
		    mysql_error(m->db));
		goto fail;
	}
	free(copy);
	return m;
fail:
	free(copy);
	my_close(m);
	return NULL;
}

static int
my_prepare(void *h, unsigned id, const char *sql)
{
	struct my *m = h;

	if (id >= SQL_MAXSTMT || (m->st[id] = mysql_stmt_init(m->db)) ==
	    NULL || mysql_stmt_prepare(m->st[id], sql,
	    (unsigned long)strlen(sql)) != 0)
		return my_fail(m, mysql_errno(m->db), mysql_error(m->db));
	m->nparam[id] = (unsigned)mysql_stmt_param_count(m->st[id]);
	return 0;
}

static void
binds_free(struct binds *x)
{
	free(x->b);
	free(x->len);
	free(x->ll);
}

static int
bind(struct binds *x, const struct sql_val *v, unsigned n)
{
	unsigned i;

	x->b = calloc(n + 1, sizeof(*x->b));
	x->len = calloc(n + 1, sizeof(*x->len));
	x->ll = calloc(n + 1, sizeof(*x->ll));
	if (x->b == NULL || x->len == NULL || x->ll == NULL) {
		binds_free(x);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (v[i].null) {
			x->b[i].buffer_type = MYSQL_TYPE_NULL;
		} else if (v[i].type == SQL_INT) {
			x->ll[i] = v[i].i;
			x->b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			x->b[i].buffer = &x->ll[i];
		} else {
			x->b[i].buffer_type = v[i].type == SQL_BYTES ?
			    MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
			x->b[i].buffer = (void *)(v[i].n > 0 ? v[i].p : "");
			x->len[i] = (unsigned long)v[i].n;
			x->b[i].buffer_length = x->len[i];
			x->b[i].length = &x->len[i];
		}
	}
	return 0;
}

/* Rows of a prepared, executed statement to fn, every column as bytes. */
static int
fetch(struct my *m, MYSQL_STMT *st, sql_row_fn *fn, void *arg,
    int64_t *first)
{
	MYSQL_BIND out[SQL_MAXPARAM];
	unsigned long len[SQL_MAXPARAM];
	my_bool isnull[SQL_MAXPARAM];
	struct sql_val col[SQL_MAXPARAM];
	uint8_t *cell[SQL_MAXPARAM], *np;
	size_t cap[SQL_MAXPARAM];
	unsigned i, ncol = mysql_stmt_field_count(st);
	int rc = 0, f;
	bool stop = false;

	if (ncol > SQL_MAXPARAM)
		ncol = SQL_MAXPARAM;
	memset(out, 0, sizeof(out));
	for (i = 0; i < ncol; i++) {
		out[i].buffer_type = MYSQL_TYPE_STRING;
		out[i].length = &len[i];
		out[i].is_null = &isnull[i];
		cell[i] = NULL;
		cap[i] = 0;
	}
	if (mysql_stmt_bind_result(st, out) != 0 ||
	    mysql_stmt_store_result(st) != 0) {
		rc = my_fail(m, mysql_stmt_errno(st), mysql_stmt_error(st));
		goto done;
	}
	while (!stop) {
		f = mysql_stmt_fetch(st);
		if (f == MYSQL_NO_DATA)
			break;
		if (f == 1) {
			rc = my_fail(m, mysql_stmt_errno(st),
			    mysql_stmt_error(st));
			break;
		}
		/* Buffers of length 0 at first: each cell fetched by size. */
		for (i = 0; i < ncol; i++) {
			if (isnull[i]) {
				col[i] = sql_null(SQL_BYTES);
				continue;
			}
			if (len[i] + 1 > cap[i]) {
				if ((np = realloc(cell[i], len[i] + 1)) ==
				    NULL) {
					log_warnx("%s: out of memory", m->name);
					rc = -1;
					stop = true;
					break;
				}
				cell[i] = np;
				cap[i] = len[i] + 1;
			}
			out[i].buffer = cell[i];
			out[i].buffer_length = len[i] + 1;
			if (mysql_stmt_fetch_column(st, &out[i], i, 0) != 0) {
				rc = my_fail(m, mysql_stmt_errno(st),
				    mysql_stmt_error(st));
				stop = true;
				break;
			}
			cell[i][len[i]] = '\0';
			col[i] = sql_mem(SQL_BYTES, cell[i], len[i]);
		}
		if (stop)
			break;
		if (first != NULL) {
			*first = ncol > 0 && !col[0].null ?
			    strtoll((const char *)cell[0], NULL, 10) : -1;
			break;
		}
		if (fn != NULL && fn(arg, col, ncol) != 0)
			break;
	}
done:
	mysql_stmt_free_result(st);
	for (i = 0; i < ncol; i++)
		free(cell[i]);
	return rc;
}

static int64_t
my_run(void *h, unsigned id, const struct sql_val *v, unsigned n,
    int64_t *rowid)
{
	struct my *m = h;
	MYSQL_STMT *st = m->st[id];
	struct binds x;
	my_ulonglong changed;

	*rowid = -1;
	if (bind(&x, v, n) == -1)
		return my_fail(m, 0, "out of memory");
	if (mysql_stmt_bind_param(st, x.b) != 0 ||
	    mysql_stmt_execute(st) != 0) {
		binds_free(&x);
		return my_fail(m, mysql_stmt_errno(st), mysql_stmt_error(st));
	}
	binds_free(&x);
	if (mysql_stmt_field_count(st) > 0)
		return fetch(m, st, NULL, NULL, rowid) == -1 ? -1 : 0;
	changed = mysql_stmt_affected_rows(st);
	if (changed > 0 && changed != (my_ulonglong)-1)
		*rowid = (int64_t)mysql_stmt_insert_id(st);
	return changed == (my_ulonglong)-1 ? 0 : (int64_t)changed;
}

static int
my_query(void *h, const char *sql, const struct sql_val *v, unsigned n,
    sql_row_fn *fn, void *arg)
{
	struct my *m = h;
	MYSQL_STMT *st;
	struct binds x;
	int rc = 0;

	if (n > SQL_MAXQUERYPARAM || bind(&x, v, n) == -1)
		return my_fail(m, 0, "too many parameters, or out of memory");
	if ((st = mysql_stmt_init(m->db)) == NULL) {
		binds_free(&x);
		return my_fail(m, mysql_errno(m->db), mysql_error(m->db));
	}
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0 ||
	    mysql_stmt_bind_param(st, x.b) != 0 ||
	    mysql_stmt_execute(st) != 0)
		rc = my_fail(m, mysql_stmt_errno(st), mysql_stmt_error(st));
	else if (mysql_stmt_field_count(st) > 0)
		rc = fetch(m, st, fn, arg, NULL);
	binds_free(&x);
	mysql_stmt_close(st);
	return rc;
}

static bool
my_lost(void *h)
{
	struct my *m = h;

	return m != NULL && m->lost;
}

const struct sql_driver sql_mysql_driver = {
	"mysql://", SQL_MYSQL, true, my_open, my_name, my_exec, my_prepare,
	my_run, my_query, my_lost, my_close,
};
