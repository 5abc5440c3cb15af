#!/usr/bin/python3
"""A small SMTP server for the live tests: ESMTP with PIPELINING and
STARTTLS (RFC 3207), one thread per connection.

usage: smtpd.py ADDR PORT CERT KEY

RCPT to an address whose local part starts with "reject" is refused
(550 5.1.1); everything else is accepted and thrown away. Prints "ready"
on stdout once it listens. Replies are written one per command, as they
are read, so a pipelined client gets its replies in order (RFC 2920).
"""
import socket
import socketserver
import ssl
import sys

NAME = "tls.live.test"


class Session(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        ctx = self.server.ctx
        tls = False
        self.reply("220 %s ESMTP live-test" % NAME)
        in_tx = False
        rcpts = 0
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.rstrip(b"\r\n").decode("latin-1")
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                ext = ["PIPELINING", "8BITMIME", "SIZE 52428800"]
                if not tls:
                    ext.append("STARTTLS")
                lines = [NAME] + ext
                for i, l in enumerate(lines):
                    sep = " " if i == len(lines) - 1 else "-"
                    self.wfile.write(("250%s%s\r\n" % (sep, l)).encode())
                self.wfile.flush()
                in_tx = False
            elif verb == "HELO":
                self.reply("250 " + NAME)
                in_tx = False
            elif verb == "STARTTLS" and not tls:
                self.reply("220 2.0.0 Ready to start TLS")
                # Nothing the client pipelined after STARTTLS may be
                # taken (RFC 3207 §4.2): the buffer is empty here.
                conn = ctx.wrap_socket(self.request, server_side=True)
                self.request = conn
                self.rfile = conn.makefile("rb")
                self.wfile = conn.makefile("wb")
                tls = True
                in_tx = False
            elif verb == "MAIL":
                in_tx = True
                rcpts = 0
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                if not in_tx:
                    self.reply("503 5.5.1 Error: need MAIL command")
                elif cmd[8:].lstrip(" <").lower().startswith("reject"):
                    self.reply("550 5.1.1 <%s>: Recipient address "
                               "rejected" % cmd[8:].strip(" <>"))
                else:
                    rcpts += 1
                    self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if not in_tx or rcpts == 0:
                    self.reply("554 5.5.1 Error: no valid recipients")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                while True:
                    l = self.rfile.readline(1 << 20)
                    if not l or l in (b".\r\n", b".\n"):
                        break
                if not l:
                    return
                in_tx = False
                self.reply("250 2.0.0 Ok: queued as LIVE")
            elif verb == "RSET":
                in_tx = False
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    addr, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        sys.argv[4]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = Server((addr, port), Session)
    srv.ctx = ctx
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
