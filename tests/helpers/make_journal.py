#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make_journal.py DIR [NAME] < ENTRIES
   make_journal.py --check

Write real systemd journal entries into the journal directory DIR, in the
file DIR/NAME.journal (default NAME: "mail"); entries are appended when the
file exists. The work is done by systemd-journal-remote (Debian package
systemd-journal-remote), fed the Journal Export Format on its stdin, so the
files are what journald itself writes (compression included).

ENTRIES: one entry per line, five tab-separated columns

    USEC  HOST  IDENT  PID  MESSAGE

USEC is __REALTIME_TIMESTAMP (microseconds since the epoch; also used as
__MONOTONIC_TIMESTAMP, with one fixed _BOOT_ID, so that entries sort by
USEC across files); HOST is _HOSTNAME, IDENT SYSLOG_IDENTIFIER, PID _PID,
each "-" for absent. MESSAGE takes the backslash escapes \\\\ \\t \\n \\0 and
\\xHH, so binary messages can be written (they go out in the export
format's binary form).

--check exits 0 when systemd-journal-remote is there, 77 when it is not
(the automake "skip" status). Other failures exit 1 with a message.
"""
import os
import re
import struct
import subprocess
import sys

BOOT_ID = "6d61696c686f6f6b6a6f75726e616c31"  # "mailhookjournal1" in hex
CANDIDATES = ("/usr/lib/systemd/systemd-journal-remote", "/lib/systemd/systemd-journal-remote")


def remote_binary():
    env = os.environ.get("SYSTEMD_JOURNAL_REMOTE")
    for path in ((env,) if env else CANDIDATES):
        if os.access(path, os.X_OK):
            return path
    return None


def unescape(text):
    table = {"\\": b"\\", "t": b"\t", "n": b"\n", "0": b"\0"}

    def one(m):
        s = m.group(1)
        return bytes([int(s[1:], 16)]) if s[0] == "x" else table[s]

    out = b""
    pos = 0
    for m in re.finditer(r"\\(x[0-9A-Fa-f]{2}|[\\tn0])", text):
        out += text[pos:m.start()].encode() + one(m)
        pos = m.end()
    return out + text[pos:].encode()


def field(name, value):
    """One field in the export format: text form when it can be, else binary."""
    if b"\n" in value or any(c < 0x20 and c != 0x09 for c in value):
        return name.encode() + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"
    return name.encode() + b"=" + value + b"\n"


def entry(line, lineno):
    cols = line.split("\t", 4)
    if len(cols) != 5 or not cols[0].isdigit():
        sys.exit(f"make_journal.py: stdin line {lineno}: want USEC HOST IDENT PID MESSAGE")
    usec, host, ident, pid, message = cols
    out = field("__REALTIME_TIMESTAMP", usec.encode())
    out += field("__MONOTONIC_TIMESTAMP", usec.encode())
    out += field("_BOOT_ID", BOOT_ID.encode())
    out += field("_TRANSPORT", b"syslog") + field("PRIORITY", b"6") + field("SYSLOG_FACILITY", b"2")
    for name, value in (("_HOSTNAME", host), ("SYSLOG_IDENTIFIER", ident), ("_PID", pid)):
        if value != "-":
            out += field(name, value.encode())
    return out + field("MESSAGE", unescape(message)) + b"\n"


def main():
    remote = remote_binary()
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if remote else 77)
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: make_journal.py DIR [NAME] < ENTRIES | make_journal.py --check")
    if remote is None:
        print("make_journal.py: systemd-journal-remote not found "
              "(apt-get install systemd-journal-remote)", file=sys.stderr)
        sys.exit(77)
    out = os.path.join(sys.argv[1], (sys.argv[2] if len(sys.argv) == 3 else "mail") + ".journal")
    data = b""
    n = 0
    for lineno, line in enumerate(sys.stdin.buffer.read().decode().split("\n"), 1):
        if line:
            data += entry(line, lineno)
            n += 1
    p = subprocess.run([remote, "--split-mode=none", "--output=" + out, "-"], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0 or f"writing {n} entries" not in err:
        sys.exit(f"make_journal.py: {remote} (exit {p.returncode}) did not write {n} entries "
                 f"to {out}:\n{err}")


main()
