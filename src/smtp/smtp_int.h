/*
 * smtp_int.h: shared by the smtp_*.c files only.
 */
#ifndef SMTPSNIFF_SMTP_INT_H
#define SMTPSNIFF_SMTP_INT_H

#include "smtp.h"

void	smtp_cmd_parse(struct span line, struct smtp_cmd *);
bool	smtp_cmd_is_known(struct span line);

/*
 * One reply line: "ddd" [("-" / SP) text]. Returns false if it is not
 * one. *more is true for a continuation line ("ddd-").
 */
bool	smtp_reply_line(struct span line, uint16_t *code, bool *more,
	    struct span *text);
/* "x.y.z" at the start of text (RFC 3463 §2), or an empty span. */
struct span smtp_reply_enhanced(struct span text);
/* EHLO keyword of one reply line's text: SMTP_EXT_* or 0. */
uint32_t smtp_reply_ext(struct span text, struct span *auth_mechs);

#endif /* SMTPSNIFF_SMTP_INT_H */
