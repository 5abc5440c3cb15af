/*
 * tcp_stream.c: reassembly of one direction of a TCP connection.
 *
 * Policy for retransmissions and overlaps: FIRST WINS. Bytes already
 * delivered or buffered are kept; a later copy of the same sequence range
 * is dropped, and counted (overlap_mismatch when its bytes differ). Why:
 * bytes already handed to the layer above cannot be taken back, so the
 * only policy that is the same whether a copy arrives before or after
 * delivery is first-wins; it is also what the BSD and Linux stacks do for
 * data they have already queued, and what tshark's follow shows.
 *
 * Holes: data past a hole is buffered (capped) until the hole is filled,
 * or declared a gap when (1) the receiver acknowledged data past the hole
 * (it got bytes the capture missed), (2) the snaplen cut a segment, (3) a
 * buffer cap is hit, or (4) the connection ends. The layer above gets the
 * gap's length through on_gap and resynchronises.
 */
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "flow_int.h"

void
tcp_stream_init(struct tcp_stream *s)
{
	memset(s, 0, sizeof(*s));
}

static void
seg_free(struct flow_table *t, struct tcp_stream *s, struct seg *n)
{
	s->nsegs--;
	s->buffered -= n->len;
	t->ooo_bytes -= n->len;
	mem_uncharge(MEM_REASSEMBLY, sizeof(*n) + n->len);
	free(n);
}

/* Release buffered segments without delivering them. */
void
tcp_stream_fini(struct flow_table *t, struct tcp_stream *s)
{
	struct seg *n;

	while ((n = s->head) != NULL) {
		s->head = n->next;
		seg_free(t, s, n);
	}
	s->tail = NULL;
}

/* Sequence number to stream offset; negative means before the stream. */
static int64_t
seq_to_off(const struct tcp_stream *s, uint32_t seq)
{
	return (int64_t)s->next_off + (int32_t)(seq - s->next_seq);
}

static void
advance(struct tcp_stream *s, uint64_t n)
{
	s->next_off += n;
	s->next_seq += (uint32_t)n;
}

static void
deliver(struct flow_table *t, struct flow *f, enum flow_dir dir,
    const uint8_t *p, size_t n)
{
	struct tcp_stream *s = &f->dir[dir];

	advance(s, n);
	s->st.bytes += n;
	t->ops.on_data(t->arg, f, dir, p, n);
}

static void
gap(struct flow_table *t, struct flow *f, enum flow_dir dir, uint64_t n)
{
	struct tcp_stream *s = &f->dir[dir];

	advance(s, n);
	s->st.gaps++;
	s->st.gap_bytes += n;
	t->st.gaps++;
	t->st.gap_bytes += n;
	t->ops.on_gap(t->arg, f, dir, n);
}

/* Deliver the buffered segments that are now contiguous. */
static void
drain(struct flow_table *t, struct flow *f, enum flow_dir dir)
{
	struct tcp_stream *s = &f->dir[dir];
	struct seg *n;
	uint64_t nend;

	while ((n = s->head) != NULL && n->off <= s->next_off) {
		nend = n->off + n->len;
		s->head = n->next;
		if (nend > s->next_off)
			deliver(t, f, dir, n->data + (s->next_off - n->off),
			    nend - s->next_off);
		seg_free(t, s, n);
	}
	if (s->head == NULL)
		s->tail = NULL;
}

/* Declare the hole before the first buffered segment a gap. */
static void
skip_to_head(struct flow_table *t, struct flow *f, enum flow_dir dir)
{
	struct tcp_stream *s = &f->dir[dir];

	if (s->head->off > s->next_off)
		gap(t, f, dir, s->head->off - s->next_off);
	drain(t, f, dir);
}

/*
 * Holes the receiver has acknowledged were received: the capture missed
 * them. Also a hole right before an acknowledged FIN.
 */
static void
check_acked_holes(struct flow_table *t, struct flow *f, enum flow_dir dir)
{
	struct tcp_stream *s = &f->dir[dir];

	if (!s->ack_known)
		return;
	while (s->head != NULL && s->ack_off >= s->head->off)
		skip_to_head(t, f, dir);
	if (s->head == NULL && s->fin_seen && s->ack_off > s->fin_off &&
	    s->fin_off > s->next_off)
		gap(t, f, dir, s->fin_off - s->next_off);
}

