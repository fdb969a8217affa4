#!/bin/bash
# SPDX-License-Identifier: MIT
# t0061: the delivery log keeps delivery_log_days of records, and
# "deliveries list --since" starts at the time asked for, with records of
# several ages: made by mailhookd runs with the clock 10 and 3 days back
# (libfaketime) and now, against a receiver on 127.0.0.1. A retention pass
# removes the 10-day-old records and nothing else; a failed attempt a
# minute old can still be retried. The pass runs in the mailhookd that
# made the newest delivery ids (evid_generate never goes back: it is no
# time bound).
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"

if ! why=$(have_node); then echo "1..0 # SKIP $why"; exit 0; fi
if ! why=$(faketime_lib); then echo "1..0 # SKIP $why"; exit 0; fi
plan 13
CONF=$T_DIR/mailhook.conf
start_receiver r >/dev/null || { echo "Bail out! receiver"; exit 1; }
conf_days() { # conf_days N: the test config with delivery_log_days = N
    write_conf "$CONF" "delivery_log_days = $1
retention_interval = 1
endpoint_disable_after = 0
delivery_allow = {\"127.0.0.0/8\"}
endpoint \"ok\" {
    url = \"$RECV_R_URL/ok\"
    allow_http = true
    types = {\"app.*\"}
}"
}
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
is() { local want=$1 got; shift; got=$("$@"); [ "$got" = "$want" ] && return 0
    printf 'want: %s\ngot:  %s\n' "$want" "$got"; return 1; }
# records [ARGS]: how many delivery log records of endpoint ok list shows
records() { ctl --json deliveries list --endpoint ok --limit 1000 "$@" | wc -l; }
# run_events N: emit N events and wait until the log has TOTAL records
TOTAL=0
run_events() {
    for _ in $(seq "$1"); do ctl emit app.x '{}' >/dev/null; done
    TOTAL=$((TOTAL + $1))
    wait_for 20 bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint ok --limit 1000 | wc -l) -eq $TOTAL ]"
}

conf_days 0 # keep everything while the records are made
start_daemon_shifted -10d "$CONF"
check "10 days back: 3 deliveries logged" run_events 3
stop_daemon
start_daemon_shifted -3d "$CONF"
check "3 days back: 4 more" run_events 4
stop_daemon
check "daemon starts, clock right" start_daemon "$CONF"
# A failed attempt, now (before the newest deliveries): an endpoint
# nothing listens on.
ctl endpoint add down "http://127.0.0.1:9/x" --allow-http --type t.down --retry 1h >/dev/null 2>&1
ctl emit t.down '{}' >/dev/null
wait_for 20 bash -c "'$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint down --failed | grep -q dlv_"
DLV=$(ctl --json deliveries list --endpoint down --failed | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

check "now: 5 more" run_events 5
check "--since 20d lists all 12" is 12 records --since 20d
check "--since 5d lists the 9 of the last 5 days" is 9 records --since 5d
check "--since 1h lists the 5 made now" is 5 records --since 1h

# The same mailhookd, which made delivery ids now: the bound is 7 days back.
conf_days 7
kill -HUP "$DAEMON_PID"
check "reload to delivery_log_days = 7" wait_for 10 is 1 status_field "$CONF" counters reloads
check "the records older than 7 days are expired" wait_for 20 bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint ok --limit 1000 | wc -l) -eq 9 ]"
check "status counts them" is 3 status_field "$CONF" counters deliveries_expired
check "the others are kept: 4 of 3 days ago, 5 of now" is "4 5" \
    bash -c "echo \$(( \$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint ok --since 5d | wc -l) - \$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint ok --since 1h | wc -l) )) \$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint ok --since 1h | wc -l)"
check "the failed attempt is kept" bash -c "'$MAILHOOKCTL' -c '$CONF' --json deliveries show $DLV | grep -q '\"ok\":false'"
check "and can be retried" bash -c "'$MAILHOOKCTL' -c '$CONF' --json deliveries retry $DLV | grep -q '\"requeued\":1'"
stop_daemon
stop_receivers
done_testing
