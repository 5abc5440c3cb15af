/*
 * limits.h: every cap in smtpsniff, in one place (the model is SQLite's
 * sqliteLimit.h). Each entry says its value, why, and what happens when it
 * is hit. Hitting a cap never aborts and never grows memory: the excess is
 * dropped, counted, and reported as a gap or an event.
 */
#ifndef SMTPSNIFF_LIMITS_H
#define SMTPSNIFF_LIMITS_H

/* ---- capture --------------------------------------------------------- */

/*
 * Capture files open at once while reading (capture.c): the files that
 * overlap in time and are merged by packet time (slices that several
 * workers wrote at once: one per worker, two where a worker's slices
 * meet), plus the next one, peeked for its first time. Each holds
 * libpcap's buffer of one snaplen (256 KiB at most: 33 MB for all).
 * Hit: the next overlapping file waits for one to end, so its packets
 * come later than their time (counted as merge_deferred, warned once).
 */
#define LIMIT_CAPTURE_OPEN_FILES	(2 * LIMIT_WORKERS + 2)

/*
 * The packet archive (capture -w DIR, archive.c). A worker's number is
 * part of its slices' names, in three digits. -W N keeps N slices per
 * worker, in a ring of 16 bytes a slice allocated at start (1.6 MB at
 * most). Hit: archive_open refuses, naming the limit (a usage error).
 */
#define LIMIT_ARCHIVE_WORKERS		1000
#define LIMIT_ARCHIVE_KEEP		100000
/*
 * Bytes of DIR/.NAME, the longest path of a slice (PATH_MAX). Hit: the
 * archive refuses to open, naming the directory.
 */
#define LIMIT_ARCHIVE_PATH		4096
/*
 * Seconds of packet time after a write error (a full disk) before the
 * archive tries a new slice; the packets in between are counted as not
 * archived (dropped), never queued.
 */
#define LIMIT_ARCHIVE_RETRY_S		10

#if LIMIT_ARCHIVE_WORKERS > 1000
#error "LIMIT_ARCHIVE_WORKERS: a slice's name has three digits for it"
#endif

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
 * together), each with about 1.3 KB of bookkeeping besides its bytes.
 * Hit: the oldest datagram is dropped (counted as frag_evicted).
 */
#define LIMIT_FRAG_DATAGRAMS		1024

/*
 * Bytes held by all datagrams under reassembly. A datagram holds only
 * the 2 KiB pages its fragments have reached (a 3 KB datagram cut at
 * Ethernet's MTU holds 2), so all LIMIT_FRAG_DATAGRAMS fit unless they are
 * large; 64 KiB ones (the most IP allows) fit 64 at once.
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

/*
 * The command line's lists: outputs (-o) and SMTP server ports (-p).
 * Operator input, not the network's. Hit: a usage error naming the cap,
 * exit 2.
 */
#define LIMIT_OUTPUTS			16
#define LIMIT_SMTP_PORTS		64

/*
 * The memory budget (--memcap, common/mem.h): flows, reassembly buffers,
 * fragments and session state (SMTP, MIME, open records) of the whole
 * process. 512 MiB holds about a million idle connections' flows, or
 * thousands of sessions with mail in flight. Hit: connections are
 * evicted, half-open ones first, then idle sessions, mail in flight last
 * (flow_table.c), each reason counted. The store's queue and batch have
 * caps of their own (below).
 */
#define LIMIT_MEMCAP_DEFAULT		(512ull << 20)
#define LIMIT_MEMCAP_MIN		(16u << 20)
/* Once past the budget, evict down to this share of it (per mille). */
#define LIMIT_MEMCAP_EVICT_TO		900

/*
 * Packet time (flow/pclock.c). A packet dated more than LIMIT_TIME_JUMP_S
 * ahead of or behind the clock does not move it until LIMIT_TIME_CONFIRM
 * far packets in a row agree (a real jump: files days apart, a clock set
 * back); if time comes back first they were strays, counted. 60 s is
 * above any reordering between taps; a quiet link's first packets after a
 * longer pause only confirm the jump. Hit: counted (time_jumps_*,
 * time_stray_* in the summary), never a timeout on a stray's word.
 */
#define LIMIT_TIME_JUMP_S		60
#define LIMIT_TIME_CONFIRM		8

/*
 * --any-port: bytes held per direction of a connection on another port
 * until its first line says whether it is SMTP (two RFC 5321 §4.5.3.1.4-5
 * lines of 512, or a proxy handshake: an HTTP CONNECT header line, a
 * SOCKS5 RFC 1929 login of at most 513 bytes). Hit: not SMTP, counted
 * (probe_full in the summary).
 */
