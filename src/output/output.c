/*
 * output.c: opening sinks by spec, and writing whole lines to them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "output_int.h"

struct output_kind {
	const char		*prefix;
	output_format_fn	*format;
	output_stats_fn		*stats;		/* NULL: writes none */
};

static const struct output_kind kinds[] = {
	{ "json", output_native, output_native_stats },
	{ "zeek", output_zeek, NULL },	/* smtp.log has no such rows */
	{ "eve", output_eve, output_eve_stats },
};

struct output {
	const struct output_kind *kind;	/* NULL: a store */
	struct store		*store;
	char			*spec;
	FILE			*fp;
	bool			 own_fp;
	struct dbuf		 line;
	uint64_t		 records;
	uint64_t		 lost;		/* records that could not go */
	bool			 failed;
};

struct output *
output_open(const char *spec, const struct store_config *cfg, bool append,
    char err[ERRBUF_SIZE])
{
	const char *colon = strchr(spec, ':');
	const char *path;
	struct output *o;
	size_t i, plen;

	if (store_spec_is_store(spec)) {
		if ((o = calloc(1, sizeof(*o))) == NULL ||
		    (o->spec = strdup(spec)) == NULL) {
			free(o);
			snprintf(err, ERRBUF_SIZE, "out of memory");
			return NULL;
		}
		if ((o->store = store_open(spec, cfg, err)) == NULL) {
			free(o->spec);
			free(o);
			return NULL;
		}
		return o;
	}
	if (colon == NULL) {
		snprintf(err, ERRBUF_SIZE, "%s: expected KIND:PATH "
		    "(json:, zeek:, eve:, sqlite:)", spec);
		return NULL;
	}
	plen = (size_t)(colon - spec);
	path = colon + 1;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i].prefix) == plen &&
		    strncmp(kinds[i].prefix, spec, plen) == 0)
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0])) {
		snprintf(err, ERRBUF_SIZE, "%s: unknown output kind "
		    "(json:, zeek:, eve:, sqlite:)", spec);
		return NULL;
	}
	if (*path == '\0') {
		snprintf(err, ERRBUF_SIZE, "%s: missing path (- for stdout)",
		    spec);
		return NULL;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->spec = strdup(spec)) == NULL) {
		free(o);
		snprintf(err, ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	o->kind = &kinds[i];
	dbuf_init(&o->line, 64u << 20);
	if (strcmp(path, "-") == 0) {
		o->fp = stdout;
	} else {
		if ((o->fp = fopen(path, append ? "a" : "w")) == NULL) {
			snprintf(err, ERRBUF_SIZE, "%s: %s", path,
			    strerror(errno));
			free(o->spec);
			free(o);
			return NULL;
		}
		o->own_fp = true;
	}
	return o;
}

int
output_flush(struct output *o)
{
	if (o->store != NULL || o->fp == NULL)
		return 0;
	if (fflush(o->fp) != 0) {
		if (!o->failed)
			log_warn("%s: write", o->spec);
		o->failed = true;
		return -1;
	}
	return 0;
}

int
output_write(struct output *o, const struct record *r)
{
	o->records++;
	if (o->store != NULL) {
		/* The store counts what it lost (a batch can be). */
		if (store_put_record(o->store, r) == -1) {
			o->failed = true;
			return -1;
		}
		return 0;
	}
	dbuf_reset(&o->line);
	if (o->kind->format(&o->line, r, o->records) == -1) {
		if (!o->failed)
			log_warnx("%s: a record could not be formatted "
			    "(out of memory or over the line cap)", o->spec);
		o->failed = true;
		o->lost++;
		dbuf_init(&o->line, 64u << 20);
		return -1;
	}
	if (fwrite(o->line.p, 1, o->line.len, o->fp) != o->line.len) {
		if (!o->failed)
			log_warn("%s: write", o->spec);
		o->failed = true;
		o->lost++;
		return -1;
	}
	return 0;
}

int
output_session(struct output *o, const struct record_summary *ss)
{
	if (o->store == NULL)
		return 0;
	if (store_put_session(o->store, ss) == -1) {
		o->failed = true;
		return -1;
	}
	return 0;
}

int
output_stats(struct output *o, const struct sensor_stats *st)
{
	if (o->store != NULL) {
		if (store_put_stats(o->store, st) == -1) {
			o->failed = true;
			return -1;
		}
		return 0;
	}
	if (o->kind->stats == NULL)
		return 0;
	dbuf_reset(&o->line);
	if (o->kind->stats(&o->line, st) == -1) {
		if (!o->failed)
			log_warnx("%s: a stats record could not be formatted "
			    "(out of memory)", o->spec);
		o->failed = true;
		dbuf_init(&o->line, 64u << 20);
		return -1;
	}
	if (fwrite(o->line.p, 1, o->line.len, o->fp) != o->line.len) {
		if (!o->failed)
			log_warn("%s: write", o->spec);
		o->failed = true;
		return -1;
	}
	return 0;
}

int
output_close(struct output *o, struct output_summary *sum)
{
	int rc;

	if (o == NULL)
		return 0;
	rc = o->failed ? -1 : 0;
	if (sum != NULL) {
		memset(sum, 0, sizeof(*sum));
		snprintf(sum->name, sizeof(sum->name), "%s", o->store != NULL ?
		    store_name(o->store) : o->spec);
		sum->records = o->records;
	}
	if (o->store != NULL) {
		struct store *st = o->store;
		struct store_stats stats;

		/* Closing commits the last batch: stats after it. */
		rc = store_close_stats(st, &stats) == -1 ? -1 : rc;
		if (sum != NULL) {
			sum->store = true;
			sum->st = stats;
			sum->lost = stats.lost;
		}
		free(o->spec);
		free(o);
		return rc;
	}
	if (fflush(o->fp) != 0) {
		log_warn("%s: write", o->spec);
		rc = -1;
	}
	if (o->own_fp && fclose(o->fp) != 0) {
		log_warn("%s: close", o->spec);
		rc = -1;
	}
	if (sum != NULL)
		sum->lost = o->lost;
	dbuf_fini(&o->line);
	free(o->spec);
	free(o);
	return rc;
}

/* ---- helpers shared by the formats ---------------------------------------- */

/* Dotted quad by hand: glibc's inet_ntop formats IPv4 with sprintf. */
static size_t
ip4_format(const uint8_t *a, char *out)
{
	size_t o = 0;
	int i;
	unsigned v;

	for (i = 0; i < 4; i++) {
		v = a[i];
		if (v >= 100)
			out[o++] = (char)('0' + v / 100);
		if (v >= 10)
			out[o++] = (char)('0' + v / 10 % 10);
		out[o++] = (char)('0' + v % 10);
		if (i < 3)
			out[o++] = '.';
	}
	return o;
}

int
out_ip(struct dbuf *b, const struct record_endpoint *e)
{
	char ip[INET6_ADDRSTRLEN + 2];
	size_t n;

	if (e->af == 4) {
		ip[0] = '"';
		n = ip4_format(e->ip, ip + 1);
		ip[n + 1] = '"';
		return dbuf_add(b, ip, n + 2);
	}
	inet_ntop(AF_INET6, e->ip, ip, sizeof(ip));
	return json_cstr(b, ip);
}

int
out_endpoint(struct dbuf *b, const char *key, const struct record_endpoint *e)
{
	json_key(b, key);
	dbuf_addlit(b, "{\"ip\":");
	out_ip(b, e);
	dbuf_addlit(b, ",\"port\":");
	json_u64(b, e->port);
	return dbuf_addc(b, '}');
}

int
out_str_or_null(struct dbuf *b, const char *s)
{
	if (s == NULL)
		return dbuf_addlit(b, "null");
	return json_cstr(b, s);
}

int
out_epoch(struct dbuf *b, uint64_t ts_ns)
{
	char s[32];
	unsigned long long sec = ts_ns / 1000000000u;
	unsigned usec = (unsigned)((ts_ns % 1000000000u) / 1000u);

	snprintf(s, sizeof(s), "%llu.%06u", sec, usec);
	return dbuf_adds(b, s);
}

/* ,"key":["item as written", ...] for a non-empty list; nothing if empty. */
int
out_addr_items(struct dbuf *b, const char *key, const struct mime_addr_list *l)
{
	size_t i;

	if (l->n == 0)
		return 0;
	dbuf_addc(b, ',');
	json_key(b, key);
	dbuf_addc(b, '[');
	for (i = 0; i < l->n; i++) {
		if (i > 0)
			dbuf_addc(b, ',');
		json_cstr(b, l->v[i].raw);
	}
	return dbuf_addc(b, ']');
}
