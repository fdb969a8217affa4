#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/replicate-maillog.py IN OUT N - grow a real Postfix maillog to N lines.

Writes back-to-back copies of IN into OUT until OUT has exactly N lines (the
last copy may be cut short, like a log read mid-day). In each copy:

  * every Postfix queue id of IN (the "ID:" after "program[pid]: ", found in
    a first pass) is replaced, wherever it appears in a line ("sender
    non-delivery notification: ID", "queued as ID" between two instances,
    message-id=<...ID@host>), by a new id that is unique in all of OUT and
    has the same format: short ids keep their 5 hex digits of microseconds
    and get a fresh hex "inode" part; long ids (enable_long_queue_ids) get
    their seconds field moved with the copy's timestamps, keep their
    microseconds, and get a fresh inode part after the 'z';
  * timestamps move forward: copy k is shifted by k * (span of IN + 1 s), so
    OUT's time never goes back (BSD "Mmm dd hh:mm:ss" - day zero-padded as
    Postfix's maillog_file writes it, or space-padded as syslog does, kept
    from IN - and RFC 3339 "yyyy-mm-ddThh:mm:ss[.frac]+zz:zz" both work);
  * message-id=<x@y> of copy k > 0 becomes <x.rK@y>, so message ids stay
    unique too. Pids and everything else are copied unchanged.

Prints the line count, size and time taken. Python 3 standard library only.
"""
import calendar
import os
import re
import sys
import time

SAFE = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"  # Postfix long-id alphabet
LONG_ID = r"[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{10}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]+"
SHORT_ID = r"[0-9A-F]{6,}"
# "... program[pid]: ID: ..." - the id that names a message.
ID_AT = re.compile(r"^.*? [^ \[]+\[\d+\]: (" + LONG_ID + "|" + SHORT_ID + r"): ")
TOKEN = re.compile(r"(?<![0-9A-Za-z])(" + LONG_ID + "|" + SHORT_ID + r")(?![0-9A-Za-z])")
MSGID = re.compile(r"(message-id=<)([^>@]*)(@[^>]*>|>)")

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
BSD = re.compile(r"^([A-Z][a-z]{2}) ( ?\d{1,2}) (\d\d):(\d\d):(\d\d)(\.\d+)? ")
ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)? ")


def enc(n, base, width=0):
    s = ""
    while True:
        n, d = divmod(n, base)
        s = SAFE[d] + s
        if n == 0:
            break
    return s.rjust(width, "0")


def dec(s, base):
    n = 0
    for c in s:
        n = n * base + SAFE.index(c)
    return n


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: replicate-maillog.py IN OUT N")
    src, dst, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
    t0 = time.time()
    with open(src, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().splitlines()
    if not lines:
        sys.exit("replicate-maillog: %s is empty" % src)

    ids = set()
    for ln in lines:
        m = ID_AT.match(ln)
        if m:
            ids.add(m.group(1))
    id_list = sorted(ids)
    index = {q: i for i, q in enumerate(id_list)}
    year = time.localtime(os.path.getmtime(src)).tm_year

    # Each line -> (epoch seconds or None, fraction, tz, template parts).
    # Parts alternate: literal text, id index (int), literal text, ...
    parsed = []
    space_pad = False
    first = last = None
    for ln in lines:
        secs, frac, tz, rest, style = None, "", "", ln, None
        m = BSD.match(ln)
        if m:
            mon = MONTHS.index(m.group(1)) + 1 if m.group(1) in MONTHS else 1
            if m.group(2).startswith(" "):
                space_pad = True
            secs = calendar.timegm((year, mon, int(m.group(2)), int(m.group(3)),
                                    int(m.group(4)), int(m.group(5)), 0, 0, 0))
            frac, rest, style = m.group(6) or "", ln[m.end():], "bsd"
        else:
            m = ISO.match(ln)
            if m:
                secs = calendar.timegm(tuple(int(m.group(i)) for i in range(1, 7)) + (0, 0, 0))
                frac, tz, rest, style = m.group(7) or "", m.group(8) or "", ln[m.end():], "iso"
        if secs is not None:
            first = secs if first is None else min(first, secs)
            last = secs if last is None else max(last, secs)
        parts, pos = [], 0
        for t in TOKEN.finditer(rest):
            if t.group(1) in index:
                parts.append(rest[pos:t.start()])
                parts.append(index[t.group(1)])
                pos = t.end()
        parts.append(rest[pos:])
        has_msgid = "message-id=<" in rest
        parsed.append((secs, frac, tz, style, parts, has_msgid))
    span = (last - first + 1) if first is not None else 1

    ts_cache = {}

    def stamp(secs, frac, tz, style):
        key = (secs, style)
        s = ts_cache.get(key)
        if s is None:
            tm = time.gmtime(secs)
            if style == "bsd":
                day = ("%2d" if space_pad else "%02d") % tm.tm_mday
                s = "%s %s %02d:%02d:%02d" % (MONTHS[tm.tm_mon - 1], day, tm.tm_hour, tm.tm_min, tm.tm_sec)
            else:
                s = time.strftime("%Y-%m-%dT%H:%M:%S", tm)
            if len(ts_cache) > 100000:
                ts_cache.clear()
            ts_cache[key] = s
        return s + frac + tz + " "

    counter = 0x100000  # fresh "inode" numbers, unique over the whole output
    written, copy = 0, 0
    with open(dst, "w", encoding="utf-8", errors="surrogateescape", buffering=1 << 20) as out:
        while written < want:
            shift = copy * span
            new_ids = []
            for q in id_list:
                if "z" in q:   # long id: SSSSSSUUUUzINODE
                    new_ids.append(enc(dec(q[:6], 52) + shift, 52, 6) + q[6:10] + "z" + enc(counter + 51 ** 4, 51))
                else:                              # short id: UUUUU + hex inode
                    new_ids.append(q[:5] + "%X" % counter)
                counter += 1
            tag = ".r%d" % copy
            buf = []
            for secs, frac, tz, style, parts, has_msgid in parsed:
                body = "".join(p if isinstance(p, str) else new_ids[p] for p in parts)
                if has_msgid and copy:
                    body = MSGID.sub(lambda m: m.group(1) + m.group(2) + tag + m.group(3), body)
                buf.append(body if secs is None else stamp(secs + shift, frac, tz, style) + body)
                written += 1
                if written >= want:
                    break
            out.write("\n".join(buf))
            out.write("\n")
            copy += 1
    size = os.path.getsize(dst)
    print("replicate-maillog: %s: %d lines (%d copies of %d lines, %d queue ids each), "
          "%.1f MiB, %.1f s" % (dst, written, copy, len(lines), len(id_list),
                                size / 1048576.0, time.time() - t0))


if __name__ == "__main__":
    main()
