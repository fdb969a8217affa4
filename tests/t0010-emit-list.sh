#!/bin/bash
# SPDX-License-Identifier: MIT
# t0010: mailhookctl emit -> mailhookctl events list/show, status, type and
# data validation, and the canonical-JSON promise (re-serializing a parsed
# event with JSON.stringify / json.dumps gives back the same bytes).
. "$(dirname "$0")/lib/tap.sh"
plan 16
CONF=$T_DIR/mailhook.conf
write_conf "$CONF"
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }

check "daemon starts and answers status" start_daemon "$CONF"
ID=$(ctl emit app.signup '{"user":"ann@example.org","plan":"pro","seats":3}' | awk '{print $1}')
check "emit prints a committed event id" bash -c "[[ '$ID' =~ ^evt_[0-9A-HJKMNP-TV-Z]{26}$ ]]"
ctl --json events list > "$T_DIR/list.json"
check "events list --json shows the event" grep -q "\"id\":\"$ID\",\"type\":\"app.signup\"" "$T_DIR/list.json"
check "event data kept exactly" grep -qF '"data":{"user":"ann@example.org","plan":"pro","seats":3}' "$T_DIR/list.json"
check "events show ID" bash -c "'$MAILHOOKCTL' -c '$CONF' --json events show $ID | grep -q '\"app.signup\"'"
check "events show unknown id exits 1" bash -c "'$MAILHOOKCTL' -c '$CONF' events show evt_01ARZ3NDEKTSV4RRFFQ69G5FAV; [ \$? -eq 1 ]"

ctl emit email.delivered '{"recipient":"bob@example.net"}' >/dev/null
ctl emit --at 2026-01-02T03:04:05.678Z app.old '{}' >/dev/null
check "--type filter (exact)" bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json events list --type email.delivered | wc -l) -eq 1 ]"
check "--type filter (wildcard)" bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json events list --type 'app.*' | wc -l) -eq 2 ]"
check "--since/--until filter by event time" bash -c "'$MAILHOOKCTL' -c '$CONF' --json events list --since 2026-01-02 --until 2026-01-03 | grep -q '\"timestamp\":\"2026-01-02T03:04:05.678Z\"'"
check "--limit" bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json events list --limit 2 | wc -l) -eq 2 ]"

check "reserved namespace refused (exit 65)" bash -c "'$MAILHOOKCTL' -c '$CONF' emit email.custom '{}' 2>&1 | grep -q reserved; [ \${PIPESTATUS[0]} -eq 65 ]"
check "bad JSON data refused" bash -c "! '$MAILHOOKCTL' -c '$CONF' emit app.x '{oops' 2>/dev/null"
check "unrepresentable number refused with advice" bash -c "'$MAILHOOKCTL' -c '$CONF' emit app.x '{\"v\":0.1234567890123456}' 2>&1 | grep -q 'as a string'"

# Canonical JSON: tricky strings and numbers survive a parse/stringify round trip.
ctl emit app.json '{"ctl":"a\u0001b\u001fc","quote":"\"\\\\/","uni":"Grüße 日本 😀","real":2.5,"int":-42,"one":1.0,"nested":{"a":[1,2.25,{"b":null}],"t":true}}' >/dev/null
ctl --json events list --type app.json > "$T_DIR/canon.json"
if command -v node >/dev/null; then
    check "JSON.stringify(JSON.parse(body)) == body" node -e '
      const fs=require("fs"); const l=fs.readFileSync(process.argv[1],"utf8").split("\n")[0];
      if (JSON.stringify(JSON.parse(l))!==l) { console.log(l); process.exit(1); }' "$T_DIR/canon.json"
else
    skip "node not installed"
fi
check "python json.dumps(json.loads(body)) == body" python3 -c '
import json,sys
l=open(sys.argv[1],encoding="utf-8").read().split("\n")[0]
sys.exit(0 if json.dumps(json.loads(l),separators=(",",":"),ensure_ascii=False)==l else 1)' "$T_DIR/canon.json"
check "status reports the stored events" bash -c "'$MAILHOOKCTL' -c '$CONF' --json status | grep -q '\"events\":4'"
stop_daemon
done_testing
