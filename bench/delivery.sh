#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/delivery.sh BUILDDIR - `make bench`, delivery part: webhooks from a
# real mailhookd (durable commits, store_sync = true) to a local keep-alive
# HTTP/1.1 receiver (tests/helpers/receiver.js --quiet-log, node, plain HTTP
# on 127.0.0.1), and wrk (Debian package) against the same receiver in the
# same run as the ceiling.
#
#  1. ceiling: wrk -t1 -cC POSTs the same request mailhookd sends (a ~410
#     byte compact JSON event, Content-Type application/json, the
#     Standard Webhooks and X-Mailhook-* headers) for 3 s over C keep-alive
#     connections: requests/s, the best of BENCH_DELIVERY_REPEAT runs (3).
#     Next to it, bench/bench_curl: the same request from libcurl alone
#     (C in flight on one multi handle, handles reused; no signing, store
#     or log), what the HTTP library costs by itself.
#  2. unbatched: endpoint "uC" (types bench.uC, one event per request,
#     concurrency C: as many connections as wrk), the best of as many runs,
#     compared with 1. Both vary by up to a third from run to run on two
#     shared cores. 1 and 2 are run for C = 16 and C = 64: a receiver
#     answers more requests per wake-up under more concurrent ones, for
#     wrk and mailhookd alike, and the ratio differs. Measured on a backlog,
#     so that only the delivery path is timed: the receiver is stopped
#     (SIGSTOP; the kernel still accepts connections, so mailhookd sees
#     slow answers, not failures), N events are committed through the
#     ingest socket by bench_ingest (each fanned out to the endpoint's
#     queue on disk in the same transaction), then the receiver is
#     continued (SIGCONT) and the clock runs until it has received every
#     event once (GET /_stats "unique_events", polled every 0.2 s; the end
#     is interpolated between the two polls around N). deliveries/s = N /
#     that time: the engine reads its queue back from the store
#     (delivery_memory_events at a time), signs, sends, and removes each
#     delivered event from the store. The latency columns of this row are
#     event creation -> receipt and so include the time spent in the backlog.
#  2b. payload formats: the same backlog at concurrency CONC through three
#     endpoints in turn, REPEAT times each, best of each: "st" (the
#     standard format, the body is the stored event), "sg" (format
#     sendgrid, events of type email.delivered: the built-in jq program,
#     an array of one, ECDSA P-256 signature) and "tx" (a user transform, TX below, standard
#     signature); the goal is sg and tx >= 0.8x st.
#  3. batched: the same with endpoint "b" (types bench.b, batches of up to
#     100 events, batch wait 20 ms, concurrency 16): events/s.
#  4. latency at a steady rate (endpoints u and b, concurrency 16): bench_ingest paces 4 producers to 1,000
#     events/s in all for 10 s, each event made (its "timestamp", ms) when
#     due and submitted synchronously; the receiver's p50/p99 of (receipt -
#     "timestamp") is event creation -> ingest -> fsync'd commit -> delivery
#     -> receipt. For u, then for b (whose batch wait adds up to 20 ms).
# The receiver is pinned to core 0 (taskset) for every row, wrk's included:
# unpinned, the kernel's wake-affine placement keeps putting the receiver
# on the core of the client that just woke it, and the two then take turns
# on one core while the other idles (both were ~55% busy at concurrency
# 16), which times the scheduler rather than the client. Pinned, it
# behaves like a receiver on its own host. wrk's figure is the same either
# way; BENCH_DELIVERY_PIN=0 runs unpinned.
# Endpoint timeouts are 60 s so that the requests left hanging while the
# receiver is stopped are not retried (a retry would count twice).
# Tunables (environment): BENCH_DELIVERY_EVENTS (100000),
# BENCH_DELIVERY_BATCHED_EVENTS (300000), BENCH_DELIVERY_CONCURRENCY (16),
# BENCH_DELIVERY_BATCH (100), BENCH_DELIVERY_BATCH_WAIT (20ms),
# BENCH_DELIVERY_RATE (1000), BENCH_DELIVERY_SECONDS (10), BENCH_DELIVERY_REPEAT (3),
# BENCH_DELIVERY_UNBATCHED_CONCURRENCY ("16 64"), BENCH_DELIVERY_PIN (1).
# Reproduce: make && bash bench/delivery.sh "$PWD". Figures vary with the
# machine and the disk; everything runs on the loopback, all processes on
# the same cores (receiver, wrk, mailhookd, bench_ingest).
set -eu
B=${1:-$(cd "$(dirname "$0")/.." && pwd)}
S=$(cd "$(dirname "$0")/.." && pwd)
NU=${BENCH_DELIVERY_EVENTS:-100000}
NB=${BENCH_DELIVERY_BATCHED_EVENTS:-300000}
CONC=${BENCH_DELIVERY_CONCURRENCY:-16}
BATCH=${BENCH_DELIVERY_BATCH:-100}
BWAIT=${BENCH_DELIVERY_BATCH_WAIT:-20ms}
RATE=${BENCH_DELIVERY_RATE:-1000}
SECS=${BENCH_DELIVERY_SECONDS:-10}
REPEAT=${BENCH_DELIVERY_REPEAT:-3}
UCONCS=${BENCH_DELIVERY_UNBATCHED_CONCURRENCY:-16 64}
PIN=${BENCH_DELIVERY_PIN:-1}
PRODUCERS=4
. "$(dirname "$0")/lib.sh"

