/*
 * store_sqlite.c: the embedded default store. WAL journal, writes batched
 * STORE_BATCH records to a transaction, every statement prepared once and
 * bound field by field. Strings are bound as they were seen (bytes that
 * are not UTF-8 included: SQLite keeps TEXT bytes as given), so what goes
 * in comes back out unchanged. A record already stored (same session,
 * same trans_depth) is not stored twice. A failing write is reported,
 * never silently dropped.
 */
#include <arpa/inet.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "store.h"

#define STORE_BATCH	2000	/* records per transaction */
#define SID_CACHE	4096	/* session uid -> row id, direct-mapped */

/*
 * The schema, version by version: migrations[v] takes a database at
 * version v to v+1. A new database runs them all.
 */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	/* 0 -> 1 */
	"CREATE TABLE sensors ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  sensor_id INTEGER NOT NULL REFERENCES sensors(id),"
	"  uid TEXT NOT NULL,"
	"  client_ip TEXT NOT NULL, client_port INTEGER NOT NULL,"
	"  server_ip TEXT NOT NULL, server_port INTEGER NOT NULL,"
	"  vlan TEXT NOT NULL,"
	"  ts_first TEXT NOT NULL, ts_last TEXT,"
	"  banner TEXT, helo TEXT, extensions TEXT, tls INTEGER NOT NULL,"
	"  auth_mechanism TEXT, auth_result TEXT,"
	"  transactions INTEGER, end_state TEXT,"
	"  gaps INTEGER, gap_bytes INTEGER, anomalies TEXT,"
	"  UNIQUE (sensor_id, uid));"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  session_id INTEGER NOT NULL REFERENCES sessions(id),"
	"  trans_depth INTEGER NOT NULL,"
	"  ts TEXT NOT NULL,"
	"  helo TEXT, auth_mechanism TEXT, auth_result TEXT,"
	"  mail_from TEXT, status TEXT NOT NULL, last_reply TEXT,"
	"  size INTEGER,"
	"  hdr_from TEXT, hdr_to TEXT, hdr_cc TEXT, hdr_reply_to TEXT,"
	"  subject TEXT, message_id TEXT, in_reply_to TEXT, hdr_date TEXT,"
	"  user_agent TEXT, x_originating_ip TEXT, received TEXT,"
	"  anomalies TEXT,"
	"  UNIQUE (session_id, trans_depth));"
	"CREATE TABLE recipients ("
	"  id INTEGER PRIMARY KEY,"
	"  message_id INTEGER NOT NULL REFERENCES messages(id),"
	"  addr TEXT NOT NULL, code INTEGER, enhanced TEXT,"
	"  accepted INTEGER NOT NULL);"
	"CREATE TABLE attachments ("
	"  id INTEGER PRIMARY KEY,"
	"  message_id INTEGER NOT NULL REFERENCES messages(id),"
	"  filename TEXT, content_type TEXT, size INTEGER NOT NULL,"
	"  sha256 TEXT NOT NULL, truncated INTEGER NOT NULL);"
	"CREATE TABLE alerts ("
	"  id INTEGER PRIMARY KEY,"
	"  sensor_id INTEGER NOT NULL REFERENCES sensors(id),"
	"  ts TEXT NOT NULL, kind TEXT NOT NULL, severity INTEGER,"
	"  host TEXT, session_uid TEXT, detail TEXT);"
	"CREATE INDEX messages_ts ON messages(ts);"
	"CREATE INDEX messages_from ON messages(mail_from);"
	"CREATE INDEX recipients_addr ON recipients(addr);"
	"CREATE INDEX recipients_message ON recipients(message_id);"
	"CREATE INDEX attachments_sha256 ON attachments(sha256);"
	"CREATE INDEX attachments_message ON attachments(message_id);"
	"CREATE INDEX sessions_server ON sessions(server_ip, server_port);"
	"CREATE INDEX sessions_client ON sessions(client_ip);"
	"CREATE INDEX alerts_ts ON alerts(ts);",
};

enum stmt_id {
	ST_SESSION_GET,
	ST_SESSION_NEW,
	ST_SESSION_END,
	ST_MESSAGE,
	ST_RCPT,
	ST_ATTACHMENT,
	ST_MAX
};

