#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""milter_client.py - the MTA side of the milter protocol (version 6), just
enough to send what miltertest cannot: miltertest(8) smashes its stack on a
header value over about 1 KB, so huge headers are sent from here.

    milter_client.py SOCKET QUEUE_ID HEADER_BYTES [HEADER_BYTES...]

One connection per HEADER_BYTES value: a message with queue id
QUEUE_ID-<n> (macro i), one recipient, a Subject, and an X-Big header of
that many bytes. Prints one line per message: "<n> <reply>" where reply is
the end-of-message answer ("continue", "accept") or "dropped" when the
filter closed the connection. Every socket operation times out (10 s).
"""
import socket
import struct
import sys


def packet(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def read_packet(s):
    head = b""
    while len(head) < 4:
        chunk = s.recv(4 - len(head))
        if not chunk:
            raise EOFError
        head += chunk
    (n,) = struct.unpack(">I", head)
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            raise EOFError
        body += chunk
    return body[:1], body[1:]


def reply(s):
    """Skip modification requests; return the final answer's command."""
    while True:
        cmd, _ = read_packet(s)
        if cmd not in (b"m", b"h", b"i", b"+", b"-", b"b", b"e", b"2"):
            return cmd


# Steps the filter may ask not to be waited for (protocol 6, mfdef.h).
NR_CONN, NR_MAIL, NR_RCPT, NR_HDR, NR_EOH, NR_BODY = (0x1000, 0x4000, 0x8000, 0x80, 0x40000,
                                                       0x80000)


def zs(*parts):
    return b"".join(p.encode() + b"\0" for p in parts)


def one_message(path, qid, size):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    try:
        s.sendall(packet(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF)))
        _, neg = read_packet(s)
        (proto,) = struct.unpack(">I", neg[8:12])

        def answer(step):  # like an MTA: wait only where the filter answers
            if not proto & step:
                reply(s)

        s.sendall(packet(b"D", b"C" + zs("{client_addr}", "192.0.2.9")))
        s.sendall(packet(b"C", zs("big.example") + b"4" + struct.pack(">H", 25) + zs("192.0.2.9")))
        answer(NR_CONN)
        s.sendall(packet(b"D", b"M" + zs("i", qid)))
        s.sendall(packet(b"M", zs("<big@example.com>")))
        answer(NR_MAIL)
        s.sendall(packet(b"R", zs("<r@example.org>")))
        answer(NR_RCPT)
        for name, value in (("Subject", "big header"), ("X-Big", "b" * size)):
            s.sendall(packet(b"L", zs(name, value)))
            answer(NR_HDR)
        s.sendall(packet(b"N"))
        answer(NR_EOH)
        s.sendall(packet(b"B", b"body\r\n"))
        answer(NR_BODY)
        s.sendall(packet(b"E"))
        cmd = reply(s)
        s.sendall(packet(b"Q"))
        return {b"c": "continue", b"a": "accept"}.get(cmd, "other:" + cmd.decode("latin1"))
    except (EOFError, ConnectionError, socket.timeout):
        return "dropped"
    finally:
        s.close()


def main():
    path, qid = sys.argv[1], sys.argv[2]
    for i, size in enumerate(sys.argv[3:], 1):
        print(i, one_message(path, "%s-%d" % (qid, i), int(size)), flush=True)


if __name__ == "__main__":
    main()
