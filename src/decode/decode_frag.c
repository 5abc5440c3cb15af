/*
 * decode_frag.c: IP fragment reassembly, bounded (RFC 791 §3.2, RFC 815,
 * RFC 8200 §4.5). Up to LIMIT_FRAG_DATAGRAMS datagrams at once, found by
 * a keyed hash (SipHash-1-3: no one can aim them at one bucket), and
 * holding at most LIMIT_FRAG_MEMORY bytes: a datagram's bytes live in
 * FRAG_PAGE pages taken from a pool as its fragments arrive, so a
 * datagram of 3 KB holds 2 pages, not 64 KiB. A bitmap per datagram marks
 * the 8-byte blocks received. At either cap the oldest datagram goes
 * (frag_evicted). Overlaps: the first copy of a block wins and the
 * overlap is counted (RFC 5722 would have IPv6 drop such datagrams; a
 * passive sensor keeps what the first copy said, the way most stacks
 * that still accept them do). Time is packet time.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "decode_int.h"

#define FRAG_MAX_LEN	65535u		/* an IP datagram's payload */
#define FRAG_BLOCKS	(FRAG_MAX_LEN / 8 + 1)
#define FRAG_PAGE	2048u		/* a multiple of the 8-byte block */
#define FRAG_PAGES	((FRAG_MAX_LEN + FRAG_PAGE - 1) / FRAG_PAGE)
#define FRAG_POOL	(LIMIT_FRAG_MEMORY / FRAG_PAGE)

#if FRAG_POOL < FRAG_PAGES
#error "LIMIT_FRAG_MEMORY must hold one datagram of 64 KiB"
#endif

struct frag_dgram {
	struct frag_dgram *hnext;	/* bucket chain */
	struct frag_dgram *prev;	/* age list, oldest first */
	struct frag_dgram *next;	/* age list, or the free list */
	uint64_t	 hash;
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
	uint8_t		*page[FRAG_PAGES];
	uint8_t		 have[(FRAG_BLOCKS + 7) / 8];
};

struct frag_table {
	struct siphash_key	 key;
	struct frag_dgram	*slot;		/* LIMIT_FRAG_DATAGRAMS */
	size_t			 nslots;	/* taken so far, in order */
	struct frag_dgram	*free;		/* released, below nslots */
	struct frag_dgram	*head;		/* oldest in use */
	struct frag_dgram	*tail;
	struct frag_dgram	**bucket;
	size_t			 nbuckets;	/* a power of two */
	uint8_t			*pool[FRAG_POOL]; /* free pages */
	size_t			 npool;
	size_t			 pages;		/* allocated, free or not */
	uint8_t			*out;		/* the datagram handed out */
};

/* What a table holds before any fragment: itself, buckets, out. */
static size_t
charged_base(const struct frag_table *t)
{
	return sizeof(*t) + t->nbuckets * sizeof(*t->bucket) + FRAG_MAX_LEN;
}

/*
 * A table keyed with key. Slots are allocated here (calloc: pages the
 * kernel maps only when touched, and slots are touched in order as they
 * are first needed), fragment pages when first needed. What is touched
 * is charged to the memory budget (MEM_FRAGMENTS). NULL on ENOMEM.
 */
struct frag_table *
frag_table_new(const struct siphash_key *key)
{
	struct frag_table *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->key = *key;
	for (t->nbuckets = 1; t->nbuckets < LIMIT_FRAG_DATAGRAMS;)
		t->nbuckets *= 2;
	if ((t->slot = calloc(LIMIT_FRAG_DATAGRAMS, sizeof(*t->slot))) ==
	    NULL ||
	    (t->bucket = calloc(t->nbuckets, sizeof(*t->bucket))) == NULL ||
	    (t->out = malloc(FRAG_MAX_LEN)) == NULL) {
		frag_table_free(t);
		return NULL;
	}
	mem_charge(MEM_FRAGMENTS, charged_base(t));
	return t;
}

