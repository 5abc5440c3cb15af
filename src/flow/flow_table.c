/*
 * flow_table.c: connections by key (the original design's "flux" hash)
 * and by last activity (its "TimeFlux"): three queues, each ordered by last
 * activity and each with one timeout, so expiry only ever looks at heads.
 * The hash is SipHash-1-3 under a key drawn at start, so that no one can
 * aim connections at one bucket (hash flooding), and symmetric: the key
 * is sorted, so both directions find the same entry. Nothing that comes
 * out depends on the hash: every walk is in order of activity, never of
 * buckets. Flow storage comes from a pool that grows in chunks up to
 * LIMIT_FLOWS and is reused: no allocation per packet.
 *
 * A connection that ended stays in the table for LIMIT_TCP_LINGER_S
 * ("linger"), so that its late ACKs and retransmissions do not start a
 * bogus mid-stream connection; a new SYN on its key starts a new one.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "flow_int.h"

#define FLOW_CHUNK	1024
#define MEMCAP_CHECK_PACKETS	16	/* a power of two */
#define FLOW_BUCKETS_MIN 4096	/* 32 KiB of bucket heads */
#define NS		1000000000ull
#define SWEEP_NS	NS	/* look for expired flows once a second */

static const uint16_t default_server_ports[] = { 25, 465, 587, 2525 };

/*
 * The defaults: limits.h's caps, the default server ports and the process
 * hash key. 0, or -1 if no key could be drawn (said with log_warnx; the
 * config is then refused by flow_table_new()).
 */
