/*
 * store.h: records into a database. One schema for every backend (see
 * docs/SCHEMA.md), created and migrated by the program through a schema
 * version table; writes batched in transactions; only prepared statements,
 * so no SQL is ever built from packet data. This increment has the SQLite
 * backend (the embedded default); MariaDB and PostgreSQL come next behind
 * the same interface.
 */
#ifndef SMTPSNIFF_STORE_H
#define SMTPSNIFF_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/log.h"
#include "record/record.h"

/* A connection as a whole, written when it ends. */
struct store_session {
	const struct record_conn *conn;
	uint64_t	 ts_last;
	const char	*banner;
	const char	*helo;
	uint32_t	 ext;		/* SMTP_EXT_* offered */
	bool		 tls;
	const char	*auth_mech;
	const char	*auth_result;	/* NULL without AUTH */
	unsigned	 transactions;
	const char	*end_state;	/* the flow's: closed, reset, ... */
	uint64_t	 gaps;
	uint64_t	 gap_bytes;
	uint32_t	 events[SMTP_EV_MAX];
};

#define STORE_SCHEMA_VERSION	1

/* A database backend, chosen by the spec's scheme. */
struct store_backend {
	const char	*scheme;	/* "sqlite:", "mysql://" */
	void		*(*open)(const char *spec, const char *sensor,
			    char err[ERRBUF_SIZE]);
	int		 (*put_record)(void *, const struct record *);
	int		 (*put_session)(void *, const struct store_session *);
	int		 (*close)(void *);
};

extern const struct store_backend store_sqlite_backend;

struct store;

/* "sqlite:PATH" (more schemes to come). NULL with a message in err. */
struct store	*store_open(const char *spec, const char *sensor,
		    char err[ERRBUF_SIZE]);
int		 store_put_record(struct store *, const struct record *);
int		 store_put_session(struct store *, const struct store_session *);
/* Commit what is pending and close; -1 if anything failed. */
int		 store_close(struct store *);
bool		 store_spec_is_store(const char *spec);

#endif /* SMTPSNIFF_STORE_H */
