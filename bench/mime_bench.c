/*
 * mime_bench: throughput of the streaming MIME parser on synthetic
 * messages built in memory, pushed in pieces the size of TCP segments
 * (1448 bytes) and of large reads (64 KiB).
 *
 *   base64   one message, ~100 MB of base64 attachments (hashed)
 *   qp       one message, ~100 MB quoted-printable attachment (hashed)
 *   text     one message, ~100 MB text/plain body (skipped, not hashed)
 *   headers  ~100 MB of 2 KB messages: headers with encoded words and
 *            address lists, a small text body (reset per message)
 *
 * For reference it also times SHA-256 + MD5 alone over the base64
 * workload's decoded bytes: the floor of any parser that hashes them.
 *
 * Usage: mime_bench [MB [WORKLOAD]]   (default 100, all workloads)
 */
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mime/mime.h"

struct buf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
};

static void
add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		if ((b->p = realloc(b->p, b->cap)) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
adds(struct buf *b, const char *s)
{
	add(b, s, strlen(s));
}

static uint64_t rs = 88172645463325252ull;

static uint8_t
rnd8(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint8_t)(rs >> 24);
}

static void
base64_lines(struct buf *b, size_t nbytes)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[80];
	uint8_t in[3];
	size_t i, k = 0;

	for (i = 0; i + 3 <= nbytes; i += 3) {
		in[0] = rnd8();
		in[1] = rnd8();
		in[2] = rnd8();
		line[k++] = a[in[0] >> 2];
		line[k++] = a[(in[0] & 3) << 4 | in[1] >> 4];
		line[k++] = a[(in[1] & 15) << 2 | in[2] >> 6];
		line[k++] = a[in[2] & 63];
		if (k == 76) {
			line[k++] = '\r';
			line[k++] = '\n';
			add(b, line, k);
			k = 0;
		}
	}
	line[k++] = '\r';
	line[k++] = '\n';
	add(b, line, k);
}

static const char hdr[] =
    "Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n"
    "\tby relay.example.net (Postfix) with ESMTPS id 4F2A1\r\n"
    "\tfor <bob@example.net>; Mon, 5 Oct 2009 11:36:07 +0530\r\n"
    "Received: from pc42.example.org (pc42 [10.1.2.3]) by mx.example.org\r\n"
    "\twith ESMTP id 77AB; Mon, 5 Oct 2009 11:36:05 +0530\r\n"
    "From: =?UTF-8?Q?Ren=C3=A9_Dupont?= <rene@example.org>\r\n"
    "To: \"Doe, Jane\" <jane@example.net>, bob@example.net,\r\n"
    "\t=?ISO-8859-1?Q?J=F6rg?= <joerg@example.de>\r\n"
    "Cc: team: a@example.org, b@example.org;, c@example.org (see)\r\n"
    "Subject: =?UTF-8?B?UsOpdW5pb24gZGUgbCfDqXF1aXBl?= =?UTF-8?Q?_demain?=\r\n"
    "Date: Mon, 5 Oct 2009 11:36:07 +0530\r\n"
    "Message-ID: <000301ca4581$ef9e57f0$cedb07d0$@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "X-Mailer: Microsoft Office Outlook 12.0\r\n"
    "Thread-Index: AcpFgemc9BvjjZEDeR1Kh8i+hUyVo0A==\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org;\r\n"
    "\ts=s1; h=from:to:subject:date; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMp;\r\n"
    "\tb=dzdVyOfAKCdLXdJOc9G2q8LoXSlEniSbav+yuU4zGeeruD00lszZVoG4ZHRNiYzR\r\n";

static void
build_base64(struct buf *b, size_t mb)
{
	size_t i, per = 5800000, n = mb * 1000000 / (per / 3 * 4 * 78 / 76);

	adds(b, hdr);
	adds(b, "Content-Type: multipart/mixed;"
	    " boundary=\"----=_Part_0\"\r\n\r\n"
	    "This is a multi-part message in MIME format.\r\n\r\n"
	    "------=_Part_0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
	    "Hello,\r\n\r\nthe files.\r\n\r\n");
	for (i = 0; i < (n ? n : 1); i++) {
		adds(b, "------=_Part_0\r\n"
		    "Content-Type: application/octet-stream; name=\"f.bin\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n"
		    "Content-Disposition: attachment; filename=\"f.bin\"\r\n"
		    "\r\n");
		base64_lines(b, per);
	}
	adds(b, "------=_Part_0--\r\n");
}

