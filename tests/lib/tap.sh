# SPDX-License-Identifier: MIT
# tests/lib/tap.sh - shared helpers for the TAP scenario tests (git t/ style).
#
# Source it from a test, then: plan N; check "name" cmd...; done_testing.
# A test that cannot run here: plan N; skip_all "why".
# Every daemon a test starts is killed on exit; every wait is bounded.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
MAILHOOKD=$top_builddir/src/mailhookd/mailhookd
MAILHOOKCTL=$top_builddir/src/mailhookctl/mailhookctl
T_NUM=0
T_FAILED=0
T_DIR=$(mktemp -d /tmp/mailhook-test.XXXXXX)
T_PIDS=""

cleanup() {
    for p in $T_PIDS; do kill -9 "$p" 2>/dev/null; done
    if [ "$T_FAILED" -eq 0 ] && [ -z "${KEEP_TEST_DIR:-}" ]; then rm -rf "$T_DIR"; else echo "# kept $T_DIR" ; fi
}
trap cleanup EXIT

T_PLAN=0
plan() { T_PLAN=$1; echo "1..$1"; }
ok() { T_NUM=$((T_NUM + 1)); echo "ok $T_NUM - $1"; }
not_ok() { T_NUM=$((T_NUM + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_NUM - $1"; }
skip() { T_NUM=$((T_NUM + 1)); echo "ok $T_NUM # SKIP $1"; }
diag() { sed 's/^/# /' ; }
# skip_all WHY: every planned test not run yet is skipped for WHY; exit.
skip_all() {
    while [ "$T_NUM" -lt "$T_PLAN" ]; do skip "$1"; done
    exit 0
}

# check NAME CMD...: one test point from a command's exit status; its output
# is shown as diagnostics when it fails.
check() {
    local name=$1; shift
    if "$@" > "$T_DIR/out" 2>&1; then ok "$name"; else not_ok "$name"; diag < "$T_DIR/out"; fi
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds or time runs out.
wait_for() {
    local limit=$(( $1 * 10 )); shift
    local i=0
    while [ $i -lt $limit ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# write_conf FILE [EXTRA-LINES]: a config whose paths all live in $T_DIR.
write_conf() {
    cat > "$1" <<CONF
user = ""
log = "stderr"
state_dir = "$T_DIR/state"
spool_dir = "$T_DIR/spool"
ingest_socket = "$T_DIR/run/ingest.sock"
admin_socket = "$T_DIR/run/admin.sock"
pid_file = "$T_DIR/run/mailhookd.pid"
store_sync = true
spool_scan_interval = 1
client_timeout = 5
CONF
    if [ $# -gt 1 ]; then printf '%s\n' "$2" >> "$1"; fi
}

# ctl_answers CONF: mailhookd answers mailhookctl status, whatever health it
# reports (exit 0 OK, 1 WARNING, 2 CRITICAL; 3 is no answer).
ctl_answers() {
    "$MAILHOOKCTL" -c "$1" status > /dev/null 2>&1
    [ $? -le 2 ]
}

# start_daemon CONF: mailhookd in the foreground, logging to $T_DIR/daemon.log;
# waits until the admin socket answers. Sets DAEMON_PID.
start_daemon() {
    "$MAILHOOKD" -f -c "$1" >> "$T_DIR/daemon.log" 2>&1 &
    DAEMON_PID=$!
    T_PIDS="$T_PIDS $DAEMON_PID"
    wait_for 20 ctl_answers "$1"
}

# stop_daemon: SIGTERM, wait (bounded) for exit; returns its exit status.
stop_daemon() {
    kill -TERM "$DAEMON_PID" 2>/dev/null
    local i=0
    while kill -0 "$DAEMON_PID" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
    wait "$DAEMON_PID" 2>/dev/null
}

# A daemon's sanitizer report (ASan, UBSan, LeakSanitizer) lands in its log,
# not in any test's output: a test with such a report fails. So does a
# timer left pending at a clean stop (evloop_free): its owner relied on the
# loop never running again.
done_testing() {
    if [ -f "$T_DIR/daemon.log" ] &&
            grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T_DIR/daemon.log"; then
        echo "# sanitizer report in the daemon's log:"
        grep -A20 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T_DIR/daemon.log" | diag
        T_FAILED=$((T_FAILED + 1))
    fi
    if [ -f "$T_DIR/daemon.log" ] && grep -q 'event loop freed with .* pending' "$T_DIR/daemon.log"; then
        echo "# a timer was left pending at exit:"
        grep 'event loop freed with' "$T_DIR/daemon.log" | diag
        T_FAILED=$((T_FAILED + 1))
    fi
    [ "$T_FAILED" -eq 0 ]
}

# faketime_lib: the path of libfaketime's multi-threaded library (Debian
# package faketime), or the reason it is missing (for SKIP) and status 1.
faketime_lib() {
    local lib
    for lib in /usr/lib/*/faketime/libfaketimeMT.so.1; do
        if [ -e "$lib" ]; then echo "$lib"; return 0; fi
    done
    echo "no libfaketime (Debian package faketime)"
    return 1
}

# start_daemon_shifted OFFSET CONF: start_daemon with mailhookd's wall clock
# moved by OFFSET ("-10d", "+2h"; libfaketime), its monotonic clock left as
# it is: a daemon that runs in the past, for records of several ages.
start_daemon_shifted() {
    local lib
    lib=$(faketime_lib) || return 1
    LD_PRELOAD=$lib FAKETIME=$1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
        "$MAILHOOKD" -f -c "$2" >> "$T_DIR/daemon.log" 2>&1 &
    DAEMON_PID=$!
    T_PIDS="$T_PIDS $DAEMON_PID"
    wait_for 20 ctl_answers "$2"
}

# status_field CONF KEY...: a member of mailhookctl's status (--json),
# following KEY... down ("counters" "expired"); empty when absent.
status_field() {
    local conf=$1; shift
    "$MAILHOOKCTL" -c "$conf" --json status | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v.get(k) if isinstance(v, dict) else None
print("" if v is None else v)' "$@"
}

# wait_passes SECONDS CONF N: wait until N more retention passes than now
# have finished (status counters.retention_passes): with N = 2, at least
# one pass started after this call.
wait_passes() {
    local limit=$(( $1 * 10 )) conf=$2 from now i=0
    from=$(status_field "$conf" counters retention_passes)
    [ -n "$from" ] || return 1
    while [ $i -lt $limit ]; do
        now=$(status_field "$conf" counters retention_passes)
        [ -n "$now" ] && [ "$now" -ge $((from + $3)) ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
