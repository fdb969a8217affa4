#!/bin/bash
# SPDX-License-Identifier: MIT
# t0215: a real Postfix with an after-queue content filter, set up as for
# amavis: content_filter = smtp:[127.0.0.1]:FPORT to a filter
# (tests/helpers/smtp_filter.py) that re-injects into a second smtpd on
# 127.0.0.1:RPORT (content_filter= there). The hop into the filter is never
# a delivery: every recipient gets one email.sent and one outcome, under the
# queue id the mail came in with, whether the filter answers with "queued
# as" (q.test), without it (n.test: linked by Message-ID and recipient), or
# drops the mail (d.test: "250 2.7.0 Ok, discarded": email.failed).
#
# Order is forced, not left to timing: the re-injection smtpd HOLDs what it
# receives, and the test releases the hold queue only once Postfix has
# logged every hop into the filter, so a re-injected message is never
# delivered before the hop that led to it is in the log.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/postfix.sh"
plan 17
if ! why=$(pf_available); then
    skip_all "$why"
fi
read -r FPORT RPORT <<<"$(_pf_free_ports 2)"
pf_setup "content_filter = smtp:[127.0.0.1]:$FPORT"
# The re-injection listener, as amavis's 127.0.0.1:10025 in master.cf.
cat >> "$PF_CONF/master.cf" <<EOF
127.0.0.1:$RPORT inet n - n - - smtpd
  -o content_filter=
  -o smtpd_recipient_restrictions=check_client_access,static:HOLD,permit_mynetworks,reject
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks
EOF
touch -d "@$(( $(date +%s) - 60 ))" "$PF_CONF/master.cf"
CONF=$T_DIR/mailhook.conf
write_conf "$CONF" "maillog \"postfix\" {
    path = \"$PF_MAILLOG\"
    start_at = \"beginning\"
    content_filters = {\"127.0.0.1:$FPORT\"}
}"
python3 "$(dirname "$0")/helpers/smtp_filter.py" "$FPORT" --reinject "$RPORT" \
    --lifetime "$PF_LIFETIME" > "$T_DIR/filter.log" 2>&1 < /dev/null &
FILTER_PID=$!
T_PIDS="$T_PIDS $FILTER_PID"
check "the content filter listens" wait_for 10 _pf_listening "$FPORT"
check "postfix starts" pf_start
check "mailhookd starts following the maillog" start_daemon "$CONF"

S=sender@src.test
Q1=$(pf_send -s "q one" $S ok1@q.test)
Q2=$(pf_send -s "q two" $S unknown2@q.test)
Q3=$(pf_send -s "q pair" $S ok3@q.test ok4@q.test)
Q5=$(pf_send -s "n one" $S ok5@n.test)
Q6=$(pf_send -s "d one" $S ok6@d.test)
check "postfix logs the six hops into the filter" wait_for 60 bash -c "[ \$(grep -cE 'relay=127\.0\.0\.1\[127\.0\.0\.1\]:$FPORT, .*status=sent' '$PF_MAILLOG') -eq 6 ]"
check "the re-injected messages wait in the hold queue" grep -q "Client host triggers HOLD action" "$PF_MAILLOG"
check "the hold queue is released" postsuper -c "$PF_CONF" -H ALL
pf_flush
check "postfix delivers what the filter re-injected" pf_wait_queue_empty 60
# The reader catches up: six outcomes (bounded).
wait_for 20 bash -c "'$MAILHOOKCTL' -c '$CONF' --json events list --limit 1000 | grep -cE '\"type\":\"email.(delivered|bounced|failed)\"' | grep -qx 6"

"$MAILHOOKCTL" -c "$CONF" --json events list --limit 100000 > "$T_DIR/events.json"
# One line per event: TYPE RECIPIENT QUEUE_ID [REINJECTED] [detail]
python3 - "$T_DIR/events.json" > "$T_DIR/summary" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line); d = e["data"]
    extra = d.get("bounce_class") or d.get("filter_action") or ""
    print(e["type"], d.get("recipient", "-"), d.get("queue_id"),
          "reinjected" if d.get("reinjected_queue_id") else "-", extra)
