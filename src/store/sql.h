/*
 * sql.h: what a database driver gives the store and the query command.
 * A driver knows how to connect, run SQL text, prepare a statement and
 * bind values; it knows nothing of records. The store (store.c) owns the
 * schema, the statements and the mapping from records to rows, once for
 * every database; the dialects differ only in the words of the DDL and of
 * a few statements, which store.c spells per dialect.
 *
 * Parameters are written `?` in the SQL the drivers are given, one value
 * per `?` in order; a driver whose database numbers them ($1 in
 * PostgreSQL) rewrites them. SQL is always fixed program text: packet and
 * user data only ever travel as bound values.
 */
#ifndef SMTPSNIFF_SQL_H
#define SMTPSNIFF_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dbuf.h"
#include "common/log.h"

enum sql_dialect { SQL_SQLITE, SQL_MYSQL, SQL_PGSQL };

/*
 * A value's type says how it is stored: SQL_TEXT is text the program made
 * (times, addresses, status words: ASCII), SQL_BYTES is bytes from the
 * wire, stored as seen (BLOB, BYTEA; TEXT in SQLite, which keeps any
 * bytes), SQL_INT a 64-bit integer. A NULL keeps its type: PostgreSQL
 * needs one for every parameter.
 */
enum sql_type { SQL_INT, SQL_TEXT, SQL_BYTES };

struct sql_val {
	enum sql_type	 type;
	bool		 null;
	int64_t		 i;
	const void	*p;	/* TEXT, BYTES: n bytes, no NUL needed */
	size_t		 n;
};

#define SQL_MAXPARAM	32	/* parameters of a prepared statement */
#define SQL_MAXQUERYPARAM 65535	/* of a query(): MySQL's and PostgreSQL's */
#define SQL_MAXSTMT	16	/* prepared statements of one connection */

/* A row of a query: ncols values, valid only during the call. */
typedef int	 sql_row_fn(void *arg, const struct sql_val *cols,
		    unsigned ncols);

struct sql_driver {
	const char	*scheme;	/* "sqlite:", "mysql://", ... */
	enum sql_dialect dialect;
	bool		 remote;	/* a server: records spool while away */
	/*
	 * password: used when the spec has none (NULL: none). NULL with a
	 * message in err (which never holds a password), and
	 * *unreachable set if the server could not be reached at all (as
	 * opposed to refusing us: a bad password, no such database).
	 */
	void		*(*open)(const char *spec, bool readonly,
			    const char *password, bool *unreachable,
			    char err[ERRBUF_SIZE]);
	/* The spec as messages may show it: no password. */
	const char	*(*name)(void *);
	/* SQL without parameters or rows (DDL, BEGIN, COMMIT): 0 or -1. */
	int		 (*exec)(void *, const char *sql);
	int		 (*prepare)(void *, unsigned id, const char *sql);
	/*
	 * Run prepared statement id with its values. Returns the rows it
	 * changed (0 for a SELECT), or -1. *rowid: the id of the row an
	 * INSERT made (PostgreSQL: its RETURNING id), or the first column
	 * of a SELECT's first row; -1 if there is none.
	 */
	int64_t		 (*run)(void *, unsigned id, const struct sql_val *,
			    unsigned n, int64_t *rowid);
	/*
	 * A query with parameters, prepared for this one run; fn (NULL for
	 * a statement without rows) gets each row, stops it by != 0.
	 * Values a row hands fn are SQL_INT for integer columns of the
	 * database's own kind (SQLite) and text or bytes otherwise: MySQL
	 * and PostgreSQL numbers arrive as decimal text.
	 */
	int		 (*query)(void *, const char *sql,
			    const struct sql_val *, unsigned n, sql_row_fn *,
			    void *arg);
	/* The connection is gone (not a statement error): retry later. */
	bool		 (*lost)(void *);
	void		 (*close)(void *);
	/*
	 * The spec as messages may show it before there is a connection
	 * (no password, by the driver's own reading of its URL; the rest
	 * byte for byte, since it also names the spool), malloc'd; NULL
	 * if out of memory.
	 */
	char		*(*strip)(const char *spec);
};

extern const struct sql_driver sql_sqlite_driver;
extern const struct sql_driver sql_mysql_driver;
extern const struct sql_driver sql_pgsql_driver;

/*
 * mysql://USER[:PASS]@HOST[:PORT]/DB[?socket=PATH], split and decoded in
 * place in u (a copy the caller owns): user, password, database and
 * socket path percent-decoded (RFC 3986 §2.1; %00 refused); HOST a name,
 * an IPv4 address or an IPv6 address in brackets (given without them);
 * PORT 1-65535 (0 here: the default). The user part ends at the last '@'
 * before any '?', so '@' and '/' in a password work even unencoded. pass
 * and sock are NULL when absent. 0, or -1 with why in err.
 */
struct sql_mysql_url {
	char		*user, *pass, *host, *db, *sock;
	unsigned	 port;
};
int	sql_mysql_url_parse(char *u, struct sql_mysql_url *,
	    char err[ERRBUF_SIZE]);

/* The driver for a spec ("sqlite:PATH", "mysql://...", ...), or NULL. */
const struct sql_driver *sql_driver_of(const char *spec);

/*
 * Rewrite numbered parameters (?1 .. ?9, each usable many times) to plain
 * `?`, and give in order[] which parameter each `?` takes (1-based).
 * Returns how many `?` there are, or -1 (too many, or out of memory).
 */
int	sql_unnumber(const char *sql, struct dbuf *out, unsigned order[],
	    unsigned max);

/*
 * A column's integer: SQLite gives it as one, MySQL and PostgreSQL as
 * decimal text. -1 if NULL or not a number.
 */
int64_t	sql_val_int(const struct sql_val *);

/* Value constructors. */
static inline struct sql_val
sql_int(int64_t i)
{
	struct sql_val v = { SQL_INT, false, i, NULL, 0 };

	return v;
}

static inline struct sql_val
sql_null(enum sql_type t)
{
	struct sql_val v = { t, true, 0, NULL, 0 };

	return v;
}

static inline struct sql_val
sql_mem(enum sql_type t, const void *p, size_t n)
{
	struct sql_val v = { t, false, 0, p, n };

	return v;
}

/* A C string, or NULL for SQL NULL. */
static inline struct sql_val
sql_str(enum sql_type t, const char *s)
{
	return s == NULL ? sql_null(t) : sql_mem(t, s, strlen(s));
}

#endif /* SMTPSNIFF_SQL_H */
