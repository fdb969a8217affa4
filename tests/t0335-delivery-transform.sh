#!/bin/bash
# SPDX-License-Identifier: MIT
# t0335: endpoint transforms and where conditions (jq programs, issue 15)
# against a real HTTPS receiver: the body a transform makes and $meta;
# where as a subscription filter; a transform that skips (empty, null),
# errors, loops, makes a huge body or several values: each skips that
# event for that endpoint only, counted, with a delivery-log record for an
# error and one warning, while the endpoint's other events and every other
# endpoint are delivered; a batch through a transform; endpoint preview
# (by type and by stored event id, not sent); test sends in the endpoint's
# shape; user_agent, basic_auth and UUID delivery ids; a syntax error
# refused at add, in mailhook.conf, and the conf-only transform_file.
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"

if ! why=$(have_node); then echo "1..0 # SKIP $why"; exit 0; fi
plan 33
CONF=$T_DIR/mailhook.conf
start_receiver r --tls >/dev/null || { echo "Bail out! receiver"; exit 1; }
URL=$RECV_R_URL
cat > "$T_DIR/file.jq" <<'JQ'
# a program in a file: the recipient and the event's time
{who: .data.recipient,
 at: $meta.time}
JQ
conf_with() {
    write_conf "$CONF" "delivery_ca_file = \"$T_DIR/ca/ca.pem\"
delivery_allow = {\"127.0.0.0/8\"}
delivery_time_scale = 1000
endpoint \"declared\" {
    url = \"$URL/ok/declared\"
    types = {\"app.file\"}
    transform_file = \"$T_DIR/file.jq\"
}
$1"
}
conf_with ""
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
emit() { ctl emit "$@" | awk '{print $1}'; }
is() { local want=$1 got; shift; got=$("$@"); [ "$got" = "$want" ] && return 0
    printf 'want: %s\ngot:  %s\n' "$want" "$got"; return 1; }
body_of() { receiver_field r "$1" body; }
dstat() { ctl --json status | python3 -c 'import json,sys; d=json.load(sys.stdin)["delivery"]; print(d["endpoints"][sys.argv[1]][sys.argv[2]] if len(sys.argv) > 2 else d[sys.argv[1]])' "$@"; }

check "daemon starts" start_daemon "$CONF"

# --- a transform, $meta, user_agent, basic_auth, UUID delivery ids
check "endpoint add --transform" ctl endpoint add tx "$URL/ok/tx" --type app.tx \
    --transform '{id, kind: .type, to: .data.recipient, seq: $meta.seq, attempt: $meta.attempt, ep: $meta.endpoint, t: $meta.time}' \
    --user-agent 'PenguinMails-Webhooks/1.0' --basic-auth 'hook:s3cret pass' --delivery-id uuid \
    --delivery-header X-Delivery-ID
E1=$(emit app.tx '{"recipient":"a@example.net"}')
wait_receiver_count 10 r 1 /ok/tx
check "the body is what the transform made, with \$meta" python3 -c '
import json, sys
b = json.loads(sys.argv[1]); ev = sys.argv[2]
assert b["id"] == ev and b["kind"] == "app.tx" and b["to"] == "a@example.net", b
assert isinstance(b["seq"], int) and b["seq"] > 0 and b["attempt"] == 1 and b["ep"] == "tx", b
assert isinstance(b["t"], int) and b["t"] > 1700000000, b
assert list(b) == ["id", "kind", "to", "seq", "attempt", "ep", "t"], list(b)' "$(body_of /ok/tx)" "$E1"
check "user_agent is sent" is "PenguinMails-Webhooks/1.0" receiver_field r /ok/tx headers.user-agent
check "basic_auth is sent as HTTP basic authentication" is "Basic $(printf 'hook:s3cret pass' | base64)" \
    receiver_field r /ok/tx headers.authorization
check "delivery_id uuid: a version 4 UUID in the delivery header" bash -c \
    "receiver_field r /ok/tx headers.x-delivery-id | grep -qE '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\$'"
check "endpoint show masks basic_auth's password" bash -c "ctl() { '$MAILHOOKCTL' -c '$CONF' \"\$@\"; }
    ctl --json endpoint show tx | grep -q '\"basic_auth\":\"hook:\*\*\*\"' && ! ctl endpoint show tx | grep -q s3cret"

# --- where, and the outcomes that skip one event for one endpoint only
ctl endpoint add wh "$URL/ok/wh" --type app.w --where '.data.tags | index(["vip"]) != null' >/dev/null
ctl endpoint add bad "$URL/ok/bad" --type app.b \
    --transform 'if .data.mode == "error" then error("bad mode")
                 elif .data.mode == "empty" then empty
                 elif .data.mode == "null" then null
                 elif .data.mode == "loop" then last(range(1e15))
                 elif .data.mode == "huge" then {big: (reduce range(23) as $i ("x"; . + .))}
                 elif .data.mode == "two" then (1, 2)
                 else {id, mode: .data.mode} end' >/dev/null
ctl endpoint add other "$URL/ok/other" --type 'app.*' >/dev/null
W1=$(emit app.w '{"tags":["x","vip"]}')
emit app.w '{"tags":["x"]}' >/dev/null
for m in error empty null loop huge two; do emit app.b "{\"mode\":\"$m\"}" >/dev/null; done
G=$(emit app.b '{"mode":"good"}')
wait_receiver_count 20 r 1 /ok/bad
wait_receiver_count 20 r 1 /ok/wh
wait_receiver_count 20 r 9 /ok/other
sleep 1
check "where: only the events for which it is true" is "$W1" receiver_events r /ok/wh
check "the failing transform's good event is delivered, alone" is "{\"id\":\"$G\",\"mode\":\"good\"}" body_of /ok/bad
check "every other endpoint got every event" is 9 receiver_count r /ok/other
check "filtered counted" is 1 dstat wh filtered
check "skipped (empty, null) counted" is 2 dstat bad skipped
check "errors (error, loop, huge, two values) counted" is 4 dstat bad transform_errors
check "the delivery log holds each error" bash -c "'$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint bad --failed |
    python3 -c '
import json, sys
errs = [json.loads(l)[\"error\"] for l in sys.stdin if l.strip()]
assert len(errs) == 4, errs
for want in (\"bad mode\", \"time limit\", \"larger\", \"2 values\"):
    assert any(want in e for e in errs), (want, errs)'"
check "one warning for the spell, naming the error" bash -c "grep -c 'endpoint bad: event .* skipped: transform: bad mode' '$T_DIR/daemon.log' | grep -qx 1"
check "nothing of the skipped events stays queued" is 0 bash -c "'$MAILHOOKCTL' -c '$CONF' --json endpoint show bad | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"endpoint\"][\"queued\"])'"

# --- a batch through a transform: one array, each event's value an element
ctl endpoint add bt "$URL/ok/bt" --type app.bt --batch 10 --batch-wait 300ms \
    --transform '.data.n as $n | if $n == 2 then empty else {n: $n} end' >/dev/null
for n in 1 2 3; do emit app.bt "{\"n\":$n}" >/dev/null; done
wait_receiver_count 10 r 1 /ok/bt
check "a batch: the values of the events the transform kept" is '[{"n":1},{"n":3}]' body_of /ok/bt
# each event's output is bounded, not the batch's: 3 x 1.5 MB in one batch
ctl endpoint add bb "$URL/ok/bb" --type app.bb --batch 10 --batch-wait 300ms \
    --transform '{n: .data.n, pad: (reduce range(20) as $i ("x"; . + .) | .[0:1500000])}' >/dev/null
for n in 1 2 3; do emit app.bb "{\"n\":$n}" >/dev/null; done
wait_receiver_count 20 r 1 /ok/bb
check "a batch of big values: the bound is each event's (4 MiB), all three sent" is "1 2 3" bash -c \
    "receiver_field r /ok/bb body | python3 -c 'import json,sys; print(*sorted(e[\"n\"] for l in sys.stdin for e in json.loads(l)))'"

# --- preview: by type and by stored event, not sent
N0=$(receiver_count r /ok/tx)
check "preview --type prints headers and body" bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint preview tx --type app.tx > '$T_DIR/pv' &&
    grep -qx 'User-Agent: PenguinMails-Webhooks/1.0' '$T_DIR/pv' && grep -qx 'Authorization: Basic \*\*\*' '$T_DIR/pv' &&
    tail -1 '$T_DIR/pv' | grep -q '\"kind\":\"app.tx\"'"
check "preview EVENT-ID: the stored event's body, its store seq" bash -c "'$MAILHOOKCTL' -c '$CONF' --json endpoint preview tx $E1 |
    python3 -c '
import json, sys
r = json.load(sys.stdin); b = json.loads(r[\"body\"])
assert r[\"sent\"] is True and r[\"event\"] == \"$E1\" and b[\"id\"] == \"$E1\", r
assert b[\"seq\"] == json.loads(sys.argv[1])[\"seq\"], (b, sys.argv[1])' '$(body_of /ok/tx | head -1)'"
check "preview of an event the where refuses: not sent, exit 1" bash -c "! '$MAILHOOKCTL' -c '$CONF' endpoint preview wh --type app.w > '$T_DIR/pv2'; grep -q 'where condition is false' '$T_DIR/pv2'"
check "preview sent nothing" is "$N0" receiver_count r /ok/tx
check "test send in the endpoint's shape" bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint test bad --type app.b >/dev/null; sleep 0.5
    receiver_field r /ok/bad body | tail -1 | grep -q '\"mode\":null'"

# --- a generated SendGrid key pair: show gives the public key SendGrid's way
ctl endpoint add sgk "$URL/ok/sgk" --type app.sgk --format sendgrid >/dev/null
check "endpoint show: the sendgrid scheme's public key, base64 DER as openssl derives it" bash -c "
    j=\$('$MAILHOOKCTL' -c '$CONF' --json endpoint show sgk --reveal-secret)
    key=\$(printf '%s' \"\$j\" | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"endpoint\"][\"secret\"])')
    pub=\$(printf '%s' \"\$j\" | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"endpoint\"][\"public_key\"])')
    want=\$(printf '%s' \"\$key\" | base64 -d | openssl pkey -inform DER -pubout -outform DER | base64 -w0)
    [ -n \"\$pub\" ] && [ \"\$pub\" = \"\$want\" ] && '$MAILHOOKCTL' -c '$CONF' endpoint show sgk | grep -q \"^public key: *\$pub\""

# --- a program that nests a value ~10^5 deep within its time bound: jq
# 1.6 frees it recursively, which overflows an 8 MB stack; every program
# runs on the preparation thread, whose stack is deep enough
ctl endpoint add deep "$URL/ok/deep" --type app.deep \
    --transform 'if .data.deep then reduce range(100000000) as $i (null; [.]) else {id} end' >/dev/null
emit app.deep '{"deep":true}' >/dev/null
DP=$(emit app.deep '{}')
wait_receiver_count 20 r 1 /ok/deep
check "a deeply nesting transform: stopped by its bound, the daemon lives, the next event goes" \
    is "{\"id\":\"$DP\"}" body_of /ok/deep
check "preview and test of it run off the loop thread too, and answer" bash -c "
    '$MAILHOOKCTL' -c '$CONF' endpoint preview deep --type app.deep > '$T_DIR/pv3' &&
    '$MAILHOOKCTL' -c '$CONF' --json endpoint preview deep \$('$MAILHOOKCTL' -c '$CONF' --json events list --type app.deep --limit 1 | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"id\"])') > '$T_DIR/pv4'; kill -0 $DAEMON_PID"

check "rotate-secret of a sendgrid endpoint makes a new key pair, shown by its public key" bash -c "
    old=\$('$MAILHOOKCTL' -c '$CONF' --json endpoint show sgk | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"endpoint\"][\"public_key\"])')
    '$MAILHOOKCTL' -c '$CONF' endpoint rotate-secret sgk >/dev/null &&
    new=\$('$MAILHOOKCTL' -c '$CONF' --json endpoint show sgk | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"endpoint\"][\"public_key\"])') &&
    [ -n \"\$new\" ] && [ \"\$new\" != \"\$old\" ]"

# --- refused programs
check "a syntax error is refused at add, with jq's message" bash -c "! '$MAILHOOKCTL' -c '$CONF' endpoint add syn '$URL/ok/syn' --transform '{a:' 2> '$T_DIR/syn.err'; grep -qi 'syntax error' '$T_DIR/syn.err'"
check "a where syntax error is refused at update" bash -c "! '$MAILHOOKCTL' -c '$CONF' endpoint update wh --where '.a ==' 2>/dev/null"
printf 'endpoint "x" {\n url = "%s/ok/x"\n transform = "{a:"\n}\n' "$URL" > "$T_DIR/syn.conf"
conf_with "$(cat "$T_DIR/syn.conf")"
check "mailhookd -n refuses a config with a broken transform" bash -c "! '$MAILHOOKD' -n -c '$CONF' 2> '$T_DIR/n.err'; grep -q 'endpoint x' '$T_DIR/n.err'"
conf_with ""

# --- the declared endpoint's transform_file
D1=$(emit app.file '{"recipient":"f@example.net"}')
wait_receiver_count 10 r 1 /ok/declared
check "transform_file: the program read from its file" python3 -c '
import json, sys
b = json.loads(sys.argv[1]); assert b["who"] == "f@example.net" and isinstance(b["at"], int), b' "$(body_of /ok/declared)"
check "status sums the counters" is "5 3 1" bash -c "'$MAILHOOKCTL' -c '$CONF' --json status | python3 -c 'import json,sys; d=json.load(sys.stdin)[\"delivery\"]; print(d[\"transform_errors\"], d[\"skipped\"], d[\"filtered\"])'"
check "daemon still running" kill -0 "$DAEMON_PID"
done_testing
