#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/milter.sh BUILDDIR - `make bench`, milter part: what mailhook-milter
# costs a real Postfix.
#
# Two private Postfix instances on 127.0.0.1 (tests/lib/postfix.sh), the
# same settings but one with mailhook-milter in front of smtpd
# (smtpd_milters, milter_default_action = accept, the macros of
# tests/lib/milter.sh), both relaying to one smtp-sink (Debian postfix
# package). A real mailhookd (durable commits) takes the milter's events.
# smtp-source (same package) submits BENCH_MILTER_MESSAGES messages over
# BENCH_MILTER_SESSIONS parallel sessions, each message ~2 KB with an RFC
# 2047 subject, two X-Mailhook-Tag headers, X-Mailhook-Metadata and a
# header mapped to metadata (X-Campaign-ID), so the milter does all its
# work (decoding, control headers removed, one email.sent submitted).
#
# Two submission modes: "reuse" (smtp-source -d: every session sends
# message after message on one SMTP connection, one milter connection) and
# "new" (one SMTP connection, so one milter negotiation, per message).
# Per mode, plain and milter runs alternate, BENCH_MILTER_REPEAT times each,
# the order rotating from one repeat to the next.
# Figures per run:
#   accepted/s    messages / smtp-source's wall time: what the SMTP client
#                 sees, the milter being in smtpd's path;
#   delivered/s   messages / (time from the first submission until Postfix
#                 logged the last status=sent): the whole MTA.
# The ratio is milter/plain of the best runs (goal >= 0.95).
#
# The floor: a third instance has bench/bench_null_milter in front instead,
# a milter that asks for the same protocol steps, macros and no-reply steps
# and removes the same control headers, but does nothing else. null/plain
# is what any milter of that shape costs this Postfix; milter/null is what
# mailhook's own work costs (decoding, the event, its submission, and
# mailhookd storing it). Per run, the CPU of the whole machine from the
# first submission to the last delivery gives the CPU per message of each
# configuration, and the difference is split between the milter process,
# mailhookd and the rest (Postfix's own extra work).
#
# Per-message time: mailhook-milter logs, when it stops, the time its
# callbacks took per message (MAIL FROM to end of message, p50/p99/max):
# its own cost. Next to it, Postfix's "delays=a/..." of every message
# (delay_logging_resolution_limit = 6: microseconds), a = from MAIL FROM
# to the queue manager, which includes every milter round trip of the
# transaction; p50/p99 of a with and without the milter, and their
# difference, bound the milter's cost as Postfix sees it.
#
# Needs root, postfix, smtp-source and smtp-sink, python3; skipped
# otherwise. Tunables: BENCH_MILTER_MESSAGES (2000), BENCH_MILTER_SESSIONS
# (16), BENCH_MILTER_REPEAT (3), BENCH_MILTER_MODES ("reuse new").
# Everything on the loopback, all processes on the same cores.
set -eu
B=${1:-$(cd "$(dirname "$0")/.." && pwd)}
S=$(cd "$(dirname "$0")/.." && pwd)
NMSG=${BENCH_MILTER_MESSAGES:-2000}
SESS=${BENCH_MILTER_SESSIONS:-16}
REPEAT=${BENCH_MILTER_REPEAT:-3}
MODES=${BENCH_MILTER_MODES:-reuse new}
SOURCE=/usr/sbin/smtp-source
SINK=/usr/sbin/smtp-sink
. "$S/bench/lib.sh"

