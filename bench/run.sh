#!/bin/bash
# bench/run.sh BUILDDIR - `make bench`: ingest throughput and ack latency.
#
# A real mailhookd with durable commits (store_sync = true: every
# acknowledged event is on disk) in a temporary directory; producers are
# threads of bench_ingest, each with its own ingest connection, pipelining up
# to WINDOW unacknowledged events. Prints a table; figures vary with the disk.
set -eu
B=${1:-$(cd "$(dirname "$0")/.." && pwd)}
TOTAL=${BENCH_EVENTS:-300000}
WINDOW=${BENCH_WINDOW:-1024}
D=$(mktemp -d /tmp/mailhook-bench.XXXXXX)
trap 'kill -9 $PID 2>/dev/null; rm -rf "$D"' EXIT
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
"$B/src/mailhookd" -f -c "$D/mh.conf" 2> "$D/log" &
PID=$!
up=no
for _ in $(seq 100); do "$B/src/mailhookctl" -c "$D/mh.conf" status >/dev/null 2>&1 && { up=yes; break; }; sleep 0.1; done
if [ $up = no ]; then echo "bench: mailhookd did not start:" >&2; cat "$D/log" >&2; exit 1; fi

echo "ingest: events committed (fsync group commit) through the Unix socket"
echo "$TOTAL events per run, window $WINDOW, $(nproc) cores, state on $(df --output=source "$D" | tail -1)"
printf '%-10s %12s %10s %12s %12s %10s\n' producers events seconds events/s p50_ack_us p99_ack_us
for P in 1 4 16; do
    read -r np n secs rate p50 p99 spooled < <("$B/bench/bench_ingest" "$D/ingest.sock" "$D/spool" "$P" $((TOTAL / P)) "$WINDOW")
    printf '%-10s %12s %10s %12s %12s %10s\n' "$np" "$n" "$secs" "$rate" "$p50" "$p99"
    [ "$spooled" = 0 ] || echo "  ($spooled events were spooled: the daemon did not keep up)"
done
echo
echo "ack latency at a bounded queue: 256 events in flight in all (window 256/producers)"
printf '%-10s %12s %10s %12s %12s %10s\n' producers events seconds events/s p50_ack_us p99_ack_us
for P in 1 4 16; do
    read -r np n secs rate p50 p99 spooled < <("$B/bench/bench_ingest" "$D/ingest.sock" "$D/spool" "$P" $((TOTAL / P / 2)) $((256 / P)))
    printf '%-10s %12s %10s %12s %12s %10s\n' "$np" "$n" "$secs" "$rate" "$p50" "$p99"
done
echo
echo "sync ack latency (one producer, window 1: each event waits for its own fsync'd commit)"
read -r np n secs rate p50 p99 spooled < <("$B/bench/bench_ingest" "$D/ingest.sock" "$D/spool" 1 2000 1)
printf '%-10s %12s %10s %12s %12s %10s\n' "$np" "$n" "$secs" "$rate" "$p50" "$p99"
"$B/src/mailhookctl" -c "$D/mh.conf" status | sed -n '1,5p'
