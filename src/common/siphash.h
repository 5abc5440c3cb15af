/*
 * siphash.h: SipHash, a keyed hash for every table indexed by packet data,
 * so that no one who does not know the key can aim entries at one bucket
 * (hash flooding). Written from the paper: J.-P. Aumasson and D. J.
 * Bernstein, "SipHash: a fast short-input PRF", INDOCRYPT 2012.
 * SipHash-1-3 is what the tables use; SipHash-2-4 is there for the paper's
 * test vectors, which check the shared code.
 */
#ifndef SMTPSNIFF_SIPHASH_H
#define SMTPSNIFF_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#include "common/log.h"

/* The 128-bit key: k0 is bytes 0-7 read little-endian, k1 bytes 8-15. */
struct siphash_key {
	uint64_t	k0;
	uint64_t	k1;
};

/* Environment variable that fixes the process key (for tests only). */
#define SIPHASH_KEY_ENV	"SMTPSNIFF_HASH_KEY"

uint64_t	 siphash13(const struct siphash_key *, const void *, size_t);
uint64_t	 siphash24(const struct siphash_key *, const void *, size_t);
void		 siphash_key_from_bytes(struct siphash_key *,
		    const uint8_t b[16]);
int		 siphash_key_parse(struct siphash_key *, const char *hex);
int		 siphash_key_process(struct siphash_key *,
		    char err[ERRBUF_SIZE]);

#endif /* SMTPSNIFF_SIPHASH_H */