echo
skip() { echo "milter: skipped: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (a private Postfix)"
[ -x "$SOURCE" ] && [ -x "$SINK" ] || skip "needs smtp-source and smtp-sink (Debian package postfix)"
[ -x "$B/src/milter/mailhook-milter" ] || skip "no $B/src/milter/mailhook-milter"

D=$(mktemp -d /tmp/mailhook-bench-mt.XXXXXX)
T_DIR=$D
T_PIDS=""
PID=""
SINK_PID=""
MILTER=$B/src/milter/mailhook-milter
NULLM=$B/bench/bench_null_milter
NULL_PID=""
PF_SINK_OPTS=--quiet   # the harness's sink stays idle: smtp-sink takes the mail
# No chroot: the milters start before their instances' queue directories
# exist, on sockets under $D (what is measured is the milter, not the jail).
PF_CHROOT=n
PF_LIFETIME=600
# Stops everything: postfix.sh's EXIT trap stops the instances first, then
# calls this. Runs without errexit (set +e in the trap, see below).
cleanup() {
    set +e
    [ -n "${MILTER_PID:-}" ] && mt_stop
    [ -n "$NULL_PID" ] && { kill "$NULL_PID" 2>/dev/null; wait "$NULL_PID" 2>/dev/null; }
    [ -n "$SINK_PID" ] && { kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; }
    [ -n "$PID" ] && { kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
    for p in $T_PIDS; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
. "$S/tests/lib/postfix.sh"
. "$S/tests/lib/milter.sh"
pf_available > /dev/null || skip "$(pf_available)"

# ---- the sink, mailhookd, the milter, two Postfix instances
SINK_PORT=$(_pf_free_ports 1)
timeout 900 "$SINK" -u postfix "127.0.0.1:$SINK_PORT" 1024 > "$D/sink.log" 2>&1 < /dev/null &
SINK_PID=$!
wait_for 10 _pf_listening "$SINK_PORT" || { echo "milter: smtp-sink did not start" >&2; cat "$D/sink.log" >&2; exit 1; }

SPEC=$(mt_socket_outside)
bench_conf "$(mt_conf_section "$SPEC" 'header_metadata = {"X-Campaign-ID=campaign_id"}')"
bench_start
mt_start "$D/mh.conf" || exit 1

PERF=("delay_logging_resolution_limit = 6" "smtpd_client_connection_count_limit = 0"
      "smtpd_client_connection_rate_limit = 0" "smtpd_client_message_rate_limit = 0")
mapfile -t MCF < <(mt_main_cf "$SPEC" 30s)
CFGS="plain milter"
if [ -x "$NULLM" ]; then
    NSPEC="unix:$D/msock/null.sock"
    timeout 900 "$NULLM" "$NSPEC" > "$D/null.log" 2>&1 < /dev/null &
    NULL_PID=$!
    T_PIDS="$T_PIDS $NULL_PID"
    wait_for 20 test -S "$D/msock/null.sock" || { echo "milter: bench_null_milter did not start" >&2; cat "$D/null.log" >&2; exit 1; }
    chmod 666 "$D/msock/null.sock"
    NULL_CPU_PID=$(pgrep -P "$NULL_PID" | head -1) # the milter under timeout(1)
    mapfile -t NCF < <(mt_main_cf "$NSPEC" 30s)
    CFGS="plain null milter"
fi
pf_setup -n plain -l "$D/postfix/plain.log" -t "smtp:[127.0.0.1]:$SINK_PORT" "${PERF[@]}" > /dev/null
pf_start
pf_setup -n milter -l "$D/postfix/milter.log" -t "smtp:[127.0.0.1]:$SINK_PORT" "${PERF[@]}" "${MCF[@]}" > /dev/null
pf_start
if [ -n "$NULL_PID" ]; then
    pf_setup -n null -l "$D/postfix/null.log" -t "smtp:[127.0.0.1]:$SINK_PORT" "${PERF[@]}" "${NCF[@]}" > /dev/null
    pf_start
fi
# pf_start chained postfix.sh's EXIT trap in front of cleanup; its pf_stop
# has commands that may fail once an instance is gone, which errexit would
# turn into an exit before cleanup: run the trap without it.
trap 'set +e; _pf_atexit' EXIT

# The message smtp-source sends (-F: headers and body as they are).
{
    printf 'From: Bench Sender <sender@src.test>\r\nTo: <rcpt@dst.test>\r\n'
    printf 'Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4g4pyT?= order confirmation\r\n'
    printf 'X-Mailhook-Tag: bench\r\nX-Mailhook-Tag: transactional, eu\r\n'
    printf 'X-Mailhook-Metadata: {"user_id": 12345, "plan": "pro", "order": "A-1"}\r\n'
    printf 'X-Campaign-ID: cmp-bench\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
    for _ in $(seq 28); do printf 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n'; done
} > "$D/msg.eml"

# cpu_ticks PID: user+system clock ticks the process has used so far
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# machine_ticks: "busy all" clock ticks of every core so far (/proc/stat;
# busy = all but idle and iowait)
machine_ticks() { awk '/^cpu /{t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat; }
TCK=$(getconf CLK_TCK)
sent_lines() { grep -c 'status=sent' "$PF_MAILLOG" 2>/dev/null || true; }
now() { date +%s.%N; }
# run_one NAME MODE -> "accepted/s delivered/s" (and delays in $D/delays.NAME)
run_one() {
    pf_use "$1"
    local base t0 t1 t2 dflag="" n
    [ "$2" != new ] && dflag=-d
    base=$(sent_lines)
    local c0m c0d b0 a0 b1 a1 mpid=$MILTER_PID
    [ "$1" = null ] && mpid=$NULL_CPU_PID
    c0m=$(cpu_ticks "$mpid"); c0d=$(cpu_ticks "$PID")
    read -r b0 a0 < <(machine_ticks)
    t0=$(now)
    # shellcheck disable=SC2086 # dflag: zero or one word
    timeout 300 "$SOURCE" $dflag -s "$SESS" -m "$NMSG" -f sender@src.test -t rcpt@dst.test \
        -F "$D/msg.eml" "127.0.0.1:$PF_PORT" > "$D/source.out" 2>&1 ||
        { echo "milter: smtp-source failed:" >&2; tail -5 "$D/source.out" >&2; }
    t1=$(now)
    # Delivered: the log has NMSG more status=sent lines (bounded: 120 s).
    for _ in $(seq 1200); do
        n=$(sent_lines)
        [ $((n - base)) -ge "$NMSG" ] && break
        sleep 0.1
    done
    t2=$(now)
    read -r b1 a1 < <(machine_ticks)
    [ $((n - base)) -ge "$NMSG" ] || echo "milter: only $((n - base)) of $NMSG delivered within 120 s ($1)" >&2
    grep 'status=sent' "$PF_MAILLOG" | tail -n +$((base + 1)) |
        sed -n 's/.*delays=\([0-9.]*\)\/.*/\1/p' >> "$D/delays.$1.$2"
    # CPU of the milter of this configuration (mailhook-milter, or the null
    # one) and of mailhookd during the run (mailhookd only works in milter runs)
    # and of the whole machine from the first submission to the last
    # delivery (busy ticks, all ticks)
    echo "$(( $(cpu_ticks "$mpid") - c0m )) $(( $(cpu_ticks "$PID") - c0d ))" \
        "$((b1 - b0)) $((a1 - a0))" >> "$D/cpu.$1.$2"
    awk -v n="$NMSG" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN{printf "%.0f %.0f\n", n/(b-a), n/(c-a)}'
}
# pct FILE -> "p50_ms p99_ms" of the values (seconds) in FILE
pct() {
    sort -g "$1" | awk '{v[NR]=$1} END{if(NR==0){print "- -"; exit}
        i50=int(NR*0.50); if(i50<1)i50=1; i99=int(NR*0.99); if(i99<1)i99=1;
        printf "%.3f %.3f\n", v[i50]*1000, v[i99]*1000}'
}

echo "milter: Postfix throughput without and with mailhook-milter ($SPEC; mailhookd fsyncs its events)"
echo "$NMSG messages of $(wc -c < "$D/msg.eml") bytes per run, $SESS sessions, smtp-source -> Postfix -> smtp-sink, $(nproc) cores"
for mode in $MODES; do
    declare -A best_acc=() best_del=() all_acc=() all_del=()
    order=$CFGS
    for _ in $(seq "$REPEAT"); do
        # The order rotates from one repeat to the next: runs get slower as
        # the bench goes on (the file system's state after thousands of
        # queue files), and a fixed order would favour the one run first.
        for cfg in $order; do
            run_one "$cfg" "$mode" > "$D/run.out"
            read -r acc del < "$D/run.out"
            all_acc[$cfg]="${all_acc[$cfg]:-} $acc"; all_del[$cfg]="${all_del[$cfg]:-} $del"
            [ "$acc" -gt "${best_acc[$cfg]:-0}" ] && best_acc[$cfg]=$acc
            [ "$del" -gt "${best_del[$cfg]:-0}" ] && best_del[$cfg]=$del
        done
        order="${order#* } ${order%% *}"
    done
    echo
    case $mode in
        reuse) echo "mode reuse: smtp-source -d, each session keeps its connection (one milter connection per session)" ;;
        new) echo "mode new: one SMTP connection (and milter negotiation) per message" ;;
    esac
    printf '%-8s %12s %-24s %12s %-24s %13s %13s\n' config best_acc/s "all accepted/s" best_dlv/s "all delivered/s" "delay_a_p50ms" "delay_a_p99ms"
    for cfg in $CFGS; do
        read -r p50 p99 < <(pct "$D/delays.$cfg.$mode")
        printf '%-8s %12s %-24s %12s %-24s %13s %13s\n' "$cfg" "${best_acc[$cfg]}" "${all_acc[$cfg]# }" \
            "${best_del[$cfg]}" "${all_del[$cfg]# }" "$p50" "$p99"
    done
    read -r a50 a99 < <(pct "$D/delays.plain.$mode")
    read -r m50 m99 < <(pct "$D/delays.milter.$mode")
    awk -v pa="${best_acc[plain]}" -v ma="${best_acc[milter]}" -v pd="${best_del[plain]}" -v md="${best_del[milter]}" \
        -v a50="$a50" -v a99="$a99" -v m50="$m50" -v m99="$m99" 'BEGIN{
        printf "ratio milter/plain (best): accepted %.2f, delivered %.2f (goal >= 0.95)\n", ma/pa, md/pd
        printf "Postfix delays a (MAIL FROM -> queue manager) under this load, milter - plain: %+.3f ms p50, %+.3f ms p99 (queueing dominates)\n", m50-a50, m99-a99 }'
    # CPU per message of the whole machine (every process), from the
    # first submission to the last delivery; and of the milter and
    # mailhookd. cpu_of CFG -> "machine_us milter_us mailhookd_us busy%"
    cpu_of() {
        awk -v n="$NMSG" -v tck="$TCK" '{m += $1; d += $2; b += $3; a += $4; r++} END{
            f = 1e6 / tck / (n * r); printf "%.0f %.0f %.0f %.0f\n", b * f, m * f, d * f, 100 * b / a }' "$D/cpu.$1.$mode"
    }
    read -r pc _ _ pbusy < <(cpu_of plain)
    read -r mc mm md mbusy < <(cpu_of milter)
    echo "CPU per message, whole machine (machine busy): plain $pc us ($pbusy%), mailhook-milter $mc us ($mbusy%)"
    if [ -n "$NULL_PID" ]; then
        read -r nc nm _ nbusy < <(cpu_of null)
        awk -v pa="${best_acc[plain]}" -v na="${best_acc[null]}" -v ma="${best_acc[milter]}" \
            -v pd="${best_del[plain]}" -v nd="${best_del[null]}" -v md="${best_del[milter]}" 'BEGIN{
            printf "floor, null milter/plain: accepted %.2f, delivered %.2f; mailhook-milter/null milter: accepted %.2f, delivered %.2f\n", na/pa, nd/pd, ma/na, md/nd }'
        echo "  null milter: $nc us per message ($nbusy% busy): +$((nc - pc)) us over plain, of which the null milter $nm us, Postfix's own milter work $((nc - pc - nm)) us"
        echo "  mailhook-milter: +$((mc - nc)) us over the null milter: mailhook-milter $((mm - nm)) us more than the null one, mailhookd $md us, the rest $((mc - nc - (mm - nm) - md)) us"
    else
        echo "  (no bench/bench_null_milter: no floor)"
    fi
    echo "  mailhook-milter $mm us, mailhookd $md us per message"
    unset best_acc best_del all_acc all_del
