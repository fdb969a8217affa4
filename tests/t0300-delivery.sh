#!/bin/bash
# SPDX-License-Identifier: MIT
# t0300: webhook delivery end to end, against real HTTPS receivers on
# 127.0.0.1 with a private test CA: an endpoint declared in mailhook.conf
# and endpoints added with mailhookctl, each signing scheme checked by an
# independent verifier (the standardwebhooks npm package; Python hmac),
# batching, type and data filters, headers, keep-alive, endpoint
# list/show/update/disable/enable/remove, test sends, the delivery log,
# secret rotation (two signatures), replay (of one tenant, of two types),
# and config reload.
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"

if ! why=$(have_node); then echo "1..0 # SKIP $why"; exit 0; fi
plan 44
CONF=$T_DIR/mailhook.conf
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
start_receiver r --tls >/dev/null || { echo "Bail out! receiver"; exit 1; }
URL=$RECV_R_URL
LOG=$(receiver_log r)
conf_with() { # conf_with EXTRA: the test config, delivering to the receiver
    write_conf "$CONF" "delivery_ca_file = \"$T_DIR/ca/ca.pem\"
delivery_allow = {\"127.0.0.0/8\"}
delivery_time_scale = 1000
endpoint \"declared\" {
    url = \"$URL/ok/declared\"
    types = {\"email.*\"}
    secret = \"$SECRET\"
}
$1"
}
conf_with ""
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
emit() { ctl emit "$@" | awk '{print $1}'; }
is() { local want=$1 got; shift; got=$("$@"); [ "$got" = "$want" ] && return 0
    printf 'want: %s\ngot:  %s\n' "$want" "$got"; return 1; }

check "mailhookd -n accepts the endpoint section" "$MAILHOOKD" -n -c "$CONF"
check "daemon starts" start_daemon "$CONF"
check "declared endpoint is created from the config" bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint list | grep -q '^declared'"

# --- the declared endpoint: Standard Webhooks, one event per request
E1=$(emit email.delivered '{"recipient":"a@example.net","from":"s@example.com"}')
E2=$(emit app.signup '{"user":"x"}') # not an email.* type: not sent to "declared"
wait_receiver_count 10 r 1 /ok/declared
check "event delivered to the declared endpoint" is "$E1" receiver_events r /ok/declared
check "body is the stored event, byte for byte" bash -c "[ \"\$(receiver_field r /ok/declared body)\" = \"\$('$MAILHOOKCTL' -c '$CONF' --json events show $E1 | sed 's/^{\"ok\":true,\"event\":\(.*\)}\$/\1/')\" ]"
check "webhook-id is the event id" is "$E1" receiver_field r /ok/declared headers.webhook-id
if why=$(have_standardwebhooks); then
    check "standardwebhooks (npm) verifies the signature" node "$VERIFY_SW_JS" --path /ok/declared "$LOG" "$SECRET"
else
    skip "$why"
fi
check "headers: content type, user agent, event type, delivery id" bash -c "
    [ \"\$(receiver_field r /ok/declared headers.content-type)\" = application/json ] &&
    receiver_field r /ok/declared headers.user-agent | grep -q '^mailhook/' &&
    [ \"\$(receiver_field r /ok/declared headers.x-mailhook-event)\" = email.delivered ] &&
    receiver_field r /ok/declared headers.x-mailhook-delivery | grep -qE '^dlv_[0-9A-Z]{26}$'"

# --- hmac-sha256-hex (a Mailtura/PenguinMails-style receiver), filters
OUT=$(ctl endpoint add pm "$URL/ok/pm" --scheme hmac-sha256-hex --signature-header X-PenguinMails-Signature \
    --signature-prefix sha256= --event-header X-PenguinMails-Event --delivery-header X-PenguinMails-Delivery-ID \
    --type email.opened --type email.clicked --filter tag=vip --filter metadata.campaign_id=camp_1 2>&1)
PM_SECRET=$(printf '%s\n' "$OUT" | grep -oE 'whsec_[A-Za-z0-9+/=]+' | head -1)
check "endpoint add prints the new secret once" bash -c "[ -n '$PM_SECRET' ]"
check "endpoint show masks the secret" bash -c "! '$MAILHOOKCTL' -c '$CONF' endpoint show pm | grep -qF '$PM_SECRET'"
check "endpoint show --reveal-secret shows it" bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint show pm --reveal-secret | grep -qF '$PM_SECRET'"
V1=$(emit email.opened '{"recipient":"v@example.net","tags":["vip"],"metadata":{"campaign_id":"camp_1"}}')
emit email.opened '{"recipient":"n@example.net","tags":["news"],"metadata":{"campaign_id":"camp_1"}}' >/dev/null
emit email.opened '{"recipient":"w@example.net","tags":["vip"],"metadata":{"campaign_id":"camp_2"}}' >/dev/null
emit email.delivered '{"recipient":"v@example.net","tags":["vip"],"metadata":{"campaign_id":"camp_1"}}' >/dev/null
V2=$(emit email.clicked '{"recipient":"v@example.net","tags":["x","vip"],"metadata":{"campaign_id":"camp_1"}}')
wait_receiver_count 10 r 2 /ok/pm
sleep 0.5
check "type and data filters: only the matching events" is "$(printf '%s\n%s' "$V1" "$V2")" bash -c "receiver_events r /ok/pm | sort; true" 
check "python hmac verifies hmac-sha256-hex with prefix" python3 "$VERIFY_SIG_PY" "$LOG" --scheme hmac-sha256-hex --header X-PenguinMails-Signature --prefix sha256= --secret "$PM_SECRET" --path /ok/pm
check "custom event and delivery header names" bash -c "receiver_field r /ok/pm headers.x-penguinmails-event | grep -qx email.opened &&
    receiver_field r /ok/pm headers.x-penguinmails-delivery-id | grep -q '^dlv_'"

# --- sha256-secret-body, batched (a Mailabl-style receiver: always an array)
ctl endpoint add ml "$URL/ok/ml" --scheme sha256-secret-body --signature-header X-Mailabl-Signature \
    --secret mailabl-app-secret-123 --type 'app.*' --batch 50 --batch-wait 300ms >/dev/null 2>&1
for i in $(seq 1 120); do ctl emit app.bulk "{\"n\":$i}" >/dev/null; done
wait_for 15 bash -c "[ \$(receiver_events r /ok/ml | sort -u | wc -l) -ge 120 ]"
check "batch endpoint: all 120 events arrive" bash -c "[ \$(receiver_events r /ok/ml | sort -u | wc -l) -eq 120 ]"
check "batch endpoint: arrays of at most 50, fewer requests than events" bash -c "
    n=\$(receiver_count r /ok/ml); [ \$n -ge 3 ] && [ \$n -lt 60 ] &&
    receiver_field r /ok/ml body | python3 -c 'import json,sys
for l in sys.stdin:
    b=json.loads(l); assert isinstance(b,list) and 1<=len(b)<=50, len(b)'"
check "python verifies sha256(secret+body)" python3 "$VERIFY_SIG_PY" "$LOG" --scheme sha256-secret-body --header X-Mailabl-Signature --secret mailabl-app-secret-123 --path /ok/ml
check "batch webhook-id is not an event id" bash -c "receiver_field r /ok/ml headers.webhook-id | grep -q '^bat_' || [ -z \"\$(receiver_field r /ok/ml headers.webhook-id)\" ]"

# --- keep-alive: many requests, few connections
check "connections are reused" bash -c "[ \$(receiver_field r /ok/ml conn | sort -u | wc -l) -lt \$(receiver_count r /ok/ml) ]"

# --- list, show, update, disable, enable
check "endpoint list shows all three" bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json endpoint list | wc -l) -eq 3 ]"
check "update a config-declared endpoint is refused (exit 65)" bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint update declared --timeout 2s 2>&1 | grep -q mailhook.conf; [ \${PIPESTATUS[0]} -eq 65 ]"
check "update: bad value refused with the reason" bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint update pm --header 'X-A: b
c' 2>&1 | grep -qi header"
check "update: new URL takes effect" ctl endpoint update pm --url "$URL/ok/pm2"
ctl endpoint disable pm >/dev/null
emit email.opened '{"recipient":"d@example.net","tags":["vip"],"metadata":{"campaign_id":"camp_1"}}' >/dev/null
ctl endpoint enable pm >/dev/null
V3=$(emit email.opened '{"recipient":"e@example.net","tags":["vip"],"metadata":{"campaign_id":"camp_1"}}')
wait_receiver_count 10 r 1 /ok/pm2
sleep 0.3
check "a disabled endpoint gets nothing; enabled again, new events flow" is "$V3" receiver_events r /ok/pm2

# --- test send and the delivery log
check "endpoint test sends a sample event and reports 200" bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint test declared --type email.bounced | grep -q 200"
check "test event reached the receiver" bash -c "receiver_field r /ok/declared headers.x-mailhook-event | grep -qx email.bounced"
check "endpoint test of a dead URL exits 75" bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint add dead https://127.0.0.1:9/x >/dev/null 2>&1; '$MAILHOOKCTL' -c '$CONF' endpoint test dead >/dev/null 2>&1; [ \$? -eq 75 ]"
ctl endpoint remove dead >/dev/null 2>&1
DLV=$(ctl --json deliveries list --endpoint declared | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
check "deliveries list --endpoint shows the attempts" bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint declared | wc -l) -ge 2 ]"
check "deliveries show ID has status, duration and response" bash -c "'$MAILHOOKCTL' -c '$CONF' --json deliveries show $DLV | python3 -c 'import json,sys
d=json.load(sys.stdin); d=d.get(\"delivery\",d); assert d[\"status\"]==200 and d[\"ok\"] and \"duration_ms\" in d and d[\"response\"]==\"ok\", d'"
N0=$(receiver_count r /ok/declared)
check "deliveries retry ID sends its event again" ctl deliveries retry "$DLV"
wait_receiver_count 10 r $((N0 + 1)) /ok/declared
check "... and it arrives" bash -c "[ \$(receiver_count r /ok/declared) -eq $((N0 + 1)) ]"

# --- rotation: two signatures during the overlap, each verifies on its own
OUT=$(ctl endpoint rotate-secret pm 2>&1)
NEW=$(printf '%s\n' "$OUT" | grep -oE 'whsec_[A-Za-z0-9+/=]+' | head -1)
check "rotate-secret prints a new secret" bash -c "[ -n '$NEW' ] && [ '$NEW' != '$PM_SECRET' ]"
ctl endpoint add swr "$URL/ok/swr" --type 'rot.*' --secret "$SECRET" >/dev/null 2>&1
OUT=$(ctl endpoint rotate-secret swr --overlap 1h 2>&1)
SWNEW=$(printf '%s\n' "$OUT" | grep -oE 'whsec_[A-Za-z0-9+/=]+' | head -1)
emit rot.x '{"a":1}' >/dev/null
wait_receiver_count 10 r 1 /ok/swr
if why=$(have_standardwebhooks); then
    check "during rotation both secrets verify (standardwebhooks)" node "$VERIFY_SW_JS" --path /ok/swr "$LOG" "$SWNEW" "$SECRET"
else
    skip "$why"
fi
check "signature header holds two v1 signatures" bash -c "[ \$(receiver_field r /ok/swr headers.webhook-signature | tr ' ' '\n' | grep -c '^v1,') -eq 2 ]"

# --- replay
N0=$(receiver_count r /ok/declared)
OUT=$(ctl replay --since 1h --type email.delivered --endpoint declared 2>&1)
check "replay reports what it queued" bash -c "printf '%s' '$OUT' | grep -qE 'replayed [0-9]+ events'"
wait_receiver_count 10 r $((N0 + 2)) /ok/declared
check "replayed events arrive again" bash -c "[ \$(receiver_count r /ok/declared) -ge $((N0 + 2)) ]"
# one tenant's events, of two types given as two --type options
ctl endpoint add tenants "$URL/ok/tenants" --type app.t1,app.t2 >/dev/null
A1=$(emit app.t1 '{"tenant":"acme"}')
emit app.t1 '{"tenant":"other"}' >/dev/null
A3=$(emit app.t2 '{"tenant":"acme"}')
emit app.t2 '{}' >/dev/null
emit app.t3 '{"tenant":"acme"}' >/dev/null # not a type of the endpoint, nor asked for
wait_receiver_count 10 r 4 /ok/tenants
OUT=$(ctl replay --since 1h --endpoint tenants --tenant acme --type app.t1 --type app.t2 2>&1)
check "replay --tenant acme --type app.t1 --type app.t2: the two events of acme" \
    bash -c "printf '%s' '$OUT' | grep -qx 'replayed 2 events (2 deliveries queued)'"
wait_receiver_count 10 r 6 /ok/tenants
check "... arrive again, and only they" bash -c "
    [ \"\$(receiver_events r /ok/tenants | tail -n +5 | sort | tr '\n' ' ')\" = \"\$(printf '%s\n' $A1 $A3 | sort | tr '\n' ' ')\" ]"

# --- reload: the declared endpoint's URL changes; a removed one is disabled
conf_with ""
sed -i "s|$URL/ok/declared|$URL/ok/declared2|" "$CONF"
kill -HUP "$DAEMON_PID"
wait_for 10 bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint show declared | grep -q declared2"
E5=$(emit email.sent '{"recipient":"r@example.net"}')
wait_receiver_count 10 r 1 /ok/declared2
check "after reload the declared endpoint uses the new URL" is "$E5" receiver_events r /ok/declared2
write_conf "$CONF" "delivery_ca_file = \"$T_DIR/ca/ca.pem\"
delivery_allow = {\"127.0.0.0/8\"}"
kill -HUP "$DAEMON_PID"
check "an endpoint no longer declared is disabled, not dropped" wait_for 10 bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint show declared | grep -qi 'no longer declared'"
check "endpoint remove of a CLI endpoint" ctl endpoint remove ml
check "removed endpoint is gone" bash -c "! '$MAILHOOKCTL' -c '$CONF' endpoint show ml >/dev/null 2>&1"
check "status has a delivery section" bash -c "'$MAILHOOKCTL' -c '$CONF' --json status | grep -q '\"delivered\"'"
check "daemon stops cleanly" stop_daemon
done_testing
