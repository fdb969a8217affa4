#!/bin/bash
# SPDX-License-Identifier: MIT
# t0082: a full disk. The state directory is on a small tmpfs; producers
# write events while a filler file takes the rest of it. mailhookd keeps
# running: new events get a temporary failure (producers spool them), the
# cause is logged once and shown in status, delivery goes on, and when the
# filler is removed it takes events again by itself; every event a
# producer was told was committed or spooled reaches the receiver, with no
# restart. After a clean stop it starts again with no space free at all;
# after a kill -9 with the log full it waits for the space recovery needs,
# says so, and comes up by itself, with every acknowledged event.
# With state and spool on the same full disk, emit fails with 75 (try
# again later), never with a lost event. Needs root (mount); skipped
# otherwise.
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"

PRODUCE=$top_builddir/tests/helpers/produce
plan 22
if ! why=$(have_node); then skip_all "$why"; fi
[ "$(id -u)" = 0 ] || skip_all "not root: cannot mount a tmpfs"
MNT=$T_DIR/mnt
mkdir -p "$MNT"
mount -t tmpfs -o size=40m,mode=0755 tmpfs "$MNT" 2>"$T_DIR/mount.err" ||
    skip_all "cannot mount a tmpfs: $(head -1 "$T_DIR/mount.err")"
# Daemons first (the mount is busy while they run), then the mount, then
# tap.sh's cleanup.
unmount() {
    { for p in $T_PIDS; do kill -9 "$p"; done; wait; } 2>/dev/null
    umount "$MNT"
    cleanup
}
trap unmount EXIT

start_receiver r >/dev/null || { echo "Bail out! receiver"; exit 1; }
CONF=$T_DIR/mailhook.conf
conf_with() { # conf_with SPOOL_DIR: the state on the tmpfs, delivering to the receiver
    write_conf "$CONF" "delivery_allow = {\"127.0.0.0/8\"}
delivery_time_scale = 1000
endpoint \"r\" {
    url = \"$RECV_R_URL/ok/r\"
    allow_http = true
}"
    sed -i "s|^state_dir = .*|state_dir = \"$MNT/state\"|; s|^spool_dir = .*|spool_dir = \"$1\"|" "$CONF"
}
conf_with "$T_DIR/spool"
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
space() { ctl --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["space"]["full"])'; }
full() { [ "$(space)" = True ]; }
not_full() { [ "$(space)" = False ]; }
fill() { dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null; sync; } # until the tmpfs is full
free_kib() { df -k --output=avail "$MNT" | tail -1 | tr -d ' '; }
export -f ctl space full not_full
export CONF MAILHOOKCTL
# produce_until_full OUT: batches of events until the store says it is full
# (the log it has room for runs out: a new log file does not fit).
produce_until_full() {
    local i
    for i in $(seq 40); do
        "$PRODUCE" "$T_DIR/run/ingest.sock" "$SPOOL" 500 >> "$1" 2>> "$T_DIR/produce.err"
        full && return 0
    done
    return 1
}
# emit_committed FILE: emit an event, add its line to FILE; true when committed.
emit_committed() {
    ctl emit test.back '{}' > "$T_DIR/emit.out" 2>&1
    cat "$T_DIR/emit.out" >> "$1"
    grep -q ' committed$' "$T_DIR/emit.out"
}
# all_received FILE: every id in FILE (first column) reached the receiver.
all_received() {
    receiver_events r /ok/r | sort -u > "$T_DIR/received"
    awk '{print $1}' "$1" | sort -u | comm -23 - "$T_DIR/received" > "$T_DIR/missing"
    [ ! -s "$T_DIR/missing" ]
}
# all_stored FILE: every id in FILE (first column) is in the store.
all_stored() {
    ctl --json events list --limit 100000 | python3 -c 'import json,sys
for l in sys.stdin: print(json.loads(l)["id"])' | sort -u > "$T_DIR/stored"
    awk '{print $1}' "$1" | sort -u | comm -23 - "$T_DIR/stored" > "$T_DIR/missing"
    [ ! -s "$T_DIR/missing" ]
}
export -f all_received all_stored emit_committed receiver_events _recv_py

