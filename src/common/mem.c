/*
 * mem.c: the memory budget's counters (see mem.h). Relaxed atomics: the
 * counters are statistics and an eviction trigger, not a lock; a peak
 * may be read a few bytes late under contention.
 */
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

/*
 * What the allocator keeps beside each block (glibc: its size word). A
 * session holds many small strings: without it the budget would miss a
 * fifth of what they cost.
 */
#define MEM_CHUNK_OVERHEAD	sizeof(size_t)

/* What a block really costs. */
static size_t
block_size(void *p)
{
	return malloc_usable_size(p) + MEM_CHUNK_OVERHEAD;
}

static _Atomic uint64_t	limit_bytes;
static _Atomic uint64_t	peak_total;
static _Atomic uint64_t	used_layer[MEM_LAYER_MAX];
static _Atomic uint64_t	peak_layer[MEM_LAYER_MAX];

static void
raise_peak(_Atomic uint64_t *peak, uint64_t v)
{
	uint64_t p = atomic_load_explicit(peak, memory_order_relaxed);

	while (v > p && !atomic_compare_exchange_weak_explicit(peak, &p, v,
	    memory_order_relaxed, memory_order_relaxed))
		;
}

/* The sum of the layers now; raises the total's peak. */
static uint64_t
total(void)
{
	uint64_t t = 0;
	int i;

	for (i = 0; i < MEM_LAYER_MAX; i++)
		t += atomic_load_explicit(&used_layer[i], memory_order_relaxed);
	if (t > atomic_load_explicit(&peak_total, memory_order_relaxed))
		raise_peak(&peak_total, t);
	return t;
}

void
mem_set_limit(uint64_t bytes)
{
	atomic_store_explicit(&limit_bytes, bytes, memory_order_relaxed);
}

uint64_t
mem_limit(void)
{
	return atomic_load_explicit(&limit_bytes, memory_order_relaxed);
}

bool
mem_over(void)
{
	uint64_t lim = mem_limit();

	return total() > lim && lim != 0;
}

bool
mem_above(unsigned per_mille)
{
	uint64_t lim = mem_limit();

	return lim != 0 && total() > lim / 1000 * per_mille;
}

/*
 * One atomic add per charge, on the layer's counter: the total is their
 * sum, taken (and its peak raised) where it is asked for, in mem_over()
 * once per packet and in mem_get_stats().
 */
void
mem_charge(enum mem_layer l, size_t n)
{
	uint64_t u;

	u = atomic_fetch_add_explicit(&used_layer[l], n,
	    memory_order_relaxed) + n;
	if (u > atomic_load_explicit(&peak_layer[l], memory_order_relaxed))
		raise_peak(&peak_layer[l], u);
}

void
mem_uncharge(enum mem_layer l, size_t n)
{
	atomic_fetch_sub_explicit(&used_layer[l], n, memory_order_relaxed);
}

void
mem_get_stats(struct mem_stats *st)
{
	int i;

	st->limit = mem_limit();
	st->used = total();
	st->peak = atomic_load_explicit(&peak_total, memory_order_relaxed);
	for (i = 0; i < MEM_LAYER_MAX; i++) {
		st->layer_used[i] = atomic_load_explicit(&used_layer[i],
		    memory_order_relaxed);
		st->layer_peak[i] = atomic_load_explicit(&peak_layer[i],
		    memory_order_relaxed);
	}
}

const char *
mem_layer_name(enum mem_layer l)
{
	static const char *const names[MEM_LAYER_MAX] = {
		[MEM_FLOWS] = "flows",
		[MEM_REASSEMBLY] = "reassembly",
		[MEM_FRAGMENTS] = "fragments",
		[MEM_SESSIONS] = "sessions",
		[MEM_RECORDS] = "records",
	};

	return (unsigned)l < MEM_LAYER_MAX ? names[l] : "unknown";
}

void
mem_reset(void)
{
	int i;

	atomic_store(&limit_bytes, 0);
	atomic_store(&peak_total, 0);
	for (i = 0; i < MEM_LAYER_MAX; i++) {
		atomic_store(&used_layer[i], 0);
		atomic_store(&peak_layer[i], 0);
	}
}

void *
mem_malloc(size_t n)
{
	void *p = malloc(n);

	if (p != NULL)
		mem_charge(MEM_SESSIONS, block_size(p));
	return p;
}

void *
mem_calloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb, size);

	if (p != NULL)
		mem_charge(MEM_SESSIONS, block_size(p));
	return p;
}

void *
mem_realloc(void *old, size_t n)
{
	size_t before = old != NULL ? block_size(old) : 0;
	void *p;

	if (n == 0) {		/* realloc(p, 0) may free: say so plainly */
		mem_free(old);
		return NULL;
	}
	p = realloc(old, n);

	if (p == NULL)
		return NULL;	/* old is untouched, still charged */
	mem_uncharge(MEM_SESSIONS, before);
	mem_charge(MEM_SESSIONS, block_size(p));
	return p;
}

char *
mem_strdup(const char *s)
{
	return mem_strndup(s, strlen(s));
}

char *
mem_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = mem_malloc(len + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
mem_free(void *p)
{
	if (p == NULL)
		return;
	mem_uncharge(MEM_SESSIONS, block_size(p));
	free(p);
}