static const char *const stmt_sql[ST_MAX] = {
	[ST_SESSION_GET] =
	    "SELECT id FROM sessions WHERE sensor_id = ? AND uid = ?",
	[ST_SESSION_NEW] =
	    "INSERT INTO sessions (sensor_id, uid, client_ip, client_port,"
	    " server_ip, server_port, vlan, ts_first, tls)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
	[ST_SESSION_END] =
	    "UPDATE sessions SET ts_last = ?, banner = ?, helo = ?,"
	    " extensions = ?, tls = ?, auth_mechanism = ?, auth_result = ?,"
	    " transactions = ?, end_state = ?, gaps = ?, gap_bytes = ?,"
	    " anomalies = ? WHERE id = ?",
	[ST_MESSAGE] =
	    "INSERT OR IGNORE INTO messages (session_id, trans_depth, ts, helo,"
	    " auth_mechanism, auth_result, mail_from, status, last_reply,"
	    " size, hdr_from, hdr_to, hdr_cc, hdr_reply_to, subject,"
	    " message_id, in_reply_to, hdr_date, user_agent,"
	    " x_originating_ip, received, anomalies)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	    " ?, ?, ?, ?)",
	[ST_RCPT] =
	    "INSERT INTO recipients (message_id, addr, code, enhanced,"
	    " accepted) VALUES (?, ?, ?, ?, ?)",
	[ST_ATTACHMENT] =
	    "INSERT INTO attachments (message_id, filename, content_type,"
	    " size, sha256, truncated) VALUES (?, ?, ?, ?, ?, ?)",
};

struct sqlite_store {
	char		*path;
	sqlite3		*db;
	sqlite3_stmt	*st[ST_MAX];
	int64_t		 sensor_id;
	unsigned	 in_batch;
	bool		 failed;
	struct {
		char	 uid[24];
		int64_t	 id;
	}		 sid[SID_CACHE];	/* saves a SELECT per row */
	struct dbuf	 tmp;		/* JSON lists, ISO times */
};

static int
sql_fail(struct sqlite_store *s, const char *what)
{
	if (!s->failed)
		log_warnx("%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	s->failed = true;
	return -1;
}

static int
exec(struct sqlite_store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		if (!s->failed)
			log_warnx("%s: %s", s->path, msg ? msg : "error");
		sqlite3_free(msg);
		s->failed = true;
		return -1;
	}
	return 0;
}