void
frag_table_free(struct frag_table *t)
{
	size_t i, k;

	if (t == NULL)
		return;
	if (t->out != NULL)	/* charged: see frag_table_new() */
		mem_uncharge(MEM_FRAGMENTS, charged_base(t) +
		    t->nslots * sizeof(*t->slot) + t->pages * FRAG_PAGE);
	for (i = 0; i < t->nslots; i++)
		for (k = 0; k < FRAG_PAGES; k++)
			free(t->slot[i].page[k]);
	for (i = 0; i < t->npool; i++)
		free(t->pool[i]);
	free(t->slot);
	free(t->bucket);
	free(t->out);
	free(t);
}

/* SipHash-1-3 of what names a datagram (RFC 791 §2.3, RFC 8200 §4.5). */
static uint64_t
dgram_hash(const struct frag_table *t, const struct pkt *h, uint8_t proto,
    uint32_t id)
{
	uint8_t b[4 + 4 + 2 * LIMIT_VLAN_TAGS + 32];
	size_t n = 0, al = h->af == 4 ? 4 : 16;

	b[n++] = h->af;
	b[n++] = proto;
	b[n++] = h->nvlan;
	b[n++] = 0;
	memcpy(b + n, &id, 4);
	n += 4;
	memcpy(b + n, h->vlan, sizeof(h->vlan[0]) * h->nvlan);
	n += sizeof(h->vlan[0]) * h->nvlan;
	memcpy(b + n, h->src, al);
	n += al;
	memcpy(b + n, h->dst, al);
	n += al;
	return siphash13(&t->key, b, n);
}

static bool
same_dgram(const struct frag_dgram *g, const struct pkt *h, uint8_t proto,
    uint32_t id)
{
	return g->id == id && g->proto == proto && g->af == h->af &&
	    g->nvlan == h->nvlan &&
	    memcmp(g->vlan, h->vlan, sizeof(g->vlan[0]) * h->nvlan) == 0 &&
	    memcmp(g->src, h->src, 16) == 0 && memcmp(g->dst, h->dst, 16) == 0;
}

/* Forget a datagram: its pages go back to the pool, its slot is free. */
static void
release(struct frag_table *t, struct frag_dgram *g)
{
	struct frag_dgram **pp = &t->bucket[g->hash & (t->nbuckets - 1)];
	size_t k;

	while (*pp != g)
		pp = &(*pp)->hnext;
	*pp = g->hnext;
	if (g->prev != NULL)
		g->prev->next = g->next;
	else
		t->head = g->next;
	if (g->next != NULL)
		g->next->prev = g->prev;
	else
		t->tail = g->prev;
	for (k = 0; k < FRAG_PAGES; k++) {
		if (g->page[k] != NULL) {
			t->pool[t->npool++] = g->page[k];
			g->page[k] = NULL;
		}
	}
	g->next = t->free;
	t->free = g;
}

/* Drop the oldest datagram other than keep, for room (frag_evicted). */
static bool
evict_oldest(struct frag_table *t, struct decode_stats *st,
    const struct frag_dgram *keep)
{
	struct frag_dgram *g = t->head;

	if (g == keep)
		g = g->next;
	if (g == NULL)
		return false;
	st->frag_evicted++;
	release(t, g);
	return true;
}

