#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/maillog.sh BUILDDIR - `make bench`, maillog part:
#  1. parse throughput: `mailhookctl parse --json` vs pflogsumm (Debian
#     package) on the same large real-Postfix log, in the same run: lines/s,
#     MB/s, max RSS, and the ratio;
#  2. memory bounded: parse of the log and of a log twice as long, max RSS;
#  3. tail-to-store: mailhookd follows the log from its beginning; lines/s
#     with every event committed (fsync'd);
#  4. lag: a writer appends delivery lines at a fixed rate, stamped with the
#     time they are written; mailhookd's status reports the p50/p99 of
#     (commit time - line time).
# The base log comes from a real Postfix (bench/gen-maillog.sh, needs root);
# it is replicated with fresh queue ids to BENCH_MAILLOG_LINES lines.
set -eu
. "$(dirname "$0")/lib.sh"
B=${1:-$(cd "$(dirname "$0")/.." && pwd)}
S=$(cd "$(dirname "$0")/.." && pwd)
LINES=${BENCH_MAILLOG_LINES:-2000000}
CACHE=${BENCH_CACHE:-/tmp/mailhook-bench-cache}
D=$(mktemp -d /tmp/mailhook-bench-ml.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; rm -rf "$D"' EXIT
mkdir -p "$CACHE"
LOG=$CACHE/maillog-$LINES.log
if [ ! -s "$LOG" ]; then
    echo "generating a real Postfix log and replicating it to $LINES lines (cached in $CACHE)..."
    bash "$S/bench/gen-maillog.sh" "$LOG" "$LINES" >/dev/null
fi
if [ ! -s "$CACHE/maillog-double.log" ]; then cat "$LOG" "$LOG" > "$CACHE/maillog-double.log"; fi
MB=$(du -m "$LOG" | cut -f1)
NL=$(wc -l < "$LOG")

# measure CMD...: best wall time of 3 runs, and max RSS (KiB) -> "secs rss"
measure() {
    local best="" rss=0 out
    for _ in 1 2 3; do
        /usr/bin/time -o "$D/time" -f '%e %M' "$@" > /dev/null 2>/dev/null || true
        out=$(tail -1 "$D/time")
        local t=${out% *} r=${out#* }
        if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
        [ "$r" -gt "$rss" ] && rss=$r
    done
    echo "$best $rss"
}

echo
echo "maillog parse: $NL lines, $MB MB of real Postfix log"
printf '%-28s %9s %12s %9s %10s\n' tool seconds lines/s MB/s max_RSS_MB
read -r mt mr < <(measure "$B/src/mailhookctl/mailhookctl" parse --json "$LOG")
read -r pt pr < <(measure pflogsumm "$LOG")
for row in "mailhookctl-parse $mt $mr" "pflogsumm $pt $pr"; do
    set -- $row
    awk -v n="$1" -v t="$2" -v r="$3" -v l="$NL" -v mb="$MB" \
        'BEGIN{printf "%-28s %9.2f %12.0f %9.1f %10.1f\n", n, t, l/t, mb/t, r/1024}'
done
awk -v a="$mt" -v b="$pt" 'BEGIN{printf "ratio: mailhookctl parse is %.1fx pflogsumm\n", b/a}'
read -r dt dr < <(measure "$B/src/mailhookctl/mailhookctl" parse --json "$CACHE/maillog-double.log")
awk -v a="$mr" -v b="$dr" 'BEGIN{printf "memory: max RSS %.1f MB on the log, %.1f MB on twice the log\n", a/1024, b/1024}'

# 3. tail-to-store
bench_conf "maillog \"bench\" {
    path = \"$LOG\"
    start_at = \"beginning\"
}"
status_field() { "$B/src/mailhookctl/mailhookctl" -c "$D/mh.conf" --json status 2>/dev/null |
    python3 -c "import json,sys; print(json.load(sys.stdin)['maillog']['bench']['$1'])" 2>/dev/null || echo 0; }
t0=$(date +%s.%N)
bench_start
while [ "$(status_field lines)" -lt "$NL" ]; do
    sleep 0.2
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{exit !(b-a > 600)}' && { echo "tail-to-store: timed out"; break; }
done
t1=$(date +%s.%N)
EV=$(status_field events)
echo
awk -v a="$t0" -v b="$t1" -v l="$NL" -v e="$EV" \
    'BEGIN{printf "tail-to-store: %d lines in %.1f s = %.0f lines/s, %d events committed (fsync) = %.0f events/s\n", l, b-a, l/(b-a), e, e/(b-a)}'
kill $PID; wait $PID 2>/dev/null || true; PID=""

# 4. lag at a steady rate
LAGLOG=$D/lag.log
: > "$LAGLOG"
sed -i "s|path = \"$LOG\"|path = \"$LAGLOG\"|" "$D/mh.conf"
rm -rf "$D/state"
bench_start
RATE=${BENCH_LAG_RATE:-3000}
python3 - "$LAGLOG" "$RATE" 10 <<'PY'
import sys, time, datetime
path, rate, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
f = open(path, "a", buffering=1)
t0 = time.time(); i = 0
while time.time() - t0 < secs:
    due = t0 + i / rate
    now = time.time()
    if due > now: time.sleep(due - now)
    ts = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")
    qid = "%010X" % (0x2B00000000 + i)
    f.write(f"{ts} mx postfix/qmgr[1]: {qid}: from=<s@src.test>, size=1, nrcpt=1 (queue active)\n")
    f.write(f"{ts} mx postfix/smtp[2]: {qid}: to=<r{i}@dst.test>, relay=mx[192.0.2.1]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 ok)\n")
    f.write(f"{ts} mx postfix/qmgr[1]: {qid}: removed\n")
    i += 1
PY
sleep 2
echo "delay at $RATE messages/s ($((RATE * 3)) lines/s) for 10 s: line read -> event committed: p50 $(status_field delay_ms_p50) ms, p99 $(status_field delay_ms_p99) ms; $(status_field behind_bytes) bytes behind 2 s after the last line"