PY
sort "$T_DIR/summary" | diag
has() { grep -qx -- "$1" "$T_DIR/summary"; }

check "q.test (\"queued as\"): delivered under the first queue id" \
    has "email.delivered ok1@q.test $Q1 reinjected "
check "q.test: the re-injected message's bounce is the recipient's" \
    has "email.bounced unknown2@q.test $Q2 reinjected unknown-user"
check "q.test, two recipients: both delivered under the first queue id" \
    bash -c "grep -qx 'email.delivered ok3@q.test $Q3 reinjected ' '$T_DIR/summary' && grep -qx 'email.delivered ok4@q.test $Q3 reinjected ' '$T_DIR/summary'"
check "n.test (no \"queued as\"): linked by Message-ID, delivered under the first queue id" \
    has "email.delivered ok5@n.test $Q5 reinjected "
check "d.test (filter discards): failed, not delivered" \
    bash -c "grep -qx 'email.failed ok6@d.test $Q6 - drop' '$T_DIR/summary' && ! grep -q '^email.delivered ok6@' '$T_DIR/summary'"
check "no hop into the filter is a delivery, and every outcome is final once" \
    bash -c "! grep -q '\"relay\":\"127.0.0.1\\[127.0.0.1\\]:$FPORT\"' '$T_DIR/events.json' && [ \$(grep -cE '^email.(delivered|bounced|failed) ' '$T_DIR/summary') -eq 6 ]"
check "email.sent exactly once per recipient (6), under the first queue id" \
    bash -c "[ \$(grep -c '^email.sent ' '$T_DIR/summary') -eq 6 ] && [ -z \"\$(grep '^email.sent ' '$T_DIR/summary' | cut -d' ' -f2 | sort | uniq -d)\" ] && ! grep '^email.sent ' '$T_DIR/summary' | grep -q ' reinjected '"

# Offline: the same log through mailhookctl parse, with the same hop.
"$MAILHOOKCTL" parse --json --content-filter "127.0.0.1:$FPORT" "$PF_MAILLOG" 2>/dev/null > "$T_DIR/parsed.json"
cmp_key='import json,sys
for l in open(sys.argv[1]):
    e=json.loads(l); d=e["data"]
    print(e["type"], e["timestamp"], d.get("queue_id"), d.get("recipient"), d.get("reinjected_queue_id"))'
python3 -c "$cmp_key" "$T_DIR/events.json" | sort > "$T_DIR/a"
python3 -c "$cmp_key" "$T_DIR/parsed.json" | sort > "$T_DIR/b"
check "mailhookctl parse --content-filter agrees with the daemon" diff "$T_DIR/a" "$T_DIR/b"
# backfill of the same log, with the section's options: every event is one
# the reader stored already (the same derived id), none is new.
"$MAILHOOKCTL" -c "$CONF" --json backfill "$PF_MAILLOG" > "$T_DIR/bf.json" 2> "$T_DIR/bf.err"
check "mailhookctl backfill of the same log: 12 events, all stored already" \
    python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); sys.exit(0 if b["in_range"] == 12 and b["stored"] == 0 else 1)' "$T_DIR/bf.json"
diag < "$T_DIR/bf.json"
check "mailhookctl parse refuses a hop without a port (exit 64)" \
    bash -c "'$MAILHOOKCTL' parse --content-filter 127.0.0.1 '$PF_MAILLOG' >/dev/null 2>&1; [ \$? -eq 64 ]"
stop_daemon
pf_stop
kill -TERM "$FILTER_PID" 2>/dev/null
wait "$FILTER_PID" 2>/dev/null
diag < "$T_DIR/filter.log"
done_testing
