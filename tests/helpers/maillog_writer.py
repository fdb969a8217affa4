#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""maillog_writer.py LOG MESSAGES [--pace SECONDS]

Append Postfix delivery lines for MESSAGES messages (one recipient each:
queue active, delivered, removed) to LOG the way syslog does, rotating on
the way: at 1/4 by rename (logrotate "create": the writer keeps writing a few
lines into the renamed file before it reopens), at 1/2 by copytruncate, at
3/4 by rename again (older copies shifted to .2, .3). Writes in bursts with
short pauses so a reader is caught mid-file. Bounded: MESSAGES lines * pace.
Prints the recipients it wrote, one per line, to stdout.
"""
import os, shutil, sys, time

log, n = sys.argv[1], int(sys.argv[2])
pace = float(sys.argv[sys.argv.index("--pace") + 1]) if "--pace" in sys.argv else 0.002

def shift(base):
    for k in (3, 2, 1):
        if os.path.exists(f"{base}.{k}"):
            os.replace(f"{base}.{k}", f"{base}.{k + 1}")

def lines_for(i):
    qid = "%010X" % (0x1A00000000 + i)
    ts = time.strftime("%b %e %H:%M:%S", time.localtime())
    rcpt = f"r{i}@dst.test"
    return rcpt, [
        f"{ts} mx postfix/qmgr[100]: {qid}: from=<s@src.test>, size=100, nrcpt=1 (queue active)\n",
        f"{ts} mx postfix/smtp[200]: {qid}: to=<{rcpt}>, relay=mx.dst.test[192.0.2.1]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n",
        f"{ts} mx postfix/qmgr[100]: {qid}: removed\n",
    ]

f = open(log, "a", buffering=1)
rotations = {n // 4: "rename", n // 2: "copytruncate", 3 * n // 4: "rename"}
after_rename = None
for i in range(n):
    if i in rotations:
        if rotations[i] == "rename":
            shift(log)
            os.rename(log, log + ".1")
            after_rename = 5          # syslog keeps writing to the old file a while
        else:
            shift(log)
            f.flush()
            shutil.copyfile(log, log + ".1")
            os.truncate(log, 0)
            f.close()
            f = open(log, "a", buffering=1)
    if after_rename is not None:
        after_rename -= 1
        if after_rename == 0:
            f.close()
            f = open(log, "a", buffering=1)
            after_rename = None
    rcpt, ls = lines_for(i)
    for l in ls:
        f.write(l)
    print(rcpt, flush=True)
    if i % 50 == 0:
        time.sleep(pace * 50)
f.close()
