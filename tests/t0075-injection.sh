#!/bin/bash
# SPDX-License-Identifier: MIT
# t0075: outside text never forges a line. Control characters (CR, LF, ESC,
# C1 controls, U+2028) in everything mailhook quotes back: a producer's
# event (type, id, timestamp, broken JSON; several pipelined on one
# connection, as the ingest protocol allows), a spool file's name, admin
# requests (commands, ids, endpoint names, backfilled events), mailhookctl's
# arguments, mailhook.conf values, maillog lines, and the headers the milter
# reads. Each answer stays exactly one line per request, and mailhookd's and
# the milter's logs hold only their own lines, all printable.
#
# SPDX-License-Identifier: MIT
. "$(dirname "$0")/lib/tap.sh"
plan 18
if ! command -v python3 >/dev/null; then
    skip_all "python3 not installed"
fi
CONF=$T_DIR/mailhook.conf
LOG=$T_DIR/mail.log
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }

# printable_lines PREFIX FILE: every line of FILE starts with PREFIX (when
# PREFIX is not empty) and holds no control character (C0, DEL, C1),
# U+2028 or U+2029; the offending lines are shown, escaped.
cat > "$T_DIR/printable_lines.py" <<'PY'
import re, sys
prefix, bad = sys.argv[1].encode(), re.compile(rb"[\x00-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")
lines = open(sys.argv[2], "rb").read().split(b"\n")
if lines and lines[-1] == b"":
    lines.pop()
wrong = [l for l in lines if not l.startswith(prefix) or bad.search(l)]
for l in wrong[:20]:
    print(repr(l))
sys.exit(1 if wrong or not lines else 0)
PY
PRINTABLE_LINES="python3 $T_DIR/printable_lines.py"

# One maillog line whose recipient holds ESC, a C1 control and U+2028.
printf '%s mx postfix/smtp[200]: 1A2B3C4D01: to=<a\033[2Jb\xc2\x9bc\xe2\x80\xa8d@dst.test>, relay=mx.dst.test[192.0.2.1]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 ok)\n' \
    "$(date '+%b %e %H:%M:%S')" > "$LOG"
write_conf "$CONF" "maillog \"inj\" {
    path = \"$LOG\"
    start_at = \"beginning\"
}"
check "daemon starts" start_daemon "$CONF"

# ---- ingest: one connection, events pipelined, good and bad interleaved.
FAKE=evt_01KE6SJT80FFFFFFFFFFFFFFFF
python3 - "$T_DIR/run/ingest.sock" "$T_DIR/ingest" "$FAKE" <<'PY'
import json, socket, sys
path, out, fake = sys.argv[1:4]
T = "2026-01-02T03:04:05.678Z"
def ev(n, type="app.ok", id=None, ts=T):
    return {"id": id or "evt_01KE6SJT80%016d" % n, "type": type, "timestamp": ts, "data": {"n": n}}
events = [
    ev(1),
    ev(2, type="app.x\n+" + fake),
    ev(3),
    ev(4, id="evt_\n+" + fake),
    ev(5),
    ev(6, ts="\n+" + fake),
    ev(7, type="app.\r\n~FORGED tempfail"),
    ev(8, ts=T + "\r\nFORGED"),
    b'{"id":\r\x01,"FORGED":1}',
    ev(10, type="app.\u0085FORGED\u2028x\u009b2J"),
    ev(11, id="evt_01KE6SJT80\u2028FORGED"),
    ev(12),
]
lines = [e if isinstance(e, bytes) else json.dumps(e, separators=(",", ":")).encode() for e in events]
with open(out + ".good", "w") as f:
    for e in events:
        print(e["id"] if isinstance(e, dict) and e["data"]["n"] in (1, 3, 5, 12) else "-", file=f)
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(path)
s.sendall(b"".join(l + b"\n" for l in lines))
s.shutdown(socket.SHUT_WR)
answers = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    answers += d
open(out + ".answers", "wb").write(answers)
PY
check "ingest: one answer line per pipelined event, in order, no forged acknowledgement" \
    python3 - "$T_DIR/ingest" <<'PY'
import sys
base = sys.argv[1]
want = open(base + ".good").read().split()
got = open(base + ".answers", "rb").read().split(b"\n")
if got and got[-1] == b"":
    got.pop()
ok = len(got) == len(want)
for w, g in zip(want, got):
    ok = ok and (g == b"+" + w.encode() if w != "-" else g.startswith(b"-"))
if not ok:
    print("want", want)
    for g in got:
        print(repr(g))
