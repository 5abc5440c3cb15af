/*
 * live.c: live capture through libpcap (live.h). Each handle is opened,
 * given the filter and, with several workers, joined to one PACKET_FANOUT
 * group; then the caller polls it with a timeout, so that a worker can
 * move its clock on a quiet link and notice a stop request.
 */
#include <sys/socket.h>

#include <errno.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "live.h"

struct capture_live {
	pcap_t		*pcap;
	int		 fd;		/* selectable */
	int		 link;
	int		 snaplen;
	uint64_t	 last_ts;
	bool		 failed;
	char		 filter[LIMIT_FILTER_LEN];
	struct capture_live_stats st;
};

int
capture_default_filter(char *buf, size_t len, const uint16_t *ports,
    size_t nports, bool any_port, bool vlan)
{
	char tcp[LIMIT_SMTP_PORTS * 24 + 8], x[sizeof(tcp) + 128];
	size_t i, n = 0;
	int w;

	if (any_port)
		n = (size_t)snprintf(tcp, sizeof(tcp), "tcp");
	for (i = 0; !any_port && i < nports; i++)
		n += (size_t)snprintf(tcp + n, sizeof(tcp) - n, "%stcp port %u",
		    i > 0 ? " or " : "", ports[i]);
	if (n == 0 || n >= sizeof(tcp))
		return -1;
	/*
	 * Non-first fragments carry no TCP header: the offset field of IPv4
	 * (RFC 791), a Fragment header first in IPv6 (RFC 8200 §4.5). Deeper
	 * IPv6 chains are rare enough to leave to --filter.
	 */
	w = snprintf(x, sizeof(x), "%s or (ip and ip[6:2] & 0x1fff != 0) or "
	    "(ip6 and ip6[6] == 44)", tcp);
	if (w < 0 || (size_t)w >= sizeof(x))
		return -1;
	/* "vlan" moves the offsets that follow it: one level per tag. */
	if (vlan)
		w = snprintf(buf, len, "(%s) or (vlan and ((%s) or (vlan and "
		    "(%s))))", x, x, x);
	else
		w = snprintf(buf, len, "%s", x);
	return w < 0 || (size_t)w >= len ? -1 : 0;
}

