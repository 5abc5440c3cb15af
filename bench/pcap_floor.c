/*
 * pcap_floor: the cost floor of reading a capture with libpcap.
 *
 * Opens each capture given with pcap_open_offline() and walks it with
 * pcap_next_ex(), doing nothing with the packets except counting them and
 * summing their captured lengths (so the compiler cannot drop the loop).
 * Whatever smtpsniff does on top of this is its own cost; bench/run.sh
 * compares the two.
 *
 * Usage: pcap_floor FILE...
 * Output (one line per file, then a total line when given several):
 *   FILE packets=N bytes=N
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    uint64_t total_packets = 0, total_bytes = 0;
    int rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        uint64_t packets = 0, bytes = 0;
        struct pcap_pkthdr *hdr;
        const u_char *data;
        int r;

        errbuf[0] = '\0';
        pcap_t *p = pcap_open_offline(argv[i], errbuf);
        if (p == NULL) {
            fprintf(stderr, "%s: %s\n", argv[i], errbuf);
            rc = 1;
            continue;
        }
        while ((r = pcap_next_ex(p, &hdr, &data)) == 1) {
            packets++;
            bytes += hdr->caplen;
        }
        if (r == PCAP_ERROR) {
            fprintf(stderr, "%s: %s\n", argv[i], pcap_geterr(p));
            rc = 1;
        }
        pcap_close(p);
        printf("%s packets=%llu bytes=%llu\n", argv[i],
               (unsigned long long)packets, (unsigned long long)bytes);
        total_packets += packets;
        total_bytes += bytes;
    }
    if (argc > 2)
        printf("total packets=%llu bytes=%llu\n",
               (unsigned long long)total_packets,
               (unsigned long long)total_bytes);
    return rc;
}