# --- state on the full disk, spool elsewhere
SPOOL=$T_DIR/spool
check "daemon starts" start_daemon "$CONF"
PID=$DAEMON_PID
fill
check "under load on the full disk the store says it is out of space" produce_until_full "$T_DIR/acked"
check "mailhookd is still running" kill -0 "$PID"
check "every event was committed or spooled (none lost, none refused)" bash -c "
    [ ! -s '$T_DIR/produce.err' ] && [ \$(awk '\$2 == \"committed\" || \$2 == \"spooled\"' '$T_DIR/acked' | wc -l) -eq \$(wc -l < '$T_DIR/acked') ]"
check "status says OUT OF SPACE" bash -c "ctl status | grep -q 'OUT OF SPACE since'"
ctl emit test.full '{}' > "$T_DIR/emit.out" 2>&1
check "emit while full: spooled (temporary failure from mailhookd)" grep -q ' spooled:' "$T_DIR/emit.out"
cat "$T_DIR/emit.out" >> "$T_DIR/acked"
check "the cause is logged once, without Berkeley DB's chatter" bash -c "
    [ \$(grep -c 'store: .*: out of space (' '$T_DIR/daemon.log') -eq 1 ] && [ \$(grep -c 'berkeley db' '$T_DIR/daemon.log') -le 5 ]"
rm -f "$MNT/filler"
# No status request meanwhile (it would probe): the events themselves do.
check "space freed: emit is committed again, by itself" wait_for 20 emit_committed "$T_DIR/acked"
check "status no longer says OUT OF SPACE" not_full
check "every event committed or spooled reaches the receiver" wait_for 60 all_received "$T_DIR/acked"
[ -s "$T_DIR/missing" ] && head -5 "$T_DIR/missing" | diag
check "the same mailhookd throughout (no restart)" bash -c "kill -0 $PID && [ \$(ctl --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"pid\"])') = $PID ]"

# --- a clean stop, then a start with no space free at all
stop_daemon
rc=$?
check "clean stop (exit 0)" [ "$rc" -eq 0 ]
fill
check "starts again with $(free_kib) KiB free" start_daemon "$CONF"

# --- kill -9 on the full disk, with the log full: the start waits for the
# space recovery needs, says so, and comes up by itself once it is freed
stop_daemon
rm -rf "$MNT/filler" "$MNT/state"
start_daemon "$CONF"
fill
produce_until_full "$T_DIR/acked3"
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
# Berkeley DB leaks a little memory when a recovery fails (valgrind.supp,
# lsan.supp).
"$MAILHOOKD" -f -c "$CONF" >> "$T_DIR/daemon.log" 2>&1 &
DAEMON_PID=$!
T_PIDS="$T_PIDS $DAEMON_PID"
check "after kill -9 on the full disk: waits for space, says what recovery needs" \
    wait_for 20 bash -c "grep -q 'not enough space to recover .*KiB free; recovery writes back' '$T_DIR/daemon.log' && kill -0 $DAEMON_PID"
rm -f "$MNT/filler"
check "comes up by itself once space is freed" wait_for 20 ctl_answers "$CONF"
check "every event acknowledged before the kill is in the store" wait_for 20 all_stored "$T_DIR/acked3"
[ -s "$T_DIR/missing" ] && head -5 "$T_DIR/missing" | diag

# --- state and spool on the same full disk
stop_daemon
SPOOL=$MNT/spool
conf_with "$SPOOL"
check "daemon starts with the spool on the same disk" start_daemon "$CONF"
fill
check "under load the store says it is out of space" produce_until_full "$T_DIR/acked2"
for i in 1 2 3; do ctl emit test.shared '{}' >> "$T_DIR/emit2.out" 2>&1; echo "$?" >> "$T_DIR/emit2.rc"; done
check "emit with nowhere to write: exit 75 (temporary), not 69" bash -c "[ \"\$(sort -u '$T_DIR/emit2.rc')\" = 75 ]"
grep -E '^evt_[0-9A-Z]+ (committed|spooled)' "$T_DIR/emit2.out" >> "$T_DIR/acked2"
rm -f "$MNT/filler"
check "space freed: emit is committed again" wait_for 20 emit_committed "$T_DIR/acked2"
check "every event a producer was told was committed or spooled reaches the receiver" \
    wait_for 60 all_received "$T_DIR/acked2"
[ -s "$T_DIR/missing" ] && head -5 "$T_DIR/missing" | diag
check "daemon stops cleanly" stop_daemon
done_testing
