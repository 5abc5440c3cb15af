/*
 * test_siphash.c: SipHash-2-4 against the reference vectors (key 00..0f,
 * message 00..n-1: the paper's Appendix A example is n = 15, the others
 * are from the authors' vectors.h), SipHash-1-3 against an independent
 * implementation (CPython 3.11's str/bytes hash with PYTHONHASHSEED=0,
 * whose key is all zeros), and the key's text form.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/siphash.h"

static const struct {
	size_t		n;
	uint64_t	h;
} ref24[] = {
	{ 0, 0x726fdb47dd0e0e31ull },
	{ 1, 0x74f839c593dc67fdull },
	{ 2, 0x0d6c8009d9a94f5aull },
	{ 7, 0xab0200f58b01d137ull },
	{ 8, 0x93f5f5799a932462ull },
	{ 9, 0x9e0082df0ba9e4b0ull },
	{ 15, 0xa129ca6149be45e5ull },	/* the paper, Appendix A */
	{ 16, 0x3f2acc7f57c29bdbull },
	{ 31, 0x32d892fad841c342ull },
	{ 32, 0x7127512f72f27cceull },
	{ 63, 0x958a324ceb064572ull },
};

/* PYTHONHASHSEED=0 python3 -c 'print(hex(hash(bytes(range(n)))))' */
static const struct {
	size_t		n;
	uint64_t	h;
} ref13[] = {
	{ 1, 0x68a914128e01e473ull },
	{ 7, 0x2f098ab0c751325aull },
	{ 8, 0xead411e67ebe2eeaull },
	{ 9, 0x75927f9d95124362ull },
	{ 15, 0xf30eb725bb91c9eaull },
	{ 16, 0x8972188433a5c5b7ull },
	{ 42, 0xfcaf3c64874dd0b4ull },
	{ 63, 0x385d3e39e5f37359ull },
};

static void
test_siphash24_matches_reference_vectors(void **state)
{
	struct siphash_key key;
	uint8_t kb[16], msg[64];
	size_t i;

	for (i = 0; i < sizeof(kb); i++)
		kb[i] = (uint8_t)i;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	siphash_key_from_bytes(&key, kb);
	for (i = 0; i < sizeof(ref24) / sizeof(ref24[0]); i++)
		assert_int_equal(siphash24(&key, msg, ref24[i].n), ref24[i].h);
}

static void
test_siphash13_matches_cpython(void **state)
{
	struct siphash_key key = { 0, 0 };
	uint8_t msg[64];
	size_t i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (i = 0; i < sizeof(ref13) / sizeof(ref13[0]); i++)
		assert_int_equal(siphash13(&key, msg, ref13[i].n), ref13[i].h);
}

static void
test_every_key_bit_changes_the_hash(void **state)
{
	struct siphash_key a = { 0x0706050403020100ull,
	    0x0f0e0d0c0b0a0908ull }, b;
	const char *m = "MAIL FROM:<a@b>";
	uint64_t h = siphash13(&a, m, strlen(m));
	int i;

	for (i = 0; i < 128; i++) {
		b = a;
		if (i < 64)
			b.k0 ^= 1ull << i;
		else
			b.k1 ^= 1ull << (i - 64);
		assert_true(siphash13(&b, m, strlen(m)) != h);
	}
}

static void
test_key_parse_takes_32_hex_digits_only(void **state)
{
	struct siphash_key k, ref;
	uint8_t kb[16];
	size_t i;

	for (i = 0; i < sizeof(kb); i++)
		kb[i] = (uint8_t)i;
	siphash_key_from_bytes(&ref, kb);
	assert_int_equal(siphash_key_parse(&k,
	    "000102030405060708090a0b0c0D0E0F"), 0);
	assert_int_equal(k.k0, ref.k0);
	assert_int_equal(k.k1, ref.k1);
	assert_int_equal(siphash_key_parse(&k, ""), -1);
	assert_int_equal(siphash_key_parse(&k,
	    "000102030405060708090a0b0c0d0e0"), -1);
	assert_int_equal(siphash_key_parse(&k,
	    "000102030405060708090a0b0c0d0e0f0"), -1);
	assert_int_equal(siphash_key_parse(&k,
	    "000102030405060708090a0b0c0d0e0g"), -1);
	assert_int_equal(siphash_key_parse(&k,
	    " 00102030405060708090a0b0c0d0e0f"), -1);
}

/* The process key: the variable fixes it, and it stays for the process. */
static void
test_process_key_comes_from_the_environment_once(void **state)
{
	struct siphash_key k1, k2, want;
	char err[ERRBUF_SIZE];

	assert_int_equal(setenv(SIPHASH_KEY_ENV,
	    "00112233445566778899aabbccddeeff", 1), 0);
	assert_int_equal(siphash_key_parse(&want,
	    "00112233445566778899aabbccddeeff"), 0);
	assert_int_equal(siphash_key_process(&k1, err), 0);
	assert_int_equal(k1.k0, want.k0);
	assert_int_equal(k1.k1, want.k1);
	assert_int_equal(setenv(SIPHASH_KEY_ENV,
	    "ffeeddccbbaa99887766554433221100", 1), 0);
	assert_int_equal(siphash_key_process(&k2, err), 0);
	assert_int_equal(k2.k0, want.k0);
	assert_int_equal(k2.k1, want.k1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash24_matches_reference_vectors),
		cmocka_unit_test(test_siphash13_matches_cpython),
		cmocka_unit_test(test_every_key_bit_changes_the_hash),
		cmocka_unit_test(test_key_parse_takes_32_hex_digits_only),
		cmocka_unit_test(
		    test_process_key_comes_from_the_environment_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
