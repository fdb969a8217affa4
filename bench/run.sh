#!/bin/bash
# SPDX-License-Identifier: MIT
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
. "$(dirname "$0")/lib.sh"
bench_conf
bench_start

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
"$B/src/mailhookctl/mailhookctl" -c "$D/mh.conf" status | sed -n '1,5p'