#define LIMIT_PROBE_BYTES		1024

/*
 * Proxy tunnels (HTTP CONNECT, SOCKS) opened one inside the other before
 * SMTP. Hit: not SMTP, counted (tunnels_too_deep).
 */
#define LIMIT_PROBE_TUNNELS		2

/*
 * Bytes kept of the mechanism list of an EHLO reply's AUTH line (RFC 4954
 * §3: "AUTH PLAIN LOGIN ..."); real lists are under 100. Hit: the list is
 * cut here, SMTP_EV_AUTH_MECHS_TOO_LONG counted.
 */
#define LIMIT_SMTP_AUTH_MECHS		256

/*
 * Bytes of the first AUTH response kept to decode the user name, and of
 * its decoded form (only when user names are asked for). RFC 4954 §4
 * allows 12288 for the whole line, but a PLAIN, LOGIN or CRAM-MD5 first
 * response with a sane name and password is far shorter. Hit: no user
 * name is taken from it, SMTP_EV_AUTH_RESPONSE_TOO_LONG counted.
 */
#define LIMIT_SMTP_AUTH_RESPONSE	512

/*
 * Server bytes held after STARTTLS got its 220, until the client's next
 * bytes say whether TLS follows (RFC 3207 §4: a TLS server waits for the
 * ClientHello, so a conforming server sends nothing then). Hit: the
 * server decides: TLS if its bytes are a TLS record, else clear text
 * (SMTP_EV_STARTTLS_NOT_TLS).
 */
#define LIMIT_SMTP_TLS_HOLD		(16u * 1024)

/* ---- record ---------------------------------------------------------- */

/*
 * Transactions of one session in flight at once: begun by the client and
 * not yet settled by the server's replies. RFC 2920 §3.1 makes a client
 * wait for DATA's 354, so only CHUNKING (RFC 3030 §4.2: BDAT LAST then the
 * next MAIL, pipelined) and clients that send without waiting (worms that
 * send the whole conversation first) have more than two. Each holds its
 * envelope and its message's MIME parser. Hit: the oldest is written at
 * once as it stands (its replies not yet seen: incomplete), and
 * SMTP_EV_PENDING_OVERFLOW is counted on it; its late replies are ignored.
 */
#define LIMIT_RECORD_TX			8

#if LIMIT_VLAN_TAGS < 1 || LIMIT_VLAN_TAGS > 8
#error "LIMIT_VLAN_TAGS out of range"
#endif
#if LIMIT_FRAG_DATAGRAMS < 1 || LIMIT_FRAG_MEMORY < 65536
#error "LIMIT_FRAG_DATAGRAMS or LIMIT_FRAG_MEMORY out of range"
#endif
#if LIMIT_FLOWS < 16
#error "LIMIT_FLOWS too small"
#endif
#if LIMIT_RECORD_TX < 2
#error "LIMIT_RECORD_TX must let the next transaction begin"
#endif
#if LIMIT_TOTAL_OOO_BYTES < LIMIT_STREAM_OOO_BYTES
#error "LIMIT_TOTAL_OOO_BYTES must be at least LIMIT_STREAM_OOO_BYTES"
#endif

/* ---- mime ------------------------------------------------------------ */

/*
 * Physical line length (RFC 5322 §2.1.1: 998 characters before the CRLF).
 * Longer lines are common in the wild and cost nothing here (no line is
 * ever buffered whole). Hit: counted (MIME_EV_HEADER_LINE_TOO_LONG or
 * MIME_EV_BODY_LINE_TOO_LONG), the line is processed whole.
 */
#define LIMIT_MIME_LINE			998

/*
 * Bytes kept of one unfolded header field we extract (From, To, Cc,
 * Subject, Received, Content-Type, ...). A To: of 1000 recipients is about
 * 40 KiB; other fields are never buffered at all. Hit: the value is cut
 * here and parsed as cut, MIME_EV_HEADER_LINE_TOO_LONG.
 */
#define LIMIT_MIME_HEADER_FIELD		(64u * 1024)

/*
 * Bytes and fields of one header block (the message's or a part's). A
 * hundred Received hops plus DKIM/ARC blobs stay far below. Past either,
 * the block is presumed to be a body without its blank line: later fields
 * are ignored (not kept) until the blank line, MIME_EV_HEADER_BLOCK_TOO_LONG
 * once per block.
 */
#define LIMIT_MIME_HEADER_BLOCK		(256u * 1024)
#define LIMIT_MIME_HEADER_FIELDS	1000

/* Field-name bytes compared; a longer name is not one we keep (ignored). */
#define LIMIT_MIME_FIELD_NAME		64