static void
build_qp(struct buf *b, size_t mb)
{
	char line[80];
	size_t k, i;

	adds(b, hdr);
	adds(b, "Content-Type: text/plain; name=\"notes.txt\"\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "Content-Disposition: attachment\r\n\r\n");
	while (b->len < mb * 1000000) {
		for (k = 0; k < 72;) {
			i = rnd8();
			if (i < 8) {
				memcpy(line + k, "=E9", 3);
				k += 3;
			} else
				line[k++] = "abcdefghij klmnopqrst"
				    " uvwxyz"[i % 28];
		}
		if (rnd8() < 128)
			line[k++] = '=';
		line[k++] = '\r';
		line[k++] = '\n';
		add(b, line, k);
	}
}

static void
build_text(struct buf *b, size_t mb)
{
	static const char l[] = "Lorem ipsum dolor sit amet, consectetur "
	    "adipiscing elit, sed do eiusmod.\r\n";
	size_t i;

	adds(b, hdr);
	adds(b, "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
	    "--alt\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
	while (b->len < mb * 1000000) {
		add(b, l, sizeof(l) - 1);
		for (i = 0; i < 4; i++)
			if (rnd8() < 8)
				adds(b, "-- \r\n---- quoted ----\r\n");
	}
	adds(b, "\r\n--alt\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n"
	    "--alt--\r\n");
}

/* One ~2 KB message; the workload is many of them. */
static void
build_small(struct buf *b)
{
	adds(b, hdr);
	adds(b, "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	while (b->len < 2000)
		adds(b, "Bonjour, voici le compte rendu de la "
		    "r\xc3\xa9union.\r\n");
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
run(struct mime_parser *mp, const struct buf *b, size_t chunk, size_t reps,
    uint64_t *att_bytes)
{
	const struct mime_result *r;
	double t0 = now();
	size_t i, off, k;

	*att_bytes = 0;
	for (i = 0; i < reps; i++) {
		mime_parser_reset(mp);
		for (off = 0; off < b->len; off += k) {
			k = b->len - off < chunk ? b->len - off : chunk;
			mime_parser_push(mp, b->p + off, k);
		}
		mime_parser_finish(mp);
		r = mime_parser_result(mp);
		for (k = 0; k < r->natt; k++)
			*att_bytes += r->att[k].size;
	}
	return now() - t0;
}

static void
report(const char *name, struct mime_parser *mp, const struct buf *b,
    size_t reps)
{
	static const size_t chunks[] = { 1448, 65536 };
	uint64_t att;
	double t, best;
	size_t c, i;

	for (c = 0; c < 2; c++) {
		best = 1e9;
		for (i = 0; i < 3; i++)
			if ((t = run(mp, b, chunks[c], reps, &att)) < best)
				best = t;
		printf("%-8s chunk=%-6zu %8.1f MB in %6.3f s  %7.0f MB/s"
		    "  (attachments %.1f MB decoded)\n", name, chunks[c],
		    b->len * reps / 1e6, best, b->len * reps / 1e6 / best,
		    att / 1e6);
	}
}

static void
hash_floor(uint64_t nbytes)
{
	EVP_MD_CTX *s = EVP_MD_CTX_new(), *m = EVP_MD_CTX_new();
	uint8_t blk[8192], out[64];
	uint64_t done;
	double t0;

	memset(blk, 0x5a, sizeof(blk));
	t0 = now();
	EVP_DigestInit_ex(s, EVP_sha256(), NULL);
	EVP_DigestInit_ex(m, EVP_md5(), NULL);
	for (done = 0; done < nbytes; done += sizeof(blk)) {
		EVP_DigestUpdate(s, blk, sizeof(blk));
		EVP_DigestUpdate(m, blk, sizeof(blk));
	}
	EVP_DigestFinal_ex(s, out, NULL);
	EVP_DigestFinal_ex(m, out, NULL);
	printf("sha256+md5 alone over %.1f MB: %.3f s (%.0f MB/s of "
	    "decoded bytes)\n", nbytes / 1e6, now() - t0,
	    nbytes / 1e6 / (now() - t0));
	EVP_MD_CTX_free(s);
	EVP_MD_CTX_free(m);
}

static bool
want(int argc, char **argv, const char *name)
{
	return argc < 3 || strcmp(argv[2], name) == 0;
}

int
main(int argc, char **argv)
{
	struct mime_parser *mp = mime_parser_new();
	struct buf b = { 0 };
	size_t mb = argc > 1 ? (size_t)atoi(argv[1]) : 100;
	uint64_t att;

	if (mp == NULL || mb == 0)
		return 1;
	if (want(argc, argv, "base64")) {
		build_base64(&b, mb);
		report("base64", mp, &b, 1);
		run(mp, &b, 65536, 1, &att);
		hash_floor(att);
	}
	if (want(argc, argv, "qp")) {
		b.len = 0;
		build_qp(&b, mb);
		report("qp", mp, &b, 1);
	}
	if (want(argc, argv, "text")) {
		b.len = 0;
		build_text(&b, mb);
		report("text", mp, &b, 1);
	}
	if (want(argc, argv, "headers")) {
		b.len = 0;
		build_small(&b);
		report("headers", mp, &b, mb * 1000000 / b.len);
	}
	free(b.p);
	mime_parser_free(mp);
	return 0;
}
