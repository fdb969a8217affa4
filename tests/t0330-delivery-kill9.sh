#!/bin/bash
# SPDX-License-Identifier: MIT
# t0330: at least once, across kill -9. Events are produced while two
# endpoints (one fast, one slow and batched) are being delivered to; the
# daemon is killed -9 twice mid-delivery and restarted. Afterwards every
# stored event has reached both receivers at least once; the duplicates
# (expected: what was in flight at the kills) are reported.
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"

if ! why=$(have_node); then echo "1..0 # SKIP $why"; exit 0; fi
plan 7
N=1500
CONF=$T_DIR/mailhook.conf
PRODUCE=$top_builddir/tests/helpers/produce
start_receiver r --tls >/dev/null || { echo "Bail out! receiver"; exit 1; }
write_conf "$CONF" "delivery_ca_file = \"$T_DIR/ca/ca.pem\"
delivery_allow = {\"127.0.0.0/8\"}
delivery_time_scale = 1000
delivery_memory_events = 200
endpoint \"fast\" {
    url = \"$RECV_R_URL/ok/fast\"
    types = {\"k9.*\"}
}
endpoint \"slow\" {
    url = \"$RECV_R_URL/slow/20/slow\"
    types = {\"k9.*\"}
    batch_max = 20
    batch_wait_ms = 50
    concurrency = 2
}"
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
queued() { ctl --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["queued"])'; }

check "daemon starts" start_daemon "$CONF"
"$PRODUCE" "$T_DIR/run/ingest.sock" "$T_DIR/spool" $N k9.event > "$T_DIR/acked" 2> "$T_DIR/produce.err" &
PRODUCER=$!
T_PIDS="$T_PIDS $PRODUCER"
for round in 1 2; do
    # Kill once deliveries are under way, with events still queued.
    wait_for 30 bash -c "[ \$(receiver_count r /slow) -ge $((round * 5)) ]"
    kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
    start_daemon "$CONF" || echo "# restart $round failed"
done
wait "$PRODUCER"
check "every produced event was acknowledged ($N)" bash -c "[ \$(wc -l < '$T_DIR/acked') -eq $N ]"
check "the queues drain after the restarts" wait_for 90 bash -c "[ \"\$('$MAILHOOKCTL' -c '$CONF' --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"store\"][\"queued\"])')\" = 0 ]"
awk '{print $1}' "$T_DIR/acked" | sort -u > "$T_DIR/want"
for ep in fast slow; do
    receiver_events r "/$( [ $ep = fast ] && echo ok/fast || echo slow/20/slow)" > "$T_DIR/got.$ep"
    sort -u "$T_DIR/got.$ep" > "$T_DIR/got.$ep.u"
    missing=$(comm -23 "$T_DIR/want" "$T_DIR/got.$ep.u" | wc -l)
    dups=$(( $(wc -l < "$T_DIR/got.$ep") - $(wc -l < "$T_DIR/got.$ep.u") ))
    echo "# $ep: $(wc -l < "$T_DIR/got.$ep.u") of $N events received, $missing missing, $dups duplicates"
    check "$ep: every event delivered at least once" bash -c "[ $missing -eq 0 ]"
done
check "nothing invented" bash -c "[ \$(cat '$T_DIR/got.fast.u' '$T_DIR/got.slow.u' | sort -u | comm -13 '$T_DIR/want' - | wc -l) -eq 0 ]"
check "daemon stops cleanly" stop_daemon
done_testing
