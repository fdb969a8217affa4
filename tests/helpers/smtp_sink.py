#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/helpers/smtp_sink.py - a minimal ESMTP server for the Postfix tests.

    smtp_sink.py PORT [--host 127.0.0.1] [--save DIR] [--lifetime SECS]
                      [--port-file FILE] [--quiet]

Listens on 127.0.0.1:PORT (PORT 0: any free port, written to --port-file)
and answers each RCPT TO by the prefix of the recipient's local part:

    ok*       250 2.1.5 Ok
    defer*    450 4.2.0 <addr>: Mailbox busy, try later
    unknown*  550 5.1.1 <addr>: Recipient address rejected: User unknown in
              local recipient table
    full*     552 5.2.2 <addr>: Mailbox full
    spam*     550 5.7.1 Message rejected as spam
    policy*   553 5.7.1 <addr>: Sender address rejected: not permitted
    other     250 2.1.5 Ok

DATA is accepted with "250 2.0.0 Ok: queued as SINKnnnnnn". EHLO advertises
PIPELINING, 8BITMIME and SIZE; HELO, RSET, NOOP, VRFY and QUIT work too.
Commands may be pipelined (the reader is a buffered stream: replies go out
in order). With --save DIR every accepted message is written as
DIR/SINKnnnnnn.eml (the message as received, dot-unstuffed) and then
DIR/SINKnnnnnn.json (envelope: mail_from, rcpt_to, queue_id, peer) - a test
that sees the .json can read both.