/*
 * Bytes (UTF-8) of a kept header string and of an attachment file name
 * (RFC 5322 asks 78 characters per line; file systems allow 255 bytes per
 * name). Hit: cut at a character boundary, MIME_EV_HEADER_LINE_TOO_LONG.
 */
#define LIMIT_MIME_STRING		4096
#define LIMIT_MIME_FILENAME		1024

/*
 * Bytes of each string of an address list item (RFC 5321 §4.5.3.1.3 caps
 * a path at 256 octets; the display name gets the rest). Hit: as for
 * LIMIT_MIME_STRING.
 */
#define LIMIT_MIME_ADDR_STRING		512

/*
 * Items kept per address list (From, To, Cc) and Received fields kept
 * (RFC 5321 §6.3: a relay may assume a loop past 100 hops). Hit: the later
 * ones are counted (MIME_EV_LIST_TOO_LONG), not kept.
 */
#define LIMIT_MIME_ADDRS		512
#define LIMIT_MIME_RECEIVED		100

/*
 * Bytes of strings kept in one message's result, all fields together: a
 * firm bound whatever the mix of the caps above. Hit: later strings are
 * dropped (MIME_EV_LIST_TOO_LONG); what was kept stays.
 */
#define LIMIT_MIME_RESULT_BYTES		(256u * 1024)

/*
 * Nested multipart levels (RFC 2046 §5.1 sets none; real mail uses 3-5:
 * mixed > related > alternative), counted across the message and the
 * messages attached to it together, so that nesting messages does not
 * multiply the cap. Hit: the deeper multipart is taken as an opaque leaf,
 * MIME_EV_DEPTH_EXCEEDED.
 */
#define LIMIT_MIME_DEPTH		16

/*
 * Attached messages (message/rfc822, message/global) opened one within
 * another: an attachment's depth is at most this. Forwarding a forward
 * rarely goes past 3; each level costs one more parser frame (~12 KiB,
 * kept for reuse) and hashes the inner bytes once more (the container is
 * hashed whole too). Hit: the deeper message is still listed and hashed
 * whole, not opened, MIME_EV_NESTING_EXCEEDED. Multipart levels are not
 * counted here: LIMIT_MIME_DEPTH bounds them across all the messages of
 * one transaction together.
 */
#define LIMIT_MIME_NESTING		8

/*
 * MIME entities parsed per message. Hit: later parts are still delimited
 * (so the structure around them holds) but neither their headers nor their
 * bodies are parsed, MIME_EV_TOO_MANY_PARTS per part.
 */
#define LIMIT_MIME_PARTS		4096

/*
 * Attachments listed per message. Hit: later ones are counted
 * (MIME_EV_TOO_MANY_ATTACHMENTS) and not hashed.
 */
#define LIMIT_MIME_ATTACHMENTS		256

/*
 * Boundary length (RFC 2046 §5.1.1 allows 70; some mailers exceed it, and
 * refusing a boundary a mail client accepts would hide its parts), and
 * the white space tolerated after a delimiter ("transport padding", RFC
 * 2046 §5.1.1) while deciding whether a line is one. Hit: a longer
 * boundary makes the multipart an opaque leaf (MIME_EV_BOUNDARY_MISSING);
 * longer padding makes the line content.
 */
#define LIMIT_MIME_BOUNDARY		1024
#define LIMIT_MIME_BOUNDARY_LWSP	128

/*
 * Bytes of a charset name (IANA names are under 45) and iconv descriptors
 * cached per parser. Hit: a longer name is an unknown charset
 * (MIME_EV_UNKNOWN_CHARSET); a full cache closes its oldest descriptor.
 */
#define LIMIT_MIME_CHARSET		64
#define LIMIT_MIME_ICONV_CACHE		4

/*
 * iconv_open() calls per message. Opening a converter loads a gconv
 * module (about 0.1 ms); a header cycling through more charsets than the
 * cache holds would cost that per encoded word. Real mail uses one to
 * three charsets. Hit: further charsets are read as UTF-8 (invalid bytes
 * become U+FFFD), MIME_EV_UNKNOWN_CHARSET.
 */
#define LIMIT_MIME_ICONV_OPENS		16

/*
 * RFC 2231 §3 continuation sections assembled per parameter
 * (name*0 .. name*63). Hit: later sections are ignored,
 * MIME_EV_HEADER_LINE_TOO_LONG.
 */
#define LIMIT_MIME_PARAM_SECTIONS	64

/* "type/subtype" bytes (RFC 6838 §4.2: 127 each). Hit: invalid type. */
#define LIMIT_MIME_TYPE			255

