/*
 * engine.c: workers, the off-line hand-over of segments in batches, and
 * the reorder window that makes the workers' records one time-ordered
 * stream (engine.h says why).
 *
 * Threads: the caller's (off-line: reads, decodes, dispatches), one per
 * worker, and the merger, which alone calls the ops. A worker tags each
 * record with its clock when the record finished; its clock never goes
 * back, so each worker's records are in order, and after each batch it
 * publishes how far its clock got (its watermark). The merger lets a
 * record out once every worker's watermark is past it: then no record
 * with an earlier time can still come. Workers that see no packets are
 * kept moving by the ticks of the reading thread (off-line) or by the
 * wall clock while the link is quiet (live).
 */
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/limits.h"
#include "common/mem.h"
#include "engine.h"
#include "flow/pclock.h"

#define NS	1000000000ull
#define MSG_ALIGN	8

enum msg_kind {
	MSG_PKT,	/* a TCP segment, its payload after the header */
	MSG_TICK,	/* the reading thread's clock got this far */
	MSG_FINISH,	/* the capture ended: end every connection */
};

struct msg {
	uint32_t	kind;
	uint32_t	size;		/* the whole message, aligned */
	uint64_t	ts;		/* MSG_TICK: the clock to move to */
	uint64_t	tag;		/* the reading thread's packet count */
	struct pkt	p;
};

struct batch {
	struct batch	*next;
	size_t		 used;
	alignas(MSG_ALIGN) uint8_t data[LIMIT_ENGINE_BATCH_BYTES];
};

/* A finished record or summary, flattened, waiting in the window. */
struct item {
	struct item	*next;
	uint64_t	 t;		/* packet time it finished at */
	size_t		 bytes;		/* charged to MEM_RECORDS */
	bool		 summary;
	const void	*obj;		/* into data */
	max_align_t	 data[];
};

struct worker {
	struct engine		*e;
	unsigned		 idx;
	pthread_t		 th;
	bool			 started;
	struct flow_table	*ft;
	struct session_stage	*ss;
	struct decoder		*dec;	/* live: its own; off-line: none */
	struct capture_live	*src;	/* live */
	uint64_t		 tick_ts; /* the latest tick or idle time */
	uint64_t		 tag;	/* off-line: the message being run */

	/* Off-line input, under mu. */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv_in, cv_space;
	struct batch		*qhead, *qtail;
	unsigned		 nq;

	/* Records finished since the last publish (this thread only). */
	struct item		*out_head, *out_tail;
	size_t			 out_bytes;

	/* Under the engine's mu: published to the merger. */
	struct item		*pend_head, *pend_tail;
	uint64_t		 wm;
	bool			 finished;
	bool			 failed;
	struct flow_table_stats	 snap_flow;
	struct session_stats	 snap_sess;
	struct decode_stats	 snap_dec;
	struct capture_live_stats snap_live;
	uint64_t		 live_stats_at;	/* mono ns, this thread's */
	struct capture_live_stats snap_live_own; /* this thread's */
};

struct engine {
	struct engine_config	 cfg;
	struct engine_ops	 ops;
	void			*arg;
	unsigned		 n;
	bool			 threaded;
	struct worker		*w;

	/* Off-line reading thread. */
	struct decoder		*dec;
	struct pclock		 clk;
	uint64_t		 tick_ts;
	uint64_t		 seq;	/* TCP segments handed over */
	struct batch		**fill;	/* one being filled per worker */
	pthread_mutex_t		 free_mu;
	struct batch		*free_list;
	bool			 finished;

