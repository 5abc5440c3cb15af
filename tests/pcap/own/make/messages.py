"""Deterministic test messages for the own/ captures.

Every message is built byte by byte here (no email.generator re-serialisation),
so the generator knows exactly what goes on the wire: header bytes, boundaries,
encodings, and the decoded bytes of every attachment (size, SHA-256).
Lines end with CRLF.  Nothing here depends on time or randomness.
"""

import base64
import hashlib
import urllib.parse

CRLF = b"\r\n"
DATE = "Tue, 03 Mar 2026 10:00:00 +0100"


def pseudo_bytes(seed, n):
    """n deterministic pseudo-random bytes."""
    return hashlib.shake_256(seed.encode()).digest(n)


def b64_body(data):
    """base64, 76 characters a line, CRLF, ending with CRLF."""
    enc = base64.b64encode(data)
    return b"".join(enc[i:i + 76] + CRLF for i in range(0, len(enc), 76))


def qp_body(data):
    """Quoted-printable (RFC 2045 6.7) of CRLF text: hard line breaks stay CRLF,
    trailing blanks are encoded, lines longer than 76 get soft breaks ("=")."""
    out = []
    lines = data.split(CRLF)
    for idx, line in enumerate(lines):
        last_line = idx == len(lines) - 1
        if last_line and line == b"":
            break  # data ended with CRLF
        toks = []
        for i, c in enumerate(line):
            at_end = i == len(line) - 1
            if (33 <= c <= 126 and c != 0x3D) or (c in (9, 32) and not at_end):
                toks.append(bytes([c]))
            else:
                toks.append(b"=%02X" % c)
        cur = b""
        for t in toks:
            if len(cur) + len(t) > 75:
                out.append(cur + b"=" + CRLF)
                cur = b""
            cur += t
        out.append(cur + (b"" if last_line else CRLF))
    return b"".join(out)


def hdr(name, value):
    return name.encode() + b": " + value.encode("ascii") + CRLF