echo
if ! command -v node >/dev/null 2>&1; then
    echo "delivery: skipped: the receiver needs node (Debian package nodejs)"
    exit 0
fi

D=$(mktemp -d /tmp/mailhook-bench-dl.XXXXXX)
PID=""
RPID=""
cleanup() {
    if [ -n "$RPID" ]; then kill -CONT "$RPID" 2>/dev/null; kill -9 "$RPID" 2>/dev/null; fi
    if [ -n "$PID" ]; then kill -9 "$PID" 2>/dev/null; fi
    wait 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the receiver
PINNED=""
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
    PINNED="taskset -c 0"
fi
$PINNED node "$S/tests/helpers/receiver.js" --port 0 --port-file "$D/port" --bind 127.0.0.1 \
    --quiet-log --max-seconds 600 2>> "$D/recv.err" &
RPID=$!
for _ in $(seq 100); do [ -s "$D/port" ] && break; sleep 0.1; done
if [ ! -s "$D/port" ]; then
    echo "delivery: the receiver did not start:" >&2
    cat "$D/recv.err" >&2
    exit 1
fi
URL=http://127.0.0.1:$(cat "$D/port")
stats() { curl -sS --max-time 10 "$URL/_stats"; }
reset_stats() { curl -sS --max-time 10 -X POST "$URL/_reset_stats"; }
# field JSON NAME: a number (or null) of the receiver's stats
field() { printf '%s' "$1" | sed -n "s/.*\"$2\":\([-0-9.]*\|null\).*/\1/p"; }
now() { date +%s.%N; }
ctl() { "$B/src/mailhookctl/mailhookctl" -c "$D/mh.conf" "$@"; }
# dstat NAME: mailhookd's delivery counter NAME (delivered, failed_attempts)
dstat() { ctl --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["delivery"][sys.argv[1]])' "$1"; }

# ---- 1. wrk, the ceiling
BODY='{"id":"evt_01M8176J09625MH1AY142D1XK8","type":"bench.u","timestamp":"2026-11-22T08:50:39.241Z","data":{"queue_id":"4XyZ1w2Kq3z","message_id":"<20261122063019.4XyZ1w2Kq3z@mail.example.com>","sender":"newsletter@example.com","recipient":"user12345@example.net","relay":"mx.example.net[192.0.2.1]:25","dsn":"2.0.0","status":"sent","delay":0.42,"size":4812,"response":"250 2.0.0 Ok: queued as 7F3A21C0042","n":12345}}'
cat > "$D/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "mailhook/0.2.0"
wrk.headers["Accept"] = "*/*"
wrk.headers["X-Mailhook-Event"] = "bench.u"
wrk.headers["X-Mailhook-Delivery"] = "dlv_01M8176J0AFVYGQGJPKEPC9BVR"
wrk.headers["webhook-id"] = "evt_01M8176J09625MH1AY142D1XK8"
wrk.headers["webhook-timestamp"] = "1795337439"
wrk.headers["webhook-signature"] = "v1,yL4B3125gf4SAPfAQjmrWRsgfLNAIP2uR+HIZmum3Bc="
LUA
# wrk_best C -> "best all...": requests/s of wrk -t1 -cC, REPEAT runs of 3 s
wrk_best() {
    local best="" all="" w
    for _ in $(seq "$REPEAT"); do
        wrk -t1 -c"$1" -d3s -s "$D/post.lua" "$URL/ok/wrk" > "$D/wrk.out" 2>&1 || true
        w=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$D/wrk.out")
        [ -n "$w" ] || { echo "delivery: wrk failed:" >&2; cat "$D/wrk.out" >&2; continue; }
        all="$all ${w%.*}"
        if [ -z "$best" ] || [ "${w%.*}" -gt "$best" ]; then best=${w%.*}; fi
    done
    echo "${best:-0}$all"
}
# curl_best C -> "best all...": requests/s of bench_curl (libcurl alone,
# the same request, no signing, no store) with C in flight, REPEAT runs of 3 s
curl_best() {
    local best="" all="" r
    for _ in $(seq "$REPEAT"); do
        r=$("$B/bench/bench_curl" "$URL/ok/curl" "$1" 3 "$BODY" "Content-Type: application/json" \
            "Expect:" "X-Mailhook-Event: bench.u" "X-Mailhook-Delivery: dlv_01M8176J0AFVYGQGJPKEPC9BVR" \
            "webhook-id: evt_01M8176J09625MH1AY142D1XK8" "webhook-timestamp: 1795337439" \
            "webhook-signature: v1,yL4B3125gf4SAPfAQjmrWRsgfLNAIP2uR+HIZmum3Bc=" | awk '{print $3}')
        [ -n "$r" ] || continue
        all="$all $r"
        if [ -z "$best" ] || [ "$r" -gt "$best" ]; then best=$r; fi
    done
    echo "${best:-0}$all"
}
HAVE_WRK=yes
command -v wrk >/dev/null 2>&1 ||
    { HAVE_WRK=""; echo "delivery: wrk not found: the ceiling needs it (Debian package wrk); no ratio"; }

# ---- mailhookd and its endpoints
bench_conf 'delivery_allow = {"127.0.0.0/8"}
delivery_max_in_flight = 1024'
bench_start
for c in $UCONCS; do
    ctl endpoint add "u$c" "$URL/ok/u$c" --allow-http --type "bench.u$c" --concurrency "$c" \
        --timeout 60s > /dev/null
done
ctl endpoint add u "$URL/ok/u" --allow-http --type bench.u --concurrency "$CONC" \
    --timeout 60s > /dev/null
ctl endpoint add b "$URL/ok/b" --allow-http --type bench.b --concurrency "$CONC" \
    --batch "$BATCH" --batch-wait "$BWAIT" --timeout 60s > /dev/null
TX='{id, type, email: .data.recipient, time: $meta.time, seq: $meta.seq, tags: (.data.tags // [])}'
ctl endpoint add st "$URL/ok/st" --allow-http --type bench.st --concurrency "$CONC" \
    --timeout 60s > /dev/null
# sendgrid's program knows the email.* types only: the one endpoint of email.delivered
ctl endpoint add sg "$URL/ok/sg" --allow-http --type email.delivered --concurrency "$CONC" \
    --format sendgrid --timeout 60s > /dev/null
ctl endpoint add tx "$URL/ok/tx" --allow-http --type bench.tx --concurrency "$CONC" \
    --transform "$TX" --timeout 60s > /dev/null

# backlog TYPE N -> "events seconds events/s requests/s p50 p99 failed dup"
backlog() {
    local type=$1 n=$2 spooled f0 t0 tp=0 cp=0 t c s tend="" req
    reset_stats
    f0=$(dstat failed_attempts)
    kill -STOP "$RPID"
    read -r _ n _ _ _ _ spooled < <("$B/bench/bench_ingest" "$D/ingest.sock" "$D/spool" \
        "$PRODUCERS" $((n / PRODUCERS)) 1024 "$type") ||
        { echo "delivery: bench_ingest failed" >&2; exit 1; }
    [ "$spooled" = 0 ] ||
        echo "  ($spooled events were spooled: the daemon did not keep up with ingest)" >&2
    t0=$(now)
    kill -CONT "$RPID"
    tp=$t0
    while :; do
        sleep 0.2
        s=$(stats)
        t=$(now)
        c=$(field "$s" unique_events)
        if [ "$c" -ge "$n" ]; then
            tend=$(awk -v tp="$tp" -v cp="$cp" -v t="$t" -v c="$c" -v n="$n" \
                'BEGIN{printf "%.6f", (c > cp) ? tp + (t - tp) * (n - cp) / (c - cp) : t}')
            break
        fi
        if awk -v a="$t0" -v b="$t" 'BEGIN{exit !(b - a > 120)}'; then
            echo "  (timed out: $c of $n events received in 120 s)" >&2
            n=$c
            tend=$t
            break
        fi
        tp=$t
        cp=$c
    done
    req=$(field "$s" requests)
    awk -v n="$n" -v a="$t0" -v b="$tend" -v r="$req" -v ev="$(field "$s" events)" \
        -v p50="$(field "$s" p50)" -v p99="$(field "$s" p99)" \
        -v f="$(($(dstat failed_attempts) - f0))" \
        'BEGIN{printf "%d %.2f %.0f %.0f %s %s %d %d\n", n, b - a, n / (b - a), r / (b - a), p50, p99, f, ev - n}'
}

# paced TYPE -> "events seconds events/s p50 p99 max failed"
paced() {
    local type=$1 f0 s n secs eps
    reset_stats
    f0=$(dstat failed_attempts)
    read -r _ n secs eps _ < <("$B/bench/bench_ingest" "$D/ingest.sock" "$D/spool" \
        "$PRODUCERS" $((RATE * SECS / PRODUCERS)) 1 "$type" "$RATE") ||
        { echo "delivery: bench_ingest failed" >&2; exit 1; }
    for _ in $(seq 100); do
        s=$(stats)
        [ "$(field "$s" unique_events)" -ge "$n" ] && break
        sleep 0.1
    done
    echo "$n $secs $eps $(field "$s" p50) $(field "$s" p99) $(field "$s" max) $(($(dstat failed_attempts) - f0))"
}

# unbatched against wrk, at each concurrency in UCONCS (wrk with as many
# connections): the best of REPEAT runs of each, as both vary from run to
# run with what else the two cores are doing
declare -A U W C
u_f=0 u_dup=0
for c in $UCONCS; do
    [ -n "$HAVE_WRK" ] && W[$c]=$(wrk_best "$c")
    C[$c]=$(curl_best "$c")
    best=0 all=""
    for _ in $(seq "$REPEAT"); do
        read -r n s eps rps p50 p99 f dup < <(backlog "bench.u$c" "$NU")
        all="$all $rps"
        u_f=$((u_f + f)) u_dup=$((u_dup + dup))
        if [ "$rps" -gt "$best" ]; then best=$rps; U[$c]="$n $s $eps $rps $p50 $p99"; fi
    done
    U[$c]="${U[$c]} |$all"
done
# the formats, alternated so that each sees the same state of the machine
declare -A F
for _ in $(seq "$REPEAT"); do
    for f in st sg tx; do
        t=bench.$f
        [ "$f" = sg ] && t=email.delivered
        read -r n s eps rps p50 p99 fl dup < <(backlog "$t" "$NU")
        u_f=$((u_f + fl)) u_dup=$((u_dup + dup))
        if [ "$rps" -gt "${F[$f]:-0}" ]; then F[$f]=$rps; fi
        F[$f.all]="${F[$f.all]:-}$rps "
    done
done
read -r b_n b_s b_eps b_rps b_p50 b_p99 b_f b_dup < <(backlog bench.b "$NB")
read -r lu_n lu_s lu_eps lu_p50 lu_p99 lu_max lu_f < <(paced bench.u)
read -r lb_n lb_s lb_eps lb_p50 lb_p99 lb_max lb_f < <(paced bench.b)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if (b > 0) printf "%.2fx", a / b; else printf "-"}'; }
echo "delivery: mailhookd -> keep-alive HTTP/1.1 receiver (node) on 127.0.0.1, durable store (fsync),"
echo "$(nproc) cores, receiver $([ -n "$PINNED" ] && echo pinned to core 0 || echo not pinned)," \
    "state on $(df --output=source "$D" | tail -1); delivery_max_in_flight 1024"