static int
set_fanout(struct capture_live *c, unsigned group, char err[ERRBUF_SIZE])
{
	/* Symmetric flow hash; IPv4 fragments put together first. */
	int v = (int)((group & 0xffff) |
	    ((PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16));

	if (setsockopt(c->fd, SOL_PACKET, PACKET_FANOUT, &v, sizeof(v)) ==
	    -1) {
		snprintf(err, ERRBUF_SIZE, "PACKET_FANOUT: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

struct capture_live *
capture_live_open(const struct capture_live_config *cfg,
    const uint16_t *ports, size_t nports, bool any_port,
    char err[ERRBUF_SIZE])
{
	struct capture_live *c;
	struct bpf_program prog;
	char perr[PCAP_ERRBUF_SIZE];
	int rc, link, one;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	c->snaplen = cfg->snaplen > 0 ? cfg->snaplen : LIMIT_SNAPLEN_DEFAULT;
	if ((c->pcap = pcap_create(cfg->iface, perr)) == NULL) {
		snprintf(err, ERRBUF_SIZE, "%.64s: %.180s", cfg->iface, perr);
		goto fail;
	}
	pcap_set_snaplen(c->pcap, c->snaplen);
	pcap_set_promisc(c->pcap, cfg->promisc);
	pcap_set_timeout(c->pcap, LIMIT_CAPTURE_TIMEOUT_MS);
	pcap_set_immediate_mode(c->pcap, cfg->immediate);
	if (cfg->buffer_kib > 0)
		pcap_set_buffer_size(c->pcap, cfg->buffer_kib * 1024);
	pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_NANO);
	if ((rc = pcap_activate(c->pcap)) < 0) {
		snprintf(err, ERRBUF_SIZE, "%s: %s%s", cfg->iface,
		    pcap_geterr(c->pcap), rc == PCAP_ERROR_PERM_DENIED ?
		    " (run as root, or give the binary CAP_NET_RAW)" : "");
		goto fail;
	}
	if (rc > 0)	/* a warning: say it, go on */
		log_warnx("%s: %s", cfg->iface, pcap_statustostr(rc));
	c->link = link = pcap_datalink(c->pcap);
	if (cfg->filter != NULL)
		snprintf(c->filter, sizeof(c->filter), "%s", cfg->filter);
	else if (capture_default_filter(c->filter, sizeof(c->filter), ports,
	    nports, any_port, link == CAPTURE_LINK_EN10MB) == -1) {
		snprintf(err, ERRBUF_SIZE, "the default filter is too long");
		goto fail;
	}
	if (pcap_compile(c->pcap, &prog, c->filter, 1,
	    PCAP_NETMASK_UNKNOWN) == -1) {
		snprintf(err, ERRBUF_SIZE, "filter \"%.100s\": %.120s", c->filter,
		    pcap_geterr(c->pcap));
		goto fail;
	}
	rc = pcap_setfilter(c->pcap, &prog);
	pcap_freecode(&prog);
	if (rc == -1) {
		snprintf(err, ERRBUF_SIZE, "%s: setting the filter: %s",
		    cfg->iface, pcap_geterr(c->pcap));
		goto fail;
	}
	if (pcap_setnonblock(c->pcap, 1, perr) == -1 ||
	    (c->fd = pcap_get_selectable_fd(c->pcap)) == -1) {
		snprintf(err, ERRBUF_SIZE, "%s: cannot poll the handle",
		    cfg->iface);
		goto fail;
	}
	if (cfg->fanout_group != 0 && set_fanout(c, cfg->fanout_group,
	    err) == -1)
		goto fail;
	/*
	 * A packet the kernel did not stamp on arrival is stamped by each
	 * packet socket as it gets it, so tcpdump beside us would see other
	 * times (and derive other session ids). Asking for timestamps
	 * turns arrival stamping on for the whole host: one time for all.
	 */
	one = 1;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	return c;
fail:
	capture_live_close(c);
	return NULL;
}

/* As capture.c's: a kernel time is valid, but check it all the same. */
static uint64_t
live_time(struct capture_live *c, const struct timeval *tv)
{
	if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000000) {
		c->st.ts_invalid++;
		return c->last_ts;
	}
	c->last_ts = (uint64_t)tv->tv_sec * 1000000000u +
	    (uint64_t)tv->tv_usec;
	return c->last_ts;
}

int
capture_live_next(struct capture_live *c, struct capture_pkt *p,
    int timeout_ms)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	struct pollfd pfd;
	int rc, round;

	if (c->failed)
		return -1;
	for (round = 0; round < 2; round++) {
		rc = pcap_next_ex(c->pcap, &h, &data);
		if (rc == 1) {
			p->ts_ns = live_time(c, &h->ts);
			p->caplen = h->caplen;
			p->wirelen = h->len;
			p->link = c->link;
			p->data = data;
			c->st.packets++;
			c->st.bytes += h->caplen;
			return 1;
		}
		if (rc != 0) {
			log_warnx("capture: %s", rc == PCAP_ERROR ?
			    pcap_geterr(c->pcap) : pcap_statustostr(rc));
			c->failed = true;
			return -1;
		}
		if (round > 0 || timeout_ms == 0)
			break;
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, timeout_ms) <= 0)
			break;
	}
	return 0;
}

void
capture_live_get_stats(struct capture_live *c, struct capture_live_stats *st)
{
	struct pcap_stat ps;

	if (pcap_stats(c->pcap, &ps) == 0) {
		c->st.kernel_recv = ps.ps_recv;
		c->st.kernel_drops = ps.ps_drop;
		c->st.if_drops = ps.ps_ifdrop;
	}
	*st = c->st;
}

int
capture_live_link(const struct capture_live *c)
{
	return c->link;
}

int
capture_live_snaplen(const struct capture_live *c)
{
	return c->snaplen;
}

const char *
capture_live_filter(const struct capture_live *c)
{
	return c->filter;
}

void
capture_live_close(struct capture_live *c)
{
	if (c == NULL)
		return;
	if (c->pcap != NULL)
		pcap_close(c->pcap);
	free(c);
}

int
capture_list_interfaces(FILE *fp, char err[ERRBUF_SIZE])
{
	pcap_if_t *all, *d;
	char perr[PCAP_ERRBUF_SIZE];
	int i = 0;

	if (pcap_findalldevs(&all, perr) == -1) {
		snprintf(err, ERRBUF_SIZE, "%s", perr);
		return -1;
	}
	for (d = all; d != NULL; d = d->next) {
		fprintf(fp, "%d.%s", ++i, d->name);
		if (d->description != NULL)
			fprintf(fp, " (%s)", d->description);
		fprintf(fp, " [%s%s%s]\n",
		    d->flags & PCAP_IF_UP ? "Up" : "Down",
		    d->flags & PCAP_IF_RUNNING ? ", Running" : "",
		    d->flags & PCAP_IF_LOOPBACK ? ", Loopback" : "");
	}
	pcap_freealldevs(all);
	return 0;
}
