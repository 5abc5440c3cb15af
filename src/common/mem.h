/*
 * mem.h: the one memory budget (--memcap) of the whole process, whatever
 * the number of threads. Every layer that keeps state per connection
 * counts it here: flows, reassembly buffers, fragments, SMTP sessions
 * (with their MIME parsers and open records) and, later, detection. The
 * flow table evicts connections in a documented order when the total
 * passes the limit (flow/flow_table.c). The store's queue and batch have
 * caps of their own and are not counted here.
 *
 * The budget is process-wide on purpose, like the allocator it wraps:
 * state deep inside a MIME parser is charged without a context pointer
 * threaded through every call. Counters are atomic, one per layer; the
 * total is their sum, and its peak is sampled where the total is read
 * (mem_over(), once per packet), while each layer's peak is exact.
 */
#ifndef SMTPSNIFF_MEM_H
#define SMTPSNIFF_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mem_layer {
	MEM_FLOWS,		/* flow records and the hash table */
	MEM_REASSEMBLY,		/* out-of-order segments */
	MEM_FRAGMENTS,		/* IP fragments being reassembled */
	MEM_SESSIONS,		/* SMTP, MIME and record state, probes */
	MEM_RECORDS,		/* finished records waiting to be put in order */
	MEM_LAYER_MAX
};

struct mem_stats {
	uint64_t	limit;			/* 0: none */
	uint64_t	used;
	uint64_t	peak;
	uint64_t	layer_used[MEM_LAYER_MAX];
	uint64_t	layer_peak[MEM_LAYER_MAX];
};

/* The limit in bytes (0: none). Set once, before any packet. */
void		 mem_set_limit(uint64_t);
uint64_t	 mem_limit(void);
/* Whether the total is past the limit: time to evict. */
bool		 mem_over(void);
/* Past a fraction (per mille) of the limit: the target of an eviction. */
bool		 mem_above(unsigned per_mille);
void		 mem_charge(enum mem_layer, size_t);
void		 mem_uncharge(enum mem_layer, size_t);
void		 mem_get_stats(struct mem_stats *);
const char	*mem_layer_name(enum mem_layer);
/* For tests: every counter back to zero, no limit. */
void		 mem_reset(void);

/*
 * malloc and friends for session state (MEM_SESSIONS): what the allocator
 * really gave (malloc_usable_size) is charged, and given back on free.
 * Memory from these must be freed with mem_free, and only with it.
 */
void		*mem_malloc(size_t);
void		*mem_calloc(size_t, size_t);
void		*mem_realloc(void *, size_t);
char		*mem_strdup(const char *);
char		*mem_strndup(const char *, size_t);
void		 mem_free(void *);

#endif /* SMTPSNIFF_MEM_H */
