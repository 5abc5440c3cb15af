/*
 * mime_qp.c: streaming quoted-printable decoding (RFC 2045 §6.7). =XY
 * gives an octet (lower-case hex accepted), '=' at the end of a line is a
 * soft line break (white space after it tolerated, rule 3), white space
 * at the end of a line is deleted (rule 3), a hard line break is decoded
 * as CRLF (rule 4: the canonical form). An invalid '=' sequence is kept
 * literally, as §6.7 recommends, and counted.
 */
#include <string.h>

#include "common/ascii.h"
#include "mime_int.h"

enum {
	QP_TEXT,
	QP_EQ,		/* after '=' */
	QP_HEX,		/* after '=' and one hex digit */
	QP_WS,		/* white space held (after '=' if eq) */
	QP_CR		/* a CR held (after white space or '=' if any) */
};

typedef uint8_t qp_v16 __attribute__((vector_size(16)));

/*
 * Offset of the first '=', CR or LF in p[0..n), or n: 16 bytes at a time
 * (SSE2 or whatever the compiler has for vector_size).
 */
static size_t
qp_scan(const uint8_t *p, size_t n)
{
	qp_v16 x, m;
	uint64_t a[2];
	size_t i = 0;

	for (; n - i >= 16; i += 16) {
		memcpy(&x, p + i, 16);
		m = (qp_v16)((x == '=') | (x == '\r') | (x == '\n'));
		memcpy(a, &m, 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (a[0] != 0)
			return i + (size_t)__builtin_ctzll(a[0]) / 8;
		if (a[1] != 0)
			return i + 8 + (size_t)__builtin_ctzll(a[1]) / 8;
#else
		if ((a[0] | a[1]) != 0)
			break;		/* found by the loop below */
#endif
	}
	for (; i < n; i++)
		if (p[i] == '=' || p[i] == '\r' || p[i] == '\n')
			break;
	return i;
}

/* Hex digit values plus one (both cases); 0: not a hex digit. */
static const uint8_t hexv1[256] = {
	['0'] = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	['A'] = 11, 12, 13, 14, 15, 16,
	['a'] = 11, 12, 13, 14, 15, 16,
};

void
mime_qp_init(struct mime_qp *q)
{
	q->st = QP_TEXT;
	q->hex = 0;
	q->eq = false;
	q->nws = 0;
}

/* The held '=' and white space turned out to be content. */
static void
qp_release(struct mime_qp *q, struct mime_sink *s)
{
	if (q->eq)
		mime_sink_putc(s, '=');
	mime_sink_write(s, q->ws, q->nws);
	q->eq = false;
	q->nws = 0;
}

/* A line ended: soft break after '=', else a hard break as CRLF. */
static void
qp_eol(struct mime_qp *q, struct mime_sink *s)
{
	if (!q->eq) {
		mime_sink_putc(s, '\r');
		mime_sink_putc(s, '\n');
	}
	q->eq = false;
	q->nws = 0;		/* trailing white space is deleted */
	q->st = QP_TEXT;
}

/*
 * Decode p[0..n) into s; the state carries across calls. Returns the
 * number of invalid '=' sequences (which are passed through as written).
 */
size_t
mime_qp_feed(struct mime_qp *q, const uint8_t *p, size_t n,
    struct mime_sink *s)
{
	size_t i = 0, j, k, bad = 0;
	uint8_t c;
	int h, l;

	while (i < n) {
		if (q->st == QP_TEXT) {
			/*
			 * Up to the next '=', CR or LF it is plain, except
			 * white space that may turn out to be trailing.
			 */
			j = i + qp_scan(p + i, n - i);
			k = j;
			if (j == n || p[j] != '=')
				while (k > i && (p[k - 1] == ' ' ||
				    p[k - 1] == '\t'))
					k--;
			mime_sink_write(s, p + i, k - i);
			i = k;
			if (i == n)
				break;
			if (p[i] == '=' && n - i >= 3 &&
			    (h = hexv1[p[i + 1]]) > 0 &&
			    (l = hexv1[p[i + 2]]) > 0) {
				mime_sink_putc(s, (uint8_t)((h - 1) << 4 |
				    (l - 1)));
				i += 3;
				continue;
			}
		}
		c = p[i++];
		switch (q->st) {
		case QP_TEXT:
			if (c == '=')
				q->st = QP_EQ;
			else if (c == ' ' || c == '\t') {
				q->ws[0] = c;
				q->nws = 1;
				q->st = QP_WS;
			} else if (c == '\r')
				q->st = QP_CR;
			else	/* LF: a bare line break */
				qp_eol(q, s);
			break;
		case QP_EQ:
			if ((h = ascii_hexval(c)) >= 0) {
				q->hex = c;
				q->st = QP_HEX;
			} else if (c == ' ' || c == '\t') {
				q->eq = true;
				q->ws[0] = c;
				q->nws = 1;
				q->st = QP_WS;
			} else if (c == '\r') {
				q->eq = true;
				q->st = QP_CR;
			} else if (c == '\n') {
				q->eq = true;
				qp_eol(q, s);
			} else {
				bad++;
				mime_sink_putc(s, '=');
				q->st = QP_TEXT;
				i--;	/* c again, as text */
			}
			break;
		case QP_HEX:
			if ((h = ascii_hexval(c)) >= 0) {
				mime_sink_putc(s, (uint8_t)(ascii_hexval(q->hex)
				    << 4 | h));
				q->st = QP_TEXT;
			} else {
				bad++;
				mime_sink_putc(s, '=');
				mime_sink_putc(s, q->hex);
				q->st = QP_TEXT;
				i--;
			}
			break;
		case QP_WS:
			if (c == ' ' || c == '\t') {
				if (q->nws == sizeof(q->ws)) {
					/* Too long to be padding: content. */
					if (q->eq)
						bad++;
					qp_release(q, s);
				}
				q->ws[q->nws++] = c;
			} else if (c == '\r')
				q->st = QP_CR;
			else if (c == '\n')
				qp_eol(q, s);
			else {
				if (q->eq)
					bad++;	/* '=' then space then text */
				qp_release(q, s);
				q->st = QP_TEXT;
				i--;
			}
			break;
		case QP_CR:
			if (c == '\n') {
				qp_eol(q, s);
				break;
			}
			/* A CR alone is content, like what was held. */
			if (q->eq)
				bad++;
			qp_release(q, s);
			mime_sink_putc(s, '\r');
			q->st = QP_TEXT;
			i--;
			break;
		}
	}
	return bad;
}

/*
 * End of the encoded data. A '=' or white space left at the end is the
 * end of the last line (soft break, deleted padding); a CR left is the
 * start of the line break that went with the delimiter.
 */
size_t
mime_qp_end(struct mime_qp *q, struct mime_sink *s)
{
	size_t bad = 0;

	if (q->st == QP_HEX) {
		bad++;
		mime_sink_putc(s, '=');
		mime_sink_putc(s, q->hex);
	}
	mime_qp_init(q);
	return bad;
}