/*
 * White space the quoted-printable decoder holds while it cannot tell
 * whether it is trailing (to be deleted, RFC 2045 §6.7 rule 3). Hit: the
 * held run is decoded as content.
 */
#define LIMIT_MIME_QP_WSP		256

/* Decoded bytes staged before hashing (fewer, larger digest updates). */
#define LIMIT_MIME_SINK			(8u * 1024)

#if LIMIT_MIME_DEPTH < 1 || LIMIT_MIME_DEPTH > 64
#error "LIMIT_MIME_DEPTH out of range"
#endif
#if LIMIT_MIME_NESTING < 1 || LIMIT_MIME_NESTING > 32
#error "LIMIT_MIME_NESTING out of range"
#endif
#if LIMIT_MIME_BOUNDARY < 70
#error "LIMIT_MIME_BOUNDARY below the RFC 2046 maximum"
#endif
#if LIMIT_MIME_HEADER_FIELD < LIMIT_MIME_STRING
#error "LIMIT_MIME_HEADER_FIELD must hold LIMIT_MIME_STRING"
#endif
#if LIMIT_MIME_ICONV_CACHE < 1
#error "LIMIT_MIME_ICONV_CACHE too small"
#endif

/* ---- store ----------------------------------------------------------- */

/*
 * Units (a transaction's record or a session's summary) per database
 * transaction, their bytes, and how long the first may wait. A commit
 * writes every index page the batch dirtied, and the address-key and uid
 * indexes are random-keyed, so larger batches write each page fewer times
 * (2000 -> 20000: x1.75 measured on SQLite); a second bounds how late
 * rows show to readers. The batch is kept in memory until its commit
 * (and spooled if a server is lost). Hit: the batch is committed, nothing
 * is lost; commits forced by the unit or byte cap rather than the timer
 * are counted (store_stats.commits_full).
 */
#define LIMIT_STORE_BATCH_UNITS		20000
#define LIMIT_STORE_BATCH_BYTES		(64u * 1024 * 1024)
#define LIMIT_STORE_BATCH_MS		1000

/*
 * Bytes of units queued from the reader to the store's writer thread.
 * Enough to ride out a commit. Hit: the reader waits for the writer
 * (back-pressure, nothing lost), counted (store_stats.queue_waits).
 */
#define LIMIT_STORE_QUEUE_BYTES		(16u * 1024 * 1024)

/*
 * Bytes of one unit, and so of one spool record. A record at every other
 * cap (1000 recipients, 256 attachments, 256 KiB of header strings) is a
 * few MiB. Hit: the record is not stored, logged and counted as lost
 * (store_stats.lost); in a spool file, a length above it is not one we
 * wrote: the file is taken as torn there, logged, and what comes before
 * is kept.
 */
#define LIMIT_STORE_UNIT_BYTES		(64u * 1024 * 1024)

/*
 * Bytes of a session uid in a unit, NUL included (the record's uid is
 * 24 bytes). Only a damaged spool file has longer. Hit: the unit is
 * malformed: skipped, logged and counted as lost.
 */
#define LIMIT_STORE_UID			24

/*
 * Session uid -> row id pairs remembered, direct-mapped (saves a SELECT
 * per row). Hit: a uid whose slot another took is looked up again in
 * the database; nothing is lost.
 */
#define LIMIT_STORE_SID_CACHE		4096

/*
 * Seconds between attempts to reach a database server that went away,
 * doubling from the first to the last. Hit: retries go on at the last,
 * records wait in the spool (logged when it goes and when it is back).
 */
#define LIMIT_STORE_RETRY_MIN_S		1
#define LIMIT_STORE_RETRY_MAX_S		30

/*
 * Bytes of a database server's spool file, framing included: the default
 * of --spool-max (store_config.spool_max). While a server is away its
 * units wait there, and an outage of days would otherwise fill the disk
 * that the capture, the logs and SQLite share. 1 GiB holds some 2.7
 * million units of ordinary mail (tests/store/mkpcap.py's records of two
 * recipients and their sessions' summaries: 394 bytes each on average,
 * framing included). A file a last run left over the budget counts too.
 * Hit: the unit is refused (a full spool refuses every unit until the
 * server is back and takes it, then has room again), counted as lost
 * (store_stats.lost and .spool_full), with a warning in the log when the
 * refusing starts and at close, and the count in read's summary. What
 * is spooled is kept and sent as always.
 */
#define LIMIT_SPOOL_MAX_DEFAULT		(1ull << 30)

/*
 * Rows of one multi-row statement to a server: parameters under the
 * 65535 that MariaDB and PostgreSQL allow, bytes under MariaDB's default
 * max_allowed_packet (16 MiB), uids per SELECT ... IN. Hit: the next rows
 * go in another statement of the same transaction; nothing is lost.
 */
