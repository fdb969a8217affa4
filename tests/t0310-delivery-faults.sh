#!/bin/bash
# SPDX-License-Identifier: MIT
# t0310: what receivers do wrong, and what mailhookd does about it, with
# real HTTPS receivers on 127.0.0.1 (retry schedules in milliseconds via
# delivery_time_scale): 500s then success (same webhook-id on each retry),
# a hang past the timeout, connection refused, a reset mid-response, 410
# (endpoint disabled, admin mailed through a sendmail stand-in), 429 with
# Retry-After, 301 (not followed), a 10 MB answer, an exhausted retry
# schedule, failing health after 3 failures, and a slow receiver next to a
# fast one (the fast one is not held up).
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"

if ! why=$(have_node); then echo "1..0 # SKIP $why"; exit 0; fi
plan 24
CONF=$T_DIR/mailhook.conf
start_receiver r --tls >/dev/null || { echo "Bail out! receiver"; exit 1; }
URL=$RECV_R_URL
# The admin's mail goes to a stand-in for sendmail that keeps it.
cat > "$T_DIR/sendmail" <<EOF
#!/bin/sh
cat > "$T_DIR/mail.\$\$"
echo "\$@" > "$T_DIR/mail.\$\$.args"
EOF
chmod +x "$T_DIR/sendmail"
write_conf "$CONF" "delivery_ca_file = \"$T_DIR/ca/ca.pem\"
delivery_allow = {\"127.0.0.0/8\"}
delivery_time_scale = 1000
notify_email = \"hostmaster@example.org\"
sendmail_path = \"$T_DIR/sendmail\""
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
emit() { ctl emit "$@" | awk '{print $1}'; }
add() { local n=$1 u=$2; shift 2; ctl endpoint add "$n" "$URL$u" --type "t.$n" "$@" >/dev/null 2>&1; }
state() { ctl --json endpoint show "$1" | python3 -c 'import json,sys; e=json.load(sys.stdin); e=e.get("endpoint",e)
print("disabled" if not e["enabled"] else e["health"]["state"])'; }
export CONF MAILHOOKCTL
export -f ctl state

check "daemon starts" start_daemon "$CONF"

# 500, 500, then 200: delivered on the third attempt, one webhook-id.
add fail /fail/2/a
E=$(emit t.fail '{}')
wait_receiver_count 20 r 3 /fail/2/a
check "two 500s, then delivered on the 3rd attempt" bash -c "[ \"\$(receiver_field r /fail/2/a status | tr '\n' ' ')\" = '500 500 200 ' ]"
check "the same webhook-id on every retry" bash -c "[ \"\$(receiver_field r /fail/2/a headers.webhook-id | sort -u)\" = '$E' ]"
check "attempts are in the delivery log" bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint fail | wc -l) -eq 3 ] &&
    [ \$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint fail --failed | wc -l) -eq 2 ]"

# A hang past the timeout is a failure, retried.
add hang /hang/x --timeout 300ms --retry 1s
emit t.hang '{}' >/dev/null
wait_for 20 bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint hang --failed | wc -l) -ge 2 ]"
check "a hang times out and is retried" bash -c "'$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint hang --failed | grep -qi timeout"

# Connection refused.
ctl endpoint add refused "https://127.0.0.1:9/x" --type t.refused --retry 1s >/dev/null 2>&1
emit t.refused '{}' >/dev/null
wait_for 20 bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint refused --failed | wc -l) -ge 2 ]"
check "connection refused is a failure, retried" bash -c "'$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint refused | grep -qi 'connect'"
check "event given up after its schedule: the queue is empty" wait_for 10 bash -c "'$MAILHOOKCTL' -c '$CONF' --json endpoint show refused | grep -q '\"queued\":0'"

# Reset in the middle of the answer.
add reset /reset/x --retry 1s
emit t.reset '{}' >/dev/null
wait_receiver_count 20 r 2 /reset/x
check "a reset mid-response is a failure, retried" bash -c "[ \$(receiver_count r /reset/x) -ge 2 ]"

