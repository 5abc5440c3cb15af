/*
 * mime_int.h: internals shared by the files of the MIME parser: the capped
 * string builder, UTF-8 repair, charset conversion (iconv), RFC 2047
 * encoded words, the transfer decoders (base64, quoted-printable) and their
 * output sink, Content-Type/Disposition parameters (RFC 2045 §5.1, RFC 2231)
 * and address lists (RFC 5322 §3.4). Nothing here is public.
 */
#ifndef SMTPSNIFF_MIME_INT_H
#define SMTPSNIFF_MIME_INT_H

#include <iconv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"
#include "common/span.h"
#include "mime.h"

/* ---- events -------------------------------------------------------------- */

/* Count n occurrences of an event; counters saturate, never wrap. */
static inline void
mime_event_add(uint32_t *events, enum mime_event ev, uint64_t n)
{
	uint64_t v = (uint64_t)events[ev] + n;

	events[ev] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* ---- bytes --------------------------------------------------------------- */

static inline bool
mime_is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* White space inside an unfolded header value (RFC 5322 §3.2.2). */
static inline bool
mime_is_lwsp(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The span without leading and trailing LWSP. */
struct span	mime_trim(struct span);
/* Case-insensitive equality of a span and a lower-case C string. */
bool		mime_span_is(struct span, const char *);

/* ---- capped string builder ----------------------------------------------- */

/*
 * A NUL-terminated byte string that never grows past max bytes. An append
 * that does not fit is dropped whole and sets trunc; later appends are
 * dropped too, so a string cut at the cap never has a hole in it and a
 * UTF-8 string is always cut at a character boundary. An allocation
 * failure behaves like the cap (and sets oom).
 */
struct mstr {
	char	*p;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
	bool	 trunc;
	bool	 oom;
};

void	mstr_init(struct mstr *, size_t max);
void	mstr_fini(struct mstr *);
void	mstr_clear(struct mstr *);
bool	mstr_add(struct mstr *, const void *, size_t);
bool	mstr_addc(struct mstr *, uint8_t);
/* Append as much of p[0..n) as fits (raw bytes, no character rule). */
void	mstr_add_cut(struct mstr *, const void *, size_t);

/* ---- UTF-8 and charsets -------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p[0..n) (RFC 3629 §4), or 0. */
size_t	mime_utf8_seq(const uint8_t *, size_t);
/* True if s[0..n) is valid UTF-8 without NUL (the result invariant). */
bool	mime_utf8_is_clean(const uint8_t *, size_t);

struct mime_iconv_slot {
	char		 name[LIMIT_MIME_CHARSET + 1];
	iconv_t		 cd;		/* (iconv_t)-1: unknown to iconv */
	bool		 used;
};

/* Conversion context: events to count and a small iconv cache. */
struct mime_conv {
	uint32_t		*events;
	struct mime_iconv_slot	 slot[LIMIT_MIME_ICONV_CACHE];
	unsigned		 next;
	unsigned		 opens;		/* iconv_open() this message */
};

void	mime_conv_init(struct mime_conv *, uint32_t *events);
void	mime_conv_fini(struct mime_conv *);
/* Append bytes that should be UTF-8: invalid bytes and NUL -> U+FFFD. */
void	mime_utf8_append(struct mime_conv *, struct mstr *, const uint8_t *,
	    size_t);
/* Append bytes in the named charset, converted to UTF-8. */
void	mime_charset_append(struct mime_conv *, struct mstr *, struct span cs,
	    const uint8_t *, size_t);
/* RFC 2047: decode the encoded words of a header value, append UTF-8. */
void	mime_rfc2047_append(struct mime_conv *, struct mstr *, const uint8_t *,
	    size_t);

/* ---- decoder output ------------------------------------------------------ */

typedef void mime_sink_fn(void *, const uint8_t *, size_t);

/* Decoded bytes are staged here and handed to fn in large blocks. */
struct mime_sink {
	mime_sink_fn	*fn;
	void		*arg;
	size_t		 len;
	uint8_t		 buf[LIMIT_MIME_SINK];
};

void	mime_sink_flush(struct mime_sink *);
void	mime_sink_write(struct mime_sink *, const uint8_t *, size_t);

static inline void
mime_sink_putc(struct mime_sink *s, uint8_t c)
{
	if (s->len == sizeof(s->buf))
		mime_sink_flush(s);
	s->buf[s->len++] = c;
}

/* ---- base64 (RFC 2045 §6.8) --------------------------------------------- */

struct mime_b64 {
	uint32_t	 acc;
	unsigned	 n;		/* sextets in acc */
};

void	mime_b64_init(struct mime_b64 *);
/* Decode; returns the number of invalid characters skipped. */
size_t	mime_b64_feed(struct mime_b64 *, const uint8_t *, size_t,
	    struct mime_sink *);
/* End of data; returns 1 if a lone trailing sextet had to be dropped. */
size_t	mime_b64_end(struct mime_b64 *, struct mime_sink *);

/* ---- quoted-printable (RFC 2045 §6.7) ----------------------------------- */

struct mime_qp {
	int		 st;
	uint8_t		 hex;		/* first digit of =XY */
	bool		 eq;		/* held white space follows a '=' */
	size_t		 nws;
	uint8_t		 ws[LIMIT_MIME_QP_WSP];
};

void	mime_qp_init(struct mime_qp *);
/* Decode; returns the number of invalid '=' sequences (kept literally). */
size_t	mime_qp_feed(struct mime_qp *, const uint8_t *, size_t,
	    struct mime_sink *);
size_t	mime_qp_end(struct mime_qp *, struct mime_sink *);

/* ---- Content-Type and Content-Disposition -------------------------------- */

/* What a part's MIME header fields say, as far as we care. */
struct mime_ctype {
	char		 type[LIMIT_MIME_TYPE + 1];	/* "type/subtype" */
	bool		 valid;
	struct mstr	 boundary;			/* raw bytes */
	bool		 has_boundary;
	struct mstr	 name;				/* UTF-8 */
};

struct mime_cdisp {
	bool		 attachment;
	struct mstr	 filename;			/* UTF-8 */
};

void	mime_ctype_init(struct mime_ctype *);
void	mime_ctype_fini(struct mime_ctype *);
void	mime_cdisp_init(struct mime_cdisp *);
void	mime_cdisp_fini(struct mime_cdisp *);
/* RFC 2045 §5.1 with RFC 2231 parameters. */
void	mime_ctype_parse(struct mime_conv *, struct mime_ctype *,
	    const uint8_t *, size_t);
/* RFC 2183 with RFC 2231 parameters. */
void	mime_cdisp_parse(struct mime_conv *, struct mime_cdisp *,
	    const uint8_t *, size_t);

/* ---- address lists (RFC 5322 §3.4) -------------------------------------- */

struct mime_addr_item {
	struct span	 raw;		/* the item as written, trimmed */
	struct span	 angle;		/* inside <...>, or p == NULL */
};

typedef void mime_addr_fn(void *, const struct mime_addr_item *);

/* Split at top-level commas; groups give their members. */
void	mime_addr_split(const uint8_t *, size_t, mime_addr_fn *, void *);
/* The bare addr-spec of an item (appended raw to out); false if none. */
bool	mime_addr_spec(const struct mime_addr_item *, struct mstr *out);

#endif /* SMTPSNIFF_MIME_INT_H */