done
# Per-message latency without queueing: one session, one message at a time.
NSER=${BENCH_MILTER_SERIAL:-300}
echo
echo "one session, $NSER messages one after the other (smtp-source -d -s 1), per message:"
printf '%-8s %14s %16s %16s\n' config wall_ms/msg delay_a_p50_ms delay_a_p99_ms
for cfg in $CFGS; do
    SESS=1 NMSG=$NSER run_one "$cfg" serial > "$D/serial.$cfg"
    read -r acc _ < "$D/serial.$cfg"
    read -r p50 p99 < <(pct "$D/delays.$cfg.serial")
    printf '%-8s %14s %16s %16s\n' "$cfg" "$(awk -v a="$acc" 'BEGIN{printf "%.3f", 1000/a}')" "$p50" "$p99"
done
read -r a50 a99 < <(pct "$D/delays.plain.serial")
read -r m50 m99 < <(pct "$D/delays.milter.serial")
read -r pacc _ < "$D/serial.plain"; read -r macc _ < "$D/serial.milter"
awk -v pa="$pacc" -v ma="$macc" -v a50="$a50" -v a99="$a99" -v m50="$m50" -v m99="$m99" 'BEGIN{
    printf "milter - plain: %+.3f ms per message (wall), delays a %+.3f ms p50, %+.3f ms p99\n", 1000/ma-1000/pa, m50-a50, m99-a99 }'
if [ -n "$NULL_PID" ]; then
    read -r nacc _ < "$D/serial.null"
    awk -v pa="$pacc" -v na="$nacc" -v ma="$macc" 'BEGIN{
        printf "null milter - plain: %+.3f ms; mailhook-milter - null milter: %+.3f ms per message (wall)\n", 1000/na-1000/pa, 1000/ma-1000/na }'
fi
# The milter logs its own per-message time (its callbacks, MAIL FROM to end
# of message) when it stops: every message of every run above.
mt_stop || true
own=$(sed -n 's/.*time in callbacks per message: //p' "$D/milter.log" | tail -1)
echo "mailhook-milter's own time per message, in its callbacks (MAIL FROM to end of message): ${own:-not logged}"
read -r ev < <("$B/src/mailhookctl/mailhookctl" -c "$D/mh.conf" --json status |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["ingested"])')
nmodes=$(echo "$MODES" | wc -w)
echo "mailhookd stored $ev events from the milter ($((nmodes * REPEAT * NMSG + NSER)) expected: $nmodes mode(s) x $REPEAT runs x $NMSG messages + $NSER)"
