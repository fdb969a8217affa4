#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/helpers/notify_sink.py - a stand-in for systemd's notification
socket (sd_notify(3)), for the Type=notify tests (t0055).

    notify_sink.py SOCKET OUTFILE PROBE [--lifetime SECS]

Binds a Unix datagram socket at SOCKET (what NOTIFY_SOCKET names) and
appends every datagram to OUTFILE as one line, its assignments joined by
spaces ("READY=1 STATUS=serving"). When a datagram says READY=1 the sink
connects to the Unix stream socket PROBE at once, before it writes the
line, and adds "probe=ok" or "probe=ERRNO-NAME": READY=1 sent before the
daemon listens shows as a failed probe.

The sink exits by itself after --lifetime seconds (default 60), at once on
SIGTERM or SIGINT, and removes SOCKET. Python 3 standard library only.
"""
import argparse
import errno
import os
import signal
import socket
import sys
import time


def probe(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(path)
        return "probe=ok"
    except OSError as e:
        return "probe=" + errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("outfile")
    ap.add_argument("probe")
    ap.add_argument("--lifetime", type=float, default=60)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(a.socket)
    os.chmod(a.socket, 0o666)
    end = time.monotonic() + a.lifetime
    try:
        with open(a.outfile, "a", buffering=1) as out:
            while time.monotonic() < end:
                s.settimeout(max(0.1, end - time.monotonic()))
                try:
                    data = s.recv(65536)
                except socket.timeout:
                    continue
                fields = data.decode("utf-8", "replace").split("\n")
                fields = [f for f in fields if f]
                if "READY=1" in fields:
                    fields.append(probe(a.probe))
                out.write(" ".join(fields) + "\n")
    finally:
        s.close()
        os.unlink(a.socket)


if __name__ == "__main__":
    main()
