#!/bin/bash
# SPDX-License-Identifier: MIT
# t0011: mailhookctl checks what mailhookd would refuse before it sends
# anything, with the daemon's words (emit with a key given twice), and
# accepts what its manual promises (endpoint add/update --retry "": no retry;
# --transform-file; --format, whose defaults an update to another format
# replaces).
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"
plan 18
CONF=$T_DIR/mailhook.conf
write_conf "$CONF" "delivery_ca_file = \"$T_DIR/ca/ca.pem\"
delivery_allow = {\"127.0.0.0/8\"}
delivery_time_scale = 1000"
if why=$(have_node) && start_receiver r --tls >/dev/null; then URL=$RECV_R_URL; else URL=; fi
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
spooled() { find "$T_DIR/spool" -type f 2>/dev/null | wc -l; }

# --- emit: a key given twice is refused before anything is sent, in the
# daemon's own words
check "daemon starts" start_daemon "$CONF"
ctl emit app.dup '{"a":1,"a":2}' > "$T_DIR/dup.out" 2>&1; rc=$?
check "emit with a key given twice exits 65" [ $rc -eq 65 ]
check "... saying so" grep -q 'JSON-DATA: invalid JSON at byte [0-9]*: duplicate object key near' "$T_DIR/dup.out"
ctl emit app.dup '{"d":{"b":1,"b":1}}' > /dev/null 2>&1; rc=$?
check "a duplicate in a nested object too" [ $rc -eq 65 ]
# The daemon's answer to the same data from a producer that writes its own line.
python3 - "$T_DIR/run/ingest.sock" > "$T_DIR/daemon.ans" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b'{"id":"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV","type":"app.dup",'
          b'"timestamp":"2026-01-01T00:00:00.000Z","data":{"a":1,"a":2}}\n')
print(s.makefile("rb").readline().decode().rstrip("\n"))
PY
check "the daemon refuses it with the same message" bash -c "
    ans=\$(sed -n 's/^-invalid JSON at byte [0-9]*: //p' '$T_DIR/daemon.ans')
    [ -n \"\$ans\" ] && [ \"\$ans\" = \"\$(sed -n 's/.*invalid JSON at byte [0-9]*: //p' '$T_DIR/dup.out')\" ]"
check "nothing was stored" bash -c "'$MAILHOOKCTL' -c '$CONF' --json status | grep -q '\"events\":0'"
check "emit with distinct keys still works" bash -c "'$MAILHOOKCTL' -c '$CONF' emit app.ok '{\"a\":1,\"b\":{\"a\":2}}' | grep -q committed"

# --- --retry "": the manual's "an empty list means no retry"
check "endpoint add --retry \"\" is accepted" ctl endpoint add nr https://hooks.example.com/in --type t.none --retry ""
check "... and shown as no retries" bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint show nr | grep -q '^retry after: *no retries'"
ctl endpoint add nr2 https://hooks.example.com/in2 --type t.none --retry 5s,1m > /dev/null 2>&1
check "endpoint update --retry \"\" drops the schedule" bash -c "
    '$MAILHOOKCTL' -c '$CONF' endpoint update nr2 --retry '' &&
    '$MAILHOOKCTL' -c '$CONF' --json endpoint show nr2 | grep -q '\"retry\":\[\]'"
# ... and delivers so: a 500 drops the event, where the default schedule
# would have tried again (in 5 ms at this time scale) and got a 200
if [ -n "$URL" ]; then
    ctl endpoint add once "$URL/fail/1/once" --type t.once --retry "" > /dev/null 2>&1
    ctl emit t.once '{}' > /dev/null
    check "with no retry, a failed event is dropped at once" \
        wait_for 20 bash -c "'$MAILHOOKCTL' -c '$CONF' --json status | grep -q '\"dropped\":1'"
    check "... after one request" bash -c "[ \$(receiver_count r /fail/1/once) -eq 1 ] &&
        [ \$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint once | wc -l) -eq 1 ]"
else
    skip "${why:-the receiver did not start}"; skip "${why:-the receiver did not start}"
fi
# --- --transform-file: the program as the file holds it
printf '# to a CRM\n{email: .data.recipient,\n\tevent: .type}\n' > "$T_DIR/crm.jq"
check "endpoint add --transform-file: the file's program, newlines and all" bash -c "
    '$MAILHOOKCTL' -c '$CONF' endpoint add tf https://hooks.example.com/tf --type t.none \
        --transform-file '$T_DIR/crm.jq' > /dev/null &&
    '$MAILHOOKCTL' -c '$CONF' --json endpoint show tf |
        python3 -c 'import json,sys; e=json.load(sys.stdin); e=e.get(\"endpoint\",e)
sys.exit(e[\"transform\"] != open(sys.argv[1]).read())' '$T_DIR/crm.jq'"
ctl endpoint update tf --transform-file "$T_DIR/none.jq" > /dev/null 2> "$T_DIR/tf.err"; rc=$?
check "... a file that cannot be read: a usage error (64) naming it" \
    bash -c "[ $rc -eq 64 ] && grep -q '$T_DIR/none.jq: No such file' '$T_DIR/tf.err'"
ctl endpoint update tf --format sparkpost > /dev/null 2> "$T_DIR/fmt.err"; rc=$?
check "--format: an unknown name is refused (64) with the formats" \
    bash -c "[ $rc -eq 64 ] && grep -q 'penguinmails' '$T_DIR/fmt.err'"
# show F: failing_after, user_agent, delivery_id, signature_prefix of tf
show4() { "$MAILHOOKCTL" -c "$CONF" --json endpoint show tf | python3 -c 'import json,sys
e=json.load(sys.stdin); e=e.get("endpoint",e)
print(e["failing_after"], e["user_agent"] or "-", e["delivery_id"], e["signature_prefix"] or "-")'; }
export -f show4; export CONF MAILHOOKCTL
check "update --format penguinmails: its defaults, but the key given" bash -c "
    '$MAILHOOKCTL' -c '$CONF' endpoint update tf --format penguinmails --failing-after 9 > /dev/null &&
    [ \"\$(show4)\" = '9 PenguinMails-Webhooks/1.0 uuid sha256=' ]"
check "update --format standard: the defaults of the old format go, the key set stays" bash -c "
    '$MAILHOOKCTL' -c '$CONF' endpoint update tf --format standard > /dev/null &&
    [ \"\$(show4)\" = '9 - ulid -' ]"
stop_daemon
# With the daemon down, an event that got past the check would be spooled.
ctl emit app.dup '{"a":1,"a":2}' > /dev/null 2>&1; rc=$?
check "daemon down: refused all the same, nothing spooled" [ $rc -eq 65 -a "$(spooled)" -eq 0 ]
[ -n "$URL" ] && stop_receivers
done_testing
