/*
 * decode.c: the decoder object, its counters and their names.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "decode_int.h"

/*
 * The defaults: the process hash key. 0, or -1 if no key could be drawn
 * (said with log_warnx; decoder_new_config() then refuses the config).
 */
int
decode_config_default(struct decode_config *c)
{
	char err[ERRBUF_SIZE];

	memset(c, 0, sizeof(*c));
	if (siphash_key_process(&c->hash_key, err) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	c->hash_keyed = true;
	return 0;
}

/* A decoder; NULL on ENOMEM or if cfg has no hash key. */
struct decoder *
decoder_new_config(const struct decode_config *cfg)
{
	struct decoder *d;

	if (!cfg->hash_keyed || (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->frags = frag_table_new(&cfg->hash_key)) == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

/* A decoder with the default config (the process hash key). */
struct decoder *
decoder_new(void)
{
	struct decode_config cfg;

	if (decode_config_default(&cfg) == -1)
		return NULL;
	return decoder_new_config(&cfg);
}

void
decoder_free(struct decoder *d)
{
	if (d == NULL)
		return;
	frag_table_free(d->frags);
	free(d);
}

/*
 * Decode one captured frame. Returns DECODE_TCP with *p filled (payload
 * valid until the next call), or why the frame gave no TCP segment; every
 * outcome is counted in the decoder's stats.
 */
enum decode_result
decoder_decode(struct decoder *d, const struct capture_pkt *cp, struct pkt *p)
{
	enum decode_result r;

	p->ts_ns = cp->ts_ns;
	p->nvlan = 0;
	p->payload_cut = 0;
	r = decode_link(d, cp, p);
	d->stats.result[r]++;
	return r;
}

const struct decode_stats *
decoder_stats(const struct decoder *d)
{
	return &d->stats;
}

const char *
decode_result_name(enum decode_result r)
{
	static const char *const names[DECODE_RESULT_MAX] = {
		[DECODE_TCP] = "tcp",
		[DECODE_NOT_TCP] = "not_tcp",
		[DECODE_FRAGMENT] = "fragment",
		[DECODE_ERR_LINK_UNSUPPORTED] = "link_unsupported",
		[DECODE_ERR_LINK_TRUNCATED] = "link_truncated",
		[DECODE_ERR_IP4_TRUNCATED] = "ip4_truncated",
		[DECODE_ERR_IP4_HEADER] = "ip4_header",
		[DECODE_ERR_IP6_TRUNCATED] = "ip6_truncated",
		[DECODE_ERR_IP6_HEADER] = "ip6_header",
		[DECODE_ERR_IP6_EXT_CHAIN] = "ip6_ext_chain",
		[DECODE_ERR_FRAG_INVALID] = "frag_invalid",
		[DECODE_ERR_TCP_TRUNCATED] = "tcp_truncated",
		[DECODE_ERR_TCP_HEADER] = "tcp_header",
	};

	if ((unsigned)r >= DECODE_RESULT_MAX)
		return "unknown";
	return names[r];
}
