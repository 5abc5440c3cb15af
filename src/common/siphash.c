/*
 * siphash.c: SipHash-c-d (Aumasson and Bernstein, 2012, §2) and the
 * process's hash key.
 *
 * Why 1-3 for the tables: hash flooding needs the attacker to predict
 * which inputs share a bucket, and the hash values never leave the process.
 * For that use the authors consider one compression and three
 * finalisation rounds enough, and it is what Python (3.11) and Rust's
 * standard hash maps settled on. It costs 9 rounds for an IPv6 flow key
 * where 2-4 costs 16, and stays below the unkeyed mixer it replaces.
 *
 * The key is drawn once per process from getrandom(2), unless
 * SMTPSNIFF_HASH_KEY holds 32 hex digits: that is for tests, which must
 * show that no output depends on the key. It never falls back to a
 * constant: no key, no run.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/ascii.h"
#include "siphash.h"

#define ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

/* One SipRound (the paper's Figure 2): an ARX network on four words. */
#define SIPROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static inline uint64_t
le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

/*
 * The message is read as little-endian 64-bit words; the last word holds
 * the remaining 0-7 bytes and, in its top byte, the length mod 256 (§2,
 * "Compression"). c rounds per word, then d after v2 ^= 0xff.
 */
static inline uint64_t
siphash_cd(const struct siphash_key *key, const uint8_t *p, size_t n,
    int c, int d)
{
	/* "somepseudorandomlygeneratedbytes", the initial state (§2). */
	uint64_t v0 = key->k0 ^ 0x736f6d6570736575ull;
	uint64_t v1 = key->k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = key->k0 ^ 0x6c7967656e657261ull;
	uint64_t v3 = key->k1 ^ 0x7465646279746573ull;
	uint64_t m, b = (uint64_t)n << 56;
	size_t left = n & 7, i;
	int r;

	for (i = 0; i + 8 <= n; i += 8) {
		m = le64(p + i);
		v3 ^= m;
		for (r = 0; r < c; r++)
			SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	switch (left) {
	case 7: b |= (uint64_t)p[i + 6] << 48;	/* FALLTHROUGH */
	case 6: b |= (uint64_t)p[i + 5] << 40;	/* FALLTHROUGH */
	case 5: b |= (uint64_t)p[i + 4] << 32;	/* FALLTHROUGH */
	case 4: b |= (uint64_t)p[i + 3] << 24;	/* FALLTHROUGH */
	case 3: b |= (uint64_t)p[i + 2] << 16;	/* FALLTHROUGH */
	case 2: b |= (uint64_t)p[i + 1] << 8;	/* FALLTHROUGH */
	case 1: b |= (uint64_t)p[i];		/* FALLTHROUGH */
	case 0: break;
	}
	v3 ^= b;
	for (r = 0; r < c; r++)
		SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (r = 0; r < d; r++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* SipHash-1-3 of n bytes at p: the tables' hash. */
uint64_t
siphash13(const struct siphash_key *key, const void *p, size_t n)
{
	return siphash_cd(key, p, n, 1, 3);
}

/* SipHash-2-4 of n bytes at p: the paper's reference function. */
uint64_t
siphash24(const struct siphash_key *key, const void *p, size_t n)
{
	return siphash_cd(key, p, n, 2, 4);
}

void
siphash_key_from_bytes(struct siphash_key *key, const uint8_t b[16])
{
	key->k0 = le64(b);
	key->k1 = le64(b + 8);
}

/*
 * A key written as exactly 32 hex digits (the 16 key bytes in order).
 * 0, or -1 if hex is anything else.
 */
int
siphash_key_parse(struct siphash_key *key, const char *hex)
{
	uint8_t b[16];
	int i, hi, lo;

	if (strlen(hex) != 32)
		return -1;
	for (i = 0; i < 16; i++) {
		if ((hi = ascii_hexval((uint8_t)hex[2 * i])) < 0 ||
		    (lo = ascii_hexval((uint8_t)hex[2 * i + 1])) < 0)
			return -1;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	siphash_key_from_bytes(key, b);
	return 0;
}

/* The process key, decided once (see the file header). */
static struct {
	pthread_once_t		once;
	int			rc;
	struct siphash_key	key;
	char			err[ERRBUF_SIZE];
} process = { PTHREAD_ONCE_INIT, -1, { 0, 0 }, "" };

static void
process_key_init(void)
{
	const char *env = getenv(SIPHASH_KEY_ENV);
	uint8_t b[16];
	size_t got = 0;
	ssize_t n;

	if (env != NULL) {
		if (siphash_key_parse(&process.key, env) == -1) {
			snprintf(process.err, sizeof(process.err),
			    "%s: expected 32 hex digits", SIPHASH_KEY_ENV);
			return;
		}
		process.rc = 0;
		return;
	}
	while (got < sizeof(b)) {
		n = getrandom(b + got, sizeof(b) - got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(process.err, sizeof(process.err),
			    "getrandom: cannot draw the hash key: %s",
			    n == -1 ? strerror(errno) : "no bytes");
			return;
		}
		got += (size_t)n;
	}
	siphash_key_from_bytes(&process.key, b);
	explicit_bzero(b, sizeof(b));
	process.rc = 0;
}

/*
 * The key of this process's tables: the same for every caller, drawn at
 * the first call (from SMTPSNIFF_HASH_KEY if set, else getrandom(2)).
 * Thread-safe. 0, or -1 with the reason in err (and every later call
 * fails the same way): callers stop at start.
 */
int
siphash_key_process(struct siphash_key *key, char err[ERRBUF_SIZE])
{
	pthread_once(&process.once, process_key_init);
	if (process.rc == -1) {
		if (err != NULL)
			snprintf(err, ERRBUF_SIZE, "%s", process.err);
		return -1;
	}
	*key = process.key;
	return 0;
}
