#!/bin/bash
# SPDX-License-Identifier: MIT
# t0065: retention never takes an event that is still queued, and counts
# from when the store received an event, not from the time it carries.
# Events dated before retention_days (emit --at: a late event, a wrong
# clock, a backfilled line) are acknowledged and queued for an endpoint
# whose receiver is down, and so is one received more than retention_days
# ago (from a mailhookd run with its clock 40 days back, libfaketime);
# retention passes run, mailhookd restarts, passes run again: nothing is
# expired or dropped, and when the receiver comes back every event
# arrives. Then the one received 40 days ago, out of its queue, is
# expired, and only it. Every queued delivery that is not made shows in
# status: those dropped with their endpoint count in "dropped".
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"

if ! why=$(have_node); then echo "1..0 # SKIP $why"; exit 0; fi
plan 20
CONF=$T_DIR/mailhook.conf
# A port of our own that nothing listens on until the receiver comes back.
start_receiver r >/dev/null || { echo "Bail out! receiver"; exit 1; }
PORT=$RECV_R_PORT
stop_receiver r
retries=$(printf '"2s", %.0s' $(seq 31))
# endpoint_disable_after = 0: after the run 40 days back, the endpoint's
# failures would look 40 days long.
write_conf "$CONF" "retention_days = 30
retention_interval = 1
endpoint_disable_after = 0
delivery_allow = {\"127.0.0.0/8\"}
endpoint \"down\" {
    url = \"http://127.0.0.1:$PORT/ok/down\"
    allow_http = true
    types = {\"app.*\"}
    retry = {$retries\"2s\"}
}"
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
emit() { ctl emit "$@" | awk '{print $1}'; }
is() { local want=$1 got; shift; got=$("$@"); [ "$got" = "$want" ] && return 0
    printf 'want: %s\ngot:  %s\n' "$want" "$got"; return 1; }
all_stored() { local id; for id in "$@"; do ctl events show "$id" >/dev/null || return 1; done; }
field() { status_field "$CONF" "$@"; }
# figures a.b c.d ...: those members of the status, space-separated
figures() { local f k out=(); for f in "$@"; do IFS=. read -ra k <<< "$f"; out+=("$(field "${k[@]}")"); done
    echo "${out[*]}"; }

# Received 40 days ago (first: the store's sequence is the order of receipt).
OLD=""
if why_old=$(faketime_lib); then
    start_daemon_shifted -40d "$CONF" && OLD=$(emit app.received_long_ago '{"n":0}')
    stop_daemon
fi
check "daemon starts" start_daemon "$CONF"
A=$(emit --at 40d app.late '{"n":1}')
B=$(emit --at 400d app.wrong_clock '{"n":2}')
C=$(emit --at 31d app.backfilled '{"n":3}')
D=$(emit app.now '{"n":4}')
ALL="$A $B $C $D"
N=4
if [ -n "$OLD" ]; then ALL="$OLD $ALL"; N=5; fi
check "$N events acknowledged and queued for the endpoint that is down" is $N field store queued
check "retention passes run after they were stored" wait_passes 20 "$CONF" 2
# shellcheck disable=SC2086 # ALL: words
check "events dated before retention_days are kept while queued" all_stored $ALL
if [ -n "$OLD" ]; then
    check "so is the event received 40 days ago" all_stored "$OLD"
else
    skip "$why_old"
fi
check "status: nothing expired, nothing dropped" is "0 0" figures counters.expired delivery.dropped

stop_daemon
check "daemon starts again" start_daemon "$CONF"
check "retention passes run after the restart" wait_passes 20 "$CONF" 2
# shellcheck disable=SC2086
check "after the restart the events are still stored" all_stored $ALL
check "and still queued" is $N field store queued
check "status: nothing expired, nothing dropped after the restart" is "0 0" \
    figures counters.expired delivery.dropped

start_receiver r --port "$PORT" >/dev/null || { echo "Bail out! receiver on port $PORT"; exit 1; }
check "the receiver comes back: $N deliveries" wait_receiver_count 30 r $N /ok/down
# shellcheck disable=SC2086
check "every event arrives" is "$(printf '%s\n' $ALL | sort)" bash -c "receiver_events r /ok/down | sort -u"
check "delivered $N, dropped 0, queue empty" is "$N 0 0" \
    figures delivery.delivered delivery.dropped store.queued
if [ -n "$OLD" ]; then
    check "once delivered, the event received 40 days ago is expired" \
        wait_for 20 bash -c "! '$MAILHOOKCTL' -c '$CONF' events show $OLD"
    check "and only it" is 1 field counters expired
else
    skip "$why_old"; skip "$why_old"
fi
check "the events received today are kept after delivery" all_stored "$A" "$B" "$C" "$D"

# Dropped with their endpoint: counted too.
stop_receiver r
ctl endpoint add gone "http://127.0.0.1:$PORT/ok/gone" --allow-http --type t.gone --retry 1h \
    >/dev/null 2>&1
emit t.gone '{}' >/dev/null
emit t.gone '{}' >/dev/null
wait_for 10 bash -c "[ \"\$('$MAILHOOKCTL' -c '$CONF' --json deliveries list --endpoint gone --failed | wc -l)\" -ge 2 ]"
check "endpoint remove drops its 2 queued deliveries" \
    bash -c "'$MAILHOOKCTL' -c '$CONF' --json endpoint remove gone | grep -q '\"dropped\":2'"
check "status counts them in dropped" is "2 2" figures delivery.dropped delivery.dropped_removed
check "and mailhookctl status shows why" bash -c "'$MAILHOOKCTL' -c '$CONF' status | grep -q '2 dropped (0 after the last retry, 0 gone from the store, 2 with their endpoint)'"
stop_daemon
done_testing