static struct seg *
seg_new(struct flow_table *t, struct tcp_stream *s, uint64_t off,
    const uint8_t *p, size_t len)
{
	struct seg *n;

	if ((n = malloc(sizeof(*n) + len)) == NULL)
		return NULL;
	n->next = NULL;
	n->off = off;
	n->len = (uint32_t)len;
	memcpy(n->data, p, len);
	s->nsegs++;
	s->buffered += len;
	t->ooo_bytes += len;
	mem_charge(MEM_REASSEMBLY, sizeof(*n) + len);
	if (t->ooo_bytes > t->st.ooo_bytes_max)
		t->st.ooo_bytes_max = t->ooo_bytes;
	return n;
}

static bool
fits(const struct flow_table *t, const struct tcp_stream *s, size_t len)
{
	return s->buffered + len <= t->cfg.stream_ooo_bytes &&
	    s->nsegs < LIMIT_STREAM_OOO_SEGMENTS &&
	    t->ooo_bytes + len <= t->cfg.total_ooo_bytes;
}

/*
 * Buffer [off, off+len) where no buffered segment already holds it (first
 * wins); where one does, compare and count. Returns -1 on ENOMEM.
 */
static int
insert(struct flow_table *t, struct tcp_stream *s, uint64_t off,
    const uint8_t *p, size_t len)
{
	struct seg **link = &s->head, *n, *nw;
	uint64_t cur = off, end = off + len, nend, oend, stop;

	if (s->tail != NULL && s->tail->off + s->tail->len <= off)
		link = &s->tail->next;	/* the common case: append */
	while (cur < end) {
		n = *link;
		if (n != NULL && n->off + n->len <= cur) {
			link = &n->next;
			continue;
		}
		if (n == NULL || n->off > cur) {
			stop = (n == NULL || n->off > end) ? end : n->off;
			nw = seg_new(t, s, cur, p + (cur - off), stop - cur);
			if (nw == NULL)
				return -1;
			nw->next = n;
			*link = nw;
			if (n == NULL)
				s->tail = nw;
			link = &nw->next;
			cur = stop;
			continue;
		}
		/* n holds cur: the first copy wins. */
		nend = n->off + n->len;
		oend = end < nend ? end : nend;
		s->st.retrans_bytes += oend - cur;
		if (memcmp(n->data + (cur - n->off), p + (cur - off),
		    oend - cur) != 0)
			s->st.overlap_mismatch += oend - cur;
		cur = oend;
		link = &n->next;
	}
	return 0;
}

/*
 * One segment's payload: len captured bytes at seq, and cut more bytes on
 * the wire that the snaplen removed.
 */
void
tcp_stream_segment(struct flow_table *t, struct flow *f, enum flow_dir dir,
    uint32_t seq, const uint8_t *p, size_t len, size_t cut)
{
	struct tcp_stream *s = &f->dir[dir];
	int64_t off, end, lim, cap_end, wire_end, skip;

	if (len == 0 && cut == 0)
		return;
	if (!s->seq_known) {
		/* Picked up mid-stream: start where we came in. */
		s->next_seq = seq;
		s->seq_known = true;
		s->st.midstream = true;
	}
	off = seq_to_off(s, seq);
	cap_end = off + (int64_t)len;
	wire_end = cap_end + (int64_t)cut;
	for (;;) {
		end = off + (int64_t)len;
		if (end <= (int64_t)s->next_off) {
			s->st.retrans_bytes += len;
			break;
		}
		if (off < (int64_t)s->next_off) {
			skip = (int64_t)s->next_off - off;
			s->st.retrans_bytes += (uint64_t)skip;
			p += skip;
			len -= (size_t)skip;
			off = (int64_t)s->next_off;
		}
		if (off == (int64_t)s->next_off) {
			/* In order: straight from the packet, no copy. */
			lim = end;
			if (s->head != NULL && (int64_t)s->head->off < lim)
				lim = (int64_t)s->head->off;
			deliver(t, f, dir, p, (size_t)(lim - off));
			p += lim - off;
			len -= (size_t)(lim - off);
			off = lim;
			drain(t, f, dir);
			if (len == 0)
				break;
			/*
			 * The rest overlaps data that was buffered first and
			 * has just been delivered: trim it again.
			 */
			continue;
		}
		if (fits(t, s, len)) {
			if (insert(t, s, (uint64_t)off, p, len) == -1)
				t->st.ooo_dropped++;
			break;
		}
		if (s->head == NULL) {
			t->st.ooo_dropped++;
			break;
		}
		/* A cap: give up on the first hole and try again. */
		t->st.memcap_gaps++;
		skip_to_head(t, f, dir);
	}
	if (cut > 0 && (int64_t)s->next_off >= cap_end &&
	    (int64_t)s->next_off < wire_end) {
		/* The snaplen cut bytes that will never be seen. */
		lim = wire_end;
		if (s->head != NULL && (int64_t)s->head->off < lim)
			lim = (int64_t)s->head->off;
		if (lim > (int64_t)s->next_off)
			gap(t, f, dir, (uint64_t)lim - s->next_off);
		drain(t, f, dir);
	}
	check_acked_holes(t, f, dir);
}

