/*
 * decode_frag.c: IP fragment reassembly, bounded (RFC 791 §3.2, RFC 815,
 * RFC 8200 §4.5). A fixed number of datagram slots, each with a 64 KiB
 * buffer allocated on first use and then kept, and a bitmap of the 8-byte
 * blocks received. Overlaps: the first copy of a block wins and the
 * overlap is counted (RFC 5722 would have IPv6 drop such datagrams; a
 * passive sensor keeps what the first copy said, the way most stacks
 * that still accept them do). Time is packet time.
 */
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"

#define FRAG_MAX_LEN	65535u		/* an IP datagram's payload */
#define FRAG_BLOCKS	(FRAG_MAX_LEN / 8 + 1)
#define FRAG_SLOTS	(LIMIT_FRAG_MEMORY / (FRAG_MAX_LEN + 1))

#if FRAG_SLOTS > LIMIT_FRAG_DATAGRAMS
#undef FRAG_SLOTS
#define FRAG_SLOTS	LIMIT_FRAG_DATAGRAMS
#endif

struct frag_dgram {
	bool		 used;
	uint8_t		 af;
	uint8_t		 proto;
	uint8_t		 nvlan;
	uint16_t	 vlan[LIMIT_VLAN_TAGS];
	uint8_t		 src[16];
	uint8_t		 dst[16];
	uint32_t	 id;
	uint64_t	 ts_first;
	uint32_t	 total;		/* payload length once last seen */
	uint32_t	 blocks_have;
	uint8_t		*buf;		/* FRAG_MAX_LEN bytes, kept */
	uint8_t		 have[(FRAG_BLOCKS + 7) / 8];
};

struct frag_table {
	struct frag_dgram slot[FRAG_SLOTS];
};

struct frag_table *
frag_table_new(void)
{
	return calloc(1, sizeof(struct frag_table));
}

void
frag_table_free(struct frag_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < FRAG_SLOTS; i++)
		free(t->slot[i].buf);
	free(t);
}

static bool
same_dgram(const struct frag_dgram *g, const struct pkt *h, uint8_t proto,
    uint32_t id)
{
	return g->used && g->id == id && g->proto == proto && g->af == h->af &&
	    g->nvlan == h->nvlan &&
	    memcmp(g->vlan, h->vlan, sizeof(g->vlan[0]) * h->nvlan) == 0 &&
	    memcmp(g->src, h->src, 16) == 0 && memcmp(g->dst, h->dst, 16) == 0;
}

static void
release(struct frag_dgram *g)
{
	g->used = false;
}

/* Find the datagram, expiring old ones; or take a slot for a new one. */
static struct frag_dgram *
lookup(struct frag_table *t, struct decode_stats *st, const struct pkt *h,
    uint8_t proto, uint32_t id)
{
	struct frag_dgram *g, *found = NULL, *free_slot = NULL;
	struct frag_dgram *oldest = NULL;
	uint64_t limit = (uint64_t)LIMIT_FRAG_TIMEOUT_S * 1000000000u;
	size_t i;

	for (i = 0; i < FRAG_SLOTS; i++) {
		g = &t->slot[i];
		if (g->used && h->ts_ns > g->ts_first &&
		    h->ts_ns - g->ts_first > limit) {
			st->frag_timeout++;
			release(g);
		}
		if (!g->used) {
			if (free_slot == NULL)
				free_slot = g;
			continue;
		}
		if (same_dgram(g, h, proto, id))
			found = g;
		if (oldest == NULL || g->ts_first < oldest->ts_first)
			oldest = g;
	}
	if (found != NULL)
		return found;
	if (free_slot == NULL) {
		st->frag_evicted++;
		free_slot = oldest;
	}
	g = free_slot;
	if (g->buf == NULL && (g->buf = malloc(FRAG_MAX_LEN)) == NULL)
		return NULL;
	g->used = true;
	g->af = h->af;
	g->proto = proto;
	g->nvlan = h->nvlan;
	memset(g->vlan, 0, sizeof(g->vlan));
	memcpy(g->vlan, h->vlan, sizeof(g->vlan[0]) * h->nvlan);
	memcpy(g->src, h->src, 16);
	memcpy(g->dst, h->dst, 16);
	g->id = id;
	g->ts_first = h->ts_ns;
	g->total = 0;
	g->blocks_have = 0;
	memset(g->have, 0, sizeof(g->have));
	return g;
}

int
frag_table_add(struct frag_table *t, struct decode_stats *st,
    const struct pkt *h, uint8_t proto, uint32_t id, uint32_t offset,
    bool more, struct span data, struct span *out)
{
	struct frag_dgram *g;
	uint32_t end, b, first, last, nblocks;
	bool overlap = false;

	end = offset + (uint32_t)data.len;
	/* Non-final fragments carry multiples of 8 bytes (RFC 791 §3.2). */
	if (end > FRAG_MAX_LEN || (more && (data.len % 8) != 0) ||
	    (more && data.len == 0))
		return -1;
	if ((g = lookup(t, st, h, proto, id)) == NULL)
		return 0;	/* no memory: the datagram is lost */
	if (!more) {
		if (g->total != 0 && g->total != end) {
			st->frag_overlap++;	/* two different ends */
			release(g);
			return -1;
		}
		g->total = end;
		/* Blocks already held past the end make the datagram bogus. */
		for (b = (end + 7) / 8; b < FRAG_BLOCKS; b++) {
			if (g->have[b / 8] & (1u << (b % 8))) {
				release(g);
				return -1;
			}
		}
	}
	if (g->total != 0 && end > g->total) {
		release(g);
		return -1;
	}
	first = offset / 8;
	last = (end + 7) / 8;		/* one past */
	for (b = first; b < last; b++) {
		if (g->have[b / 8] & (1u << (b % 8))) {
			overlap = true;
			continue;
		}
		/* Copy this block; the final one may be partial. */
		memcpy(g->buf + (size_t)b * 8, data.p + ((size_t)b * 8 - offset),
		    (b * 8 + 8 <= end) ? 8 : end - b * 8);
		g->have[b / 8] |= (uint8_t)(1u << (b % 8));
		g->blocks_have++;
	}
	if (overlap)
		st->frag_overlap++;
	if (g->total == 0)
		return 0;
	nblocks = (g->total + 7) / 8;
	if (g->blocks_have < nblocks)
		return 0;
	out->p = g->buf;
	out->len = g->total;
	st->frag_datagrams++;
	release(g);	/* the buffer stays valid until the next call */
	return 1;
}
