/*
 * fuzz_probe.c: libFuzzer target over the --any-port probe (proxy
 * tunnels, first lines). Input: direction-tagged chunks, "tag:u8
 * len:be16 bytes", tag bit 0 the direction, as fuzz_smtp_session.c. It
 * checks what the session stage relies on: the probe never holds more
 * than LIMIT_PROBE_BYTES per direction, never takes more than it was
 * given, and after PROBE_SMTP its held bytes are bytes it was fed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cur.h"
#include "common/limits.h"
#include "session/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session_probe *pr;
	struct cur c = cur_make(data, size);
	struct span chunk;
	enum probe_verdict v = PROBE_MORE;
	const uint8_t *held;
	enum smtp_dir hd;
	size_t taken, fed[2] = { 0, 0 }, len;
	uint8_t tag;
	uint16_t n;
	int i;

	if ((pr = session_probe_new()) == NULL)
		return 0;
	while (v == PROBE_MORE) {
		tag = cur_u8(&c);
		n = cur_be16(&c);
		if (c.err)
			break;
		if (!cur_take(&c, n, &chunk))
			chunk = cur_rest(&c);
		v = session_probe_feed(pr, (enum smtp_dir)(tag & 1),
		    chunk.p, chunk.len, &taken);
		if (taken > chunk.len)
			abort();
		fed[tag & 1] += taken;
	}
	for (i = 0; i < 2; i++) {
		hd = SMTP_C2S;
		len = session_probe_held(pr, i, &hd, &held);
		if (len > LIMIT_PROBE_BYTES || len > fed[hd])
			abort();
	}
	session_probe_free(pr);
	return 0;
}
