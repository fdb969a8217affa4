#!/bin/bash
# SPDX-License-Identifier: MIT
# t0210: a real Postfix on 127.0.0.1 delivers to a sink that answers 250,
# 450 or 5xx per recipient, plus error:, discard: and a dead port; mailhookd
# follows the maillog Postfix really writes. Every recipient gets exactly the
# events its fate calls for; `mailhookctl parse` of the same log agrees.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/postfix.sh"
plan 22
if ! why=$(pf_available); then
    skip_all "$why"
fi
pf_setup
CONF=$T_DIR/mailhook.conf
write_conf "$CONF" "maillog \"postfix\" {
    path = \"$PF_MAILLOG\"
    start_at = \"beginning\"
}"
check "postfix starts" pf_start
check "mailhookd starts following the maillog" start_daemon "$CONF"

S=sender@src.test
pf_send -s "Order 1" $S ok1@a.test unknown1@a.test full1@a.test spam1@a.test >/dev/null
pf_send -s "Order 2" $S x@error.test y@discard.test >/dev/null
pf_send -s "Order 3" $S defer1@a.test z@dead.test >/dev/null
pf_sendmail -s "Local" $S ok2@a.test
# Deferred mail expires after PF_QUEUE_LIFETIME seconds; then bounces go back.
check "postfix finishes (deliveries, deferrals, expiry)" pf_wait_queue_empty 90
# Let the reader catch up with the last lines (bounded).
wait_for 20 bash -c "'$MAILHOOKCTL' -c '$CONF' --json events list --type email.failed --limit 1000 | grep -c recipient | grep -qx 4"

"$MAILHOOKCTL" -c "$CONF" --json events list --limit 100000 > "$T_DIR/events.json"
# One line per event: TYPE RECIPIENT [detail]
python3 - "$T_DIR/events.json" > "$T_DIR/summary" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line); d = e["data"]
    extra = d.get("bounce_class") or (d.get("reason") if d.get("discarded") else "") or ""
    print(e["type"], d.get("recipient", "-"), extra)
PY
sort "$T_DIR/summary" | diag
has() { grep -qx -- "$1" "$T_DIR/summary"; }
count() { grep -c -- "$1" "$T_DIR/summary"; }

check "ok1: delivered"                 has "email.delivered ok1@a.test "
check "unknown1: bounced unknown-user" has "email.bounced unknown1@a.test unknown-user"
check "full1: bounced mailbox-full"    has "email.bounced full1@a.test mailbox-full"
check "spam1: bounced spam-block"      has "email.bounced spam1@a.test spam-block"
check "error transport: failed"        has "email.failed x@error.test "
check "discard: failed, marked, not delivered" bash -c "grep -qx 'email.failed y@discard.test discarded' '$T_DIR/summary' && ! grep -q '^email.delivered y@discard' '$T_DIR/summary'"
check "defer1: deferred at least once" has "email.deferred defer1@a.test "
check "defer1: failed at expiry"       has "email.failed defer1@a.test "
check "dead port: deferred, then failed" bash -c "grep -qx 'email.deferred z@dead.test ' '$T_DIR/summary' && grep -qx 'email.failed z@dead.test ' '$T_DIR/summary'"
check "sendmail(1) submission: delivered" has "email.delivered ok2@a.test "
check "email.sent exactly once per recipient (9)" bash -c "[ \$(grep -c '^email.sent ' '$T_DIR/summary') -eq 9 ] && [ -z \"\$(grep '^email.sent ' '$T_DIR/summary' | sort | uniq -d)\" ]"
check "one final outcome per recipient" bash -c "[ \$(grep -cE '^email.(delivered|bounced|failed) ' '$T_DIR/summary') -eq 9 ]"
check "the MTA's bounce notices to the sender are not reported" bash -c "! grep -q ' $S' '$T_DIR/summary'"

python3 - "$T_DIR/events.json" > "$T_DIR/check.out" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
bad = []
for e in ev:
    d = e["data"]
    for k in ("queue_id", "from", "recipient"):
        if k not in d: bad.append((e["type"], "missing " + k))
    if e["type"] != "email.sent" and e["type"] != "email.failed" and "dsn" not in d:
        bad.append((e["type"], d.get("recipient"), "no dsn"))
    if d.get("from") not in (None, "sender@src.test"): bad.append(("from", d.get("from")))
sent = {e["data"]["recipient"]: e for e in ev if e["type"] == "email.sent"}
for e in ev:
    if e["type"] != "email.sent" and e["timestamp"] < sent[e["data"]["recipient"]]["timestamp"]:
        bad.append(("outcome before sent", e["data"]["recipient"]))
print(bad)
sys.exit(1 if bad else 0)
PY
check "every event has queue_id, from, recipient (and dsn for outcomes)" [ $? -eq 0 ]
diag < "$T_DIR/check.out"
check "message_id from cleanup is carried" grep -q '"message_id":"<' "$T_DIR/events.json"
check "delivered events carry relay, delay, delays and the SMTP reply" \
    bash -c "grep '\"email.delivered\"' '$T_DIR/events.json' | grep 'ok1@a.test' | grep '\"relay\":\"127.0.0.1' | grep '\"delays\":\"' | grep -q '\"smtp_response\":\"250'"
check "deferred attempts are numbered" bash -c "grep '\"email.deferred\"' '$T_DIR/events.json' | grep -q '\"attempt\":1'"
check "status counts the lines read, nothing skipped as garbage" \
    bash -c "'$MAILHOOKCTL' -c '$CONF' --json status | python3 -c 'import json,sys; m=json.load(sys.stdin)[\"maillog\"][\"postfix\"]; sys.exit(0 if m[\"lines\"]>20 and m[\"skipped_garbage\"]==0 else 1)'"

# Offline: the same log through mailhookctl parse gives the same events.
"$MAILHOOKCTL" parse --json "$PF_MAILLOG" 2>/dev/null > "$T_DIR/parsed.json"
cmp_key='import json,sys
for l in open(sys.argv[1]):
    e=json.loads(l); d=e["data"]
    print(e["type"], e["timestamp"], d.get("queue_id"), d.get("recipient"), d.get("attempt"))'
python3 -c "$cmp_key" "$T_DIR/events.json" | sort > "$T_DIR/a"
python3 -c "$cmp_key" "$T_DIR/parsed.json" | sort > "$T_DIR/b"
check "mailhookctl parse agrees with the daemon" diff "$T_DIR/a" "$T_DIR/b"
stop_daemon
pf_stop
done_testing