#define LIMIT_BULK_PARAMS		60000
#define LIMIT_BULK_BYTES		(8u * 1024 * 1024)
#define LIMIT_BULK_IDS			1000

#if LIMIT_STORE_BATCH_UNITS < 1 || LIMIT_STORE_QUEUE_BYTES < 1
#error "LIMIT_STORE_BATCH_UNITS and LIMIT_STORE_QUEUE_BYTES must be positive"
#endif
#if LIMIT_STORE_UNIT_BYTES > 0xffffffffu
#error "LIMIT_STORE_UNIT_BYTES must fit the spool's 32-bit lengths"
#endif
#if LIMIT_BULK_PARAMS > 65535
#error "LIMIT_BULK_PARAMS above what the servers allow"
#endif
#if LIMIT_STORE_RETRY_MIN_S < 1 || \
    LIMIT_STORE_RETRY_MAX_S < LIMIT_STORE_RETRY_MIN_S
#error "LIMIT_STORE_RETRY_* out of range"
#endif
#if LIMIT_SPOOL_MAX_DEFAULT < LIMIT_STORE_UNIT_BYTES + 8
#error "LIMIT_SPOOL_MAX_DEFAULT must hold the largest unit, framed"
#endif

/* ---- outputs --------------------------------------------------------- */

/*
 * Elements of a Zeek smtp.log path: the server, the client, one per
 * Received header. Sized so that it is never hit: the Received headers
 * kept are capped first (LIMIT_MIME_RECEIVED, MIME_EV_LIST_TOO_LONG).
 */
#define LIMIT_ZEEK_PATH			(LIMIT_MIME_RECEIVED + 2)

#if LIMIT_ZEEK_PATH < LIMIT_MIME_RECEIVED + 2
#error "LIMIT_ZEEK_PATH must hold every Received header kept"
#endif

/* ---- live capture and workers (src/capture/live.c, src/engine/) ------ */

/* Bytes kept of each live packet: tcpdump's default, whole frames. */
#define LIMIT_SNAPLEN_DEFAULT		262144
/*
 * The kernel hands a block of packets over at least this often (TPACKET_V3
 * block timeout), and a worker polls its handle this long before it moves
 * its clock on a quiet link and looks for a stop request.
 */
#define LIMIT_CAPTURE_TIMEOUT_MS	100
/* A BPF filter's text: the default one for 64 ports with QinQ is ~5 KB. */
#define LIMIT_FILTER_LEN		16384
/* Workers (--threads): more than cores is pointless, the cap is a typo's. */
#define LIMIT_WORKERS			64

#if LIMIT_WORKERS > LIMIT_ARCHIVE_WORKERS
#error "LIMIT_WORKERS: every worker's slices need a number of their own"
#endif
#if LIMIT_CAPTURE_OPEN_FILES < LIMIT_WORKERS + 2
#error "LIMIT_CAPTURE_OPEN_FILES must merge every worker's slices"
#endif
/*
 * Off-line, the reading thread hands TCP segments to a worker in batches
 * of this many bytes, at most LIMIT_ENGINE_QUEUE_BATCHES queued per
 * worker (then it waits: reading a file never drops). 2 MiB a worker.
 */
#define LIMIT_ENGINE_BATCH_BYTES	(256u * 1024)
#define LIMIT_ENGINE_QUEUE_BATCHES	8
/*
 * The reorder window: finished records waiting until every worker's clock
 * has passed their time. Past it, the oldest goes out early (counted as
 * reorder_forced): order is given up before memory or records are.
 * Charged to the memory budget as "records".
 */
#define LIMIT_REORDER_BYTES		(64u * 1024 * 1024)
/* Wall time between two of the ordered stream's ticks (stats, SIGHUP). */
#define LIMIT_ENGINE_TICK_MS		200

#if LIMIT_ENGINE_BATCH_BYTES < 2 * 65536 + 1024
#error "LIMIT_ENGINE_BATCH_BYTES must hold the largest segment, twice"
#endif

/* ---- configuration file ---------------------------------------------- */

/*
 * Bytes of one line of the configuration file (-c), without its line
 * end. Long enough for any URL or path a setting takes. Hit: the file is
 * refused with an error naming the line, never cut (a cut password would
 * fail far from its cause, a cut network list would silently shrink).
 */
#define LIMIT_CONFIG_LINE		4096
/* Keys of the [read] and [capture] sections together: every option. */
#define LIMIT_CONFIG_OPTS		128

#endif /* SMTPSNIFF_LIMITS_H */
