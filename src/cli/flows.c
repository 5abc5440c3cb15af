/*
 * flows.c: `smtpsniff flows PATH...`: one JSON line per TCP connection, in
 * order of connection end, with the length and SHA-256 of each direction's
 * reassembled bytes and its gaps. It is the reassembly layer's diagnostic
 * and the output the tshark oracle test compares.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/json.h"

struct flows_ctx {
	FILE		*out;
	int		 no_hash;	/* --no-hash: reassembly cost alone */
	struct dbuf	 line;
	int		 failed;	/* output or memory error */
};

struct flow_hashes {
	EVP_MD_CTX	*md[2];
};

static void
on_open(void *arg, struct flow *f)
{
	struct flows_ctx *ctx = arg;
	struct flow_hashes *h;

	if (ctx->no_hash)
		return;
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->md[0] = EVP_MD_CTX_new()) == NULL ||
	    (h->md[1] = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h->md[0], EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(h->md[1], EVP_sha256(), NULL) != 1) {
		if (h != NULL) {
			EVP_MD_CTX_free(h->md[0]);
			EVP_MD_CTX_free(h->md[1]);
			free(h);
		}
		ctx->failed = 1;
		return;
	}
	flow_set_user(f, h);
}

static void
on_data(void *arg, struct flow *f, enum flow_dir d, const uint8_t *p,
    size_t n)
{
	struct flow_hashes *h = flow_get_user(f);

	(void)arg;
	if (h != NULL)
		EVP_DigestUpdate(h->md[d], p, n);
}

static void
on_gap(void *arg, struct flow *f, enum flow_dir d, uint64_t len)
{
	(void)arg;
	(void)f;
	(void)d;
	(void)len;	/* counted by the flow layer; the hash skips it */
}

static void
put_endpoint(struct dbuf *b, const char *name, uint8_t af,
    const struct flow_endpoint *e)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(af == 4 ? AF_INET : AF_INET6, e->ip, ip, sizeof(ip));
	json_key(b, name);
	dbuf_addlit(b, "{\"ip\":");
	json_cstr(b, ip);
	dbuf_addlit(b, ",\"port\":");
	json_u64(b, e->port);
	dbuf_addc(b, '}');
}

static void
put_dir(struct dbuf *b, const char *name, const struct flow_dir_stats *st,
    EVP_MD_CTX *md)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	json_key(b, name);
	dbuf_addlit(b, "{\"bytes\":");
	json_u64(b, st->bytes);
	dbuf_addlit(b, ",\"sha256\":");
	if (md != NULL && EVP_DigestFinal_ex(md, digest, &dlen) == 1)
		json_hex(b, digest, dlen);
	else
		dbuf_addlit(b, "null");
	dbuf_addlit(b, ",\"gaps\":");
	json_u64(b, st->gaps);
	dbuf_addlit(b, ",\"gap_bytes\":");
	json_u64(b, st->gap_bytes);
	dbuf_addc(b, '}');
}

static void
on_close(void *arg, struct flow *f, enum flow_end why)
{
	struct flows_ctx *ctx = arg;
	struct flow_hashes *h = flow_get_user(f);
	const struct flow_info *fi = flow_get_info(f);
	const struct flow_dir_stats *c2s = flow_get_dir_stats(f, FLOW_C2S);
	const struct flow_dir_stats *s2c = flow_get_dir_stats(f, FLOW_S2C);
	struct dbuf *b = &ctx->line;

	dbuf_reset(b);
	dbuf_addc(b, '{');
	put_endpoint(b, "client", fi->af, &fi->client);
	dbuf_addc(b, ',');
	put_endpoint(b, "server", fi->af, &fi->server);
	dbuf_addlit(b, ",\"vlan\":");
	json_u16_list(b, fi->vlan, fi->nvlan);
	dbuf_addlit(b, ",\"ts_first\":");
	json_ts(b, fi->ts_first);
	dbuf_addlit(b, ",\"ts_last\":");
	json_ts(b, fi->ts_last);
	dbuf_addlit(b, ",\"state\":");
	json_cstr(b, flow_end_name(why));
	dbuf_addlit(b, ",\"midstream\":");
	dbuf_adds(b, (c2s->syn_seen || s2c->syn_seen) ? "false" : "true");
	dbuf_addlit(b, ",\"packets\":");
	json_u64(b, fi->packets);
	dbuf_addc(b, ',');
	put_dir(b, "c2s", c2s, h ? h->md[0] : NULL);
	dbuf_addc(b, ',');
	put_dir(b, "s2c", s2c, h ? h->md[1] : NULL);
	dbuf_addlit(b, "}\n");
	if (b->p == NULL || fwrite(b->p, 1, b->len, ctx->out) != b->len)
		ctx->failed = 1;
	if (h != NULL) {
		EVP_MD_CTX_free(h->md[0]);
		EVP_MD_CTX_free(h->md[1]);
		free(h);
	}
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: smtpsniff flows [-q] [--no-hash] PATH...\n"
	    "  Print one JSON line per TCP connection found in the capture\n"
	    "  (pcap or pcapng files, or directories of them read in name\n"
	    "  order, all as ONE capture), in order of connection end, with\n"
	    "  the SHA-256 of each direction's reassembled bytes and its gaps.\n"
	    "  -q, --quiet  no summary on stderr\n"
	    "  --no-hash    sha256 fields are null (measures reassembly alone)\n");
}

int
cli_flows(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-hash", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct flow_ops ops = { on_open, on_data, on_gap, on_close };
	struct flows_ctx ctx = { stdout, 0, { 0 }, 0 };
	struct flow_config cfg;
	struct decode_config dcfg;
	struct capture *cap = NULL;
	struct decoder *dec = NULL;
	struct flow_table *ft = NULL;
	char err[ERRBUF_SIZE];
	int ch, quiet = 0, rc = 2;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return 0;
		case 'q':
			quiet = 1;
			break;
		case 'H':
			ctx.no_hash = 1;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	dbuf_init(&ctx.line, 1 << 20);
	if ((cap = capture_open_offline(argv + optind,
	    (size_t)(argc - optind), err)) == NULL) {
		log_warnx("%s", err);
		goto done;
	}
	/* The hash key (SMTPSNIFF_HASH_KEY or getrandom): said if none. */
	if (flow_config_default(&cfg) == -1 ||
	    decode_config_default(&dcfg) == -1)
		goto done;
	if ((dec = decoder_new_config(&dcfg)) == NULL ||
	    (ft = flow_table_new(&cfg, &ops, &ctx)) == NULL) {
		log_warnx("out of memory");
		goto done;
	}
	rc = cli_run_offline(cap, dec, ft);
	if (fflush(stdout) != 0 || ctx.failed) {
		log_warn("writing the output");
		rc = 2;
	}
	if (!quiet) {
		cli_print_files(stderr, cap);
		cli_print_summary(stderr, decoder_stats(dec),
		    flow_table_get_stats(ft));
	}
done:
	flow_table_free(ft);
	decoder_free(dec);
	capture_free(cap);
	dbuf_fini(&ctx.line);
	return rc;
}