/* Bring the schema to STORE_SCHEMA_VERSION, refusing a newer one. */
static int
migrate(struct sqlite_store *s, char err[ERRBUF_SIZE])
{
	sqlite3_stmt *q;
	int version = 0, v;

	if (exec(s, "CREATE TABLE IF NOT EXISTS schema_version "
	    "(version INTEGER NOT NULL)") == -1)
		goto fail;
	if (sqlite3_prepare_v2(s->db, "SELECT max(version) FROM "
	    "schema_version", -1, &q, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (version > STORE_SCHEMA_VERSION) {
		snprintf(err, ERRBUF_SIZE, "%s: schema version %d is newer "
		    "than this program's (%d)", s->path, version,
		    STORE_SCHEMA_VERSION);
		return -1;
	}
	for (v = version; v < STORE_SCHEMA_VERSION; v++) {
		char up[64];

		if (exec(s, "BEGIN") == -1 || exec(s, migrations[v]) == -1)
			goto fail;
		snprintf(up, sizeof(up), "INSERT INTO schema_version VALUES "
		    "(%d)", v + 1);
		if (exec(s, up) == -1 || exec(s, "COMMIT") == -1)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, ERRBUF_SIZE, "%s: cannot create or migrate the schema: "
	    "%s", s->path, sqlite3_errmsg(s->db));
	return -1;
}

static int
sensor_id(struct sqlite_store *s, const char *name, char err[ERRBUF_SIZE])
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO sensors (name) "
	    "VALUES (?)", -1, &q, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		goto fail;
	if (sqlite3_prepare_v2(s->db, "SELECT id FROM sensors WHERE name = ?",
	    -1, &q, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW)
		s->sensor_id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return 0;
fail:
	snprintf(err, ERRBUF_SIZE, "%s: sensors: %s", s->path,
	    sqlite3_errmsg(s->db));
	return -1;
}

/*
 * Open (creating if need be) the database of "sqlite:PATH" for the named
 * sensor. NULL with a message in err.
 */
static int	sqlite_close(void *);

static void *
sqlite_open(const char *spec, const char *sensor, char err[ERRBUF_SIZE])
{
	struct sqlite_store *s;
	int i;

	if (strncmp(spec, "sqlite:", 7) != 0 || spec[7] == '\0') {
		snprintf(err, ERRBUF_SIZE, "%s: expected sqlite:PATH", spec);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(spec + 7)) == NULL) {
		free(s);
		snprintf(err, ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	dbuf_init(&s->tmp, 16u << 20);
	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, ERRBUF_SIZE, "%s: %s", s->path,
		    s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (exec(s, "PRAGMA journal_mode = WAL") == -1 ||
	    exec(s, "PRAGMA synchronous = NORMAL") == -1 ||
	    exec(s, "PRAGMA foreign_keys = ON") == -1) {
		snprintf(err, ERRBUF_SIZE, "%s: %s", s->path,
		    sqlite3_errmsg(s->db));
		goto fail;
	}
	if (migrate(s, err) == -1 || sensor_id(s, sensor, err) == -1)
		goto fail;
	for (i = 0; i < ST_MAX; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			snprintf(err, ERRBUF_SIZE, "%s: %s", s->path,
			    sqlite3_errmsg(s->db));
			goto fail;
		}
	}
	return s;
fail:
	s->failed = true;
	sqlite_close(s);
	return NULL;
}

/* ---- binding helpers ----------------------------------------------------- */

static void
bind_str(sqlite3_stmt *q, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(q, i);
	else
		sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
}

static void
bind_buf(sqlite3_stmt *q, int i, struct dbuf *b)
{
	sqlite3_bind_text(q, i, b->p != NULL ? (const char *)b->p : "",
	    (int)b->len, SQLITE_TRANSIENT);
}

static void
ip_text(const struct record_endpoint *e, char out[64])
{
	inet_ntop(e->af == 4 ? AF_INET : AF_INET6, e->ip, out, 64);
}

static int
batch(struct sqlite_store *s)
{
	if (s->in_batch == 0 && exec(s, "BEGIN") == -1)
		return -1;
	if (++s->in_batch >= STORE_BATCH) {
		s->in_batch = 0;
		return exec(s, "COMMIT");
	}
	return 0;
}

/* The row id of the record's session, made if it is new. */
static int64_t
session_row(struct sqlite_store *s, const struct record_conn *c)
{
	sqlite3_stmt *q = s->st[ST_SESSION_GET];
	char ip[64];
	int64_t id = -1;
	unsigned i, slot = 0;

	for (i = 0; c->uid[i] != '\0'; i++)
		slot = slot * 31 + (unsigned char)c->uid[i];
	slot %= SID_CACHE;
	if (strcmp(s->sid[slot].uid, c->uid) == 0)
		return s->sid[slot].id;
	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, s->sensor_id);
	sqlite3_bind_text(q, 2, c->uid, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (id >= 0)
		goto cache;
	q = s->st[ST_SESSION_NEW];
	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, s->sensor_id);
	sqlite3_bind_text(q, 2, c->uid, -1, SQLITE_STATIC);
	ip_text(&c->client, ip);
	sqlite3_bind_text(q, 3, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 4, c->client.port);
	ip_text(&c->server, ip);
	sqlite3_bind_text(q, 5, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 6, c->server.port);
	dbuf_reset(&s->tmp);
	dbuf_addc(&s->tmp, '[');
	for (i = 0; i < c->nvlan; i++) {
		if (i > 0)
			dbuf_addc(&s->tmp, ',');
		json_u64(&s->tmp, c->vlan[i]);
	}
	dbuf_addc(&s->tmp, ']');
	bind_buf(q, 7, &s->tmp);
	dbuf_reset(&s->tmp);
	ts_format(c->ts_first, ip);
	sqlite3_bind_text(q, 8, ip, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) != SQLITE_DONE)
		return sql_fail(s, "sessions");
	id = sqlite3_last_insert_rowid(s->db);
cache:
	snprintf(s->sid[slot].uid, sizeof(s->sid[slot].uid), "%s", c->uid);
	s->sid[slot].id = id;
	return id;
}

