/*
 * split.c: archive_split ORIGINAL DIR -- the capture ORIGINAL written
 * into DIR through the packet archive by two "workers", TCP connections
 * dealt out round-robin in the order they first appear (the other
 * packets alternate), each worker rotating by -G 1 and a small -C so
 * that the two workers' slices overlap in time, as live capture's do.
 * Then DIR is read back through the capture reader and compared with
 * ORIGINAL packet by packet (a keyed hash of time, lengths, link type and
 * bytes; sum and xor, so order does not matter) and for time order.
 *
 * Prints one line:
 *   packets N M same|differ backwards B0 B1 open_max K
 * (packets in ORIGINAL and in DIR; times going backwards in ORIGINAL and
 * in DIR; most files the reader had open at once). Exit 0 when
 * the packets are the same and DIR does not go back in time more often
 * than ORIGINAL, 1 otherwise, 2 on a usage or setup error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/archive.h"
#include "capture/capture.h"
#include "common/siphash.h"
#include "decode/decode.h"

#define MAX_FLOWS	65536	/* connections remembered; then by hash */
#define ROTATE_BYTES	4096	/* -C of the test: many slices */

struct flowkey {
	uint8_t		a[16], b[16];	/* lower address first */
	uint16_t	pa, pb;
};

struct sums {
	uint64_t	n, sum, xor, back, last;
};

static struct flowkey keys[MAX_FLOWS];
static size_t nkeys;

static void
flow_key(const struct pkt *p, struct flowkey *k)
{
	bool swap = memcmp(p->src, p->dst, 16) > 0 ||
	    (memcmp(p->src, p->dst, 16) == 0 && p->sport > p->dport);

	memset(k, 0, sizeof(*k));
	memcpy(k->a, swap ? p->dst : p->src, 16);
	memcpy(k->b, swap ? p->src : p->dst, 16);
	k->pa = swap ? p->dport : p->sport;
	k->pb = swap ? p->sport : p->dport;
}

/* Worker of a connection: 0, 1, 0, 1 ... in order of first appearance. */
static unsigned
flow_worker(const struct pkt *p, const struct siphash_key *hk)
{
	struct flowkey k;
	size_t i;

	flow_key(p, &k);
	for (i = 0; i < nkeys; i++)
		if (memcmp(&keys[i], &k, sizeof(k)) == 0)
			return (unsigned)(i % 2);
	if (nkeys == MAX_FLOWS)
		return (unsigned)(siphash24(hk, &k, sizeof(k)) % 2);
	keys[nkeys] = k;
	return (unsigned)(nkeys++ % 2);
}

static void
add(struct sums *s, const struct siphash_key *hk, const struct capture_pkt *p)
{
	uint8_t buf[24 + 65536];
	size_t n = p->caplen < 65536 ? p->caplen : 65536;
	uint64_t h;

	memcpy(buf, &p->ts_ns, 8);
	memcpy(buf + 8, &p->caplen, 4);
	memcpy(buf + 12, &p->wirelen, 4);
	memcpy(buf + 16, &p->link, 4);
	memset(buf + 20, 0, 4);
	memcpy(buf + 24, p->data, n);
	h = siphash24(hk, buf, 24 + n);
	if (s->n > 0 && p->ts_ns < s->last)
		s->back++;
	s->last = p->ts_ns;
	s->n++;
	s->sum += h;
	s->xor ^= h;
}

int
main(int argc, char **argv)
{
	struct archive_config cfg = { .rotate_s = 1,
	    .rotate_bytes = ROTATE_BYTES };
	struct archive *w[2] = { NULL, NULL };
	struct capture_stats cs;
	struct decode_config dcfg;
	struct decoder *dec;
	struct capture *c;
	struct capture_pkt cp;
	struct siphash_key hk = { 0x0706050403020100ull,
	    0x0f0e0d0c0b0a0908ull };
	struct sums orig = { 0 }, back = { 0 };
	struct pkt p;
	char err[ERRBUF_SIZE];
	unsigned i, wk, other = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: archive_split ORIGINAL DIR\n");
		return 2;
	}
	cfg.dir = argv[2];
	for (i = 0; i < 2; i++) {
		cfg.worker = i;
		if ((w[i] = archive_open(&cfg, err)) == NULL) {
			fprintf(stderr, "%s\n", err);
			return 2;
		}
	}
	if (decode_config_default(&dcfg) == -1 ||
	    (dec = decoder_new_config(&dcfg)) == NULL)
		return 2;
	if ((c = capture_open_offline(argv + 1, 1, err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	while (capture_next(c, &cp) == 1) {
		add(&orig, &hk, &cp);
		if (decoder_decode(dec, &cp, &p) == DECODE_TCP)
			wk = flow_worker(&p, &hk);
		else
			wk = other++ % 2;
		if (archive_write(w[wk], &cp) == -1) {
			fprintf(stderr, "archive_write failed\n");
			return 2;
		}
	}
	capture_free(c);
	decoder_free(dec);
	for (i = 0; i < 2; i++) {
		if (archive_close(w[i]) == -1)
			return 2;
	}
	/* Finished slices only: the counts after close. */
	if ((c = capture_open_offline(argv + 2, 1, err)) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	while (capture_next(c, &cp) == 1)
		add(&back, &hk, &cp);
	capture_get_stats(c, &cs);
	capture_free(c);
	printf("packets %llu %llu %s backwards %llu %llu open_max %llu\n",
	    (unsigned long long)orig.n,
	    (unsigned long long)back.n, orig.n == back.n &&
	    orig.sum == back.sum && orig.xor == back.xor ? "same" : "differ",
	    (unsigned long long)orig.back, (unsigned long long)back.back,
	    (unsigned long long)cs.open_max);
	return orig.n == back.n && orig.sum == back.sum &&
	    orig.xor == back.xor && back.back <= orig.back ? 0 : 1;
}