def fact(filename, content_type, data, depth=0):
    return {"filename": filename, "content_type": content_type,
            "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "depth": depth}


# ---------------------------------------------------------------- case: attachments

def notes_text():
    """~4 KB of UTF-8 text that makes quoted-printable work: accents, '=', long
    lines (soft breaks), trailing blanks, lines starting with '.'; CRLF, ends with CRLF."""
    lines = [
        "Notes de la réunion du 3 mars 2026 — version finale",
        "=====================================================",
        "",
        "Participants : Amélie, Bjørn, Çağla, Zoë, François (excusé).",
        "Budget : 12 000 € = 10 000 € HT + TVA 20 % ; écart prévu ≈ 3 %.",
        "Trailing blanks follow   ",
        "Tab at the end\t",
        ".a line that starts with a dot",
        ".",
        "..two dots",
        "A very long line that goes on and on without any line break so that the quoted-printable encoder has to insert soft line breaks, more than once, because it is much longer than seventy-six characters: é è ê ë à â ä ô ö û ü ç.",
    ]
    for i in range(1, 41):
        lines.append("%02d. point %d : décision = adoptée ; responsable « équipe %d » ; échéance 2026-%02d-15." % (i, i, i % 7, (i % 12) + 1))
    lines.append("Fin.")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def attachments_message():
    """multipart/mixed: multipart/alternative body (no attachments) + report.pdf
    (base64) + notes.txt (quoted-printable) + invoice.pdf.exe (base64)."""
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + pseudo_bytes("smtpsniff-own-report.pdf", 30000 - 15)
    txt = notes_text()
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + pseudo_bytes("smtpsniff-own-invoice.exe", 6144 - 16)
    B = b"=_smtpsniff_mixed_0001"
    A = b"=_smtpsniff_alt_0002"
    m = b"".join([
        hdr("From", "Alice Martin <alice@client.own.test>"),
        hdr("To", "Bob Durand <bob@own.test>"),
        hdr("Cc", "carol@own.test"),
        hdr("Subject", "Q1 report, notes and invoice"),
        hdr("Date", DATE),
        hdr("Message-ID", "<attachments.0001@client.own.test>"),
        hdr("User-Agent", "smtpsniff-own-generator/1"),
        hdr("MIME-Version", "1.0"),
        b'Content-Type: multipart/mixed; boundary="' + B + b'"' + CRLF,
        CRLF,
        b"This is a multi-part message in MIME format." + CRLF,
        CRLF,
        b"--" + B + CRLF,
        b'Content-Type: multipart/alternative; boundary="' + A + b'"' + CRLF,
        CRLF,
        b"--" + A + CRLF,
        b"Content-Type: text/plain; charset=us-ascii" + CRLF,
        b"Content-Transfer-Encoding: 7bit" + CRLF,
        CRLF,
        b"Hello Bob," + CRLF, CRLF,
        b"Please find attached the Q1 report, my notes and the invoice." + CRLF, CRLF,
        b"Alice" + CRLF,
        CRLF,
        b"--" + A + CRLF,
        b"Content-Type: text/html; charset=us-ascii" + CRLF,
        b"Content-Transfer-Encoding: 7bit" + CRLF,
        CRLF,
        b"<html><body><p>Hello Bob,</p><p>Please find attached the Q1 report, my notes and the invoice.</p><p>Alice</p></body></html>" + CRLF,
        CRLF,
        b"--" + A + b"--" + CRLF,
        CRLF,
        b"--" + B + CRLF,
        b'Content-Type: application/pdf; name="report.pdf"' + CRLF,
        b"Content-Transfer-Encoding: base64" + CRLF,
        b'Content-Disposition: attachment; filename="report.pdf"' + CRLF,
        CRLF,
        b64_body(pdf),
        CRLF,
        b"--" + B + CRLF,
        b'Content-Type: text/plain; charset=utf-8; name="notes.txt"' + CRLF,
        b"Content-Transfer-Encoding: quoted-printable" + CRLF,
        b'Content-Disposition: attachment; filename="notes.txt"' + CRLF,
        CRLF,
        qp_body(txt),
        CRLF,
        b"--" + B + CRLF,
        b'Content-Type: application/x-msdownload; name="invoice.pdf.exe"' + CRLF,
        b"Content-Transfer-Encoding: base64" + CRLF,
        b'Content-Disposition: attachment; filename="invoice.pdf.exe"' + CRLF,
        CRLF,
        b64_body(exe),
        CRLF,
        b"--" + B + b"--" + CRLF,
    ])
    # The CRLF that ends each encoded body above is followed by one more CRLF, so the
    # delimiter "CRLF--B" leaves the encoded body's own final CRLF in the part:
    # for base64 it is ignorable whitespace; for quoted-printable it is a hard line
    # break, i.e. the final CRLF of notes.txt, which the decoded bytes include.
    facts = {
        "subject": "Q1 report, notes and invoice",
        "from_header": "Alice Martin <alice@client.own.test>",
        "message_id": "<attachments.0001@client.own.test>",
        "attachments": [
            fact("report.pdf", "application/pdf", pdf),
            fact("notes.txt", "text/plain", txt),
            fact("invoice.pdf.exe", "application/x-msdownload", exe),
        ],
    }
    return m, facts


# ---------------------------------------------------------------- case: rfc2231-filename

def pct(s, charset):
    """RFC 2231 extended-value percent encoding (attribute-char kept)."""
    return urllib.parse.quote(s.encode(charset), safe="!#$&+-.^_`|~")


def qword(text, charset):
    """RFC 2047 Q encoded-word."""
    out = ""
    for b in text.encode(charset):
        c = chr(b)
        if c == " ":
            out += "_"
        elif c.isalnum() and b < 128:
            out += c
        else:
            out += "=%02X" % b
    return "=?%s?Q?%s?=" % (charset, out)


def bword(text, charset):
    return "=?%s?B?%s?=" % (charset, base64.b64encode(text.encode(charset)).decode())


def rfc2231_message():
    subject_parts = ("Rapport d'été — ", "Отчёт", " 2026 (final)")
    subject = "".join(subject_parts)
    # two adjacent encoded words (different charsets, folded between them: the
    # folding white space between encoded words is dropped), then plain text
    subject_raw = bword(subject_parts[0], "UTF-8") + "\r\n " + qword(subject_parts[1], "KOI8-R") + subject_parts[2]
    from_name = "José García"
    from_raw = qword(from_name, "UTF-8") + " <jose@client.own.test>"

    name_a = "Été report — résumé final.pdf"
    seg_a = ("Été report", " — résumé ", "final.pdf")
    data_a = b"%PDF-1.4\n" + pseudo_bytes("smtpsniff-own-rfc2231-a", 2400)
    name_b = "résumé été.txt"
    data_b = "Texte en ISO-8859-1 : résumé, été, déjà.\r\n".encode("iso-8859-1") * 20
    name_c = "Отчёт за март.docx"
    data_c = b"PK\x03\x04" + pseudo_bytes("smtpsniff-own-rfc2231-c", 1800)
    name_d = "a-very-long-file-name-in-two-plain-continuation-segments-part-one-and-part-two.tar.gz"
    seg_d = (name_d[:45], name_d[45:])
    data_d = b"\x1f\x8b\x08\x00" + pseudo_bytes("smtpsniff-own-rfc2231-d", 1200)
    B = b"=_smtpsniff_2231_0001"
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    m = b"".join([
        b"From: " + from_raw.encode() + CRLF,
        hdr("To", "bob@own.test"),
        b"Subject: " + subject_raw.encode("ascii") + CRLF,
        hdr("Date", DATE),
        hdr("Message-ID", "<rfc2231.0001@client.own.test>"),
        hdr("MIME-Version", "1.0"),
        b'Content-Type: multipart/mixed; boundary="' + B + b'"' + CRLF,
        CRLF,
        b"--" + B + CRLF,
        b"Content-Type: text/plain; charset=utf-8" + CRLF,
        b"Content-Transfer-Encoding: 8bit" + CRLF,
        CRLF,
        "Quatre pièces jointes aux noms encodés (RFC 2231 et RFC 2047).\r\n".encode("utf-8"),
        CRLF,
        b"--" + B + CRLF,
        # A: RFC 2231 continuations, charset in the first segment, last segment plain
        b"Content-Type: application/pdf;" + CRLF,
        b" name*0*=UTF-8''" + pct(seg_a[0], "utf-8").encode() + b";" + CRLF,
        b" name*1*=" + pct(seg_a[1], "utf-8").encode() + b";" + CRLF,
        b' name*2="' + seg_a[2].encode() + b'"' + CRLF,
        b"Content-Transfer-Encoding: base64" + CRLF,
        b"Content-Disposition: attachment;" + CRLF,
        b" filename*0*=UTF-8''" + pct(seg_a[0], "utf-8").encode() + b";" + CRLF,
        b" filename*1*=" + pct(seg_a[1], "utf-8").encode() + b";" + CRLF,
        b' filename*2="' + seg_a[2].encode() + b'"' + CRLF,
        CRLF,
        b64_body(data_a),
        CRLF,
        b"--" + B + CRLF,
        # B: RFC 2231 single value, ISO-8859-1 with a language tag
        b"Content-Type: text/plain; charset=iso-8859-1" + CRLF,
        b"Content-Transfer-Encoding: base64" + CRLF,
        b"Content-Disposition: attachment; filename*=ISO-8859-1'fr'" + pct(name_b, "iso-8859-1").encode() + CRLF,
        CRLF,
        b64_body(data_b),
        CRLF,
        b"--" + B + CRLF,
        # C: RFC 2047 encoded word inside quoted parameters (not standard, but what
        #    Outlook and Gmail send)
        b'Content-Type: ' + docx.encode() + b'; name="' + bword(name_c, "UTF-8").encode() + b'"' + CRLF,
        b"Content-Transfer-Encoding: base64" + CRLF,
        b'Content-Disposition: attachment; filename="' + bword(name_c, "UTF-8").encode() + b'"' + CRLF,
        CRLF,
        b64_body(data_c),
        CRLF,
        b"--" + B + CRLF,
        # D: RFC 2231 continuations without charset (plain quoted segments)
        b"Content-Type: application/gzip" + CRLF,
        b"Content-Transfer-Encoding: base64" + CRLF,
        b"Content-Disposition: attachment;" + CRLF,
        b' filename*0="' + seg_d[0].encode() + b'";' + CRLF,
        b' filename*1="' + seg_d[1].encode() + b'"' + CRLF,
        CRLF,
        b64_body(data_d),
        CRLF,
        b"--" + B + b"--" + CRLF,
    ])
    facts = {
        "subject": subject,
        "from_header": from_name + " <jose@client.own.test>",
        "message_id": "<rfc2231.0001@client.own.test>",
        "attachments": [
            fact(name_a, "application/pdf", data_a),
            fact(name_b, "text/plain", data_b),
            fact(name_c, docx, data_c),
            fact(name_d, "application/gzip", data_d),
        ],
    }
    return m, facts


# ---------------------------------------------------------------- case: dot-stuffing

def dot_message():
    """Plain text whose body has many lines starting with '.', including a line
    that is a lone '.', '..', '...', and the last line."""
    body = [".first body line starts with a dot", ".", "..", "...", ". space after a dot",
            ".\tTab after a dot", "no dot here", " .space then dot", "",
            "..hidden two dots", ".CRLF.CRLF is not the end"]
    for i in range(1, 301):
        body.append(("." if i % 3 else "") + "line %03d of the dot-stuffing test" % i + (" ." if i % 5 == 0 else ""))
    body.append(".last line starts with a dot")
    m = b"".join([
        hdr("From", "dot@client.own.test"),
        hdr("To", "bob@own.test"),
        hdr("Subject", "Dot-stuffing test"),
        hdr("Date", DATE),
        hdr("Message-ID", "<dots.0001@client.own.test>"),
        CRLF,
        "\r\n".join(body).encode() + CRLF,
    ])
    dot_lines = sum(1 for line in m.split(CRLF) if line.startswith(b"."))
    facts = {"subject": "Dot-stuffing test", "from_header": "dot@client.own.test",
             "message_id": "<dots.0001@client.own.test>", "attachments": [],
             "lines_starting_with_dot": dot_lines}
    return m, facts


# ---------------------------------------------------------------- case: forwarded-message

def forwarded_message():
    xlsx = b"PK\x03\x04" + pseudo_bytes("smtpsniff-own-numbers.xlsx", 3000)
    IB = b"=_inner_0001"
    inner1 = b"".join([
        hdr("From", "Frank Inner <frank@partner.test>"),
        hdr("To", "dave@client.own.test"),
        hdr("Subject", "Quarterly numbers"),
        hdr("Date", "Mon, 02 Mar 2026 09:00:00 +0000"),
        hdr("Message-ID", "<inner.0001@partner.test>"),
        hdr("MIME-Version", "1.0"),
        b'Content-Type: multipart/mixed; boundary="' + IB + b'"' + CRLF,
        CRLF,
        b"--" + IB + CRLF,
        b"Content-Type: text/plain; charset=us-ascii" + CRLF,
        CRLF,
        b"Numbers attached." + CRLF,
        CRLF,
        b"--" + IB + CRLF,
        b"Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name=\"numbers.xlsx\"" + CRLF,
        b"Content-Transfer-Encoding: base64" + CRLF,
        b'Content-Disposition: attachment; filename="numbers.xlsx"' + CRLF,
        CRLF,
        b64_body(xlsx),
        CRLF,
        b"--" + IB + b"--" + CRLF,
    ])
    inner2 = b"".join([
        hdr("From", "Grace Other <grace@elsewhere.test>"),
        hdr("To", "dave@client.own.test"),
        hdr("Subject", "Lunch on Friday?"),
        hdr("Date", "Mon, 02 Mar 2026 12:30:00 +0000"),
        hdr("Message-ID", "<inner.0002@elsewhere.test>"),
        CRLF,
        b"Shall we have lunch on Friday?" + CRLF,
    ])
    B = b"=_smtpsniff_fwd_0001"
    m = b"".join([
        hdr("From", "Dave Outer <dave@client.own.test>"),
        hdr("To", "erin@own.test"),
        hdr("Subject", "Fwd: Quarterly numbers"),
        hdr("Date", DATE),
        hdr("Message-ID", "<fwd.0001@client.own.test>"),
        hdr("MIME-Version", "1.0"),
        b'Content-Type: multipart/mixed; boundary="' + B + b'"' + CRLF,
        CRLF,
        b"--" + B + CRLF,
        b"Content-Type: text/plain; charset=us-ascii" + CRLF,
        CRLF,
        b"Erin, see the two forwarded messages." + CRLF,
        CRLF,
        b"--" + B + CRLF,
        b'Content-Type: message/rfc822; name="Quarterly numbers.eml"' + CRLF,
        b'Content-Disposition: attachment; filename="Quarterly numbers.eml"' + CRLF,
        CRLF,
        inner1,
        CRLF,
        b"--" + B + CRLF,
        b"Content-Type: message/rfc822" + CRLF,
        CRLF,
        inner2,
        CRLF,
        b"--" + B + b"--" + CRLF,
    ])
    # Each inner message ends with its own CRLF, then one CRLF more before the
    # delimiter: the part body (the attachment's bytes) is the inner message exactly.
    facts = {
        "subject": "Fwd: Quarterly numbers",
        "from_header": "Dave Outer <dave@client.own.test>",
        "message_id": "<fwd.0001@client.own.test>",
        # Each attached message is listed whole, then what it carries, one
        # level down (DESIGN.md: depth 0 the message's own, 1 inside).
        "attachments": [
            fact("Quarterly numbers.eml", "message/rfc822", inner1),
            fact("numbers.xlsx",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 xlsx, depth=1),
            fact(None, "message/rfc822", inner2),
        ],
        "inner_headers": [
            {"from": "Frank Inner <frank@partner.test>", "to": "dave@client.own.test",
             "subject": "Quarterly numbers", "contains_attachment": "numbers.xlsx (listed after it, depth 1)"},
            {"from": "Grace Other <grace@elsewhere.test>", "to": "dave@client.own.test",
             "subject": "Lunch on Friday?"},
        ],
    }
    return m, facts


def nested_message():
    """A forward of a forward: the original (with an executable) inside the
    first forward, inside the message, each level with an attachment of its
    own after the message it carries."""
    exe = b"MZ" + pseudo_bytes("smtpsniff-own-invoice.pdf.exe", 4094)
    notes = b"".join(b"note %d: see the original below" % i + CRLF for i in range(40))
    own = b"".join(b"line %d of the outer attachment" % i + CRLF for i in range(30))
    OB = b"=_orig_0001"
    orig = b"".join([
        hdr("From", "Mallory <billing@invoices.test>"),
        hdr("To", "frank@partner.test"),
        hdr("Subject", "Invoice 2026-0042"),
        hdr("Date", "Mon, 02 Mar 2026 08:00:00 +0000"),
        hdr("Message-ID", "<orig.0001@invoices.test>"),
        hdr("MIME-Version", "1.0"),
        b'Content-Type: multipart/mixed; boundary="' + OB + b'"' + CRLF,
        CRLF,
        b"--" + OB + CRLF,
        b"Content-Type: text/plain; charset=us-ascii" + CRLF,
        CRLF,
        b"Please pay the attached invoice." + CRLF,
        CRLF,
        b"--" + OB + CRLF,
        b'Content-Type: application/octet-stream; name="invoice.pdf.exe"' + CRLF,
        b"Content-Transfer-Encoding: base64" + CRLF,
        b'Content-Disposition: attachment; filename="invoice.pdf.exe"' + CRLF,
        CRLF,
        b64_body(exe),
        CRLF,
        b"--" + OB + b"--" + CRLF,
    ])
    FB = b"=_fwd1_0001"
    fwd1 = b"".join([
        hdr("From", "Frank Inner <frank@partner.test>"),
        hdr("To", "dave@client.own.test"),
        hdr("Subject", "Fwd: Invoice 2026-0042"),
        hdr("Date", "Mon, 02 Mar 2026 09:00:00 +0000"),
        hdr("Message-ID", "<fwd1.0001@partner.test>"),
        hdr("MIME-Version", "1.0"),
        b'Content-Type: multipart/mixed; boundary="' + FB + b'"' + CRLF,
        CRLF,
        b"--" + FB + CRLF,
        b"Content-Type: text/plain; charset=us-ascii" + CRLF,
        CRLF,
        b"Is this one ours?" + CRLF,
        CRLF,
        b"--" + FB + CRLF,
        b'Content-Type: message/rfc822; name="Invoice 2026-0042.eml"' + CRLF,
        b'Content-Disposition: attachment; filename="Invoice 2026-0042.eml"' + CRLF,
        CRLF,
        orig,
        CRLF,
        b"--" + FB + CRLF,
        b'Content-Type: text/plain; charset=us-ascii; name="notes.txt"' + CRLF,
        b"Content-Transfer-Encoding: 7bit" + CRLF,
        b'Content-Disposition: attachment; filename="notes.txt"' + CRLF,
        CRLF,
        notes,
        CRLF,
        b"--" + FB + b"--" + CRLF,
    ])
    B = b"=_smtpsniff_nested_0001"
    m = b"".join([
        hdr("From", "Dave Outer <dave@client.own.test>"),
        hdr("To", "erin@own.test"),
        hdr("Subject", "Fwd: Fwd: Invoice 2026-0042"),
        hdr("Date", DATE),
        hdr("Message-ID", "<nested.0001@client.own.test>"),
        hdr("MIME-Version", "1.0"),
        b'Content-Type: multipart/mixed; boundary="' + B + b'"' + CRLF,
        CRLF,
        b"--" + B + CRLF,
        b"Content-Type: text/plain; charset=us-ascii" + CRLF,
        CRLF,
        b"Erin, Frank forwarded this; the original is inside." + CRLF,
        CRLF,
        b"--" + B + CRLF,
        b'Content-Type: message/rfc822; name="Fwd Invoice.eml"' + CRLF,
        b'Content-Disposition: attachment; filename="Fwd Invoice.eml"' + CRLF,
        CRLF,
        fwd1,
        CRLF,
        b"--" + B + CRLF,
        b'Content-Type: text/plain; charset=us-ascii; name="outer.txt"' + CRLF,
        b'Content-Disposition: attachment; filename="outer.txt"' + CRLF,
        CRLF,
        own,
        CRLF,
        b"--" + B + b"--" + CRLF,
    ])
    # A part's body ends before the CRLF of the delimiter line (RFC 2046
    # 5.1.1): each text attachment is its lines, the last CRLF included,
    # since one more CRLF comes before the delimiter.
    facts = {
        "subject": "Fwd: Fwd: Invoice 2026-0042",
        "from_header": "Dave Outer <dave@client.own.test>",
        "message_id": "<nested.0001@client.own.test>",
        "attachments": [
            fact("Fwd Invoice.eml", "message/rfc822", fwd1),
            fact("Invoice 2026-0042.eml", "message/rfc822", orig, depth=1),
            fact("invoice.pdf.exe", "application/octet-stream", exe, depth=2),
            fact("notes.txt", "text/plain", notes, depth=1),
            fact("outer.txt", "text/plain", own),
        ],
    }
    return m, facts


# ---------------------------------------------------------------- small plain messages

def plain_message(subject, frm, to, msgid, body_lines=("Hello.",), extra=b""):
    m = b"".join([
        hdr("From", frm), hdr("To", to), hdr("Subject", subject), hdr("Date", DATE),
        hdr("Message-ID", msgid), extra, CRLF,
        b"".join(line.encode() + CRLF for line in body_lines),
    ])
    return m, {"subject": subject, "from_header": frm, "message_id": msgid, "attachments": []}


def bdat_message():
    """~7 KB text; lines starting with '.' (a lone '.' too), which BDAT carries as is."""
    lines = ["This message is sent with BDAT chunks (RFC 3030).", ".",
             ".a line starting with a dot is not stuffed in BDAT", ".."]
    for i in range(1, 121):
        lines.append("chunked line %03d: the quick brown fox jumps over the lazy dog" % i)
    lines.append(".")
    lines.append("end")
    return plain_message("BDAT chunking test", "chunky@client.own.test", "alice@own.test",
                         "<bdat.0001@client.own.test>", lines)
