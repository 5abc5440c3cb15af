/*
 * run.c: the offline packet loop and the end-of-run summary shared by the
 * subcommands. The loop allocates nothing: capture, decode and the flow
 * table reuse their buffers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "common/mem.h"

/*
 * Progress on a terminal: how much of the files has been read. Measured
 * in bytes, not in time: nothing here looks at the clock.
 */
void
cli_progress(const struct capture *cap, bool last)
{
	struct capture_stats cs;
	uint64_t done;

	capture_get_stats(cap, &cs);
	/* Each record carries a 16-byte header besides its bytes. */
	done = cs.bytes + 16 * cs.packets;
	if (cs.total_file_bytes > 0 && done > cs.total_file_bytes)
		done = cs.total_file_bytes;
	fprintf(stderr, "\rreading: %" PRIu64 " of %" PRIu64 " MB (%u%%)%s",
	    done >> 20, cs.total_file_bytes >> 20, cs.total_file_bytes ?
	    (unsigned)(done * 100 / cs.total_file_bytes) : 100,
	    last ? "\n" : "");
}

int
cli_run_offline(struct capture *cap, struct decoder *dec,
    struct flow_table *ft)
{
	struct capture_pkt cp;
	struct capture_stats cs;
	struct pkt p;
	bool tty = isatty(STDERR_FILENO) == 1;
	uint64_t read_bytes = 0, next = PROGRESS_STEP;

	while (capture_next(cap, &cp) == 1) {
		if (decoder_decode(dec, &cp, &p) == DECODE_TCP)
			flow_table_packet(ft, &p);
		if (tty && (read_bytes += cp.caplen) >= next) {
			cli_progress(cap, false);
			next += PROGRESS_STEP;
		}
	}
	if (tty && next > PROGRESS_STEP)
		cli_progress(cap, true);
	flow_table_finish(ft);
	capture_get_stats(cap, &cs);
	return cs.file_errors ? 1 : 0;
}

/* The files' line of the summary. */
void
cli_print_files(FILE *fp, const struct capture *cap)
{
	struct capture_stats cs;

	capture_get_stats(cap, &cs);
	fprintf(fp, "summary: files %" PRIu64 " (errors %" PRIu64 ")"
	    " packets %" PRIu64 " bytes %" PRIu64,
	    cs.files, cs.file_errors, cs.packets, cs.bytes);
	if (cs.ts_invalid > 0)
		fprintf(fp, " ts_invalid %" PRIu64, cs.ts_invalid);
	/* Files overlapping in time past LIMIT_CAPTURE_OPEN_FILES: late. */
	if (cs.merge_deferred > 0)
		fprintf(fp, " merge_deferred %" PRIu64, cs.merge_deferred);
	fputc('\n', fp);
}

/* A one-screen summary, "name value" pairs, zero counters left out. */
void
cli_print_summary(FILE *fp, const struct decode_stats *ds,
    const struct flow_table_stats *fs)
{
	struct mem_stats ms;
	int i;

	fprintf(fp, "  decode:");
	for (i = 0; i < DECODE_RESULT_MAX; i++)
		if (ds->result[i] != 0)
			fprintf(fp, " %s %" PRIu64,
			    decode_result_name((enum decode_result)i),
			    ds->result[i]);
	fprintf(fp, "\n  checksums: ip4_bad %" PRIu64 " tcp_bad %" PRIu64
	    " unverified %" PRIu64 "\n", ds->ip4_csum_bad, ds->tcp_csum_bad,
	    ds->csum_unverified);
	if (ds->frag_datagrams || ds->frag_timeout || ds->frag_evicted ||
	    ds->frag_overlap || ds->frag_cut || ds->vlan_deep)
		fprintf(fp, "  fragments: reassembled %" PRIu64 " timeout %"
		    PRIu64 " evicted %" PRIu64 " overlap %" PRIu64 " cut %"
		    PRIu64 " vlan_deep %" PRIu64 "\n", ds->frag_datagrams,
		    ds->frag_timeout, ds->frag_evicted, ds->frag_overlap,
		    ds->frag_cut, ds->vlan_deep);
	fprintf(fp, "  flows: %" PRIu64 " (max open %" PRIu64 ")",
	    fs->flows, fs->flows_max_active);
	for (i = 0; i <= FLOW_END_REUSED; i++)
		if (fs->end[i] != 0)
			fprintf(fp, " %s %" PRIu64,
			    flow_end_name((enum flow_end)i), fs->end[i]);
	fprintf(fp, "\n  reassembly: gaps %" PRIu64 " gap_bytes %" PRIu64
	    " memcap_gaps %" PRIu64 " ooo_dropped %" PRIu64
	    " ooo_bytes_max %" PRIu64 " retransmitted_bytes %" PRIu64
	    " overlap_mismatch_bytes %" PRIu64 " late_packets %" PRIu64
	    " rst_ignored %" PRIu64 "\n", fs->gaps, fs->gap_bytes,
	    fs->memcap_gaps, fs->ooo_dropped, fs->ooo_bytes_max,
	    fs->retrans_bytes, fs->overlap_mismatch, fs->late_packets,
	    fs->rst_ignored);
	if (fs->flows_cap_evictions || fs->memcap_hits) {
		fprintf(fp, "  evictions: flows_cap %" PRIu64 " memcap_hits %"
		    PRIu64 " memcap %" PRIu64, fs->flows_cap_evictions,
		    fs->memcap_hits, fs->memcap_evictions);
		for (i = 0; i < FLOW_EVICT_CLASSES; i++)
			fprintf(fp, " %s %" PRIu64, flow_evict_class_name(i),
			    fs->evicted[i]);
		fputc('\n', fp);
	}
	mem_get_stats(&ms);
	fprintf(fp, "  memory: limit %" PRIu64 " peak %" PRIu64, ms.limit,
	    ms.peak);
	for (i = 0; i < MEM_LAYER_MAX; i++)
		fprintf(fp, " %s_peak %" PRIu64,
		    mem_layer_name((enum mem_layer)i), ms.layer_peak[i]);
	fputc('\n', fp);
	if (fs->clock.jumps_ahead || fs->clock.jumps_back ||
	    fs->clock.stray_ahead || fs->clock.stray_back)
		fprintf(fp, "  time: jumps_ahead %" PRIu64 " jumps_back %"
		    PRIu64 " stray_ahead %" PRIu64 " stray_back %" PRIu64 "\n",
		    fs->clock.jumps_ahead, fs->clock.jumps_back,
		    fs->clock.stray_ahead, fs->clock.stray_back);
}

int
cli_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case 'K': case 'k':
		shift = 10;
		end++;
		break;
	case 'M': case 'm':
		shift = 20;
		end++;
		break;
	case 'G': case 'g':
		shift = 30;
		end++;
		break;
	}
	if (*end != '\0' || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}
