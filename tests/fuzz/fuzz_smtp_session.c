/*
 * fuzz_smtp_session.c: libFuzzer target over the SMTP session parser and
 * the record layer above it (and so the MIME parser), fed the way the
 * flow layer feeds them. Input: direction-tagged chunks, as Suricata's
 * SMTP fuzzer does: "tag:u8 len:be16 bytes", tag bit 0 the direction,
 * tag bit 1 a gap of len bytes instead of data. pcap2chunks.py makes the
 * seeds from the test captures.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cur.h"
#include "record/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_str(const char *s)
{
	if (s != NULL && strlen(s) > 64 * 1024)
		abort();	/* every field is capped */
}

static void
on_record(void *arg, const struct record *r)
{
	size_t i;

	(*(unsigned *)arg)++;
	if (r->trans_depth != *(unsigned *)arg)
		abort();	/* records come in order, numbered from 1 */
	check_str(r->helo);
	check_str(r->mail_from);
	check_str(r->last_reply);
	for (i = 0; i < r->nrcpt; i++)
		check_str(r->rcpt[i].addr);
	if (r->nrcpt > LIMIT_SMTP_RCPT)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct record_ops ops = { on_record };
	struct record_conn conn;
	struct record_session *rs;
	struct cur c = cur_make(data, size);
	struct span chunk;
	unsigned records = 0;
	uint8_t tag;
	uint16_t len;
	uint64_t ts = 1000000000ull;

	struct record_config cfg = { (size & 2) != 0 };	/* --auth-user */

	memset(&conn, 0, sizeof(conn));
	conn.client.af = conn.server.af = 4;
	conn.server.port = 25;
	if ((rs = record_session_new(&conn, &cfg, &ops, &records)) == NULL)
		return 0;
	for (;;) {
		tag = cur_u8(&c);
		len = cur_be16(&c);
		if (c.err)
			break;
		ts += 1000;
		if (tag & 2) {
			record_session_gap(rs, tag & 1 ? SMTP_S2C : SMTP_C2S,
			    len);
			continue;
		}
		if (len > c.len)
			len = (uint16_t)c.len;
		cur_take(&c, len, &chunk);
		record_session_feed(rs, tag & 1 ? SMTP_S2C : SMTP_C2S,
		    chunk.p, chunk.len, ts);
	}
	record_session_end(rs, (size & 1) != 0);
	record_session_free(rs);
	return 0;
}
