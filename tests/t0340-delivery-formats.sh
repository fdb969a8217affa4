#!/bin/bash
# SPDX-License-Identifier: MIT
# t0340: the payload formats (issue 15) against receivers written from
# each service's own documentation (tests/helpers/receivers/*.js, over
# HTTPS with the test CA): Mailabl, Mailtura, PenguinMails, Paubox (the
# seeds in the reference documents), SendGrid (verified by SendGrid's
# @sendgrid/eventwebhook package), Mailgun (its documented HMAC), Postmark
# and listmonk (HTTP basic auth).
#
# First the programs and the receivers on their own: the built-in programs
# give what tests/data/formats/*.expected says (jq CLI), and each receiver
# takes a body signed by hand (openssl, curl) and refuses a tampered one
# or wrong credentials, so that a receiver which accepts everything cannot
# pass the end-to-end checks. Then end to end: one endpoint per format,
# declared in mailhook.conf (format = NAME and the secret or basic_auth it
# needs, nothing else of the service's settings: the format's defaults
# give the rest), every sample event type emitted, each receiver waited
# for (bounded) until it has its events; every check passed, every field
# the doc's handler reads present, and the values that matter right
# (Mailtura's diagnosticCode "550 5.1.1", PenguinMails' data.contact.email
# and email.spam_reported, Paubox's integer payload.id, ...).
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"

FORMATS="mailabl mailtura penguinmails paubox sendgrid mailgun postmark listmonk"
RECV_DIR=$top_srcdir/tests/helpers/receivers
EVENTS=$top_srcdir/tests/data/formats/events
plan 37
if ! why=$(have_node); then skip_all "$why"; fi
command -v jq >/dev/null 2>&1 || skip_all "no jq CLI (Debian package jq)"
if ! node -e 'require("@sendgrid/eventwebhook")' >/dev/null 2>&1; then
    skip_all "npm package @sendgrid/eventwebhook not found in $MAILHOOK_TEST_NODE_PREFIX (bash contrib/deps.sh test)"
fi

# --- secrets: what each endpoint and its receiver share
ML_SECRET=mailabl-app-secret-0123456789
MT_SECRET=whsec_mailtura_0123456789abcdef
PM_SECRET=whsec_penguin_0123456789abcdef
MG_KEY=key-mailgun-signing-0123456789abcdef
PK_AUTH=postmark-hook:pm-pass-123
LM_AUTH=listmonk-api:lm-token-456
# SendGrid: the endpoint's secret is the private key (base64 DER PKCS#8),
# the receiver gets the public key as SendGrid's settings page shows it.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T_DIR/sg.pem" 2>/dev/null
SG_SECRET=$(openssl pkcs8 -topk8 -nocrypt -in "$T_DIR/sg.pem" -outform DER 2>/dev/null | base64 -w0)
SG_PUBLIC=$(openssl pkey -in "$T_DIR/sg.pem" -pubout -outform DER 2>/dev/null | base64 -w0)

recv_args() {
    case $1 in
    mailabl) echo "--secret $ML_SECRET" ;;
    mailtura) echo "--secret $MT_SECRET" ;;
    penguinmails) echo "--secret $PM_SECRET" ;;
    sendgrid) echo "--public-key $SG_PUBLIC" ;;
    mailgun) echo "--secret $MG_KEY" ;;
    postmark) echo "--auth $PK_AUTH" ;;
    listmonk) echo "--auth $LM_AUTH" ;;
    esac
}
for f in $FORMATS; do
    # shellcheck disable=SC2046 # the arguments are words without spaces
    RECEIVER_JS=$RECV_DIR/$f.js start_receiver "$f" --tls $(recv_args "$f") >/dev/null ||
        { echo "Bail out! receiver $f"; exit 1; }
done
url_of() { local v; v=$(_recv_var "$1")_URL; printf '%s' "${!v}"; }