sys.exit(0 if ok else 1)
PY
check "ingest: every answer is printable" $PRINTABLE_LINES "" "$T_DIR/ingest.answers"
check "ingest: the good events are stored, nothing of the forged ones" bash -c "
    for id in \$(grep evt_ '$T_DIR/ingest.good'); do '$MAILHOOKCTL' -c '$CONF' events show \$id >/dev/null || exit 1; done
    ! '$MAILHOOKCTL' -c '$CONF' events show $FAKE >/dev/null 2>&1 &&
    [ \$('$MAILHOOKCTL' -c '$CONF' --json events list --type app.ok | wc -l) -eq 4 ]"

# ---- spool: a producer names its file as it likes (new/ is writable by
# every producer); a bad event in it is quoted, the file name too.
SPOOLED=evt_01KE6SJT80SSSSSSSSSSSSSSS1
{
    printf '{"id":"%s","type":"app.spooled","timestamp":"2026-01-02T03:04:05.678Z","data":{}}\n' "$SPOOLED"
    printf '{"id":"evt_01KE6SJT80SSSSSSSSSSSSSSS2","type":"app.x\\n+%s","timestamp":"2026-01-02T03:04:05.678Z","data":{}}\n' "$FAKE"
} > "$T_DIR/spool/tmp/inj"
mv "$T_DIR/spool/tmp/inj" "$T_DIR/spool/new/inj$(printf '\nFORGED spool name\r\033[2J')"
check "spool: the file with a newline in its name is drained and quarantined" \
    wait_for 20 bash -c "'$MAILHOOKCTL' -c '$CONF' events show $SPOOLED >/dev/null && [ -z \"\$(ls -A '$T_DIR/spool/new')\" ] && [ -n \"\$(ls -A '$T_DIR/spool/bad')\" ]"

# ---- admin: raw requests on one connection; every answer one JSON line
# whose error text is printable.
python3 - "$T_DIR/run/admin.sock" "$T_DIR/admin" <<'PY'
import json, socket, sys
path, out = sys.argv[1:3]
bad_event = {"id": "evt_01KE6SJT80BBBBBBBBBBBBBBB1", "type": "app.\nFORGED",
             "timestamp": "2026-01-02T03:04:05.678Z", "data": {}}
reqs = [
    {"cmd": "no\nFORGED such command"},
    {"cmd": "events.show", "id": "evt_\r\nFORGED"},
    {"cmd": "endpoint.show", "name": "a\nFORGED"},
    {"cmd": "endpoint.enable", "name": "\u0085FORGED\u2028"},
    {"cmd": "endpoint.update", "name": "a\x1b[2J", "set": {"timeout_ms": 1000}},
    {"cmd": "endpoint.remove", "name": "a\nFORGED"},
    {"cmd": "deliveries.show", "id": "dlv_\nFORGED"},
    {"cmd": "deliveries.retry", "id": "dlv_\r\nFORGED"},
    {"cmd": "replay", "since": 1, "endpoint": "a\nFORGED"},
    {"cmd": "backfill", "events": [], "endpoint": "a\nFORGED"},
    {"cmd": "backfill", "events": [bad_event]},
    {"cmd": "endpoint.add", "endpoint": {"name": "a\nFORGED", "url": "https://example.com/"}},
]
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(path)
s.sendall(b"".join(json.dumps(r).encode() + b"\n" for r in reqs))
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
lines = data.split(b"\n")
if lines and lines[-1] == b"":
    lines.pop()
# One JSON-escaped line per answer: what the error text holds, escaped.
with open(out + ".errors", "w") as f:
    print(len(reqs), len(lines), file=f)
    for l in lines:
        r = json.loads(l)
        print("ok" if r.get("ok") else "refused", json.dumps(r.get("error") or ""), file=f)