# 301: not followed.
add redir /status/301/x --retry 1s
emit t.redir '{}' >/dev/null
wait_for 20 bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint redir | wc -l) -ge 2 ]"
check "3xx is a failure and the redirect is not followed" bash -c "'$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint redir | grep -q '\"status\":301' && [ \$(receiver_count r /status/301/x) -eq \$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint redir | wc -l) ]"

# A 10 MB answer to a 2xx: delivered.
add big /big/x
emit t.big '{}' >/dev/null
wait_for 20 bash -c "'$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint big | grep -q '\"ok\":true'"
check "a 10 MB answer: delivered, once" bash -c "[ \$(receiver_count r /big/x) -eq 1 ] && '$MAILHOOKCTL' -c '$CONF' --json endpoint show big | grep -q '\"queued\":0'"
check "only the first 4 KiB of an answer are kept" bash -c "id=\$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint big | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[\"id\"])');
    '$MAILHOOKCTL' -c '$CONF' --json deliveries show \$id | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get(\"delivery\",d); assert 0 < len(d[\"response\"]) <= 4096*2, len(d[\"response\"])'"

# 429 with Retry-After: 2 s, honoured although the schedule says 5 ms.
add ra /retry-after/2/x
emit t.ra '{}' >/dev/null
wait_receiver_count 20 r 2 /retry-after/2/x
check "429 then delivered" bash -c "[ \"\$(receiver_field r /retry-after/2/x status | tr '\n' ' ')\" = '429 200 ' ]"
check "Retry-After honoured (>= 2 s between the attempts)" bash -c "receiver_field r /retry-after/2/x t | python3 -c 'import sys; t=[int(x) for x in sys.stdin]; assert t[1]-t[0] >= 1900, t'"

# 410 Gone: the endpoint is disabled, the admin warned by mail, the queue kept.
add gone /status/410/x
emit t.gone '{}' >/dev/null
wait_for 20 bash -c "[ \"\$(state gone)\" = disabled ]"
check "410 disables the endpoint" bash -c "'$MAILHOOKCTL' -c '$CONF' --json endpoint show gone | grep -q '\"state\":\"disabled\"'"
check "... and the reason is shown" bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint show gone | grep -q 410"
check "the admin got a mail through sendmail" bash -c "grep -l 'gone' $T_DIR/mail.* 2>/dev/null | head -1 | xargs grep -q 'To: hostmaster@example.org'"
check "its event stays queued" bash -c "'$MAILHOOKCTL' -c '$CONF' --json endpoint show gone | grep -q '\"queued\":1'"
N=$(receiver_count r /status/410/x)
emit t.gone '{}' >/dev/null
sleep 0.5
check "a disabled endpoint is not called" bash -c "[ \$(receiver_count r /status/410/x) -eq $N ]"

# Failing after 3 consecutive failures: concurrency drops to one.
add sick /status/500/x --retry 1s,1s,1s,1s,1s
for i in 1 2 3 4; do emit t.sick '{}' >/dev/null; done
wait_for 20 bash -c "[ \"\$(state sick)\" = failing ]"
check "3 consecutive failures: failing" bash -c "[ \"\$(state sick)\" = failing ]"
check "status shows the failing endpoint" bash -c "'$MAILHOOKCTL' -c '$CONF' status | grep -q failing"

# A stuck receiver (its answer held by the receiver's gate until the test
# opens it, one request at a time) next to a fast one: the fast one is
# served in full while the slow one's one request is still in flight.
add slow /gate/slow/x --concurrency 1 --timeout 60s
add fast /ok/fast
for i in $(seq 1 5); do emit t.slow '{}' >/dev/null; done
for i in $(seq 1 50); do emit t.fast "{\"i\":$i}" >/dev/null; done
wait_receiver_count 20 r 50 /ok/fast
check "the fast endpoint got all 50 events ..." bash -c "[ \$(receiver_events r /ok/fast | sort -u | wc -l) -eq 50 ]"
check "... while the slow one has one request in flight and none answered" \
    bash -c "[ \$(receiver_count r /gate/slow/x) -eq 1 ]"
curl -sS --max-time 10 --cacert "$T_DIR/ca/ca.pem" -X POST "$URL/_open/slow" >/dev/null
check "the slow endpoint gets everything once its receiver answers" wait_receiver_count 30 r 5 /gate/slow/x
check "daemon stops cleanly" stop_daemon
done_testing