	/* The merger. */
	pthread_t		 merger;
	bool			 merger_started;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_cond_t		 cv_window;	/* the window has room */
	size_t			 window;
	uint64_t		 now;	/* the clock all workers reached */
	uint64_t		 live_ts;	/* live: newest packet time */
	uint64_t		 live_mono;	/* and when it came */
	uint64_t		 reorder_forced, reorder_max, items;
	atomic_bool		 stop;
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* ---- records out of a worker ---------------------------------------- */

/*
 * Where a worker is in the one stream, the unit records are ordered by.
 * Off-line, the reading thread's count of segments handed over: so the
 * merged order is the order of the packets that finished the records,
 * as with one worker, and the same at every run whatever the threads'
 * timing. Live, there is no single reader: packet time, which the
 * kernel stamps on one clock for all handles.
 */
static uint64_t
worker_clock(const struct worker *w)
{
	uint64_t now;

	if (w->src == NULL)
		return w->tag;
	now = flow_table_now(w->ft);
	return now > w->tick_ts ? now : w->tick_ts;
}

static void
emit(struct worker *w, const struct record *r, const struct record_summary *s)
{
	size_t n = r != NULL ? record_flat_size(r) :
	    record_summary_flat_size(s);
	struct item *it;

	if ((it = malloc(sizeof(*it) + n)) == NULL) {
		/* Not silently: the session stage's counter tells. */
		log_warnx("out of memory: a record is lost");
		return;
	}
	it->next = NULL;
	it->t = worker_clock(w);
	it->bytes = sizeof(*it) + n;
	it->summary = r == NULL;
	it->obj = r != NULL ? (const void *)record_flatten(r, it->data) :
	    (const void *)record_summary_flatten(s, it->data);
	mem_charge(MEM_RECORDS, it->bytes);
	if (w->out_tail != NULL)
		w->out_tail->next = it;
	else
		w->out_head = it;
	w->out_tail = it;
	w->out_bytes += it->bytes;
}

static void
on_record_threaded(void *arg, const struct record *r)
{
	emit(arg, r, NULL);
}

static void
on_summary_threaded(void *arg, const struct record_summary *s)
{
	emit(arg, NULL, s);
}

static void
on_record_inline(void *arg, const struct record *r)
{
	struct worker *w = arg;

	w->e->ops.on_record(w->e->arg, r);
}

static void
on_summary_inline(void *arg, const struct record_summary *s)
{
	struct worker *w = arg;

	w->e->ops.on_summary(w->e->arg, s);
}

/* Hand the records over and say how far this worker's clock got. */
static void
publish(struct worker *w, bool finished)
{
	struct engine *e = w->e;
	struct capture_live_stats live = { 0 };
	uint64_t m;

	/*
	 * The handle's counters, read in the thread that owns it (libpcap's
	 * handles are not to be shared), once a second: a syscall.
	 */
	if (w->src != NULL) {
		m = mono_ns();
		if (finished || m - w->live_stats_at >= NS) {
			w->live_stats_at = m;
			capture_live_get_stats(w->src, &w->snap_live_own);
		}
		live = w->snap_live_own;
	}
	pthread_mutex_lock(&e->mu);
	/*
	 * The merger cannot keep up (slow outputs): wait. It always gets
	 * room back, letting records out early if it must.
	 */
	while (e->window > LIMIT_REORDER_BYTES)
		pthread_cond_wait(&e->cv_window, &e->mu);
	if (w->out_head != NULL) {
		if (w->pend_tail != NULL)
			w->pend_tail->next = w->out_head;
		else
			w->pend_head = w->out_head;
		w->pend_tail = w->out_tail;
		e->window += w->out_bytes;
		if (e->window > e->reorder_max)
			e->reorder_max = e->window;
	}
	w->out_head = w->out_tail = NULL;
	w->out_bytes = 0;
	w->wm = finished ? UINT64_MAX : worker_clock(w);
	w->finished = finished;
	w->snap_flow = *flow_table_get_stats(w->ft);
	w->snap_sess = *session_stage_get_stats(w->ss);
	if (w->dec != NULL)
		w->snap_dec = *decoder_stats(w->dec);
	if (w->src != NULL)
		w->snap_live = live;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

/* ---- workers ------------------------------------------------------- */

static void
run_batch(struct worker *w, struct batch *b, bool *finished)
{
	size_t off = 0;
	struct msg *m;
	struct pkt p;

	while (off < b->used) {
		m = (struct msg *)(void *)(b->data + off);
		w->tag = m->tag;
		switch (m->kind) {
		case MSG_PKT:
			p = m->p;
			p.payload.p = (const uint8_t *)(m + 1);
			flow_table_packet(w->ft, &p);
			break;
		case MSG_TICK:
			if (m->ts > w->tick_ts)
				w->tick_ts = m->ts;
			flow_table_advance(w->ft, m->ts);
			break;
		case MSG_FINISH:
			flow_table_finish(w->ft);
			*finished = true;
			break;
		}
		off += m->size;
	}
}

static void *
worker_offline(void *arg)
{
	struct worker *w = arg;
	struct engine *e = w->e;
	struct batch *b;
	bool finished = false;

	while (!finished) {
		pthread_mutex_lock(&w->mu);
		while (w->qhead == NULL)
			pthread_cond_wait(&w->cv_in, &w->mu);
		b = w->qhead;
		if ((w->qhead = b->next) == NULL)
			w->qtail = NULL;
		w->nq--;
		pthread_cond_signal(&w->cv_space);
		pthread_mutex_unlock(&w->mu);

		run_batch(w, b, &finished);
		publish(w, finished);

		pthread_mutex_lock(&e->free_mu);
		b->next = e->free_list;
		e->free_list = b;
		pthread_mutex_unlock(&e->free_mu);
	}
	return NULL;
}

/* Live: the newest packet time of any worker, moved on by the wall clock. */
static uint64_t
idle_time(struct worker *w)
{
	struct engine *e = w->e;
	uint64_t ts, mono;

	pthread_mutex_lock(&e->mu);
	ts = e->live_ts;
	mono = e->live_mono;
	pthread_mutex_unlock(&e->mu);
	if (ts == 0)
		return 0;
	return ts + (mono_ns() - mono);
}

static void *
worker_live(void *arg)
{
	struct worker *w = arg;
	struct engine *e = w->e;
	struct capture_pkt cp;
	struct pkt p;
	uint64_t last_ts = 0, n = 0, t;
	int rc;

	while (!atomic_load_explicit(&e->stop, memory_order_relaxed)) {
		rc = capture_live_next(w->src, &cp, LIMIT_CAPTURE_TIMEOUT_MS);
		if (rc == 1) {
			if (e->ops.on_packet != NULL)
				e->ops.on_packet(e->arg, w->idx, &cp);
			if (decoder_decode(w->dec, &cp, &p) == DECODE_TCP)
				flow_table_packet(w->ft, &p);
			last_ts = cp.ts_ns;
			if ((++n & 255) != 0)
				continue;
		} else if (rc == -1) {
			pthread_mutex_lock(&e->mu);
			w->failed = true;
			pthread_mutex_unlock(&e->mu);
			break;
		} else if (e->cfg.idle_clock && (t = idle_time(w)) != 0) {
			/* A quiet link: the one use of the wall clock. */
			if (t > w->tick_ts)
				w->tick_ts = t;
			flow_table_advance(w->ft, t);
		}
		if (last_ts != 0) {
			pthread_mutex_lock(&e->mu);
			if (last_ts >= e->live_ts) {
				e->live_ts = last_ts;
				e->live_mono = mono_ns();
			}
			pthread_mutex_unlock(&e->mu);
			last_ts = 0;
		}
		publish(w, false);
	}
	flow_table_finish(w->ft);
	publish(w, true);
	return NULL;
}

/* ---- the merger ----------------------------------------------------- */

static void
deliver(struct engine *e, struct item *it)
{
	if (it->summary)
		e->ops.on_summary(e->arg, it->obj);
	else
		e->ops.on_record(e->arg, it->obj);
	mem_uncharge(MEM_RECORDS, it->bytes);
	free(it);
}

/*
 * The next item to let out, under mu, or NULL: the oldest head, once
 * every worker's clock is past it (or the window is full).
 */
static struct item *
next_item(struct engine *e, bool *all_done)
{
	struct worker *best = NULL;
	struct item *it;
	uint64_t wm = UINT64_MAX, top = 0;
	unsigned i;

	*all_done = true;
	for (i = 0; i < e->n; i++) {
		struct worker *w = &e->w[i];

		if (w->wm < wm)
			wm = w->wm;
		if (w->wm != UINT64_MAX && w->wm > top)
			top = w->wm;
		if (!w->finished)
			*all_done = false;
		if (w->pend_head != NULL && (best == NULL ||
		    w->pend_head->t < best->pend_head->t))
			best = w;
	}
	e->now = wm != UINT64_MAX ? wm : top;
	if (best == NULL)
		return NULL;
	it = best->pend_head;
	if (it->t >= wm) {
		if (e->window <= LIMIT_REORDER_BYTES)
			return NULL;
		e->reorder_forced++;
	}
	if ((best->pend_head = it->next) == NULL)
		best->pend_tail = NULL;
	e->window -= it->bytes;
	if (e->window <= LIMIT_REORDER_BYTES)
		pthread_cond_broadcast(&e->cv_window);
	e->items++;
	return it;
}

static void *
merger(void *arg)
{
	struct engine *e = arg;
	struct item *it;
	struct timespec dl;
	uint64_t next_tick = mono_ns() + LIMIT_ENGINE_TICK_MS * 1000000ull;
	uint64_t now, m;
	unsigned n = 0;
	bool done;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		if ((it = next_item(e, &done)) != NULL) {
			pthread_mutex_unlock(&e->mu);
			deliver(e, it);
			pthread_mutex_lock(&e->mu);
			if ((++n & 1023) != 0)
				continue;
		} else if (done)
			break;
		if (e->ops.on_tick != NULL && (m = mono_ns()) >= next_tick) {
			next_tick = m + LIMIT_ENGINE_TICK_MS * 1000000ull;
			now = e->now;
			pthread_mutex_unlock(&e->mu);
			e->ops.on_tick(e->arg, now);
			pthread_mutex_lock(&e->mu);
			continue;
		}
		if (it != NULL)
			continue;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_nsec += LIMIT_ENGINE_TICK_MS * 1000000l;
		if (dl.tv_nsec >= 1000000000l) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000l;
		}
		pthread_cond_timedwait(&e->cv, &e->mu, &dl);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

/* ---- off-line hand-over -------------------------------------------- */

static struct batch *
batch_get(struct engine *e)
{
	struct batch *b;

	pthread_mutex_lock(&e->free_mu);
	if ((b = e->free_list) != NULL)
		e->free_list = b->next;
	pthread_mutex_unlock(&e->free_mu);
	if (b == NULL && (b = malloc(sizeof(*b))) == NULL)
		return NULL;
	b->next = NULL;
	b->used = 0;
	return b;
}

static void
batch_put_msg(struct batch *b, enum msg_kind kind, uint64_t ts, uint64_t seq)
{
	struct msg *m = (struct msg *)(void *)(b->data + b->used);

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->size = (uint32_t)((sizeof(*m) + MSG_ALIGN - 1) & ~(MSG_ALIGN - 1));
	m->ts = ts;
	/* After every segment handed over: the end's records tie. */
	m->tag = seq;
	b->used += m->size;
}

static void
queue_batch(struct worker *w, struct batch *b)
{
	pthread_mutex_lock(&w->mu);
	while (w->nq >= LIMIT_ENGINE_QUEUE_BATCHES)
		pthread_cond_wait(&w->cv_space, &w->mu);
	if (w->qtail != NULL)
		w->qtail->next = b;
	else
		w->qhead = b;
	w->qtail = b;
	w->nq++;
	pthread_cond_signal(&w->cv_in);
	pthread_mutex_unlock(&w->mu);
}

/*
 * Every worker gets its batch, closed by a tick, whenever one is full: so
 * a worker with few connections keeps pace with the busy ones' clocks.
 */
static int
flush_all(struct engine *e, enum msg_kind last)
{
	struct batch *nb;
	unsigned i;

	for (i = 0; i < e->n; i++) {
		batch_put_msg(e->fill[i], last, e->tick_ts, e->seq);
		queue_batch(&e->w[i], e->fill[i]);
		e->fill[i] = NULL;
		if (last == MSG_FINISH)
			continue;
		if ((nb = batch_get(e)) == NULL)
			return -1;
		e->fill[i] = nb;
	}
	return 0;
}

unsigned
engine_worker_of(const struct engine *e, const struct pkt *p)
{
	struct {
		uint8_t		a[16], b[16];
		uint16_t	pa, pb;
		uint8_t		af;
	} k;
	int c;

	if (e->n == 1)
		return 0;
	memset(&k, 0, sizeof(k));
	/* Symmetric: the two endpoints in a fixed order. */
	c = memcmp(p->src, p->dst, sizeof(p->src));
	if (c < 0 || (c == 0 && p->sport <= p->dport)) {
		memcpy(k.a, p->src, 16);
		memcpy(k.b, p->dst, 16);
		k.pa = p->sport;
		k.pb = p->dport;
	} else {
		memcpy(k.a, p->dst, 16);
		memcpy(k.b, p->src, 16);
		k.pa = p->dport;
		k.pb = p->sport;
	}
	k.af = p->af;
	return (unsigned)(siphash13(&e->cfg.flow.hash_key, &k, sizeof(k)) %
	    e->n);
}

void
engine_packet(struct engine *e, const struct capture_pkt *cp)
{
	struct pkt p;
	struct msg *m;
	struct batch *b;
	size_t need;
	unsigned i;

	if (decoder_decode(e->dec, cp, &p) != DECODE_TCP)
		return;
	if (!e->threaded) {
		flow_table_packet(e->w[0].ft, &p);
		return;
	}
	/*
	 * The reading thread's own clock, as one worker's table would keep
	 * it: ticks carry the time of the last packet it took as near now,
	 * never a stray's.
	 */
	if (pclock_admit(&e->clk, p.ts_ns) != PCLOCK_PENDING)
		e->tick_ts = p.ts_ns;
	i = engine_worker_of(e, &p);
	need = (sizeof(*m) + p.payload.len + MSG_ALIGN - 1) &
	    ~(size_t)(MSG_ALIGN - 1);
	/* Room is kept for the tick that closes the batch. */
	if (e->fill[i]->used + need + sizeof(*m) > LIMIT_ENGINE_BATCH_BYTES &&
	    flush_all(e, MSG_TICK) == -1) {
		log_warnx("out of memory: stopping");
		abort();
	}
	b = e->fill[i];
	m = (struct msg *)(void *)(b->data + b->used);
	m->kind = MSG_PKT;
	m->size = (uint32_t)need;
	m->ts = 0;
	m->tag = ++e->seq;
	m->p = p;
	if (p.payload.len > 0)
		memcpy(m + 1, p.payload.p, p.payload.len);
	b->used += need;
}

/* ---- life ----------------------------------------------------------- */

static void	join_all(struct engine *);

static int
start_threads(struct engine *e)
{
	sigset_t all, old;
	unsigned i;
	int rc = 0;

	/* Signals are for the caller's thread (capture's sigtimedwait). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < e->n && rc == 0; i++) {
		rc = pthread_create(&e->w[i].th, NULL, e->cfg.sources != NULL ?
		    worker_live : worker_offline, &e->w[i]);
		e->w[i].started = rc == 0;
	}
	if (rc == 0) {
		rc = pthread_create(&e->merger, NULL, merger, e);
		e->merger_started = rc == 0;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? 0 : -1;
}

struct engine *
engine_new(const struct engine_config *cfg, const struct engine_ops *ops,
    void *arg)
{
	static const struct session_ops inl = { on_record_inline,
	    on_summary_inline };
	static const struct session_ops thr = { on_record_threaded,
	    on_summary_threaded };
	struct engine *e;
	unsigned i;

	if (cfg->nworkers < 1 || cfg->nworkers > LIMIT_WORKERS)
		return NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->cfg = *cfg;
	/* LIMIT_FLOWS is the sensor's, not each worker's. */
	e->cfg.flow.max_flows = cfg->flow.max_flows / cfg->nworkers;
	if (e->cfg.flow.max_flows < 1)
		e->cfg.flow.max_flows = 1;
	e->ops = *ops;
	e->arg = arg;
	e->n = cfg->nworkers;
	e->threaded = e->n > 1 || cfg->sources != NULL;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	pthread_cond_init(&e->cv_window, NULL);
	pthread_mutex_init(&e->free_mu, NULL);
	pclock_init(&e->clk);
	atomic_init(&e->stop, false);
	if ((e->w = calloc(e->n, sizeof(*e->w))) == NULL ||
	    (e->fill = calloc(e->n, sizeof(*e->fill))) == NULL)
		goto fail;
	if (cfg->sources == NULL &&
	    (e->dec = decoder_new_config(&cfg->decode)) == NULL)
		goto fail;
	for (i = 0; i < e->n; i++) {
		struct worker *w = &e->w[i];

		w->e = e;
		w->idx = i;
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv_in, NULL);
		pthread_cond_init(&w->cv_space, NULL);
		if ((w->ss = session_stage_new(&cfg->session, e->threaded ?
		    &thr : &inl, w)) == NULL ||
		    (w->ft = flow_table_new(&e->cfg.flow,
		    session_stage_flow_ops(), w->ss)) == NULL)
			goto fail;
		if (cfg->sources != NULL) {
			w->src = cfg->sources[i];
			if ((w->dec = decoder_new_config(&cfg->decode)) == NULL)
				goto fail;
		} else if (e->threaded &&
		    (e->fill[i] = batch_get(e)) == NULL)
			goto fail;
	}
	if (e->threaded && start_threads(e) == -1) {
		log_warnx("cannot start the worker threads");
		/* Those that started end, and are waited for. */
		engine_stop(e);
		if (cfg->sources == NULL)
			flush_all(e, MSG_FINISH);
		e->finished = true;
		join_all(e);
		goto fail;
	}
	return e;
fail:
	engine_free(e);
	return NULL;
}

void
engine_stop(struct engine *e)
{
	atomic_store(&e->stop, true);
}

bool
engine_failed(struct engine *e)
{
	bool f = false;
	unsigned i;

	pthread_mutex_lock(&e->mu);
	for (i = 0; i < e->n; i++)
		f |= e->w[i].failed;
	pthread_mutex_unlock(&e->mu);
	return f;
}

static void
join_all(struct engine *e)
{
	unsigned i;

	for (i = 0; i < e->n; i++)
		if (e->w[i].started) {
			pthread_join(e->w[i].th, NULL);
			e->w[i].started = false;
		}
	if (e->merger_started) {
		pthread_join(e->merger, NULL);
		e->merger_started = false;
	}
}

void
engine_finish(struct engine *e)
{
	if (e->finished)
		return;
	e->finished = true;
	if (!e->threaded) {
		flow_table_finish(e->w[0].ft);
		return;
	}
	if (e->cfg.sources != NULL)
		engine_stop(e);
	else
		flush_all(e, MSG_FINISH);
	join_all(e);
}

static void
sum_u64(void *dst, const void *src, size_t size)
{
	uint64_t *d = dst;
	const uint64_t *s = src;
	size_t i;

	for (i = 0; i < size / sizeof(uint64_t); i++)
		d[i] += s[i];
}

/* The stats structs are counters only: summed as arrays of them. */
_Static_assert(sizeof(struct flow_table_stats) % sizeof(uint64_t) == 0,
    "flow_table_stats: uint64_t counters only");
_Static_assert(sizeof(struct session_stats) % sizeof(uint64_t) == 0,
    "session_stats: uint64_t counters only");
_Static_assert(sizeof(struct decode_stats) % sizeof(uint64_t) == 0,
    "decode_stats: uint64_t counters only");
_Static_assert(sizeof(struct capture_live_stats) % sizeof(uint64_t) == 0,
    "capture_live_stats: uint64_t counters only");

void
engine_get_stats(struct engine *e, struct engine_stats *st)
{
	const struct flow_table_stats *fs;
	unsigned i;

	memset(st, 0, sizeof(*st));
	st->workers = e->n;
	if (e->dec != NULL)
		st->dec = *decoder_stats(e->dec);
	if (!e->threaded) {
		st->flow = *flow_table_get_stats(e->w[0].ft);
		st->sess = *session_stage_get_stats(e->w[0].ss);
		st->now = flow_table_now(e->w[0].ft);
		return;
	}
	pthread_mutex_lock(&e->mu);
	for (i = 0; i < e->n; i++) {
		fs = &e->w[i].snap_flow;
		sum_u64(&st->flow, fs, sizeof(*fs));
		sum_u64(&st->sess, &e->w[i].snap_sess, sizeof(st->sess));
		if (e->w[i].dec != NULL)
			sum_u64(&st->dec, &e->w[i].snap_dec, sizeof(st->dec));
		sum_u64(&st->live, &e->w[i].snap_live, sizeof(st->live));
		st->live_errors += e->w[i].failed;
	}
	/* High-water marks are not sums: the largest of them. */
	st->flow.ooo_bytes_max = st->flow.chain_max = 0;
	for (i = 0; i < e->n; i++) {
		fs = &e->w[i].snap_flow;
		if (fs->ooo_bytes_max > st->flow.ooo_bytes_max)
			st->flow.ooo_bytes_max = fs->ooo_bytes_max;
		if (fs->chain_max > st->flow.chain_max)
			st->flow.chain_max = fs->chain_max;
	}
	st->reorder_forced = e->reorder_forced;
	st->reorder_max_bytes = e->reorder_max;
	st->items = e->items;
	st->now = e->now;
	pthread_mutex_unlock(&e->mu);
}

void
engine_free(struct engine *e)
{
	struct batch *b;
	struct item *it;
	unsigned i;

	if (e == NULL)
		return;
	/* Threads blocked on input would never end: finish first. */
	if (e->merger_started)
		engine_finish(e);
	for (i = 0; e->w != NULL && i < e->n; i++) {
		struct worker *w = &e->w[i];

		flow_table_free(w->ft);
		session_stage_free(w->ss);
		decoder_free(w->dec);
		while ((it = w->pend_head) != NULL) {
			w->pend_head = it->next;
			mem_uncharge(MEM_RECORDS, it->bytes);
			free(it);
		}
		while ((it = w->out_head) != NULL) {
			w->out_head = it->next;
			mem_uncharge(MEM_RECORDS, it->bytes);
			free(it);
		}
		while ((b = w->qhead) != NULL) {
			w->qhead = b->next;
			free(b);
		}
		if (e->fill != NULL)
			free(e->fill[i]);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv_in);
		pthread_cond_destroy(&w->cv_space);
	}
	while ((b = e->free_list) != NULL) {
		e->free_list = b->next;
		free(b);
	}
	decoder_free(e->dec);
	free(e->fill);
	free(e->w);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
	pthread_cond_destroy(&e->cv_window);
	pthread_mutex_destroy(&e->free_mu);
	free(e);
}