# recv_assert NAME PATH-PREFIX PYTHON-EXPR: true when the expression holds
# over L, NAME's log lines (dicts) whose path starts with PATH-PREFIX;
# otherwise prints them.
recv_assert() {
    python3 - "$(receiver_log "$1")" "$2" "$3" <<'PY'
import json, sys
log, prefix, expr = sys.argv[1:4]
L = []
try:
    with open(log) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("path", "").startswith(prefix):
                L.append(r)
except FileNotFoundError:
    pass
by = lambda t: [r for r in L if r.get("type") == t]
ok = False
try:
    ok = bool(eval(expr))
except Exception as e:
    print("error: %r" % e)
if not ok:
    print("failed: " + expr)
    for r in L:
        print(json.dumps(r))
sys.exit(0 if ok else 1)
PY
}

# --- 1. the programs give what the .expected files say
check "built-in programs give tests/data/formats/*.expected (jq CLI)" \
    bash "$top_srcdir/tests/helpers/format_expected.sh" --check

# --- 2. each receiver on its own: signed by hand, then tampered
expected() { # expected FORMAT EVENT-FILE: the program's output for the sample
    awk -F'\t' -v e="$2" '$1 == e { print $3 }' "$top_srcdir/tests/data/formats/$1.expected"
}
post() { # post NAME PATH BODY [curl args...]: the HTTP status
    local name=$1 path=$2 body=$3; shift 3
    printf '%s' "$body" > "$T_DIR/body"
    curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$T_DIR/ca/ca.pem" \
        -H 'Content-Type: application/json' --data-binary @"$T_DIR/body" "$@" "$(url_of "$name")$path"
}
hmac_hex() { printf '%s' "$2" | openssl dgst -sha256 -hmac "$1" -r | cut -d' ' -f1; }
tamper() { printf '%s' "$1" | sed 's/example/exampel/'; }

B=[$(expected mailabl 04-email.bounced.json)]
S=$(printf '%s%s' "$ML_SECRET" "$B" | sha256sum | cut -d' ' -f1)
post mailabl /self/good "$B" -H "X-Mailabl-Signature: $S" >/dev/null
post mailabl /self/bad "$(tamper "$B")" -H "X-Mailabl-Signature: $S" >/dev/null
check "mailabl receiver: SHA-256(secret + body) accepted, tampered body refused" recv_assert mailabl /self \
    "[(r['path'], r['ok'], r['status']) for r in L] == [('/self/good', True, 200), ('/self/bad', False, 401)] and L[0]['missing'] == []"

B=$(expected mailtura 04-email.bounced.json)
B=$(printf '%s' "$B" | jq -c --arg now "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" '.timestamp = $now')
S=$(hmac_hex "$MT_SECRET" "$B")
post mailtura /self/good "$B" -H "X-Mailtura-Signature: $S" >/dev/null
post mailtura /self/bad "$(tamper "$B")" -H "X-Mailtura-Signature: $S" >/dev/null
check "mailtura receiver: HMAC of JSON.stringify(body) accepted, tampered refused" recv_assert mailtura /self \
    "[(r['ok'], r['status']) for r in L] == [(True, 200), (False, 401)] and L[0]['missing'] == [] and L[0]['read']['data.diagnosticCode'] == '550 5.1.1'"

B=$(expected penguinmails 07-email.opened.json)
S=sha256=$(hmac_hex "$PM_SECRET" "$B")
post penguinmails /self/good "$B" -H "X-PenguinMails-Signature: $S" >/dev/null
post penguinmails /self/bad "$(tamper "$B")" -H "X-PenguinMails-Signature: $S" >/dev/null
post penguinmails /self/none "$B" >/dev/null
check "penguinmails receiver: sha256= HMAC of the raw body accepted; tampered, missing refused" \
    recv_assert penguinmails /self \
    "[(r['ok'], r['status']) for r in L] == [(True, 200), (False, 401), (False, 401)] and L[0]['missing'] == [] and L[0]['handled'] == ['bob@example.net'] and L[0]['ok_simple']"