/* A SYN: the initial sequence number (RFC 9293 §3.4.1). */
void
tcp_stream_syn(struct tcp_stream *s, uint32_t seq)
{
	if (s->st.syn_seen && s->isn == seq)
		return;			/* retransmitted SYN */
	if (s->seq_known && s->next_off > 0)
		return;			/* data already flowed: keep it */
	s->isn = seq;
	s->next_seq = seq + 1;
	s->seq_known = true;
	s->st.syn_seen = true;
	s->st.midstream = false;
}

/* A FIN whose sequence number is seq (after any payload). */
void
tcp_stream_fin(struct tcp_stream *s, uint32_t seq)
{
	int64_t off;

	if (!s->seq_known) {
		s->next_seq = seq;
		s->seq_known = true;
		s->st.midstream = true;
	}
	off = seq_to_off(s, seq);
	if (s->fin_seen || off < (int64_t)s->next_off ||
	    off - (int64_t)s->next_off > (int64_t)LIMIT_TCP_ACK_TRUST)
		return;
	s->fin_seen = true;
	s->fin_off = (uint64_t)off;
}

/* The other side acknowledged this direction up to ack. */
void
tcp_stream_ack(struct flow_table *t, struct flow *f, enum flow_dir dir,
    uint32_t ack)
{
	struct tcp_stream *s = &f->dir[dir];
	int32_t rel;
	int64_t off;

	if (!s->seq_known)
		return;
	rel = (int32_t)(ack - s->next_seq);
	if (rel > (int32_t)LIMIT_TCP_ACK_TRUST)
		return;
	off = (int64_t)s->next_off + rel;
	if (off < 0 || (s->ack_known && (uint64_t)off <= s->ack_off))
		return;
	s->ack_off = (uint64_t)off;
	s->ack_known = true;
	check_acked_holes(t, f, dir);
}

/*
 * The connection ends: deliver everything buffered, holes as gaps, and a
 * last gap for bytes a FIN or an acknowledgement proves were sent.
 */
void
tcp_stream_flush(struct flow_table *t, struct flow *f, enum flow_dir dir)
{
	struct tcp_stream *s = &f->dir[dir];
	uint64_t end;

	while (s->head != NULL)
		skip_to_head(t, f, dir);
	if (!s->seq_known)
		return;
	end = s->next_off;
	if (s->fin_seen)
		end = s->fin_off;
	else if (s->ack_known)
		end = s->ack_off;
	if (end > s->next_off && end - s->next_off <= LIMIT_TCP_ACK_TRUST)
		gap(t, f, dir, end - s->next_off);
}

/* All data up to a FIN has been delivered. */
bool
tcp_stream_is_done(const struct tcp_stream *s)
{
	return s->fin_seen && s->head == NULL && s->next_off >= s->fin_off;
}

/* The peer acknowledged this direction's FIN (RFC 9293 §3.6). */
bool
tcp_stream_fin_acked(const struct tcp_stream *s)
{
	return s->fin_seen && s->ack_known && s->ack_off > s->fin_off;
}
