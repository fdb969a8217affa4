#!/bin/bash
# SPDX-License-Identifier: MIT
# t0400: mailhook-milter against miltertest(8) (Lua scripts in tests/milter/)
# and a real mailhookd: macros present and absent, RFC 2047 subjects, many
# recipients and messages, aborts, huge and malformed headers, control
# header removal on and off, and mailhookd down (events spooled, stored
# after it starts). Every filter answer must be "continue".
. "$(dirname "$0")/lib/tap.sh"
MILTER=$top_builddir/src/milter/mailhook-milter
MT_DIR=$top_srcdir/tests/milter
plan 30
if ! command -v miltertest >/dev/null || ! command -v python3 >/dev/null; then
    skip_all "miltertest or python3 not installed (Debian: miltertest, python3)"
fi
CONF=$T_DIR/mailhook.conf
SOCK=$T_DIR/run/milter.sock
milter_section() {
    cat <<CONF
milter {
    socket = "unix:$SOCK"
    remove_control_headers = $1
    header_metadata = {"X-Campaign=campaign_name"}
    max_headers = 50
    max_recipients = 30
    max_tags = 8
    ${2:-}
}
CONF
}
write_conf "$CONF" "$(milter_section true)"
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }

# start_milter CONF: in the foreground, logging into the daemon's log (so
# done_testing sees sanitizer reports); waits for its socket.
start_milter() {
    "$MILTER" -f -c "$1" >> "$T_DIR/daemon.log" 2>&1 &
    MILTER_PID=$!
    T_PIDS="$T_PIDS $MILTER_PID"
    wait_for 20 test -S "$SOCK"
}
# stop_milter: SIGTERM, bounded wait; its exit status.
stop_milter() {
    kill -TERM "$MILTER_PID" 2>/dev/null
    local i=0
    while kill -0 "$MILTER_PID" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    wait "$MILTER_PID"
}
run_mt() { # SCRIPT [NAME=VALUE...]: one miltertest run, bounded in time
    local script=$1; shift
    local defs=(-D "SOCKET=unix:$SOCK" -D "LIB=$MT_DIR/lib.lua")
    for d in "$@"; do defs+=(-D "$d"); done
    timeout 120 miltertest "${defs[@]}" -s "$MT_DIR/$script"
}
# evq PYTHON-EXPR: true when the expression holds over the stored email.sent
# events (E: all of them, D: their data, by(qid): the data of those with
# that queue id).
dump_events() { ctl --json events list --type email.sent --limit 100000 > "$T_DIR/events.json"; }
evq() {
    python3 - "$T_DIR/events.json" "$1" <<'PY'
import json, sys
E = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
D = [e["data"] for e in E]
def by(q):
    return [e["data"] for e in E if e["data"].get("queue_id") == q]
ok = eval("(" + sys.argv[2] + "\n)")
if not ok:
    print("false:", sys.argv[2])
sys.exit(0 if ok else 1)
PY
}
count_events() { dump_events && evq "len(E) == $1"; }

check "mailhookd starts" start_daemon "$CONF"
check "mailhook-milter -n accepts the config" "$MILTER" -n -c "$CONF"
check "mailhook-milter starts and listens" start_milter "$CONF"
check "macros, charsets, control headers deleted (basic.lua)" run_mt basic.lua REMOVE=1
check "20 messages, 50 recipients, abort, bad headers on one connection (many.lua)" run_mt many.lua
# miltertest cannot send a header over ~1 KB: a 1 MB one comes from a small
# client; a 3 MB packet is beyond libmilter's limit and drops the connection,
# and the milter keeps serving the next one.
timeout 120 python3 "$top_srcdir/tests/helpers/milter_client.py" "$SOCK" QBIG 100 1048576 3000000 10 \
    > "$T_DIR/big.out" 2>&1
check "1 MB header: continue; 3 MB: dropped; next connection fine" \
    bash -c "printf '1 continue\n2 continue\n3 dropped\n4 continue\n' | diff - '$T_DIR/big.out'"
check "milter exits 0 on SIGTERM after sending its queue" stop_milter
# 2 (QB1) + 6 charsets + 1 without macros + 40 + 30 + 1 (QAFTER) + QHDRS +
# QBAD + 3 big headers
check "every accepted message's events are stored" wait_for 15 count_events 85
dump_events
check "QB1: one event per recipient, data exactly as specified" evq '
[list(d) for d in by("QB1")] == [["queue_id","message_id","from","recipient","client_addr",
  "client_name","sasl_username","size","subject","header_from","header_to","tenant","tags",
  "metadata","milter"]] * 2 and sorted(d["recipient"] for d in by("QB1")) == ["r1@example.org","r2@example.org"]