B=$(expected paubox 02-email.delivered.json)
post paubox /self/good "$B" >/dev/null
post paubox /self/bad "$(printf '%s' "$B" | jq -c '.payload.id |= tostring')" >/dev/null
check "paubox receiver: an API Mail Log payload read whole; a string id is seen" recv_assert paubox /self \
    "[r['id_integer'] for r in L] == [True, False] and L[0]['missing'] == [] and L[0]['known']"

B=[$(expected sendgrid 04-email.bounced.json)]
TS=$(date +%s)
SIG=$(printf '%s%s' "$TS" "$B" | openssl dgst -sha256 -sign "$T_DIR/sg.pem" | base64 -w0)
post sendgrid /self/good "$B" -H "X-Twilio-Email-Event-Webhook-Signature: $SIG" \
    -H "X-Twilio-Email-Event-Webhook-Timestamp: $TS" >/dev/null
post sendgrid /self/bad "$(tamper "$B")" -H "X-Twilio-Email-Event-Webhook-Signature: $SIG" \
    -H "X-Twilio-Email-Event-Webhook-Timestamp: $TS" >/dev/null
check "sendgrid receiver: @sendgrid/eventwebhook verifies an openssl signature, refuses a tampered body" \
    recv_assert sendgrid /self \
    "[(r['ok'], r['status']) for r in L] == [(True, 200), (False, 403)] and L[0]['missing'] == [] and L[0]['types'] == ['bounce']"

B=$(expected mailgun 04-email.bounced.json)
TOKEN=$(openssl rand -hex 25)
S=$(hmac_hex "$MG_KEY" "$TS$TOKEN")
GOOD=$(printf '%s' "$B" | jq -c --arg ts "$TS" --arg tok "$TOKEN" --arg sig "$S" \
    '{signature: {timestamp: $ts, token: $tok, signature: $sig}} + .')
post mailgun /self/good "$GOOD" >/dev/null
post mailgun /self/bad "$(printf '%s' "$GOOD" | jq -c '.signature.timestamp |= (tonumber + 1 | tostring)')" >/dev/null
check "mailgun receiver: HMAC(key, timestamp + token) accepted, another timestamp refused" recv_assert mailgun /self \
    "[(r['ok'], r['status']) for r in L] == [(True, 200), (False, 406)] and L[0]['missing'] == [] and L[0]['severity'] == 'permanent'"

B=$(expected postmark 04-email.bounced.json)
post postmark /self/good "$B" -u "$PK_AUTH" >/dev/null
post postmark /self/bad "$B" -u "postmark-hook:wrong" >/dev/null
post postmark /self/none "$B" >/dev/null
check "postmark receiver: basic auth checked; a Bounce read whole" recv_assert postmark /self \
    "[(r['ok'], r['status']) for r in L] == [(True, 200), (False, 401), (False, 401)] and L[0]['missing'] == [] and L[0]['bounce_type'] == 'HardBounce' and L[0]['id_integer']"

B=$(expected listmonk 04-email.bounced.json)
post listmonk '/webhooks/bounce?self' "$B" -u "$LM_AUTH" >/dev/null
post listmonk '/webhooks/bounce?self' "$B" -u "listmonk-api:wrong" >/dev/null
post listmonk '/webhooks/bounce?self' "$(printf '%s' "$B" | jq -c '.campaign_uuid = "c1"')" -u "$LM_AUTH" >/dev/null
check "listmonk receiver: basic auth checked; a valid bounce taken, a non-UUID campaign refused" \
    recv_assert listmonk '/webhooks/bounce?self' \
    "[(r['ok'], r.get('valid'), r['status']) for r in L] == [(True, True, 200), (False, None, 401), (True, False, 400)] and L[0]['missing'] == []"