int
flow_config_default(struct flow_config *c)
{
	char err[ERRBUF_SIZE];

	memset(c, 0, sizeof(*c));
	c->max_flows = LIMIT_FLOWS;
	c->stream_ooo_bytes = LIMIT_STREAM_OOO_BYTES;
	c->total_ooo_bytes = LIMIT_TOTAL_OOO_BYTES;
	c->timeout_est_s = LIMIT_TCP_TIMEOUT_EST_S;
	c->timeout_short_s = LIMIT_TCP_TIMEOUT_SHORT_S;
	c->linger_s = LIMIT_TCP_LINGER_S;
	c->reset_linger_s = LIMIT_TCP_RESET_LINGER_S;
	c->server_ports = default_server_ports;
	c->nserver_ports = sizeof(default_server_ports) /
	    sizeof(default_server_ports[0]);
	if (siphash_key_process(&c->hash_key, err) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	c->hash_keyed = true;
	return 0;
}

/*
 * Create a table. ops and arg receive every connection's data; cfg is
 * copied (server_ports must outlive the table). NULL on ENOMEM, or if cfg
 * has no hash key.
 */
struct flow_table *
flow_table_new(const struct flow_config *cfg, const struct flow_ops *ops,
    void *arg)
{
	struct flow_table *t;
	size_t n = FLOW_BUCKETS_MIN;

	if (!cfg->hash_keyed || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->cfg = *cfg;
	pclock_init(&t->clock);
	if (t->cfg.max_flows < 1)
		t->cfg.max_flows = 1;
	t->ops = *ops;
	t->arg = arg;
	/* Start small, so the buckets stay in cache; grow with the flows. */
	while (n < t->cfg.max_flows && n < FLOW_BUCKETS_MIN)
		n *= 2;
	t->nbuckets = n;
	if ((t->buckets = calloc(n, sizeof(*t->buckets))) == NULL) {
		free(t);
		return NULL;
	}
	mem_charge(MEM_FLOWS, n * sizeof(*t->buckets));
	t->q[FLOWQ_EST].timeout_ns = (uint64_t)t->cfg.timeout_est_s * NS;
	t->q[FLOWQ_MAIL].timeout_ns = (uint64_t)t->cfg.timeout_est_s * NS;
	t->q[FLOWQ_SHORT].timeout_ns = (uint64_t)t->cfg.timeout_short_s * NS;
	t->q[FLOWQ_RESET].timeout_ns = (uint64_t)t->cfg.reset_linger_s * NS;
	t->q[FLOWQ_LINGER].timeout_ns = (uint64_t)t->cfg.linger_s * NS;
	return t;
}

/*
 * SipHash-1-3 of the key's bytes that matter: the family, VLAN ids and
 * ports, then each address at its length (an IPv4 key hashes 18 bytes,
 * not 42). Equal keys give equal hashes, which is all lookup needs.
 */
static uint64_t
key_hash(const struct flow_key *k, const struct siphash_key *key)
{
	uint8_t b[sizeof(*k)];
	size_t hl = offsetof(struct flow_key, addr);
	size_t al = k->af == 4 ? 4 : 16;

	memcpy(b, k, hl);
	memcpy(b + hl, k->addr[0], al);
	memcpy(b + hl + al, k->addr[1], al);
	return siphash13(key, b, hl + 2 * al);
}

/*
 * The sorted key of a packet; *side is the key side of its source.
 */
static void
make_key(const struct pkt *p, struct flow_key *k, uint8_t *side)
{
	int c;

	memset(k, 0, sizeof(*k));
	k->af = p->af;
	k->nvlan = p->nvlan;
	memcpy(k->vlan, p->vlan, sizeof(k->vlan[0]) * p->nvlan);
	c = memcmp(p->src, p->dst, 16);
	if (c == 0)
		c = (int)p->sport - (int)p->dport;
	if (c <= 0) {
		*side = 0;
		memcpy(k->addr[0], p->src, 16);
		memcpy(k->addr[1], p->dst, 16);
		k->port[0] = p->sport;
		k->port[1] = p->dport;
	} else {
		*side = 1;
		memcpy(k->addr[0], p->dst, 16);
		memcpy(k->addr[1], p->src, 16);
		k->port[0] = p->dport;
		k->port[1] = p->sport;
	}
}

static void
q_remove(struct flow_table *t, struct flow *f)
{
	struct flow_queue_list *q = &t->q[f->queue];

	if (f->qprev != NULL)
		f->qprev->qnext = f->qnext;
	else
		q->head = f->qnext;
	if (f->qnext != NULL)
		f->qnext->qprev = f->qprev;
	else
		q->tail = f->qprev;
	f->qprev = f->qnext = NULL;
}

static void
q_append(struct flow_table *t, struct flow *f, enum flow_queue which)
{
	struct flow_queue_list *q = &t->q[which];

	f->queue = (uint8_t)which;
	f->qnext = NULL;
	f->qprev = q->tail;
	if (q->tail != NULL)
		q->tail->qnext = f;
	else
		q->head = f;
	q->tail = f;
}

static void
h_remove(struct flow_table *t, struct flow *f)
{
	struct flow **pp = &t->buckets[f->hash & (t->nbuckets - 1)];

	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
}

/*
 * Why a connection that stops now ended: a RST, or FINs both ways with all
 * their data (even if the last ACK was not seen), or else `otherwise`.
 */
static enum flow_end
end_reason(const struct flow *f, enum flow_end otherwise)
{
	if (f->rst_seen)
		return FLOW_END_RESET;
	if (tcp_stream_is_done(&f->dir[0]) && tcp_stream_is_done(&f->dir[1]))
		return FLOW_END_CLOSED;
	return otherwise;
}

/* Remove a flow from the table and return its storage to the pool. */
static void
flow_release(struct flow_table *t, struct flow *f)
{
	if (t->last == f)
		t->last = NULL;
	h_remove(t, f);
	q_remove(t, f);
	tcp_stream_fini(t, &f->dir[0]);
	tcp_stream_fini(t, &f->dir[1]);
	f->hnext = t->free_list;
	t->free_list = f;
	t->nflows--;
	mem_uncharge(MEM_FLOWS, sizeof(*f));
}

/*
 * End a connection: deliver what is buffered, tell the layer above, and
 * keep the key lingering (or drop it at once when asked).
 */
static void
flow_end(struct flow_table *t, struct flow *f, enum flow_end why,
    bool linger)
{
	if (!f->ended) {
		tcp_stream_flush(t, f, FLOW_C2S);
		tcp_stream_flush(t, f, FLOW_S2C);
		f->ended = true;
		t->st.end[why]++;
		t->st.flows_active--;
		t->st.retrans_bytes += f->dir[0].st.retrans_bytes +
		    f->dir[1].st.retrans_bytes;
		t->st.overlap_mismatch += f->dir[0].st.overlap_mismatch +
		    f->dir[1].st.overlap_mismatch;
		t->ops.on_close(t->arg, f, why);
		f->user = NULL;
		tcp_stream_fini(t, &f->dir[0]);
		tcp_stream_fini(t, &f->dir[1]);
	}
	if (linger) {
		q_remove(t, f);
		q_append(t, f, FLOWQ_LINGER);
	} else {
		flow_release(t, f);
	}
}

/*
 * The eviction order (issue 8 §3), when the table is full (max_flows) or
 * the memory budget is spent: lingering keys of ended connections first,
 * then reset ones waiting for quiet, then half-open, opening and closing
 * ones (a SYN flood lives here), then established connections with no
 * mail in flight (idle sessions, other protocols), and only then the
 * sessions with mail in flight. Least recently active first within each.
 */
static const enum flow_queue evict_order[] = {
	FLOWQ_LINGER, FLOWQ_RESET, FLOWQ_SHORT, FLOWQ_EST, FLOWQ_MAIL,
};

_Static_assert(sizeof(evict_order) / sizeof(evict_order[0]) ==
    FLOW_EVICT_CLASSES, "one counter per eviction class");

const char *
flow_evict_class_name(int i)
{
	static const char *const names[FLOW_EVICT_CLASSES] = {
		"linger", "reset", "opening", "idle", "mail",
	};

	return i >= 0 && i < FLOW_EVICT_CLASSES ? names[i] : "unknown";
}

/* Evict one connection; false if there is none to evict. */
static bool
evict_one(struct flow_table *t)
{
	struct flow *victim;
	size_t i;

	for (i = 0; i < sizeof(evict_order) / sizeof(evict_order[0]); i++) {
		if ((victim = t->q[evict_order[i]].head) == NULL)
			continue;
		t->st.evicted[i]++;
		if (victim->ended)
			flow_release(t, victim);
		else
			flow_end(t, victim,
			    end_reason(victim, FLOW_END_EVICTED), false);
		return true;
	}
	return false;
}

/*
 * Past the memory budget: evict, in order, until back under
 * LIMIT_MEMCAP_EVICT_TO per mille of it (not one connection per packet).
 */
static void
relieve_memory(struct flow_table *t)
{
	t->st.memcap_hits++;
	while (mem_above(LIMIT_MEMCAP_EVICT_TO) && evict_one(t))
		t->st.memcap_evictions++;
}

static struct flow *
flow_alloc(struct flow_table *t)
{
	struct flow *chunk, *f;
	void **nc;
	size_t i;

	if (t->nflows >= t->cfg.max_flows && evict_one(t))
		t->st.flows_cap_evictions++;
	if (t->free_list == NULL) {
		nc = realloc(t->chunks, (t->nchunks + 1) * sizeof(*nc));
		if (nc == NULL)
			return NULL;
		t->chunks = nc;
		if ((chunk = calloc(FLOW_CHUNK, sizeof(*chunk))) == NULL)
			return NULL;
		t->chunks[t->nchunks++] = chunk;
		for (i = FLOW_CHUNK; i > 0; i--) {
			chunk[i - 1].hnext = t->free_list;
			t->free_list = &chunk[i - 1];
		}
	}
	f = t->free_list;
	t->free_list = f->hnext;
	t->nflows++;
	mem_charge(MEM_FLOWS, sizeof(*f));
	return f;
}

static bool
is_server_port(const struct flow_table *t, uint16_t port)
{
	size_t i;

	for (i = 0; i < t->cfg.nserver_ports; i++)
		if (t->cfg.server_ports[i] == port)
			return true;
	return false;
}

/*
 * Which side opened the connection. The SYN says it; without one, the
 * side on a service port (configured, then below 1024, then the lower
 * port) is the server, and failing all that the first sender is the client.
 */
static bool
src_is_client(const struct flow_table *t, const struct pkt *p)
{
	bool ss, ds;

	if ((p->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		return true;
	if ((p->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
		return false;
	ss = is_server_port(t, p->sport);
	ds = is_server_port(t, p->dport);
	if (ss != ds)
		return ds;
	ss = p->sport < 1024;
	ds = p->dport < 1024;
	if (ss != ds)
		return ds;
	if (p->sport != p->dport)
		return p->dport < p->sport;
	return true;
}

/*
 * Keep at most one flow per bucket on average: double the buckets (up to
 * the power of two above LIMIT_FLOWS) and rehash. A failed allocation
 * just leaves longer chains.
 */
static void
maybe_grow(struct flow_table *t)
{
	struct flow **nb, *f, *next;
	size_t n = t->nbuckets * 2, i;

	if (t->nflows < t->nbuckets || t->nbuckets >= t->cfg.max_flows)
		return;
	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		for (f = t->buckets[i]; f != NULL; f = next) {
			next = f->hnext;
			f->hnext = nb[f->hash & (n - 1)];
			nb[f->hash & (n - 1)] = f;
		}
	}
	free(t->buckets);
	mem_charge(MEM_FLOWS, (n - t->nbuckets) * sizeof(*nb));
	t->buckets = nb;
	t->nbuckets = n;
}

static struct flow *
flow_create(struct flow_table *t, const struct pkt *p,
    const struct flow_key *k, uint64_t hash, uint8_t src_side)
{
	struct flow *f;
	struct flow_endpoint src, dst;
	bool client_is_src;

	if ((f = flow_alloc(t)) == NULL)
		return NULL;
	maybe_grow(t);
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->hash = hash;
	client_is_src = src_is_client(t, p);
	f->client_side = client_is_src ? src_side : (uint8_t)!src_side;
	memcpy(src.ip, p->src, 16);
	src.port = p->sport;
	memcpy(dst.ip, p->dst, 16);
	dst.port = p->dport;
	f->info.af = p->af;
	f->info.nvlan = p->nvlan;
	memcpy(f->info.vlan, p->vlan, sizeof(f->info.vlan[0]) * p->nvlan);
	f->info.client = client_is_src ? src : dst;
	f->info.server = client_is_src ? dst : src;
	f->info.ts_first = p->ts_ns;
	f->info.ts_last = p->ts_ns;
	f->active = t->now;
	tcp_stream_init(&f->dir[0]);
	tcp_stream_init(&f->dir[1]);
	f->hnext = t->buckets[hash & (t->nbuckets - 1)];
	t->buckets[hash & (t->nbuckets - 1)] = f;
	q_append(t, f, FLOWQ_SHORT);
	t->st.flows++;
	t->st.flows_active++;
	if (t->st.flows_active > t->st.flows_max_active)
		t->st.flows_max_active = t->st.flows_active;
	t->ops.on_open(t->arg, f);
	return f;
}

/*
 * The flow of key k, or NULL. The longest chain walked is kept in the
 * stats: with a keyed hash it stays a handful whatever the traffic.
 */
static struct flow *
flow_lookup(struct flow_table *t, const struct flow_key *k, uint64_t hash)
{
	struct flow *f;
	uint64_t steps = 0;

	for (f = t->buckets[hash & (t->nbuckets - 1)]; f != NULL;
	    f = f->hnext) {
		steps++;
		if (f->hash == hash && memcmp(&f->key, k, sizeof(*k)) == 0)
			break;
	}
	if (steps > t->st.chain_max)
		t->st.chain_max = steps;
	return f;
}

/* End every connection idle past its queue's timeout. */
static void
sweep(struct flow_table *t)
{
	struct flow *f;
	int i;

	for (i = 0; i < FLOWQ_MAX; i++) {
		while ((f = t->q[i].head) != NULL &&
		    t->now - f->active > t->q[i].timeout_ns) {
			if (i == FLOWQ_LINGER)
				flow_release(t, f);
			else
				flow_end(t, f, end_reason(f, FLOW_END_TIMEOUT),
				    false);
		}
	}
}

/* Which queue an open connection belongs in now. */
static enum flow_queue
queue_for(const struct flow *f)
{
	const struct tcp_stream *c = &f->dir[FLOW_C2S];
	const struct tcp_stream *s = &f->dir[FLOW_S2C];

	if (c->fin_seen || s->fin_seen)
		return FLOWQ_SHORT;
	/* Opening: a SYN and no answer yet. */
	if (c->st.syn_seen && !s->seq_known)
		return FLOWQ_SHORT;
	return f->busy ? FLOWQ_MAIL : FLOWQ_EST;
}

static bool
is_new_connection(const struct flow *f, const struct pkt *p, uint8_t side)
{
	const struct tcp_stream *c = &f->dir[FLOW_C2S];
	bool same_isn = c->st.syn_seen && c->isn == p->seq;

	if ((p->flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
		return false;
	if (f->ended && side != f->client_side)
		return true;
	/* A SYN from the server side of an open flow is not a reuse. */
	if (side != f->client_side)
		return false;
	/*
	 * A retransmitted SYN carries the same ISN. A SYN that comes after
	 * the SYN-ACK (capture reordering) finds no client sequence yet.
	 * Any other SYN means the port pair is being reused.
	 */
	return !same_isn && (f->ended || c->seq_known);
}

/*
 * RFC 9293 §3.10.7.3 and RFC 5961 §3.2: a RST that answers a SYN must
 * acknowledge it; any other must carry a sequence number near what its
 * sender is expected to send next.
 */
static bool
rst_acceptable(const struct flow *f, enum flow_dir dir, const struct pkt *p)
{
	const struct tcp_stream *snd = &f->dir[dir];
	const struct tcp_stream *rcv = &f->dir[!dir];
	int64_t rel;

	if (rcv->st.syn_seen && !snd->seq_known)
		return (p->flags & TCP_ACK) && p->ack == rcv->isn + 1;
	if (!snd->seq_known)
		return true;
	rel = (int32_t)(p->seq - snd->next_seq);
	return rel >= -(int64_t)LIMIT_TCP_RST_WINDOW &&
	    rel <= (int64_t)LIMIT_TCP_RST_WINDOW;
}

/*
 * Feed one TCP segment. Data reaches the layer above in order; gaps,
 * ends and timeouts are reported as they become known.
 */
void
flow_table_packet(struct flow_table *t, const struct pkt *p)
{
	struct flow_key k;
	struct flow *f;
	struct tcp_stream *st;
	enum flow_dir dir;
	enum flow_queue q;
	enum pclock_verdict v;
	uint64_t hash;
	uint32_t seq;
	uint8_t side;
	unsigned i;
	bool pending;

	t->st.packets++;
	pending = t->clock.npend > 0;
	v = pclock_admit(&t->clock, p->ts_ns);
	if (v != PCLOCK_OK || pending)
		t->st.clock = t->clock.st;	/* only then do they change */
	if (v == PCLOCK_JUMPED) {
		/*
		 * Connections seen while the jump awaited its confirmation
		 * belong after it: stamped now, they are not timed out by it
		 * (they are the newest of their queues, so order holds).
		 */
		for (i = 0; i < t->npend_flows; i++)
			t->pend_flows[i]->active = t->clock.now;
	}
	if (v != PCLOCK_PENDING)
		t->npend_flows = 0;
	t->now = t->clock.now;
	if (t->now >= t->next_sweep) {
		sweep(t);
		t->next_sweep = t->now + SWEEP_NS;
	}
	/*
	 * The budget is looked at every MEMCAP_CHECK_PACKETS packets: what
	 * so few packets can add between two looks is small (a 64 KiB
	 * segment each at most), and summing the layers on every packet
	 * cost 1% of a small-session capture.
	 */
	if ((t->st.packets & (MEMCAP_CHECK_PACKETS - 1)) == 0 && mem_over())
		relieve_memory(t);
	make_key(p, &k, &side);
	/* Consecutive packets mostly belong to one connection. */
	if (t->last != NULL && memcmp(&t->last->key, &k, sizeof(k)) == 0) {
		f = t->last;
		hash = f->hash;
	} else {
		hash = key_hash(&k, &t->cfg.hash_key);
		f = flow_lookup(t, &k, hash);
	}
	if (f != NULL && is_new_connection(f, p, side)) {
		if (!f->ended)
			flow_end(t, f, end_reason(f, FLOW_END_REUSED), false);
		else
			flow_release(t, f);
		f = NULL;
	}
	if (f == NULL) {
		if ((f = flow_create(t, p, &k, hash, side)) == NULL)
			return;
	} else if (f->ended) {
		t->st.late_packets++;
		return;
	}
	t->last = f;
	f->active = t->now;
	if (v == PCLOCK_PENDING && t->npend_flows < LIMIT_TIME_CONFIRM)
		t->pend_flows[t->npend_flows++] = f;
	f->info.packets++;
	if (p->ts_ns > f->info.ts_last)
		f->info.ts_last = p->ts_ns;
	dir = side == f->client_side ? FLOW_C2S : FLOW_S2C;
	st = &f->dir[dir];

	if (p->flags & TCP_RST) {
		if (rst_acceptable(f, dir, p)) {
			/* It ends when quiet: see LIMIT_TCP_RESET_LINGER_S. */
			f->rst_seen = true;
		} else {
			t->st.rst_ignored++;
		}
		q_remove(t, f);
		q_append(t, f, f->rst_seen ? FLOWQ_RESET : queue_for(f));
		return;
	}
	seq = p->seq;
	if (p->flags & TCP_SYN) {
		tcp_stream_syn(st, seq);
		seq++;			/* data follows the SYN's number */
	}
	if (p->flags & TCP_ACK)
		tcp_stream_ack(t, f, (enum flow_dir)!dir, p->ack);
	if (p->payload.len > 0 || p->payload_cut > 0)
		tcp_stream_segment(t, f, dir, seq, p->payload.p,
		    p->payload.len, p->payload_cut);
	if (p->flags & TCP_FIN)
		tcp_stream_fin(st, seq + (uint32_t)p->payload.len +
		    p->payload_cut);
	/* Closed once both FINs are acknowledged: the last ACK is ours. */
	if (tcp_stream_is_done(&f->dir[0]) && tcp_stream_is_done(&f->dir[1]) &&
	    tcp_stream_fin_acked(&f->dir[0]) && tcp_stream_fin_acked(&f->dir[1])) {
		flow_end(t, f, end_reason(f, FLOW_END_CLOSED), true);
		return;
	}
	q = f->rst_seen ? FLOWQ_RESET : queue_for(f);
	q_remove(t, f);
	q_append(t, f, q);
}

/*
 * The capture ended: every open connection ends ("open", or "reset" if
 * a RST was accepted), least recently active first, so the output order
 * does not depend on the hash.
 */
/*
 * Time passes without a packet: a quiet link (live capture's idle clock)
 * or packets that went to other workers. ts is a packet time that some
 * clock admitted already. The clock only moves forward to it, and never
 * jumps: only this table's own packets can confirm a jump (pclock.c),
 * so a tick from a capture of another year is ignored until they do.
 * Timeouts and the budget are then seen to as after a packet.
 */
void
flow_table_advance(struct flow_table *t, uint64_t ts)
{
	uint64_t c;

	if (!t->clock.started || t->clock.npend > 0)
		return;
	c = ts + t->clock.offset;
	if (c <= t->clock.now || c - t->clock.now > t->clock.jump_ns)
		return;
	t->clock.now = t->now = c;
	if (t->now >= t->next_sweep) {
		sweep(t);
		t->next_sweep = t->now + SWEEP_NS;
	}
	if (mem_over())
		relieve_memory(t);
}

uint64_t
flow_table_now(const struct flow_table *t)
{
	return t->clock.now;
}

void
flow_table_finish(struct flow_table *t)
{
	struct flow *victim, *h;
	int i;

	for (;;) {
		victim = NULL;
		for (i = 0; i < FLOWQ_MAX; i++) {
			h = t->q[i].head;
			if (h != NULL && (victim == NULL ||
			    h->active < victim->active))
				victim = h;
		}
		if (victim == NULL)
			break;
		if (victim->ended)
			flow_release(t, victim);
		else
			flow_end(t, victim, end_reason(victim, FLOW_END_OPEN),
			    false);
	}
}

void
flow_table_free(struct flow_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	flow_table_finish(t);
	for (i = 0; i < t->nchunks; i++)
		free(t->chunks[i]);
	free(t->chunks);
	free(t->buckets);
	mem_uncharge(MEM_FLOWS, t->nbuckets * sizeof(*t->buckets));
	free(t);
}

const struct flow_table_stats *
flow_table_get_stats(const struct flow_table *t)
{
	return &t->st;
}

const struct flow_info *
flow_get_info(const struct flow *f)
{
	return &f->info;
}

const struct flow_dir_stats *
flow_get_dir_stats(const struct flow *f, enum flow_dir d)
{
	return &f->dir[d].st;
}

void *
flow_get_user(const struct flow *f)
{
	return f->user;
}

void
flow_set_user(struct flow *f, void *u)
{
	f->user = u;
}

/*
 * The layer above has mail in flight on this connection (or no longer):
 * it is evicted last. Takes effect when the packet being handled is done.
 */
void
flow_set_busy(struct flow *f, bool busy)
{
	f->busy = busy;
}

const char *
flow_end_name(enum flow_end e)
{
	switch (e) {
	case FLOW_END_CLOSED:	return "closed";
	case FLOW_END_RESET:	return "reset";
	case FLOW_END_TIMEOUT:	return "timeout";
	case FLOW_END_OPEN:	return "open";
	case FLOW_END_EVICTED:	return "evicted";
	case FLOW_END_REUSED:	return "reused";
	}
	return "unknown";
}