/* JSON array text of a mime address list's bare addresses. */
static void
addr_json(struct dbuf *b, const struct mime_addr_list *l)
{
	size_t i, n = 0;

	dbuf_reset(b);
	dbuf_addc(b, '[');
	for (i = 0; i < l->n; i++) {
		if (l->v[i].addr == NULL)
			continue;
		if (n++ > 0)
			dbuf_addc(b, ',');
		json_cstr(b, l->v[i].addr);
	}
	dbuf_addc(b, ']');
}

/* Write one transaction: its message row, recipients and attachments. */
static int
sqlite_put_record(void *h, const struct record *r)
{
	struct sqlite_store *s = h;
	sqlite3_stmt *q = s->st[ST_MESSAGE];
	const struct mime_headers *hd = r->mime != NULL ? &r->mime->h : NULL;
	int64_t sid, mid;
	char ts[32];
	size_t i;

	if (s->failed || batch(s) == -1)
		return -1;
	if ((sid = session_row(s, r->conn)) < 0)
		return -1;
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	sqlite3_bind_int64(q, 1, sid);
	sqlite3_bind_int(q, 2, (int)r->trans_depth);
	ts_format(r->ts, ts);
	sqlite3_bind_text(q, 3, ts, -1, SQLITE_TRANSIENT);
	bind_str(q, 4, r->helo);
	bind_str(q, 5, r->auth_mech);
	bind_str(q, 6, r->auth_mech ? record_auth_name(r->auth) : NULL);
	bind_str(q, 7, r->has_mail ? r->mail_from : NULL);
	bind_str(q, 8, record_status_name(r->status));
	bind_str(q, 9, r->last_reply);
	if (r->size_known)
		sqlite3_bind_int64(q, 10, (sqlite3_int64)r->size);
	if (hd != NULL) {
		bind_str(q, 11, hd->from);
		addr_json(&s->tmp, &hd->to);
		bind_buf(q, 12, &s->tmp);
		addr_json(&s->tmp, &hd->cc);
		bind_buf(q, 13, &s->tmp);
		bind_str(q, 14, hd->reply_to);
		bind_str(q, 15, hd->subject);
		bind_str(q, 16, hd->message_id);
		bind_str(q, 17, hd->in_reply_to);
		bind_str(q, 18, hd->date);
		bind_str(q, 19, hd->user_agent);
		bind_str(q, 20, hd->x_originating_ip);
		dbuf_reset(&s->tmp);
		dbuf_addc(&s->tmp, '[');
		for (i = 0; i < hd->received.n; i++) {
			if (i > 0)
				dbuf_addc(&s->tmp, ',');
			json_cstr(&s->tmp, hd->received.v[i]);
		}
		dbuf_addc(&s->tmp, ']');
		bind_buf(q, 21, &s->tmp);
	}
	dbuf_reset(&s->tmp);
	record_anomalies_json(&s->tmp, r->events, r->mime);
	bind_buf(q, 22, &s->tmp);
	if (sqlite3_step(q) != SQLITE_DONE)
		return sql_fail(s, "messages");
	/*
	 * Already there (the same capture read again, or records replayed
	 * after an outage): a record is stored once, keyed by its session
	 * and trans_depth.
	 */
	if (sqlite3_changes(s->db) == 0)
		return 0;
	mid = sqlite3_last_insert_rowid(s->db);

	q = s->st[ST_RCPT];
	for (i = 0; i < r->nrcpt; i++) {
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
		sqlite3_bind_int64(q, 1, mid);
		bind_str(q, 2, r->rcpt[i].addr ? r->rcpt[i].addr : "");
		if (r->rcpt[i].code != 0)
			sqlite3_bind_int(q, 3, r->rcpt[i].code);
		bind_str(q, 4, r->rcpt[i].enhanced[0] ? r->rcpt[i].enhanced :
		    NULL);
		sqlite3_bind_int(q, 5, r->rcpt[i].code >= 200 &&
		    r->rcpt[i].code < 300);
		if (sqlite3_step(q) != SQLITE_DONE)
			return sql_fail(s, "recipients");
	}
	q = s->st[ST_ATTACHMENT];
	for (i = 0; r->mime != NULL && i < r->mime->natt; i++) {
		const struct mime_attachment *a = &r->mime->att[i];

		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
		sqlite3_bind_int64(q, 1, mid);
		bind_str(q, 2, a->filename);
		bind_str(q, 3, a->content_type);
		sqlite3_bind_int64(q, 4, (sqlite3_int64)a->size);
		dbuf_reset(&s->tmp);
		json_hex(&s->tmp, a->sha256, sizeof(a->sha256));
		/* json_hex quotes it: bind without the quotes. */
		sqlite3_bind_text(q, 5, (const char *)s->tmp.p + 1,
		    (int)s->tmp.len - 2, SQLITE_TRANSIENT);
		sqlite3_bind_int(q, 6, a->truncated);
		if (sqlite3_step(q) != SQLITE_DONE)
			return sql_fail(s, "attachments");
	}
	return 0;
}

