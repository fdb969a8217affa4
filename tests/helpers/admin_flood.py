#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""admin_flood.py SOCKET N GATE READY - a flood of idle admin connections.

Opens N connections to mailhookd's admin socket (SOCKET) and creates the file
READY; holds them, idle, until the file GATE is removed; then sends
{"cmd":"status"} on each and prints, one line per connection in the order
they were opened, what its first answer line was: "ok", the error code of a
refusal ("busy"), or "none" (closed without an answer, or none within 10 s).

Every wait is bounded: the gate is waited for 60 s at most.
"""
import json
import os
import select
import socket
import sys
import time


def first_line(s, deadline):
    data = b""
    while b"\n" not in data:
        left = max(deadline - time.monotonic(), 0)  # 0: only what is there
        if not select.select([s], [], [], left)[0]:
            return None
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:  # closed with our request unread
            chunk = b""
        if not chunk:
            break
        data += chunk
    return data.split(b"\n")[0] if b"\n" in data else None


def verdict(line):
    if line is None:
        return "none"
    answer = json.loads(line)
    return "ok" if answer.get("ok") is True else answer.get("code", "?")


def main():
    path, n, gate, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    conns = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        conns.append(s)
    open(ready, "w").close()
    deadline = time.monotonic() + 60
    while os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.05)
    for s in conns:
        try:
            s.sendall(b'{"cmd":"status"}\n')
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused already: its answer is waiting to be read
    deadline = time.monotonic() + 10
    for s in conns:
        print(verdict(first_line(s, deadline)))
        s.close()


if __name__ == "__main__":
    main()