printf '%-38s %8s %8s %10s %10s %7s %8s %8s\n' run events seconds events/s requests/s vs_wrk p50_ms p99_ms
for c in $UCONCS; do
    read -r un us ueps urps up50 up99 _ <<< "${U[$c]}"
    wbest=${W[$c]:-0}
    wbest=${wbest%% *}
    if [ -n "$HAVE_WRK" ]; then
        printf '%-38s %8s %8s %10s %10s %7s %8s %8s\n' "wrk -t1 -c$c (ceiling, best of $REPEAT)" - 3.00 - \
            "$wbest" 1.00x - -
    fi
    printf '%-38s %8s %8s %10s %10s %7s %8s %8s\n' "libcurl alone, c$c (best of $REPEAT)" - 3.00 - \
        "${C[$c]%% *}" "$(ratio "${C[$c]%% *}" "$wbest")" - -
    printf '%-38s %8s %8s %10s %10s %7s %8s %8s\n' "unbatched, concurrency $c (best of $REPEAT)" "$un" \
        "$us" "$ueps" "$urps" "$(ratio "$urps" "$wbest")" "$up50" "$up99"
done
for f in st sg tx; do
    printf '%-38s %8s %8s %10s %10s %7s\n' "format $f, c$CONC (best of $REPEAT)" "$NU" - - "${F[$f]}" \
        "$(ratio "${F[$f]}" "${F[st]}")"
