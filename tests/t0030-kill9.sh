#!/bin/bash
# SPDX-License-Identifier: MIT
# t0030: kill -9 of mailhookd while producers are submitting. Every event a
# producer was told is committed or spooled is in the store after restart,
# and none is there twice.
. "$(dirname "$0")/lib/tap.sh"
plan 6
CONF=$T_DIR/mailhook.conf
write_conf "$CONF"
PRODUCE=$top_builddir/tests/helpers/produce
N=1500

check "daemon starts" start_daemon "$CONF"
for p in 1 2 3; do
    "$PRODUCE" "$T_DIR/run/ingest.sock" "$T_DIR/spool" $N > "$T_DIR/acked.$p" 2> "$T_DIR/produce.$p.err" &
    PP="${PP:-} $!"
done
# Let them get going, then crash the daemon twice under load.
wait_for 20 bash -c "[ \$(cat '$T_DIR'/acked.* | wc -l) -ge 500 ]"
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
sleep 0.5
start_daemon "$CONF"
wait_for 20 bash -c "[ \$(cat '$T_DIR'/acked.* | wc -l) -ge 2500 ]"
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
sleep 0.3
check "daemon restarts after two kill -9" start_daemon "$CONF"
for p in $PP; do wait "$p"; done

cat "$T_DIR"/acked.* > "$T_DIR/acked"
check "every producer event was acknowledged ($((3 * N)))" bash -c "[ \$(wc -l < '$T_DIR/acked') -eq $((3 * N)) ]"
grep -c spooled "$T_DIR/acked" | sed 's/^/# spooled during the crashes: /'
# Wait for the spool to drain, then compare.
wait_for 30 bash -c "[ -z \"\$(ls '$T_DIR/spool/new')\" ]"
"$MAILHOOKCTL" -c "$CONF" --json events list --type test.produce --limit 100000 > "$T_DIR/stored"
grep -o '"id":"evt_[^"]*"' "$T_DIR/stored" | cut -d'"' -f4 | sort > "$T_DIR/stored.ids"
awk '{print $1}' "$T_DIR/acked" | sort > "$T_DIR/acked.ids"
check "every acknowledged event is stored" bash -c "[ -z \"\$(comm -23 '$T_DIR/acked.ids' '$T_DIR/stored.ids')\" ]"
check "no event is stored twice" bash -c "[ -z \"\$(uniq -d '$T_DIR/stored.ids')\" ]"
check "nothing stored that no producer sent" bash -c "[ \$(wc -l < '$T_DIR/stored.ids') -eq $((3 * N)) ]"
stop_daemon
done_testing