# --- 3. end to end: one endpoint per format
CONF=$T_DIR/mailhook.conf
ep() { # ep NAME EXTRA-LINES: an endpoint section delivering to NAME's receiver
    printf 'endpoint "%s" {\n    url = "%s/hook/%s"\n    format = "%s"\n%s\n}\n' "$1" "$(url_of "$1")" "$1" "$1" "$2"
}
write_conf "$CONF" "delivery_ca_file = \"$T_DIR/ca/ca.pem\"
delivery_allow = {\"127.0.0.0/8\"}
delivery_time_scale = 1000
$(ep mailabl "    secret = \"$ML_SECRET\"")
$(ep mailtura "    secret = \"$MT_SECRET\"")
$(ep penguinmails "    secret = \"$PM_SECRET\"")
$(ep paubox "")
$(ep sendgrid "    secret = \"$SG_SECRET\"")
$(ep mailgun "    secret = \"$MG_KEY\"")
$(ep postmark "    basic_auth = \"$PK_AUTH\"")
$(ep listmonk "    basic_auth = \"$LM_AUTH\"")"
# listmonk's receiver answers /webhooks/bounce only: its endpoint says so.
sed -i "s|$(url_of listmonk)/hook/listmonk|$(url_of listmonk)/webhooks/bounce?hook|" "$CONF"
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }

check "mailhookd -n accepts the eight format endpoints" "$MAILHOOKD" -n -c "$CONF"
check "daemon starts" start_daemon "$CONF"
# Every sample event but the minimal one, timestamped now (Mailtura's
# handler refuses events older than 5 minutes).
for ev in "$EVENTS"/*.json; do
    case $ev in *minimal*) continue ;; esac
    ctl emit "$(jq -r .type "$ev")" "$(jq -c .data "$ev")" >/dev/null 2>&1 || echo "# emit $ev failed"
done
# The events each format delivers of those 11 (the others it skips).
want_events() {
    case $1 in
    mailabl) echo 11 ;; mailtura) echo 9 ;; penguinmails) echo 10 ;; paubox) echo 6 ;;
    sendgrid | mailgun) echo 10 ;; postmark) echo 9 ;; listmonk) echo 3 ;;
    esac
}
# Events received so far (2xx only): an array body counts its elements.
got_events() {
    python3 - "$(receiver_log "$1")" "$2" <<'PY'
import json, sys
n = 0
try:
    for line in open(sys.argv[1]):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("path", "").startswith(sys.argv[2]) and 200 <= r.get("status", 0) < 300:
            n += r.get("events", 1)
except FileNotFoundError:
    pass
print(n)
PY
}
prefix_of() { if [ "$1" = listmonk ]; then echo '/webhooks/bounce?hook'; else echo "/hook/$1"; fi; }
all_arrived() {
    local f
    for f in $FORMATS; do
        [ "$(got_events "$f" "$(prefix_of "$f")")" -ge "$(want_events "$f")" ] || return 1
    done
}
export -f got_events
wait_for 30 all_arrived
sleep 0.5 # a late duplicate or an unexpected extra request shows too
for f in $FORMATS; do
    check "$f: every event arrived (want $(want_events "$f"))" \
        bash -c "n=\$(got_events $f $(prefix_of "$f")); [ \"\$n\" -eq $(want_events "$f") ] || { echo \"got \$n\"; exit 1; }"
done
for f in $FORMATS; do
    check "$f: every request passed the receiver's checks, nothing it reads is absent" \
        recv_assert "$f" "$(prefix_of "$f")" \
        "L and all(r['ok'] is True and 200 <= r['status'] < 300 and r.get('missing') == [] for r in L)"
done

check "mailabl: arrays of event objects with occurredAt and data.object" recv_assert mailabl /hook \
    "all(r['array'] for r in L) and sorted(t for r in L for t in r['types']).count('email.bounced') == 2 and all(e['occurredAt'].endswith('000Z') and e['data.object.type'] == 'email' for r in L for e in r['read'] if e['type'].startswith('email.'))"
check "mailtura: diagnosticCode 550 5.1.1 and bounceType hard; deliveredAt; no deferral" recv_assert mailtura /hook \
    "any(r['read']['data.diagnosticCode'] == '550 5.1.1' and r['read']['data.bounceType'] == 'hard' and r['read']['data.reason'] == '<x@example.com>: User unknown' for r in by('email.bounced')) and by('email.delivered')[0]['read']['data.deliveredAt'] == by('email.delivered')[0]['read']['timestamp'] and not by('email.deferred') and by('email.delivered')[0]['read']['data.emailId'] == 'm1@example.org'"
check "penguinmails: contact.email, campaign_id, spam_reported, its headers (UUID delivery id)" \
    recv_assert penguinmails /hook \
    "all(r['ok_simple'] for r in L) and by('email.opened')[0]['read']['data.contact.email'] == 'bob@example.net' and by('email.opened')[0]['read']['data.campaign_id'] == 'c1' and by('email.opened')[0]['handled'] == ['bob@example.net'] and len(by('email.spam_reported')) == 1 and not by('email.complained') and all(r['event_header'] == r['type'] and r['user_agent'] == 'PenguinMails-Webhooks/1.0' and __import__('re').fullmatch('[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}', r['delivery_id'] or '') for r in L)"
check "paubox: the four event names, integer payload.id, distinct ids" recv_assert paubox /hook \
    "sorted(r['type'] for r in L) == sorted(['api_mail_log_delivered', 'api_mail_log_temporary_failure', 'api_mail_log_permanent_failure', 'api_mail_log_temporary_failure', 'api_mail_log_permanent_failure', 'api_mail_log_opened']) and all(r['id_integer'] for r in L) and len(set(r['read']['payload.id'] for r in L)) == 6 and any(r['read']['payload.header_message_id'] == '<m1@example.org>' for r in L)"
check "sendgrid: @sendgrid/eventwebhook verified every request; SendGrid's event names; integer timestamps" \
    recv_assert sendgrid /hook \
    "sorted(t for r in L for t in r['types']) == sorted(['processed', 'delivered', 'deferred', 'bounce', 'bounce', 'dropped', 'open', 'click', 'spamreport', 'unsubscribe']) and all(r['ts_integer'] and r['array'] for r in L)"
check "mailgun: signature verified; failed with severity temporary and permanent" recv_assert mailgun /hook \
    "sorted(r['severity'] for r in by('failed')) == ['permanent', 'permanent', 'permanent', 'temporary'] and sorted(r['code'] or 0 for r in by('failed')) == [0, 450, 550, 552] and all(r['ts_number'] and r['token_len'] == 50 for r in L) and any(r['read']['url'] == 'https://example.org/orders/42' for r in by('clicked'))"
check "postmark: RecordTypes; HardBounce, SoftBounce, Transient; integer ID" recv_assert postmark /hook \
    "sorted(r['type'] for r in L) == sorted(['Delivery', 'Bounce', 'Bounce', 'Bounce', 'Bounce', 'Open', 'Click', 'SpamComplaint', 'SubscriptionChange']) and sorted(r['bounce_type'] for r in by('Bounce')) == ['HardBounce', 'SoftBounce', 'SoftBounce', 'Transient'] and all(r['id_integer'] for r in by('Bounce') + by('SpamComplaint'))"
check "listmonk: hard, soft and complaint, valid records, the campaign's UUID" recv_assert listmonk '/webhooks/bounce?hook' \
    "sorted(r['type'] for r in L) == ['complaint', 'hard', 'soft'] and all(r['valid'] and r['read']['source'] == 'mailhook' for r in L) and [r['read']['campaign_uuid'] for r in by('hard')] == ['9f86b50d-5711-41c8-ab03-bc91c43d711b']"

check "the daemon dropped no event and logged no transform error" \
    bash -c "! grep -E 'endpoint [a-z]+: .*(dropped|transform|jq)' '$T_DIR/daemon.log'"
check "daemon stops cleanly" stop_daemon
stop_receivers
done_testing
