#!/bin/bash
# SPDX-License-Identifier: MIT
# contrib/demo.sh - mailhook in two minutes, on the embedded defaults, in a
# temporary directory: build if needed, start mailhookd, subscribe a webhook
# receiver on 127.0.0.1, send events in the way each producer will, and show
# them reaching the receiver, signed, and coming back out of the store.
set -eu
cd "$(dirname "$0")/.."
bash contrib/deps.sh demo
bash contrib/build.sh
D=$(mktemp -d /tmp/mailhook-demo.XXXXXX)
BIN=$PWD/src
trap 'kill $(cat "$D/run/mailhookd.pid" 2>/dev/null) $RPID 2>/dev/null; sleep 0.3; rm -rf "$D"' EXIT
RPID=""
# The subscriber: a webhook receiver on 127.0.0.1 that logs what it gets.
node tests/helpers/receiver.js --port 0 --port-file "$D/recv.port" --log "$D/recv.log" \
    --max-seconds 600 2>/dev/null &
RPID=$!
for _ in $(seq 50); do [ -s "$D/recv.port" ] && break; sleep 0.1; done
RPORT=$(cat "$D/recv.port")
cat > "$D/mailhook.conf" <<CONF
# Everything else is the built-in default (see etc/mailhook.conf).
user = ""
log = "stderr"
state_dir = "$D/state"
spool_dir = "$D/spool"
ingest_socket = "$D/run/ingest.sock"
admin_socket = "$D/run/admin.sock"
pid_file = "$D/run/mailhookd.pid"
# The SSRF guard refuses loopback and private addresses; the demo's
# receiver is on 127.0.0.1.
delivery_allow = {"127.0.0.1"}
# The maillog reader follows this file (a real Postfix log is replayed into it).
maillog "postfix" {
    path = "$D/mail.log"
    start_at = "beginning"
}
CONF
: > "$D/mail.log"
ctl() { echo "\$ mailhookctl $*" | sed "s|-c $D/mailhook.conf ||"; "$BIN/mailhookctl/mailhookctl" "$@"; echo; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
start() { "$BIN/mailhookd/mailhookd" -f -c "$D/mailhook.conf" 2>>"$D/mailhookd.log" &
          for _ in $(seq 50); do rc=0  # status: 0-2 is its health, 3 no answer
              "$BIN/mailhookctl/mailhookctl" -c "$D/mailhook.conf" status >/dev/null 2>&1 || rc=$?
              [ "$rc" -le 2 ] && return; sleep 0.1; done; }
C="-c $D/mailhook.conf"

say "1. mailhookd starts on a fresh state directory ($D)"
start
ctl $C status

say "2. A subscriber: every email.* event goes to the receiver on 127.0.0.1:$RPORT, signed (Standard Webhooks)"
ctl $C endpoint add shop "http://127.0.0.1:$RPORT/ok/shop" --allow-http --type 'email.*'

say "3. Producers submit events; each is acknowledged only after it is on disk"
ctl $C emit email.sent '{"queue_id":"4XyZ1w2Kq3z","from":"news@shop.example","recipient":"ann@example.org","subject":"Your order"}'
ctl $C emit email.delivered '{"queue_id":"4XyZ1w2Kq3z","recipient":"ann@example.org","relay":"mx.example.org[192.0.2.10]:25","dsn":"2.0.0"}'
ctl $C emit app.signup '{"user":"ann@example.org","plan":"pro"}'

say "4. mailhookd stops; a producer keeps working: its event goes to the spool"
kill "$(cat "$D/run/mailhookd.pid")"; sleep 0.5
ctl $C emit email.bounced '{"queue_id":"5AbC2x3Lr4y","recipient":"nobody@example.net","bounce_type":"hard","dsn":"5.1.1"}'
echo "spool/new: $(ls "$D/spool/new")"

say "5. mailhookd starts again, recovers the store, drains the spool, delivers what is queued"
start
ctl $C events list

say "6. The same events as compact JSON, the bytes subscribers receive"
ctl $C --json events list --type 'email.*'

say "7. The maillog reader: a real Postfix log is written line by line into $D/mail.log"
echo "(contrib/demo-maillog.txt: one message delivered and bounced, one bounced and deferred until it expired)"
while IFS= read -r line; do printf '%s\n' "$line" >> "$D/mail.log"; sleep 0.05; done < contrib/demo-maillog.txt
sleep 1
ctl $C events list --type 'email.*' --limit 50
echo "The bounces as subscribers will receive them, with their class:"
ctl $C --json events list --type email.bounced
echo
echo "The same log, offline, with no daemon (mailhookctl parse):"
"$BIN/mailhookctl/mailhookctl" parse contrib/demo-maillog.txt

say "8. What the receiver got: $(grep -c . "$D/recv.log") requests (the first and the last shown)"
python3 - "$D/recv.log" <<'PY' 2>/dev/null || { head -1 "$D/recv.log"; tail -1 "$D/recv.log"; }
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for r in (lines[:1] + lines[-1:]):
    h = r["headers"]
    print("POST %s" % r["path"])
    for k in ("content-type", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature",
              "x-mailhook-event", "x-mailhook-delivery"):
        print("  %s: %s" % (k, h.get(k)))
    print("  body: %s\n" % r["body"])
PY
ctl $C deliveries list --endpoint shop --limit 5
ctl $C endpoint test shop --type email.opened
ctl $C status
echo "mailhookd's log:"; sed 's/^/  /' "$D/mailhookd.log"