and all(d["from"] == "Alice@Example.COM" and d["message_id"] == "<b1@example.com>" and
  d["client_addr"] == "192.0.2.1" and d["client_name"] == "mx.example.net" and
  d["sasl_username"] == "alice" and d["tenant"] == "alice" and d["milter"] is True and
  d["subject"] == "\u00e9l\u00e8ve \U0001F600" and d["header_from"] == "Jos\u00e9 <alice@example.com>" and
  d["tags"] == ["vip","news","promo"] and
  d["metadata"] == {"campaign_name":"spring","campaign_id":"c1","n":3} and d["size"] > 200
  for d in by("QB1"))'
check "RFC 2047 subjects decoded (latin1, KOI8-R, ISO-2022-JP, UTF-8 Q)" evq '
by("QCS-latin1")[0]["subject"] == "caf\u00e9 cr\u00e8me" and
by("QCS-koi8")[0]["subject"] == "\u041f\u0440\u0438\u0432\u0435\u0442" and
by("QCS-jp")[0]["subject"] == "\u306b\u307b\u3093" and
by("QCS-utf8q")[0]["subject"] == "na\u00efve text"'
check "unknown charset and broken encoded word: stored, readable part kept" evq '
"abc" in by("QCS-unknown")[0]["subject"] and by("QCS-broken")[0]["subject"].endswith("tail")'
check "no macros: connect facts, no queue id, no tenant" evq '
[d for d in D if "queue_id" not in d] == [d for d in D if d.get("subject") == "no macros"] and
[(d["from"], d["client_addr"], d["client_name"], "tenant" in d, "sasl_username" in d)
 for d in D if d.get("subject") == "no macros"] == [("mailer", "198.51.100.7", "nomacro.example.net", False, False)]'
check "null sender (a notice): no email.sent" evq '
[d for d in D if d.get("subject") == "null sender"] == []'
check "no queue id is logged" grep -q "no queue id (macro i)" "$T_DIR/daemon.log"
check "20 messages on one connection: 2 events each" evq '
all(len(by("QM%02d" % i)) == 2 for i in range(1, 21))'
check "50 recipients: max_recipients (30) events" evq 'len(by("QR50")) == 30'
check "recipients over the bound are logged" grep -q "QR50: bounds reached: 0 headers, 20 recipients" "$T_DIR/daemon.log"
check "aborted message: no event; next message on the connection: its event" evq '
by("QABORT") == [] and len(by("QAFTER")) == 1 and by("QAFTER")[0]["subject"] == "after abort"'
check "more headers than max_headers: event made, late control header not seen" evq '
len(by("QHDRS")) == 1 and by("QHDRS")[0]["tags"] == [] and by("QHDRS")[0]["subject"] == "many headers"'
check "malformed headers: event made, good tag kept, bad metadata ignored" evq '
len(by("QBAD")) == 1 and by("QBAD")[0]["tags"] == ["ok"] and by("QBAD")[0]["metadata"] == {}'
check "bad metadata is logged" grep -q "X-Mailhook-Metadata ignored: not JSON" "$T_DIR/daemon.log"
check "1 MB header: event stored with the full size" evq '
by("QBIG-2")[0]["size"] > 1048576 and by("QBIG-2")[0]["subject"] == "big header" and by("QBIG-3") == []'

# remove_control_headers = false: the same messages, nothing deleted. A
# queue of one event: a message with two recipients is spooled directly by
# the callback.
CONF2=$T_DIR/mailhook-keep.conf
write_conf "$CONF2" "$(milter_section false "queue_events = 1")"
check "milter restarts with remove_control_headers = false" start_milter "$CONF2"
check "control headers kept (basic.lua REMOVE=0)" run_mt basic.lua REMOVE=0

# mailhookd down: the events are spooled, and stored once it is back.
stop_daemon
check "message accepted while mailhookd is down" run_mt spool.lua
check "milter stops cleanly" stop_milter
check "queue full: events spooled by the callback, none lost" \
    grep -qE "stopped: [0-9]+ events queued, [1-9][0-9]* spooled directly \(queue full\), 0 lost" \
    "$T_DIR/daemon.log"
check "its event is in the spool" grep -q '"queue_id":"QSPOOL"' -r "$T_DIR/spool/new"
check "mailhookd starts again" start_daemon "$CONF"
check "the spooled event reaches the store" wait_for 15 bash -c \
    "'$MAILHOOKCTL' -c '$CONF' --json events list --type email.sent --limit 100000 | grep -q QSPOOL"
stop_daemon
done_testing
