/*
 * fuzz_reassembly.c: libFuzzer target over decode + flow + reassembly.
 * Input: a sequence of frames, each "link:u8 len:be16 dt_ms:u8 frame",
 * the link picked among the link types we decode (so the fuzzer spends its
 * time on our code, not on libpcap's file parsing). pcap2fuzz.py turns a
 * pcap into this form for the seed corpus. Limits are set small so that
 * eviction, memcaps and timeouts are reached.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "common/cur.h"
#include "decode/decode.h"
#include "flow/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	uint64_t	delivered;
	uint64_t	opened;
	uint64_t	closed;
};

static void
fz_open(void *arg, struct flow *f)
{
	struct fz *z = arg;

	z->opened++;
	flow_set_user(f, z);
}

static void
fz_data(void *arg, struct flow *f, enum flow_dir d, const uint8_t *p,
    size_t n)
{
	struct fz *z = arg;
	uint8_t sum = 0;
	size_t i;

	if (flow_get_user(f) != z || (d != FLOW_C2S && d != FLOW_S2C))
		abort();
	for (i = 0; i < n; i++)	/* touch every byte: ASan checks it */
		sum ^= p[i];
	z->delivered += n + (sum & 0);
}

static void
fz_gap(void *arg, struct flow *f, enum flow_dir d, uint64_t n)
{
	if (n == 0)
		abort();	/* a gap always stands for missing bytes */
}

static void
fz_close(void *arg, struct flow *f, enum flow_end why)
{
	struct fz *z = arg;
	const struct flow_dir_stats *a = flow_get_dir_stats(f, FLOW_C2S);
	const struct flow_dir_stats *b = flow_get_dir_stats(f, FLOW_S2C);

	(void)a;
	(void)b;
	z->closed++;
}

static const int links[] = {
	CAPTURE_LINK_EN10MB, CAPTURE_LINK_RAW, CAPTURE_LINK_NULL,
	CAPTURE_LINK_LOOP, CAPTURE_LINK_LINUX_SLL, CAPTURE_LINK_LINUX_SLL2,
	CAPTURE_LINK_IPV4, CAPTURE_LINK_IPV6,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t ports[] = { 25 };
	struct flow_ops ops = { fz_open, fz_data, fz_gap, fz_close };
	struct flow_config cfg;
	struct fz z = { 0, 0, 0 };
	struct cur c = cur_make(data, size);
	struct decoder *dec;
	struct flow_table *ft;
	struct capture_pkt cp;
	struct pkt p;
	struct span frame;
	uint64_t ts = 1000000000ull * 1700000000ull;
	uint8_t link, dt;
	uint16_t len;

	flow_config_default(&cfg);
	cfg.max_flows = 16;
	cfg.stream_ooo_bytes = 4096;
	cfg.total_ooo_bytes = 16384;
	cfg.server_ports = ports;
	cfg.nserver_ports = 1;
	if ((dec = decoder_new()) == NULL)
		return 0;
	if ((ft = flow_table_new(&cfg, &ops, &z)) == NULL) {
		decoder_free(dec);
		return 0;
	}
	for (;;) {
		link = cur_u8(&c);
		len = cur_be16(&c);
		dt = cur_u8(&c);
		if (c.err)
			break;
		if (len > c.len)
			len = (uint16_t)c.len;
		cur_take(&c, len, &frame);
		/* dt: milliseconds, or minutes past 200 to reach timeouts. */
		ts += dt < 200 ? (uint64_t)dt * 1000000ull :
		    (uint64_t)(dt - 199) * 60000000000ull;
		cp.ts_ns = ts;
		cp.caplen = (uint32_t)frame.len;
		cp.wirelen = (uint32_t)frame.len + (link & 0x80 ? 100 : 0);
		cp.link = links[(link & 0x7f) % (sizeof(links) / sizeof(links[0]))];
		cp.data = frame.p;
		if (decoder_decode(dec, &cp, &p) == DECODE_TCP)
			flow_table_packet(ft, &p);
	}
	flow_table_finish(ft);
	if (z.opened != z.closed)
		abort();
	flow_table_free(ft);
	decoder_free(dec);
	return 0;
}
