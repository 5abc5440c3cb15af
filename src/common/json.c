/*
 * json.c: JSON text output (RFC 8259). Deliberately no parser and no DOM:
 * records are written field by field into a dbuf.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "utf8.h"

/* Append p[0..n) as a JSON string. Returns 0 or -1 (buffer freed). */
int
json_str(struct dbuf *b, const uint8_t *p, size_t n)
{
	if (dbuf_addc(b, '"') == -1 || json_str_body(b, p, n) == -1)
		return -1;
	return dbuf_addc(b, '"');
}

/* Bytes that go out as they are: printable ASCII but '"' and '\\'. */
#define P4(x)	x, x, x, x
#define P16(x)	P4(x), P4(x), P4(x), P4(x)
static const uint8_t plain[256] = {
	P16(0), P16(0),				/* 0x00-0x1f: escaped */
	1, 1, 0, P4(1), 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 0x20-0x2f: '"' */
	P16(1),					/* 0x30-0x3f */
	P16(1),					/* 0x40-0x4f */
	P4(1), P4(1), P4(1), 0, 1, 1, 1,	/* 0x50-0x5f: '\\' */
	P16(1), P16(1),				/* 0x60-0x7f */
	/* 0x80-0xff: UTF-8, checked */
};

/* The inside of a JSON string, without the quotes. */
int
json_str_body(struct dbuf *b, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run, k;
	uint8_t c;
	char esc[6];

	while (i < n) {
		/* Copy the longest run of plain printable ASCII at once. */
		run = 0;
		while (i + run < n && plain[p[i + run]])
			run++;
		if (run > 0) {
			if (dbuf_add(b, p + i, run) == -1)
				return -1;
			i += run;
			continue;
		}
		c = p[i];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			if (dbuf_add(b, esc, 2) == -1)
				return -1;
			i++;
		} else if (c < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			if (dbuf_add(b, esc, 6) == -1)
				return -1;
			i++;
		} else {
			k = utf8_seq_len(p + i, n - i);
			if (k == 0) {
				if (dbuf_add(b, "\xef\xbf\xbd", 3) == -1)
					return -1;
				i++;
			} else {
				if (dbuf_add(b, p + i, k) == -1)
					return -1;
				i += k;
			}
		}
	}
	return dbuf_status(b);
}

int
json_cstr(struct dbuf *b, const char *s)
{
	return json_str(b, (const uint8_t *)s, strlen(s));
}

/* A key we name ourselves: plain ASCII, nothing to escape. */
int
json_key(struct dbuf *b, const char *key)
{
	dbuf_addc(b, '"');
	dbuf_adds(b, key);
	return dbuf_addlit(b, "\":");
}

int
json_opt_cstr(struct dbuf *b, const char *key, const char *v)
{
	if (v == NULL)
		return 0;
	dbuf_addc(b, ',');
	json_key(b, key);
	return json_cstr(b, v);
}

/* Decimal without printf: it is on the per-record path. */
int
json_u64(struct dbuf *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return dbuf_add(b, tmp + i, sizeof(tmp) - i);
}

static char *
put_digits(char *o, unsigned v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--) {
		o[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return o + width;
}

/* YYYY-MM-DDTHH:MM:SS.uuuuuuZ, UTC (written by hand: per-record path). */
void
ts_format(uint64_t ts_ns, char out[32])
{
	time_t secs = (time_t)(ts_ns / 1000000000u);
	unsigned usec = (unsigned)((ts_ns % 1000000000u) / 1000u);
	struct tm tm;
	char *o = out;

	gmtime_r(&secs, &tm);
	o = put_digits(o, (unsigned)(tm.tm_year + 1900) % 10000, 4);
	*o++ = '-';
	o = put_digits(o, (unsigned)(tm.tm_mon + 1), 2);
	*o++ = '-';
	o = put_digits(o, (unsigned)tm.tm_mday, 2);
	*o++ = 'T';
	o = put_digits(o, (unsigned)tm.tm_hour, 2);
	*o++ = ':';
	o = put_digits(o, (unsigned)tm.tm_min, 2);
	*o++ = ':';
	o = put_digits(o, (unsigned)tm.tm_sec, 2);
	*o++ = '.';
	o = put_digits(o, usec, 6);
	*o++ = 'Z';
	*o = '\0';
}

int
json_ts(struct dbuf *b, uint64_t ts_ns)
{
	char s[32];

	ts_format(ts_ns, s);
	return json_cstr(b, s);
}

int
json_hex(struct dbuf *b, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (dbuf_addc(b, '"') == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (dbuf_addc(b, (uint8_t)hex[p[i] >> 4]) == -1 ||
		    dbuf_addc(b, (uint8_t)hex[p[i] & 15]) == -1)
			return -1;
	}
	return dbuf_addc(b, '"');
}

void
json_u16_list(struct dbuf *b, const uint16_t *v, size_t n)
{
	size_t i;

	dbuf_addc(b, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			dbuf_addc(b, ',');
		json_u64(b, v[i]);
	}
	dbuf_addc(b, ']');
}
