#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/helpers/smtp_filter.py - an after-queue content filter for the
Postfix tests, speaking SMTP the way amavis does.

    smtp_filter.py PORT --reinject PORT [--lifetime SECS]

Listens on 127.0.0.1:PORT for Postfix's content_filter (smtp:[127.0.0.1]:PORT)
and decides by the domain of the message's first recipient:

    q.test   re-inject into 127.0.0.1:--reinject first, then answer as amavis
             does: "250 2.0.0 Ok, id=ID, from MTA([127.0.0.1]:P): <the
             re-injection's reply, with its "queued as">"
    n.test   re-inject first, then answer "250 2.0.0 Ok, id=ID, accepted":
             no "queued as" (a filter the log reader can follow only by
             Message-ID and recipient)
    d.test   do not re-inject; answer "250 2.7.0 Ok, discarded, id=ID - spam"
             (amavis's reply for mail it drops)
    other    re-inject first, then answer as for q.test

A re-injection that fails is answered "451 4.5.0 re-injection failed: ...".
Every RCPT is accepted. Only 127.0.0.1 is used. The server exits by itself
after --lifetime seconds (default 120), and at once on SIGTERM or SIGINT;
idle connections are dropped after 60 s, a re-injection after 30 s. One
line per message goes to stdout. Python 3.11 standard library only.
"""
import argparse
import asyncio
import signal
import smtplib
import sys

from smtp_sink import path_arg, read_data  # one SMTP grammar for both test servers

HOST = "127.0.0.1"
IDLE_TIMEOUT = 60
REINJECT_TIMEOUT = 30


def reinject(port, mail_from, rcpts, data):
    """Send the message on unchanged; the DATA reply, as "CODE TEXT"."""
    with smtplib.SMTP(HOST, port, timeout=REINJECT_TIMEOUT) as s:
        s.ehlo("filter.test")
        code, text = s.mail(mail_from)
        if code != 250:
            raise smtplib.SMTPException("MAIL: %d %s" % (code, text.decode()))
        for r in rcpts:
            code, text = s.rcpt(r)
            if code != 250:
                raise smtplib.SMTPException("RCPT: %d %s" % (code, text.decode()))
        code, text = s.data(data)
        if code != 250:
            raise smtplib.SMTPException("DATA: %d %s" % (code, text.decode()))
        return "%d %s" % (code, text.decode("utf-8", "replace"))


class Filter:
    def __init__(self, reinject_port):
        self.reinject_port = reinject_port
        self.counter = 0
        self.conns = set()

    async def decide(self, mail_from, rcpts, data):
        self.counter += 1
        fid = "%05d-%02d" % (4000 + self.counter, 1)
        domain = rcpts[0].rsplit("@", 1)[-1].lower()
        if domain == "d.test":
            reply = "250 2.7.0 Ok, discarded, id=%s - spam" % fid
        else:
            try:
                got = await asyncio.to_thread(reinject, self.reinject_port, mail_from,
                                              rcpts, data)
            except (OSError, smtplib.SMTPException) as e:
                reply = "451 4.5.0 re-injection failed: %s" % str(e).replace("\n", " ")
            else:
                if domain == "n.test":
                    reply = "250 2.0.0 Ok, id=%s, accepted" % fid
                else:
                    reply = "250 2.0.0 Ok, id=%s, from MTA([%s]:%d): %s" % (
                        fid, HOST, self.reinject_port, got)
        print("%s: from=<%s> to=%s -> %s" % (fid, mail_from, ",".join(rcpts), reply),
              flush=True)
        return reply

    async def handle(self, reader, writer):
        task = asyncio.current_task()
        self.conns.add(task)
        try:
            await self.session(reader, writer)
        except (asyncio.TimeoutError, ConnectionError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, ValueError, asyncio.CancelledError):
            pass
        finally:
            self.conns.discard(task)
            try:
                writer.close()
            except Exception:
                pass

    async def session(self, reader, writer):
        def send(line):
            writer.write(line.encode("utf-8", "replace") + b"\r\n")

        async def readline():
            line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT)
            if not line:
                raise ConnectionError("eof")
            return line

        send("220 filter.test ESMTP mailhook test filter")
        await writer.drain()
        mail_from, rcpts = None, []
        while True:
            line = (await readline()).decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                mail_from, rcpts = None, []
                send("250-filter.test")
                send("250-PIPELINING")
                send("250-ENHANCEDSTATUSCODES")
                send("250 8BITMIME")
            elif verb == "HELO":
                mail_from, rcpts = None, []
                send("250 filter.test")
            elif verb == "MAIL":
                mail_from, rcpts = path_arg(arg), []
                send("250 2.1.0 Ok" if mail_from is not None else "501 5.5.4 Syntax")
            elif verb == "RCPT":
                addr = path_arg(arg)
                if mail_from is None or not addr:
                    send("503 5.5.1 Error: need MAIL command")
                else:
                    rcpts.append(addr)
                    send("250 2.1.5 Ok")
            elif verb == "DATA":
                if mail_from is None or not rcpts:
                    send("503 5.5.1 Error: need RCPT command")
                else:
                    send("354 End data with <CR><LF>.<CR><LF>")
                    await writer.drain()
                    data = await read_data(readline)
                    if data is None:
                        send("552 5.3.4 Error: message file too big")
                    else:
                        send(await self.decide(mail_from, rcpts, data))
                    mail_from, rcpts = None, []
            elif verb in ("RSET", "NOOP"):
                if verb == "RSET":
                    mail_from, rcpts = None, []
                send("250 2.0.0 Ok")
            elif verb == "QUIT":
                send("221 2.0.0 Bye")
                await writer.drain()
                return
            else:
                send("502 5.5.2 Error: command not recognized")
            await writer.drain()


async def main():
    ap = argparse.ArgumentParser(description="after-queue SMTP content filter for tests")
    ap.add_argument("port", type=int)
    ap.add_argument("--reinject", type=int, required=True)
    ap.add_argument("--lifetime", type=float, default=120.0)
    args = ap.parse_args()

    flt = Filter(args.reinject)
    server = await asyncio.start_server(flt.handle, HOST, args.port, reuse_address=True)
    print("listening on %s:%d, re-injecting into %d (lifetime %gs)" %
          (HOST, args.port, args.reinject, args.lifetime), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.lifetime)
    except asyncio.TimeoutError:
        pass
    server.close()
    for task in list(flt.conns):
        task.cancel()
    await asyncio.sleep(0)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    sys.exit(0)