PY
check "admin: one answer per request, each a refusal" bash -c "
    read want got < '$T_DIR/admin.errors' && [ \"\$want\" = \"\$got\" ] && [ \$(grep -c '^ok ' '$T_DIR/admin.errors') -eq 0 ]"
check "admin: every error quotes the request, printable" python3 - "$T_DIR/admin.errors" <<'PY'
import json, re, sys
bad = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
errors = [json.loads(l.split(" ", 1)[1]) for l in open(sys.argv[1]).read().splitlines()[1:]]
wrong = [e for e in errors if bad.search(e)]
quoted = [e for e in errors if "FORGED" in e]
for e in wrong:
    print(json.dumps(e))
sys.exit(0 if errors and not wrong and len(quoted) >= 10 else 1)
PY

# ---- mailhookctl: what it says about its own arguments stays on its line.
ctl emit "$(printf 'App.x\nFORGED emit')" '{}' 2> "$T_DIR/emit.err"
ctl emit app.x "$(printf '{\r\001}')" 2>> "$T_DIR/emit.err"
ctl events list --since "$(printf '5\nFORGED since')" 2>> "$T_DIR/emit.err"
check "mailhookctl: errors about a type, JSON data and a time quote them printable" \
    bash -c "grep -q '\"App.x?FORGED emit\"' '$T_DIR/emit.err' && grep -q \"near '?'\" '$T_DIR/emit.err' &&
             grep -q '\"5?FORGED since\"' '$T_DIR/emit.err' && ! grep -q '^FORGED' '$T_DIR/emit.err' &&
             ! grep -qP '[\x00-\x08\x0b-\x1f\x7f]' '$T_DIR/emit.err'"

# ---- maillog lines: parse prints the log's text, the reader stores it.
ctl parse "$LOG" > "$T_DIR/parse.out" 2>/dev/null
check "mailhookctl parse prints a log line's recipient printable" \
    bash -c "[ \$(wc -l < '$T_DIR/parse.out') -eq 2 ] && grep -q 'a?\\[2Jb?c?d@dst.test' '$T_DIR/parse.out'" 
check "parse output holds no control character" $PRINTABLE_LINES "" "$T_DIR/parse.out"
check "the reader stores that line's events, the recipient as it was" \
    wait_for 10 bash -c "'$MAILHOOKCTL' -c '$CONF' --json events list --type email.delivered | grep -qF 'a\\u001b[2Jb'"

# ---- mailhook.conf: values quoted in its errors (mailhookd -n).
badconf() { # NAME TEXT: a config with TEXT appended; mailhookd -n's stderr in NAME.err
    write_conf "$T_DIR/$1.conf" "$2"
    "$MAILHOOKD" -n -c "$T_DIR/$1.conf" > /dev/null 2> "$T_DIR/$1.err"
}
badconf c1 "$(printf 'endpoint "e" {\n    url = "https://example.com/"\n    headers = {"X-A\xc2\x85FORGED header\xe2\x80\xa8"}\n}')"
badconf c2 "$(printf 'log = "std\xe2\x80\xa8FORGED log\xc2\x9b"')"
badconf c3 "$(printf 'user = "a\\nFORGED user\\r"')"
check "mailhookd -n: a refused endpoint header is quoted printable" \
    bash -c "grep -q 'X-A?FORGED header?' '$T_DIR/c1.err' && $PRINTABLE_LINES '' '$T_DIR/c1.err'"
check "mailhookd -n: a refused value is quoted printable" \
    bash -c "grep -q 'std?FORGED log?' '$T_DIR/c2.err' && grep -q 'a?FORGED user?' '$T_DIR/c3.err' &&
             cat '$T_DIR/c2.err' '$T_DIR/c3.err' > '$T_DIR/c23.err' && $PRINTABLE_LINES '' '$T_DIR/c23.err'"

# ---- the milter: headers it refuses are quoted in its log.
MILTER=$top_builddir/src/milter/mailhook-milter
MSOCK=$T_DIR/run/milter.sock
if command -v miltertest >/dev/null && [ -x "$MILTER" ]; then
    write_conf "$T_DIR/milter.conf" "milter {
    socket = \"unix:$MSOCK\"
}"
    "$MILTER" -f -c "$T_DIR/milter.conf" >> "$T_DIR/milter.log" 2>&1 &
    MILTER_PID=$!
    T_PIDS="$T_PIDS $MILTER_PID"
    check "milter starts" wait_for 20 test -S "$MSOCK"
    check "miltertest: headers with control characters (inject.lua), every answer continue" \
        timeout 120 miltertest -D "SOCKET=unix:$MSOCK" -D "LIB=$top_srcdir/tests/milter/lib.lua" \
            -s "$top_srcdir/tests/milter/inject.lua"
    check "the message's event is stored" \
        wait_for 20 bash -c "'$MAILHOOKCTL' -c '$CONF' --json events list --type email.sent | grep -q QINJ1"
    kill -TERM "$MILTER_PID"
    i=0; while kill -0 "$MILTER_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    wait "$MILTER_PID"
    check "milter log: the refused headers are quoted, every line the milter's own and printable" \
        bash -c "[ \$(grep -c FORGED '$T_DIR/milter.log') -ge 4 ] && $PRINTABLE_LINES mailhook-milter: '$T_DIR/milter.log'"
else
    skip "miltertest or mailhook-milter missing"
    skip "miltertest or mailhook-milter missing"
    skip "miltertest or mailhook-milter missing"
    skip "miltertest or mailhook-milter missing"
fi

stop_daemon
check "mailhookd log: the rejections are there, every line mailhookd's own and printable" \
    bash -c "[ \$(grep -c FORGED '$T_DIR/daemon.log') -ge 5 ] && $PRINTABLE_LINES mailhookd: '$T_DIR/daemon.log'"
done_testing
