#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/helpers/syslog_sink.py - a syslog socket for the Sendmail tests.

    syslog_sink.py SOCKET OUTFILE [--host NAME] [--lifetime SECS]

Binds a Unix datagram socket at SOCKET (mode 0666, what syslog(3) writes to
as /dev/log) and appends every message to OUTFILE as one traditional syslog
line, the way rsyslog writes /var/log/mail.log:

    "<22>Dec  2 16:40:01 sm-mta[123]: ..."  ->  "Dec  2 16:40:01 NAME sm-mta[123]: ..."

The priority is dropped, the host NAME (default "sm") goes after the
timestamp (syslog(3) sends none), a message without a timestamp gets the
current local time. Each line is one write(2) on a file opened O_APPEND, so
another writer of the same file (Postfix's postlogd) never splits a line.

The sink exits by itself after --lifetime seconds (default 300), at once on
SIGTERM or SIGINT, and removes SOCKET. Python 3 standard library only.
"""
import argparse
import os
import re
import signal
import socket
import sys
import time

STAMP = re.compile(rb"^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d ")
PRI = re.compile(rb"^<\d{1,3}>")


def main():
    ap = argparse.ArgumentParser(description="syslog datagram socket to a file")
    ap.add_argument("socket")
    ap.add_argument("outfile")
    ap.add_argument("--host", default="sm")
    ap.add_argument("--lifetime", type=float, default=300.0)
    args = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(args.socket)
    os.chmod(args.socket, 0o666)
    s.settimeout(0.2)
    out = os.open(args.outfile, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    host = args.host.encode()
    end = time.monotonic() + args.lifetime
    n = 0
    try:
        while not stop and time.monotonic() < end:
            try:
                msg = s.recv(65536)
            except socket.timeout:
                continue
            except InterruptedError:
                continue
            msg = PRI.sub(b"", msg).rstrip(b"\0\r\n")
            m = STAMP.match(msg)
            if m:
                stamp, rest = msg[:m.end() - 1], msg[m.end():]
            else:
                stamp, rest = time.strftime("%b %e %H:%M:%S").encode(), msg
            # one message, one line: syslog(3) callers may embed newlines
            rest = rest.replace(b"\n", b" ")
            os.write(out, stamp + b" " + host + b" " + rest + b"\n")
            n += 1
    finally:
        os.close(out)
        s.close()
        try:
            os.unlink(args.socket)
        except FileNotFoundError:
            pass
    print("syslog_sink: %d lines, exiting (%s)" % (n, "signal" if stop else "lifetime over"),
          file=sys.stderr)


if __name__ == "__main__":
    main()