Only 127.0.0.0/8 addresses are accepted for --host. The server exits by
itself after --lifetime seconds (default 120), and at once on SIGTERM or
SIGINT. Idle connections are dropped after 60 s. One line per transaction
goes to stdout unless --quiet. Python 3.11 standard library only.
"""
import argparse
import asyncio
import ipaddress
import json
import os
import signal
import sys

HOSTNAME = "sink.test"
MAX_SIZE = 10240000
IDLE_TIMEOUT = 60
MAX_LINE = 4096

# (prefix, reply template); {addr} is the recipient as given, without <>.
RULES = [
    ("ok", "250 2.1.5 Ok"),
    ("defer", "450 4.2.0 <{addr}>: Mailbox busy, try later"),
    ("unknown", "550 5.1.1 <{addr}>: Recipient address rejected: "
                "User unknown in local recipient table"),
    ("full", "552 5.2.2 <{addr}>: Mailbox full"),
    ("spam", "550 5.7.1 Message rejected as spam"),
    ("policy", "553 5.7.1 <{addr}>: Sender address rejected: not permitted"),
]
DEFAULT_RCPT_REPLY = "250 2.1.5 Ok"


def rcpt_reply(addr):
    local = addr.rsplit("@", 1)[0].lower() if "@" in addr else addr.lower()
    for prefix, reply in RULES:
        if local.startswith(prefix):
            return reply.format(addr=addr)
    return DEFAULT_RCPT_REPLY


def path_arg(arg):
    """'FROM:<a@b> SIZE=1' -> 'a@b' (None when malformed)."""
    _, sep, rest = arg.partition(":")
    if not sep:
        return None
    rest = rest.strip()
    if rest.startswith("<"):
        end = rest.find(">")
        if end < 0:
            return None
        return rest[1:end]
    return rest.split()[0] if rest else None


async def read_data(readline):
    """The DATA body up to the lone dot, dots unstuffed; None past MAX_SIZE
    (the rest is read and dropped). Shared with smtp_filter.py."""
    chunks, size = [], 0
    while True:
        d = await readline()
        if d in (b".\r\n", b".\n"):
            break
        if d.startswith(b"."):
            d = d[1:]
        size += len(d)
        if size <= MAX_SIZE:
            chunks.append(d)
    return b"".join(chunks) if size <= MAX_SIZE else None


class Sink:
    def __init__(self, save_dir, quiet):
        self.save_dir = save_dir
        self.quiet = quiet
        self.counter = 0
        self.conns = set()

    def log(self, text):
        if not self.quiet:
            print(text, flush=True)

    def next_id(self):
        self.counter += 1
        return "SINK%06d" % self.counter

    def save(self, qid, mail_from, rcpts, data, peer):
        if not self.save_dir:
            return
        base = os.path.join(self.save_dir, qid)
        for suffix, payload in (
            (".eml", data),
            (".json", json.dumps({"queue_id": qid, "mail_from": mail_from,
                                  "rcpt_to": rcpts, "peer": peer,
                                  "size": len(data)}).encode() + b"\n"),
        ):
            tmp = base + suffix + ".tmp"
            with open(tmp, "wb") as f:
                f.write(payload)
            os.rename(tmp, base + suffix)

    async def handle(self, reader, writer):
        task = asyncio.current_task()
        self.conns.add(task)
        peer = "%s:%s" % writer.get_extra_info("peername")[:2]
        try:
            await self.session(reader, writer, peer)
        except (asyncio.TimeoutError, ConnectionError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, ValueError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self.conns.discard(task)
            try:
                writer.close()
            except Exception:
                pass

    async def session(self, reader, writer, peer):
        def send(line):
            writer.write(line.encode("utf-8", "replace") + b"\r\n")

        async def readline():
            line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT)
            if not line:
                raise ConnectionError("eof")
            return line

        send("220 %s ESMTP mailhook test sink" % HOSTNAME)
        await writer.drain()
        mail_from, rcpts = None, []
        while True:
            raw = await readline()
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                mail_from, rcpts = None, []
                send("250-%s" % HOSTNAME)
                send("250-PIPELINING")
                send("250-SIZE %d" % MAX_SIZE)
                send("250-ENHANCEDSTATUSCODES")
                send("250 8BITMIME")
            elif verb == "HELO":
                mail_from, rcpts = None, []
                send("250 %s" % HOSTNAME)
            elif verb == "MAIL":
                addr = path_arg(arg)
                if mail_from is not None:
                    send("503 5.5.1 Error: nested MAIL command")
                elif addr is None:
                    send("501 5.5.4 Syntax: MAIL FROM:<address>")
                else:
                    mail_from, rcpts = addr, []
                    send("250 2.1.0 Ok")
            elif verb == "RCPT":
                addr = path_arg(arg)
                if mail_from is None:
                    send("503 5.5.1 Error: need MAIL command")
                elif not addr:
                    send("501 5.5.4 Syntax: RCPT TO:<address>")
                else:
                    reply = rcpt_reply(addr)
                    if reply.startswith("2"):
                        rcpts.append(addr)
                    self.log("rcpt %s -> %s" % (addr, reply[:3]))
                    send(reply)
            elif verb == "DATA":
                if mail_from is None:
                    send("503 5.5.1 Error: need RCPT command")
                elif not rcpts:
                    send("554 5.5.1 Error: no valid recipients")
                else:
                    send("354 End data with <CR><LF>.<CR><LF>")
                    await writer.drain()
                    data = await read_data(readline)
                    if data is None:
                        send("552 5.3.4 Error: message file too big")
                    else:
                        qid = self.next_id()
                        self.save(qid, mail_from, rcpts, data, peer)
                        self.log("%s: from=<%s> to=%s size=%d" %
                                 (qid, mail_from, ",".join("<%s>" % r for r in rcpts), len(data)))
                        send("250 2.0.0 Ok: queued as %s" % qid)
                    mail_from, rcpts = None, []
            elif verb == "RSET":
                mail_from, rcpts = None, []
                send("250 2.0.0 Ok")
            elif verb == "NOOP":
                send("250 2.0.0 Ok")
            elif verb == "VRFY":
                send("252 2.0.0 %s" % arg)
            elif verb == "QUIT":
                send("221 2.0.0 Bye")
                await writer.drain()
                return
            else:
                send("502 5.5.2 Error: command not recognized")
            # Replies go out in command order; pipelined commands simply
            # wait in the reader's buffer.
            await writer.drain()


async def main():
    ap = argparse.ArgumentParser(description="minimal ESMTP sink for tests")
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--save", metavar="DIR")
    ap.add_argument("--lifetime", type=float, default=120.0)
    ap.add_argument("--port-file", metavar="FILE")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    if not ipaddress.ip_address(args.host).is_loopback:
        ap.error("--host must be a loopback address")
    if args.save:
        os.makedirs(args.save, exist_ok=True)

    sink = Sink(args.save, args.quiet)
    server = await asyncio.start_server(sink.handle, args.host, args.port,
                                        limit=MAX_LINE * 16, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    sink.log("listening on %s:%d (lifetime %gs)" % (args.host, port, args.lifetime))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.lifetime)
        why = "signal"
    except asyncio.TimeoutError:
        why = "lifetime over"
    server.close()
    for task in list(sink.conns):
        task.cancel()
    await asyncio.sleep(0)
    sink.log("exiting (%s), %d messages" % (why, sink.counter))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    sys.exit(0)
