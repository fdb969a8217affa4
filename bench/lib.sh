# SPDX-License-Identifier: MIT
# bench/lib.sh - what the benchmark scripts share (source it; needs B, the
# build directory, and D, a scratch directory of the script's own).
#
#   bench_conf [EXTRA-LINES]   write $D/mh.conf: everything under $D, durable
#                              commits, no retention pass, plus EXTRA-LINES
#   bench_start                start mailhookd in the foreground (log in
#                              $D/log, pid in PID); exit 1 with its log if it
#                              does not answer within 10 s
bench_conf() {
    cat > "$D/mh.conf" <<CONF
user = ""
log = "stderr"
state_dir = "$D/state"
spool_dir = "$D/spool"
ingest_socket = "$D/ingest.sock"
admin_socket = "$D/admin.sock"
store_sync = true
retention_days = 0
CONF
    if [ $# -gt 0 ]; then printf '%s\n' "$1" >> "$D/mh.conf"; fi
}

bench_start() {
    "$B/src/mailhookd/mailhookd" -f -c "$D/mh.conf" 2>> "$D/log" &
    PID=$!
    for _ in $(seq 100); do
        # answering is enough: status exits 1 or 2 when something needs attention
        rc=0
        "$B/src/mailhookctl/mailhookctl" -c "$D/mh.conf" status >/dev/null 2>&1 || rc=$?
        [ "$rc" -le 2 ] && return 0
        sleep 0.1
    done
    echo "bench: mailhookd did not start:" >&2
    cat "$D/log" >&2
    exit 1
}