done
echo "(format rows: vs_wrk column is vs \"format st\"; all runs: st ${F[st.all]}; sg ${F[sg.all]}; tx ${F[tx.all]})"
printf '%-38s %8s %8s %10s %10s %7s %8s %8s\n' "batched $BATCH/$BWAIT, c$CONC, backlog" "$b_n" "$b_s" "$b_eps" \
    "$b_rps" - "$b_p50" "$b_p99"
printf '%-38s %8s %8s %10s %10s %7s %8s %8s\n' "unbatched, c$CONC, paced $RATE/s" "$lu_n" "$lu_s" "$lu_eps" - - \
    "$lu_p50" "$lu_p99"
printf '%-38s %8s %8s %10s %10s %7s %8s %8s\n' "batched $BATCH/$BWAIT, c$CONC, paced $RATE/s" "$lb_n" "$lb_s" \
    "$lb_eps" - - "$lb_p50" "$lb_p99"
for c in $UCONCS; do
    w=${W[$c]:-}
    echo "(all runs at concurrency $c, requests/s: wrk ${w#* }; libcurl ${C[$c]#* }; mailhookd ${U[$c]#*|})"
done
echo "(backlog rows: time from receiver resumed to the last event received; their latency"
echo " includes the wait in the backlog. paced rows: event creation -> receipt, max ${lu_max}/${lb_max} ms)"
fails=$((u_f + b_f + lu_f + lb_f))
dups=$((u_dup + b_dup))
[ "$fails" = 0 ] && [ "$dups" = 0 ] ||
    echo "note: $fails failed attempts, $dups events received more than once during the runs"

