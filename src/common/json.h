/*
 * json.h: append JSON values to a dbuf. Strings from the wire are binary:
 * control characters are escaped and bytes that are not valid UTF-8
 * (RFC 3629) become U+FFFD, so every line written is valid JSON (RFC 8259).
 */
#ifndef SMTPSNIFF_JSON_H
#define SMTPSNIFF_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "dbuf.h"

int	json_str(struct dbuf *, const uint8_t *, size_t);
int	json_str_body(struct dbuf *, const uint8_t *, size_t);
int	json_cstr(struct dbuf *, const char *);
int	json_key(struct dbuf *, const char *key);	/* "key": */
/* ,"key":"v" after an earlier member; nothing at all when v is NULL. */
int	json_opt_cstr(struct dbuf *, const char *key, const char *v);
int	json_u64(struct dbuf *, uint64_t);
/* [n, n, ...]: VLAN ids, outer first. */
void	json_u16_list(struct dbuf *, const uint16_t *, size_t);
int	json_ts(struct dbuf *, uint64_t ts_ns);		/* "2026-...Z" */
int	json_hex(struct dbuf *, const uint8_t *, size_t);

/* Format nanoseconds since the epoch as ISO 8601 UTC with microseconds. */
void	ts_format(uint64_t ts_ns, char out[32]);

#endif /* SMTPSNIFF_JSON_H */
