/*
 * pseudo.h: keyed pseudonyms for the e-mail addresses of a record
 * (DESIGN.md: "Addresses can optionally be pseudonymised (keyed hash)").
 * An address's local part becomes "anon-" and the first 16 lower-case hex
 * digits of HMAC-SHA256(key, the whole address, ASCII letters lower-cased);
 * its domain is kept as seen, so per-domain views still work. It does not
 * touch message ids, subjects, host names, or anything that is not an
 * address field (see pseudo.c for the exact list).
 */
#ifndef SMTPSNIFF_RECORD_PSEUDO_H
#define SMTPSNIFF_RECORD_PSEUDO_H

#include <stddef.h>
#include <stdint.h>

#include "record/record.h"

/* Shortest key accepted: 128 bits. */
#define RECORD_PSEUDO_KEY_MIN	16

/* "anon-" and 16 hex digits: what replaces a local part. */
#define RECORD_PSEUDO_LOCAL_LEN	21

/*
 * Bytes of out that always hold the pseudonym of an address of n bytes
 * (NUL included): the pseudonym keeps at most the domain and its '@'.
 */
#define RECORD_PSEUDO_OUT_SIZE(n)	((n) + RECORD_PSEUDO_LOCAL_LEN + 1)

/* One per thread: it keeps its MAC context and its last result. */
struct record_pseudo;

/*
 * key: the secret, at least RECORD_PSEUDO_KEY_MIN bytes (callers read it
 * from a file); it is copied. NULL on a bad key or ENOMEM.
 */
struct record_pseudo *record_pseudo_new(const uint8_t *key, size_t keylen);
void		 record_pseudo_free(struct record_pseudo *);

/*
 * One address (as in MAIL FROM/RCPT TO, without brackets) to its
 * pseudonym, NUL-terminated, in out. "" stays "". Returns out, or NULL if
 * it does not fit in outlen (RECORD_PSEUDO_OUT_SIZE(strlen(addr)) always
 * does) or the hash failed. Used by `query` to search pseudonymised stores.
 */
const char	*record_pseudo_addr(struct record_pseudo *, const char *addr,
		    char *out, size_t outlen);

/*
 * A copy of r with every address pseudonymised, valid until the next call
 * or record_pseudo_free(). r is never written. NULL on ENOMEM: the caller
 * must then drop the record, never pass on the original.
 */
const struct record *record_pseudonymise(struct record_pseudo *,
		    const struct record *r);

#endif /* SMTPSNIFF_RECORD_PSEUDO_H */