# verdict VALUE CONDITION: CONDITION (awk, on v) holds for the number VALUE
verdict() {
    case $1 in ''|null|*[!-0-9.]*) echo "NOT MET (no figure)"; return ;; esac
    if awk -v v="$1" "BEGIN{exit !($2)}"; then echo met; else echo "NOT MET"; fi
}
echo "goals:"
for c in $UCONCS; do
    read -r _ _ _ urps _ <<< "${U[$c]}"
    wbest=${W[$c]:-0}
    wbest=${wbest%% *}
    if [ -n "$HAVE_WRK" ]; then
        printf '  unbatched >= 0.5x wrk, c%-3s         %s (%s vs %s requests/s): %s\n' "$c" \
            "$(ratio "$urps" "$wbest")" "$urps" "$wbest" "$(verdict "$urps" "v >= 0.5 * $wbest")"
    else
        echo "  unbatched >= 0.5x wrk, c$c:         unknown (no wrk)"
    fi
done
for f in sg tx; do
    printf '  format %s >= 0.8x standard, c%-3s   %s (%s vs %s requests/s): %s\n' "$f" "$CONC" \
        "$(ratio "${F[$f]}" "${F[st]}")" "${F[$f]}" "${F[st]}" "$(verdict "${F[$f]}" "v >= 0.8 * ${F[st]}")"
done
echo "  batched >= 100000 events/s:         $b_eps: $(verdict "$b_eps" "v >= 100000")"
echo "  p99 < 50 ms at $RATE events/s:        $lu_p99 ms (unbatched): $(verdict "$lu_p99" "v < 50")"
