/*
 * limits.h: every cap in smtpsniff, in one place (the model is SQLite's
 * sqliteLimit.h). Each entry says its value, why, and what happens when it
 * is hit. Hitting a cap never aborts and never grows memory: the excess is
 * dropped, counted, and reported as a gap or an event.
 */
#ifndef SMTPSNIFF_LIMITS_H
#define SMTPSNIFF_LIMITS_H

/* ---- decode ---------------------------------------------------------- */

/*
 * VLAN tags kept per packet. 802.1Q and QinQ (802.1ad) give at most two
 * in practice; deeper stacks are still decoded, only the outer two ids are
 * kept with the flow, and decode_stats.vlan_deep counts them.
 */
#define LIMIT_VLAN_TAGS			2

/*
 * IPv6 extension headers followed before giving up. RFC 8200 §4.1 lists at
 * most 8 kinds in a recommended order; longer chains are a known evasion
 * trick. Hit: the packet is counted as DECODE_ERR_IP6_EXT_CHAIN, dropped.
 */
#define LIMIT_IP6_EXT_HEADERS		8

/*
 * Datagrams being reassembled from fragments at once (IPv4 and IPv6
 * together). Hit: the oldest datagram is dropped (counted as frag_evicted).
 */
#define LIMIT_FRAG_DATAGRAMS		1024

/*
 * Bytes held by all datagrams under reassembly. Each datagram reserves the
 * 64 KiB an IP datagram can reach, so this is about 64 of them at once.
 * Hit: as for LIMIT_FRAG_DATAGRAMS.
 */
#define LIMIT_FRAG_MEMORY		(4u * 1024 * 1024)

/*
 * Seconds (of packet time) a datagram may wait for its missing fragments:
 * Linux's ipfrag_time default, RFC 791 suggests 15 s as a minimum.
 * Hit: the datagram is dropped, counted as frag_timeout.
 */
#define LIMIT_FRAG_TIMEOUT_S		30

/* ---- flow ------------------------------------------------------------ */

/*
 * TCP connections tracked at once. Hit: the least recently active
 * connection is ended early (state "evicted", counted as flows_evicted).
 * About 600 bytes each with both directions' state.
 */
#define LIMIT_FLOWS			(256u * 1024)

/*
 * Out-of-order bytes buffered per direction of a connection while waiting
 * for a hole to be filled. A sender's window rarely exceeds a few MiB.
 * Hit: the hole is declared a gap, buffered data is delivered, and
 * reassembly goes on from there (counted in gaps, and in memcap_gaps).
 */
#define LIMIT_STREAM_OOO_BYTES		(4u * 1024 * 1024)

/*
 * Out-of-order bytes buffered by all connections together. Hit: as for
 * LIMIT_STREAM_OOO_BYTES on the connection being fed; if its own buffer is
 * empty, the segment is dropped and counted (ooo_dropped); the bytes then
 * show up as a gap.
 */
#define LIMIT_TOTAL_OOO_BYTES		(256u * 1024 * 1024)

/*
 * Out-of-order segments buffered per direction, whatever their size, so that
 * a flood of 1-byte segments cannot cost 64 bytes of bookkeeping per byte.
 * Hit: as for LIMIT_STREAM_OOO_BYTES.
 */
#define LIMIT_STREAM_OOO_SEGMENTS	4096

/*
 * Idle timeouts in seconds of packet time. Established: RFC 5321 §4.5.3.2.7
 * has servers wait 5 minutes for a command, clients 10 minutes for the reply
 * to the end of data; 10 minutes keeps every live SMTP session. Short: for
 * connections never established, half-closed ones, and resets.
 * Hit: the connection ends with state "timeout".
 */
#define LIMIT_TCP_TIMEOUT_EST_S		600
#define LIMIT_TCP_TIMEOUT_SHORT_S	60

/*
 * Seconds a connection's key is remembered after it closed or was reset,
 * so that late ACKs and retransmissions are absorbed rather than starting a
 * bogus mid-stream connection (TCP's own TIME-WAIT is 2 MSL, RFC 9293
 * §3.4.2). A new SYN replaces the remembered key at once.
 */
#define LIMIT_TCP_LINGER_S		30

/*
 * Seconds of quiet after an accepted RST before the connection is ended as
 * "reset". Data seen in that time is still delivered: a RST forged to make
 * a sensor stop looking (Ptacek and Newsham, 1998) must not hide what the
 * real endpoints go on exchanging. A new SYN ends it at once.
 */
#define LIMIT_TCP_RESET_LINGER_S	10

/*
 * A RST is accepted when its sequence number is within this distance of
 * the next byte expected from its sender (RFC 5961 §3.2 asks for the
 * receive window, which a passive sensor does not know exactly).
 * Outside: the RST is ignored and counted (rst_ignored).
 */
#define LIMIT_TCP_RST_WINDOW		(16u * 1024 * 1024)

/*
 * An ACK or FIN further than this beyond the next expected byte is not
 * trusted to size a gap (it is either forged or from another connection).
 */
#define LIMIT_TCP_ACK_TRUST		(64u * 1024 * 1024)

/* ---- smtp ------------------------------------------------------------ */

/*
 * Bytes kept of one command or reply line. RFC 5321 §4.5.3.1.4-5 allows
 * 512 for commands and replies, but real clients send longer (long
 * addresses with parameters, XCLIENT). Hit: the line is cut here, parsed
 * as cut, the rest discarded up to the LF, SMTP_EV_COMMAND_TOO_LONG or
 * SMTP_EV_REPLY_TOO_LONG counted. AUTH continuation lines are skipped
 * without being kept, whatever their length.
 */
#define LIMIT_SMTP_LINE			4096

/*
 * Commands sent and not yet answered (RFC 2920 pipelining). A client's
 * window is bounded by its TCP send buffer; 128 covers every real client.
 * Hit: the oldest is forgotten, SMTP_EV_PENDING_OVERFLOW counted.
 */
#define LIMIT_SMTP_PENDING		128

/*
 * Client bytes held after DATA while its reply is awaited: a conforming
 * client sends nothing there (RFC 2920 §3.1). Hit: the bytes are taken as
 * the message (SMTP_EV_DATA_WITHOUT_WAIT).
 */
#define LIMIT_SMTP_HOLD			(64u * 1024)

/*
 * Recipients kept per transaction (RFC 5321 §4.5.3.1.8 requires servers
 * to accept at least 100). Hit: later ones are counted, not kept
 * (SMTP_EV_TOO_MANY_RECIPIENTS).
 */
#define LIMIT_SMTP_RCPT			1000

/* Bytes kept of a banner, HELO argument, address or reply text. */
#define LIMIT_SMTP_FIELD		1024

#if LIMIT_VLAN_TAGS < 1 || LIMIT_VLAN_TAGS > 8
#error "LIMIT_VLAN_TAGS out of range"
#endif
#if LIMIT_FLOWS < 16
#error "LIMIT_FLOWS too small"
#endif
#if LIMIT_TOTAL_OOO_BYTES < LIMIT_STREAM_OOO_BYTES
#error "LIMIT_TOTAL_OOO_BYTES must be at least LIMIT_STREAM_OOO_BYTES"
#endif

#endif /* SMTPSNIFF_LIMITS_H */
