#!/bin/bash
# SPDX-License-Identifier: MIT
# t0087: mailhookctl report, the daily summary from the store, against a
# daemon fed known events (mailhookctl emit): exact counts of messages by
# outcome, bounces by class, outcomes by recipient domain (case folded),
# bounce reasons, and webhook deliveries per endpoint (one that works, one
# that is dead); the default range is the last day; text and --json agree;
# more events than one chunk of the daemon's (REPORT_CHUNK) add up.
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=tests/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"
if ! why=$(have_node); then echo "1..0 # SKIP $why"; exit 0; fi
plan 14
CONF=$T_DIR/mailhook.conf
start_receiver r >/dev/null || { echo "Bail out! receiver"; exit 1; }
write_conf "$CONF" "delivery_allow = {\"127.0.0.0/8\"}
delivery_time_scale = 100
endpoint \"good\" {
    url = \"$RECV_R_URL/ok/good\"
    allow_http = true
    types = {\"email.delivered\"}
}
endpoint \"dead\" {
    url = \"http://127.0.0.1:9/hook\"
    allow_http = true
    types = {\"app.*\"}
    retry = {1}
}"
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
emit() { ctl emit "$@" >/dev/null; }
# jq-less: a member of the --json report, following keys down.
jget() { python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2:]:
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else (json.dumps(v, sort_keys=True) if isinstance(v, dict) else v))' "$@"; }
is() { local want=$1 got; shift; got=$("$@"); [ "$got" = "$want" ] && return 0
    printf 'want: %s\ngot:  %s\n' "$want" "$got"; return 1; }

check "daemon starts" start_daemon "$CONF"
emit email.sent '{"recipient":"a@gmail.com"}'
emit email.sent '{"recipient":"b@gmail.com"}'
emit email.sent '{"recipient":"c@example.org"}'
emit email.sent '{"recipient":"d@Example.ORG"}'
emit email.delivered '{"recipient":"a@gmail.com"}'
emit email.delivered '{"recipient":"c@example.org"}'
emit email.deferred '{"recipient":"b@gmail.com","smtp_response":"451 4.7.1 try later"}'
emit email.bounced '{"recipient":"b@gmail.com","bounce_class":"unknown-user","smtp_response":"550 5.1.1 user unknown"}'
emit email.bounced '{"recipient":"d@example.org","bounce_class":"unknown-user","smtp_response":"550 5.1.1 user unknown"}'
emit email.bounced '{"recipient":"e@example.org","bounce_class":"spam-block","smtp_response":"554 5.7.1 listed as spam"}'
emit email.failed '{"recipient":"f@example.net","reason":"expired"}'
emit app.signup '{"user":"x"}'
emit --at 2020-01-01T00:00:00Z email.bounced '{"recipient":"old@gmail.com","bounce_class":"dns"}'
dead_dropped() { [ "$(status_field "$CONF" delivery endpoints dead dropped)" = 1 ]; }
check "the deliveries are made (2 to good) and failed (2 attempts to dead)" \
    bash -c "$(declare -f wait_receiver_count); wait_receiver_count 20 r 2 /ok/good" 
check "dead gave up" wait_for 20 dead_dropped
ctl --json report > "$T_DIR/r.json"
check "--json: one object with ok" is "True" python3 -c "import json; print(json.load(open('$T_DIR/r.json'))['ok'])"
check "messages by outcome (the 2020 event outside the last day)" \
    is '{"bounced": 3, "deferred": 1, "delivered": 2, "failed": 1, "sent": 4}' jget "$T_DIR/r.json" messages
check "bounces by class" is '{"spam-block": 1, "unknown-user": 2}' jget "$T_DIR/r.json" bounce_classes
check "by recipient domain, case folded" \
    is '{"bounced": 2, "delivered": 1, "sent": 2}' jget "$T_DIR/r.json" domains example.org
check "gmail.com" is '{"bounced": 1, "deferred": 1, "delivered": 1, "sent": 2}' jget "$T_DIR/r.json" domains gmail.com
check "bounce reasons" is '{"550 5.1.1 user unknown": 2, "554 5.7.1 listed as spam": 1}' \
    jget "$T_DIR/r.json" bounce_reasons
check "webhook deliveries per endpoint" \
    is '{"dead": {"deliveries": 2, "events": 2, "failed": 2}, "good": {"deliveries": 2, "events": 2, "ok": 2}}' \
    jget "$T_DIR/r.json" endpoints
check "times are RFC 3339" bash -c "grep -qE '\"since\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\"' '$T_DIR/r.json'"
ctl report --since 2019-12-31 > "$T_DIR/r.txt"
check "text: --since reaches the 2020 bounce" grep -qE '^  bounced +4$' "$T_DIR/r.txt"
check "text: classes, domains, reasons, endpoints" bash -c "grep -qE '^ +1  dns$' '$T_DIR/r.txt' &&
    grep -qE '^  gmail.com +2 +1 +1 +2 +0$' '$T_DIR/r.txt' && grep -qE '^ +2  550 5.1.1 user unknown$' '$T_DIR/r.txt' &&
    grep -qE '^  dead +2 +0 +2 +2$' '$T_DIR/r.txt'"
# More than one chunk (20000 events): the client adds the answers up.
if [ -x "$top_builddir/bench/bench_ingest" ]; then
    "$top_builddir/bench/bench_ingest" "$T_DIR/run/ingest.sock" "$T_DIR/spool" 2 11000 64 email.sent >/dev/null
    ctl --json report > "$T_DIR/r2.json"
    check "22000 more sent events over two chunks" \
        is 22004 jget "$T_DIR/r2.json" messages sent
else
    skip "bench/bench_ingest not built"
fi
stop_daemon
done_testing
