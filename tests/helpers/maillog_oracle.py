#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""maillog_oracle.py - an independent check of the maillog reader's events.

Usage: maillog_oracle.py [--content-filter HOST:PORT]... LOG EVENTS.ndjson

LOG is a real Postfix or Sendmail log; EVENTS is what `mailhookctl parse
--json LOG` made of it (the same code as the daemon's reader). This script
knows the rules on its own, written from the MTAs' log formats and not from
mailhook's code, and holds the events to them:

  * every delivery outcome line, per recipient, gives exactly one event of
    the right type at the line's time, under the message's first queue id:
      Postfix  status=sent -> email.delivered (discard: email.failed),
               deferred -> email.deferred, bounced -> email.bounced (the
               error transport without a remote reply: email.failed),
               "status=expired" -> email.failed for every recipient
               still pending;
      Sendmail stat=Sent -> email.delivered, Deferred -> email.deferred,
               dsn=5.x.x -> email.bounced, "sender notify: Cannot send
               message for ..." -> email.failed for every recipient
               still pending;
  * except the lines that are no outcome of user mail, which give no event:
    a hand-off to a queue id of the same log that first appears after the
    message did ("queued as Q", "Q Message accepted for delivery"), a hop to
    a named content filter, an address-verification probe, the MTA's own
    notices (null sender, Sendmail's "QID: QID2: DSN:/sender notify:/
    postmaster notify:/return to sender:" and what they deliver, including
    a notice's delivery logged under the parent's queue id);
  * no other outcome event (delivered, deferred, bounced, failed) exists;
  * every recipient with an outcome event has exactly one email.sent, none
    after its first outcome.
Timestamps are compared as month, day and time of day (the year is the
reader's inference, checked apart: in a log with traditional timestamps
every event lies within the year before the file's modification time).

Prints one line per disagreement and a summary; exit 1 when there is one.
"""
import argparse
import calendar
import collections
import json
import os
import re
import sys
from datetime import datetime, timezone

MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
TRAD = re.compile(r"^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\S+) ")
RFC = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d) (\S+) ")
PROG = re.compile(r"^([A-Za-z0-9_.-]+(?:/[A-Za-z0-9_./-]+)?)(?:\[(\d+)\])?: (.*)$")
PF_QID = r"(?:[0-9A-F]{6,20}|[0-9BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz]{10,12}z[0-9BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxy]{1,16})"
SM_QID = r"(?=[A-Za-z]{0,19}[0-9])[0-9A-Za-z]{8,20}"


def kv(text):
    """Postfix/Sendmail "k=v, k=v, status=..." -> dict (status/stat last, whole rest)."""
    out = {}
    m = re.search(r"(?:^|, )(status|stat)=", text)
    head, tail = (text[:m.start()], text[m.end():]) if m else (text, None)
    for part in re.split(r", (?=[a-z_]+=)", head):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip(" ,")] = v
    if m:
        out["status"] = tail
    return out


def mmdd_time(line):
    m = TRAD.match(line)
    if m:
        return (MONTHS[m.group(1)], int(m.group(2)), int(m.group(3)), int(m.group(4)),
                int(m.group(5))), line[m.end():]
    m = RFC.match(line)
    if m:
        t = datetime(*map(int, m.group(1, 2, 3, 4, 5, 6)))
        off = m.group(7)
        if off != "Z":
            sign = 1 if off[0] == "+" else -1
            secs = sign * (int(off[1:3]) * 3600 + int(off[4:6]) * 60)
            t = datetime.fromtimestamp(t.replace(tzinfo=timezone.utc).timestamp() - secs, timezone.utc)
        return (t.month, t.day, t.hour, t.minute, t.second), line[m.end():]
    return None, None


def addrs(to):
    out = []
    for a in to.split(","):
        a = a.strip()
        if a.startswith("<") and a.endswith(">"):
            a = a[1:-1]
        if a:
            out.append(a)
    return out


class Oracle:
    def __init__(self, filters):
        self.filters = set(filters)
        self.first = {}          # qid -> index of its first line
        self.root = {}           # qid -> first queue id of its chain
        self.notice = set()      # qids that are the MTA's own notices
        self.notice_started = set()  # qids for which Sendmail began a notice
        self.sender = {}         # qid -> envelope sender
        self.pending = collections.defaultdict(dict)  # root -> rcpt -> done?
        self.expect = []         # (lineno, root, rcpt, type, mmddtime)
        self.lines = []

    def load(self, path):
        with open(path, "rb") as f:
            for raw in f:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
        self.traditional = any(TRAD.match(line) for line in self.lines[:50])
        self.link_filter_ids()

    FILTER_ID = re.compile(r"pmg-smtp-filter\[\d+\]: ([0-9A-F]{12,24}): (accept mail to|moved mail for|block mail to|"
                           r"reject mail for) <([^>]*)>(?: \(([0-9A-Za-z]+)\))?")

    def link_filter_ids(self):
        """A content filter that answers with its own id ("250 2.5.0 OK (FID)", PMG)
        names, in its own lines, what became of each recipient: re-injected as a
        new queue id, or quarantined/blocked. Linked in advance: its lines may
        come before or after the hop's."""
        self.filter_fate = {}  # (fid, rcpt) -> ("reinjected", qid) | ("dropped", text)
        self.fid_of_hop = {}   # (qid, rcpt) -> fid
        for line in self.lines:
            m = self.FILTER_ID.search(line)
            if m:
                fid, what, rcpt, nq = m.groups()
                if what == "accept mail to" and nq:
                    self.filter_fate[(fid, rcpt)] = ("reinjected", nq)
                elif what != "accept mail to":
                    self.filter_fate[(fid, rcpt)] = ("dropped", what)
        for line in self.lines:
            rec = self.classify(line)
            if not rec or not rec.get("qid"):
                continue
            f = kv(rec["body"])
            m = re.search(r"OK \(([0-9A-F]{12,24})\)\)?$", f.get("status", ""))
            if m and "to" in f:
                for rcpt in addrs(f["to"]):
                    self.fid_of_hop[(rec["qid"], rcpt)] = m.group(1)
                    fate = self.filter_fate.get((m.group(1), rcpt))
                    if fate and fate[0] == "reinjected":
                        self.root[fate[1]] = rec["qid"]
        # First appearance of each queue id (hand-offs go to ids first seen later).
        for i, line in enumerate(self.lines):
            rec = self.classify(line)
            if rec and rec["qid"] and rec["qid"] not in self.first:
                self.first[rec["qid"]] = i

    def classify(self, line):
        ts, rest = mmdd_time(line)
        if ts is None:
            return None
        m = PROG.match(rest)
        if m is None:
            return None
        prog, body = m.group(1), m.group(3)
        name = prog.split("/")[0]
        if name.startswith("postfix"):
            mta = "postfix"
            qm = re.match(r"(" + PF_QID + r"): (.*)$", body)
        elif name in ("sendmail", "sm-mta", "sm-msp-queue") or name.startswith("sm-"):
            mta = "sendmail"
            qm = re.match(r"(" + SM_QID + r"): (.*)$", body)
        else:
            return None
        if qm is None:
            return {"qid": None}
        return {"ts": ts, "mta": mta, "service": prog.split("/")[-1] if "/" in prog else "",
                "qid": qm.group(1), "body": qm.group(2)}

    def root_of(self, qid):
        while qid in self.root and self.root[qid] != qid:
            qid = self.root[qid]
        return qid

    def hop_target(self, qid, index, text):
        m = re.search(r"queued as (" + PF_QID + r")\)?$", text) or \
            re.search(r"^\(?(" + SM_QID + r") Message accepted for delivery", text)
        if m and m.group(1) != qid:
            nq = m.group(1)
            # This MTA (or the next one writing to the same log) took the
            # message in before it answered: the new id is seen between the
            # message's first line and the hop's line.
            # A message whose envelope line came before the log's first line
            # (it started outside the window) may have handed off to an id
            # the log showed first.
            if nq in self.first and self.first[nq] < index and \
                    (self.first.get(qid, index) < self.first[nq] or qid not in self.sender):
                return nq
        return None

    def run(self):
        for i, line in enumerate(self.lines):
            rec = self.classify(line)
            if not rec or not rec["qid"]:
                continue
            self.line(i, rec)

    def outcome(self, i, rec, root, rcpt, typ):
        self.expect.append((i + 1, root, rcpt, typ, rec["ts"]))
        if typ != "email.deferred":
            self.pending[root][rcpt] = True
        else:
            self.pending[root].setdefault(rcpt, False)

    def line(self, i, rec):
        qid, body = rec["qid"], rec["body"]
        root = self.root_of(qid)
        # Notices: Postfix "sender non-delivery notification: Q", Sendmail "Q: Q2: DSN: ..."
        m = re.match(r"sender (?:non-delivery|delay|delivery status) notification: (" + PF_QID + r")", body)
        if m:
            self.notice.add(m.group(1))
            return
        m = re.match(r"(" + SM_QID + r"): (DSN|sender notify|postmaster notify|return to sender): (.*)", body)
        if m:
            self.notice.add(m.group(1))
            self.notice_started.add(qid)
            if m.group(3).startswith("Cannot send message for"):
                self.expire(i, rec, root)
            return
        f = kv(body)
        if "from" in f and ("size" in f or "nrcpt" in f or "nrcpts" in f):
            sender = f["from"]
            if sender.startswith("<") and sender.endswith(">"):
                sender = sender[1:-1]
            self.sender.setdefault(qid, sender)
            if sender == "" or qid in self.notice:
                self.notice.add(qid)
            if rec["mta"] == "postfix" and f.get("status", "").startswith("expired"):
                self.expire(i, rec, root)
            return
        if "to" not in f or "status" not in f:
            return
        status = f["status"]
        if qid in self.notice or root in self.notice:
            return
        if rec["mta"] == "postfix":
            word = status.split(" ", 1)[0]
            text = status[len(word):].strip()
            if text.startswith("(") and text.endswith(")"):
                text = text[1:-1]
            if word in ("deliverable", "undeliverable", "undeliverable-but-not-cached"):
                return
            for rcpt in addrs(f["to"]):
                if word == "sent":
                    nq = self.hop_target(qid, i, text)
                    relay = f.get("relay", "")
                    hostport = re.sub(r"^[^\[]*\[([^\]]*)\]:?", r"\1:", relay)
                    if nq:
                        self.root[nq] = root
                        continue
                    if hostport in self.filters or relay in self.filters:
                        fate = self.filter_fate.get((self.fid_of_hop.get((qid, rcpt)), rcpt))
                        if fate and fate[0] == "dropped":
                            self.outcome(i, rec, root, rcpt, "email.failed")
                        continue
                    self.outcome(i, rec, root, rcpt,
                                 "email.failed" if rec["service"] == "discard" else "email.delivered")
                elif word == "deferred":
                    self.outcome(i, rec, root, rcpt, "email.deferred")
                elif word == "bounced":
                    local = rec["service"] == "error" and "said:" not in text
                    self.outcome(i, rec, root, rcpt, "email.failed" if local else "email.bounced")
            return
        # Sendmail
        dsn = f.get("dsn", "")
        for rcpt in addrs(f["to"]):
            if qid in self.notice_started and rcpt == self.sender.get(qid):
                continue  # a notice going back to the sender, under the parent's id
            if status.startswith("Sent"):
                text = status[4:].strip()
                nq = self.hop_target(qid, i, text)
                if nq:
                    self.root[nq] = root
                    continue
                self.outcome(i, rec, root, rcpt, "email.delivered")
            elif dsn.startswith("5"):
                self.outcome(i, rec, root, rcpt, "email.bounced")
            else:
                self.outcome(i, rec, root, rcpt, "email.deferred")

    def expire(self, i, rec, root):
        for rcpt, done in list(self.pending[root].items()):
            if not done:
                self.outcome(i, rec, root, rcpt, "email.failed")


def ev_mmdd(ts):
    t = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")
    return (t.month, t.day, t.hour, t.minute, t.second), t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--content-filter", action="append", default=[])
    ap.add_argument("log")
    ap.add_argument("events")
    a = ap.parse_args()
    o = Oracle(a.content_filter)
    o.load(a.log)
    o.run()
    mtime = datetime.fromtimestamp(os.stat(a.log).st_mtime, timezone.utc)
    problems = []
    got = collections.Counter()
    sent = collections.defaultdict(list)
    first_outcome = {}
    with open(a.events) as f:
        for line in f:
            ev = json.loads(line)
            d = ev["data"]
            key_ts, t = ev_mmdd(ev["timestamp"])
            if o.traditional and (t > mtime.replace(tzinfo=None) or
                                  (mtime.replace(tzinfo=None) - t).days > 366):
                problems.append("event %s %s %s dated %s, outside the year before the file's "
                                "mtime %s" % (ev["type"], d.get("queue_id"), d.get("recipient"),
                                              ev["timestamp"], mtime.isoformat()))
            k = (d.get("queue_id"), d.get("recipient"))
            if ev["type"] == "email.sent":
                sent[k].append(t)
                continue
            if ev["type"] in ("email.delivered", "email.deferred", "email.bounced", "email.failed"):
                got[(d.get("queue_id"), d.get("recipient"), ev["type"], key_ts)] += 1
                first_outcome[k] = min(first_outcome.get(k, t), t)
    want = collections.Counter()
    where = {}
    for lineno, root, rcpt, typ, ts in o.expect:
        key = (root, rcpt, typ, ts)
        want[key] += 1
        where.setdefault(key, []).append(lineno)
    for key in sorted(set(want) | set(got), key=lambda k: (where.get(k, [0])[0], str(k))):
        if want[key] != got[key]:
            problems.append("line %s: %s for %s queue %s at %02d-%02d %02d:%02d:%02d: expected %d, got %d"
                            % (",".join(map(str, where.get(key, ["-"]))), key[2], key[1], key[0],
                               *key[3], want[key], got[key]))
    for k in first_outcome:
        n = len(sent.get(k, []))
        if n != 1:
            problems.append("queue %s recipient %s: %d email.sent for a recipient with outcomes"
                            % (k[0], k[1], n))
        elif sent[k][0] > first_outcome[k]:
            problems.append("queue %s recipient %s: email.sent after its first outcome" % k)
    for k, v in sent.items():
        if k not in first_outcome and len(v) > 1:
            problems.append("queue %s recipient %s: %d email.sent" % (k[0], k[1], len(v)))
    for p in problems:
        print(p)
    print("%s: %d outcome lines/recipients expected, %d outcome events, %d problems"
          % (os.path.basename(a.log), sum(want.values()), sum(got.values()), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