/* Find the datagram, expiring old ones; or take a slot for a new one. */
static struct frag_dgram *
lookup(struct frag_table *t, struct decode_stats *st, const struct pkt *h,
    uint8_t proto, uint32_t id)
{
	struct frag_dgram *g;
	uint64_t limit = (uint64_t)LIMIT_FRAG_TIMEOUT_S * 1000000000u;
	uint64_t hash;

	/* Oldest first: stop at the first one still in time. */
	while ((g = t->head) != NULL && h->ts_ns > g->ts_first &&
	    h->ts_ns - g->ts_first > limit) {
		st->frag_timeout++;
		release(t, g);
	}
	hash = dgram_hash(t, h, proto, id);
	for (g = t->bucket[hash & (t->nbuckets - 1)]; g != NULL; g = g->hnext)
		if (g->hash == hash && same_dgram(g, h, proto, id))
			return g;
	if (t->free == NULL && t->nslots < LIMIT_FRAG_DATAGRAMS) {
		t->free = &t->slot[t->nslots++];	/* next is NULL */
		mem_charge(MEM_FRAGMENTS, sizeof(*t->slot));
	}
	if (t->free == NULL)
		evict_oldest(t, st, NULL);	/* LIMIT_FRAG_DATAGRAMS */
	g = t->free;
	t->free = g->next;
	g->hash = hash;
	g->hnext = t->bucket[hash & (t->nbuckets - 1)];
	t->bucket[hash & (t->nbuckets - 1)] = g;
	g->next = NULL;
	g->prev = t->tail;
	if (t->tail != NULL)
		t->tail->next = g;
	else
		t->head = g;
	t->tail = g;
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

/*
 * The page of g that holds byte off, taken from the pool (or allocated,
 * up to LIMIT_FRAG_MEMORY, or freed by evicting older datagrams) if g
 * has none there yet. NULL on ENOMEM.
 */
static uint8_t *
page_of(struct frag_table *t, struct decode_stats *st, struct frag_dgram *g,
    uint32_t off)
{
	uint8_t **pg = &g->page[off / FRAG_PAGE];

	if (*pg != NULL)
		return *pg;
	while (t->npool == 0 && t->pages >= FRAG_POOL)
		if (!evict_oldest(t, st, g))
			return NULL;	/* cannot happen: see FRAG_POOL */
	if (t->npool > 0) {
		*pg = t->pool[--t->npool];
	} else {
		if ((*pg = malloc(FRAG_PAGE)) == NULL)
			return NULL;
		t->pages++;
		mem_charge(MEM_FRAGMENTS, FRAG_PAGE);
	}
	return *pg;
}

/*
 * Add one fragment. Returns 1 with *out set to the whole reassembled
 * payload (valid until the next call) when the datagram is complete,
 * 0 when it is kept (or lost for want of memory), -1 when the fragment
 * is invalid.
 */
int
frag_table_add(struct frag_table *t, struct decode_stats *st,
    const struct pkt *h, uint8_t proto, uint32_t id, uint32_t offset,
    bool more, struct span data, struct span *out)
{
	struct frag_dgram *g;
	uint32_t end, b, first, last, nblocks, off, n;
	uint8_t *pg;
	bool overlap = false;

	end = offset + (uint32_t)data.len;
	/* Non-final fragments carry multiples of 8 bytes (RFC 791 §3.2). */
	if (end > FRAG_MAX_LEN || (more && (data.len % 8) != 0) ||
	    (more && data.len == 0))
		return -1;
	g = lookup(t, st, h, proto, id);
	if (!more) {
		if (g->total != 0 && g->total != end) {
			st->frag_overlap++;	/* two different ends */
			release(t, g);
			return -1;
		}
		g->total = end;
		/* Blocks already held past the end make the datagram bogus. */
		for (b = (end + 7) / 8; b < FRAG_BLOCKS; b++) {
			if (g->have[b / 8] & (1u << (b % 8))) {
				release(t, g);
				return -1;
			}
		}
	}
	if (g->total != 0 && end > g->total) {
		release(t, g);
		return -1;
	}
	first = offset / 8;
	last = (end + 7) / 8;		/* one past */
	for (b = first; b < last; b++) {
		if (g->have[b / 8] & (1u << (b % 8))) {
			overlap = true;
			continue;
		}
		/* Copy it (never across pages); the last block may be short. */
		if ((pg = page_of(t, st, g, b * 8)) == NULL) {
			release(t, g);
			return 0;	/* no memory: the datagram is lost */
		}
		memcpy(pg + (b * 8) % FRAG_PAGE,
		    data.p + ((size_t)b * 8 - offset),
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
	for (off = 0; off < g->total; off += n) {
		n = g->total - off < FRAG_PAGE ? g->total - off : FRAG_PAGE;
		memcpy(t->out + off, g->page[off / FRAG_PAGE], n);
	}
	out->p = t->out;
	out->len = g->total;
	st->frag_datagrams++;
	release(t, g);	/* t->out stays valid until the next call */
	return 1;
}