/* Complete a session's row when its connection ends. */
static int
sqlite_put_session(void *h, const struct store_session *ss)
{
	struct sqlite_store *s = h;
	sqlite3_stmt *q = s->st[ST_SESSION_END];
	static const char *const ext_names[] = { "PIPELINING", "CHUNKING",
	    "STARTTLS", "AUTH", "SIZE", "8BITMIME", "SMTPUTF8", "DSN",
	    "ENHANCEDSTATUSCODES", "BINARYMIME" };
	int64_t sid;
	char ts[32];
	size_t i, n = 0;

	if (s->failed || batch(s) == -1)
		return -1;
	if ((sid = session_row(s, ss->conn)) < 0)
		return -1;
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	ts_format(ss->ts_last, ts);
	sqlite3_bind_text(q, 1, ts, -1, SQLITE_TRANSIENT);
	bind_str(q, 2, ss->banner);
	bind_str(q, 3, ss->helo);
	dbuf_reset(&s->tmp);
	for (i = 0; i < sizeof(ext_names) / sizeof(ext_names[0]); i++) {
		if (!(ss->ext & (1u << i)))
			continue;
		if (n++ > 0)
			dbuf_addc(&s->tmp, ' ');
		dbuf_adds(&s->tmp, ext_names[i]);
	}
	bind_buf(q, 4, &s->tmp);
	sqlite3_bind_int(q, 5, ss->tls);
	bind_str(q, 6, ss->auth_mech);
	bind_str(q, 7, ss->auth_result);
	sqlite3_bind_int(q, 8, (int)ss->transactions);
	bind_str(q, 9, ss->end_state);
	sqlite3_bind_int64(q, 10, (sqlite3_int64)ss->gaps);
	sqlite3_bind_int64(q, 11, (sqlite3_int64)ss->gap_bytes);
	dbuf_reset(&s->tmp);
	record_anomalies_json(&s->tmp, ss->events, NULL);
	bind_buf(q, 12, &s->tmp);
	sqlite3_bind_int64(q, 13, sid);
	if (sqlite3_step(q) != SQLITE_DONE)
		return sql_fail(s, "sessions");
	return 0;
}

static int
sqlite_close(void *h)
{
	struct sqlite_store *s = h;
	int rc, i;

	if (s == NULL)
		return 0;
	if (s->db != NULL && s->in_batch > 0 && !s->failed)
		exec(s, "COMMIT");
	for (i = 0; i < ST_MAX; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK) {
		log_warnx("%s: close: %s", s->path, sqlite3_errmsg(s->db));
		s->failed = true;
	}
	rc = s->failed ? -1 : 0;
	dbuf_fini(&s->tmp);
	free(s->path);
	free(s);
	return rc;
}

const struct store_backend store_sqlite_backend = {
	"sqlite:", sqlite_open, sqlite_put_record, sqlite_put_session,
	sqlite_close,
};
