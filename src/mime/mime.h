/*
 * mime.h: streaming parser for one Internet message (RFC 5322 headers,
 * RFC 2045/2046 MIME structure and transfer encodings, RFC 2047 encoded
 * words, RFC 2231 parameter continuations and charsets).
 *
 * Bytes are pushed as the server received them (after SMTP dot-unstuffing
 * or BDAT chunk joining), split anywhere; nothing is ever buffered whole:
 * memory is bounded per message by the caps in common/limits.h. The body
 * is decoded only to hash attachments, then dropped.
 *
 * All strings in the result are NUL-terminated UTF-8: RFC 2047/2231 words
 * are converted with iconv, bytes that are not valid UTF-8 and NUL bytes
 * become U+FFFD, so every string can go to JSON or SQL as it is.
 */
#ifndef SMTPSNIFF_MIME_H
#define SMTPSNIFF_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Anomalies: counted in the result, never fatal. */
enum mime_event {
	MIME_EV_HEADER_LINE_TOO_LONG,	/* a header line past its cap */
	MIME_EV_HEADER_BLOCK_TOO_LONG,	/* too many header bytes / fields */
	MIME_EV_BODY_LINE_TOO_LONG,	/* a body line past its cap */
	MIME_EV_DEPTH_EXCEEDED,		/* multipart nesting past the cap */
	MIME_EV_TOO_MANY_PARTS,
	MIME_EV_TOO_MANY_ATTACHMENTS,	/* later ones counted, not listed */
	MIME_EV_BOUNDARY_MISSING,	/* multipart without a boundary= */
	MIME_EV_UNCLOSED_MULTIPART,	/* message ended inside a multipart */
	MIME_EV_BAD_BASE64,		/* invalid characters or length */
	MIME_EV_BAD_QP,			/* invalid =XX sequence */
	MIME_EV_BAD_ENCODED_WORD,	/* RFC 2047 word that does not decode */
	MIME_EV_UNKNOWN_CHARSET,	/* iconv does not know it */
	MIME_EV_NUL_BYTE,
	MIME_EV_BARE_LF,		/* LF without CR */
	MIME_EV_GAP,			/* bytes missing (capture gap) */
	MIME_EV_LIST_TOO_LONG,		/* list items or strings not kept */
	MIME_EV_BAD_TRANSFER_ENCODING,	/* unknown, or not allowed here */
	MIME_EV_NESTING_EXCEEDED,	/* attached message not opened */
	MIME_EV_MAX
};

/* An address list item: as written (decoded), and its bare addr-spec. */
struct mime_addr {
	char		*raw;		/* "\"Doe, Jane\" <jane@example.org>" */
	char		*addr;		/* "jane@example.org", or NULL */
};

struct mime_addr_list {
	struct mime_addr *v;
	size_t		  n;
};

struct mime_str_list {
	char		**v;
	size_t		  n;
};

/*
 * The top-level header block only: headers of parts and of attached
 * messages (message/rfc822) never override these. Each value is unfolded
 * (RFC 5322 §2.2.3), leading and trailing white space trimmed, and RFC 2047
 * decoded. For single fields the first occurrence wins. NULL when absent.
 */
struct mime_headers {
	char			*from;		/* whole value */
	struct mime_addr_list	 from_list;	/* From split into items */
	struct mime_addr_list	 to;
	struct mime_addr_list	 cc;
	char			*reply_to;
	char			*subject;
	char			*message_id;
	char			*in_reply_to;
	char			*date;
	char			*user_agent;	/* User-Agent, else X-Mailer */
	char			*x_mailer;	/* X-Mailer as such */
	char			*x_originating_ip;
	char			*content_type;	/* type/subtype, lower case */
	struct mime_str_list	 received;	/* in order, top first */
	bool			 complete;	/* the blank line was seen */
};

/*
 * An attachment: a leaf with Content-Disposition: attachment, or with a
 * file name (disposition filename= or type name=, RFC 2231 aware), or of
 * type message/rfc822 or message/global (hashed whole, and read as a
 * message: its attachments follow it, one level deeper, up to
 * LIMIT_MIME_NESTING). Size and hashes are of the decoded bytes. The
 * array is in the order the attachments begin (a container before what it
 * holds); those inside an attached message join it as they begin, so a
 * result read before mime_parser_finish() may lack the last ones' hashes.
 */
struct mime_attachment {
	char		*filename;	/* UTF-8, or NULL */
	char		*content_type;	/* type/subtype, lower case */
	uint64_t	 size;
	uint8_t		 sha256[32];
	uint8_t		 md5[16];
	bool		 truncated;	/* a gap, cap or end of message inside */
	unsigned	 depth;		/* attached messages around it */
};

struct mime_result {
	struct mime_headers	 h;
	struct mime_attachment	*att;
	size_t			 natt;
	uint64_t		 bytes;		/* message bytes pushed */
	uint64_t		 body_bytes;	/* after the top header block */
	unsigned		 parts;		/* MIME entities seen */
	uint32_t		 events[MIME_EV_MAX];
};

struct mime_parser;

struct mime_parser *mime_parser_new(void);
void		 mime_parser_free(struct mime_parser *);
/* Start a new message; the previous result is released. */
void		 mime_parser_reset(struct mime_parser *);
/* The next bytes of the message, split anywhere. */
void		 mime_parser_push(struct mime_parser *, const uint8_t *,
		    size_t);
/* len bytes of the message are missing (capture gap). */
void		 mime_parser_gap(struct mime_parser *, uint64_t len);
/* End of the message: open parts and attachments are closed. */
void		 mime_parser_finish(struct mime_parser *);
/* Valid until the next reset or free. */
const struct mime_result *mime_parser_result(const struct mime_parser *);
const char	*mime_event_name(enum mime_event);

#endif /* SMTPSNIFF_MIME_H */
