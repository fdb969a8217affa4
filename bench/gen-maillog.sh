#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/gen-maillog.sh OUT.log [N] - a large, realistic Postfix maillog for
# benchmarks, written by a REAL Postfix.
#
# 1. A private Postfix (tests/lib/postfix.sh: root, 127.0.0.1 only, all under
#    a temporary directory) takes GEN_MESSAGES messages (default 3000) with
#    1-4 recipients each: mostly accepted by the test sink, plus deferred
#    (450, connection refused -> delay warnings -> expiry), bounced (550,
#    552, 553), error: and discard: transports, smtpd (NOQUEUE) and cleanup
#    (header_checks) rejects, null senders, double bounces, and submissions
#    through sendmail(1)/pickup. The base log is OUT's name with .base.log
#    (e.g. big.log -> big.base.log). This takes well under 2 minutes.
# 2. bench/replicate-maillog.py copies it to N lines (if N is given and larger)
#    with fresh queue ids per copy and advancing timestamps, into OUT.
#
# Environment: GEN_MESSAGES (3000), GEN_LONG_IDS=yes (enable_long_queue_ids),
# GEN_SEED (random seed, 1), GEN_CONNS (parallel SMTP sessions, 4).
set -u
if [ $# -lt 1 ]; then echo "usage: $0 OUT.log [N]" >&2; exit 2; fi
OUT=$1
N=${2:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
MSGS=${GEN_MESSAGES:-3000}
SEED=${GEN_SEED:-1}
case $OUT in *.log) BASE=${OUT%.log}.base.log ;; *) BASE=$OUT.base.log ;; esac

mkdir -p "$(dirname "$OUT")" || exit 1
T_DIR=$(mktemp -d /tmp/mailhook-genlog.XXXXXX)
trap 'rm -rf "$T_DIR"' EXIT
# shellcheck source=SCRIPTDIR/../tests/lib/postfix.sh
. "$HERE/../tests/lib/postfix.sh"
if ! why=$(pf_available); then echo "gen-maillog: cannot run Postfix: $why" >&2; exit 1; fi

t0=$SECONDS
PF_LIFETIME=300
PF_SINK_OPTS="--quiet"
longids=""
[ "${GEN_LONG_IDS:-no}" = yes ] && longids=-o
# Delay warnings after 2 s (before the 6 s expiry); a bigger active queue.
pf_setup $longids "delay_warning_time = 2s" || exit 1
pf_start || exit 1

# The job list: "FROM RCPT..." per line; a few lines marked "S " go through
# sendmail(1), "H " get the rejecting header.
python3 - "$MSGS" "$SEED" > "$T_DIR/jobs" <<'PY'
import random, sys
n, seed = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(seed)
kinds = [("ok", 62), ("defer", 6), ("unknown", 7), ("full", 2), ("spam", 2), ("policy", 1),
         ("@error.test", 4), ("@discard.test", 4), ("@dead.test", 2), ("@blocked.test", 2),
         ("other", 8)]
pool = [k for k, w in kinds for _ in range(w)]
domains = ["a.test", "b.test", "c.example", "d.example", "mx.e.test"]
for i in range(n):
    x = r.random()
    if x < 0.02:
        sender = "<>"
    elif x < 0.03:
        sender = "unknown-sender%d@bounce.test" % r.randrange(50)   # its bounce bounces
    else:
        sender = "user%d@sender%d.test" % (r.randrange(500), r.randrange(20))
    rcpts = []
    for _ in range(r.choice([1, 1, 1, 2, 2, 3, 4])):
        k = r.choice(pool)
        u = r.randrange(10000)
        if k.startswith("@"):
            rcpts.append("user%d%s" % (u, k))
        elif k == "other":
            rcpts.append("someone%d@%s" % (u, r.choice(domains)))
        else:
            rcpts.append("%s%d@%s" % (k, u, r.choice(domains)))
    mode = "S " if r.random() < 0.04 and sender != "<>" else ("H " if r.random() < 0.01 else "")
    print(mode + sender + " " + " ".join(rcpts))
PY
grep -v '^[SH] ' "$T_DIR/jobs" > "$T_DIR/smtp-jobs"
sed -n 's/^H //p' "$T_DIR/jobs" > "$T_DIR/hdr-jobs"
sed -n 's/^S //p' "$T_DIR/jobs" > "$T_DIR/sm-jobs"

pf_send_batch -c "${GEN_CONNS:-4}" < "$T_DIR/smtp-jobs" > "$T_DIR/qids" 2> "$T_DIR/send.err"
pf_send_batch -c 1 -H "X-Test-Action: reject" < "$T_DIR/hdr-jobs" >> "$T_DIR/qids" 2>> "$T_DIR/send.err"
while read -r from rcpts; do
    # shellcheck disable=SC2086 # recipients are words
    pf_sendmail "$from" $rcpts
done < "$T_DIR/sm-jobs"
echo "gen-maillog: $(wc -l < "$T_DIR/jobs") messages submitted in $((SECONDS - t0)) s; waiting for the queue to drain" >&2

pf_wait_queue_empty 90 || echo "gen-maillog: warning: queue not empty after 90 s" >&2
sleep 1
pf_stop
cp "$PF_MAILLOG" "$BASE" || exit 1
echo "gen-maillog: base log $BASE: $(wc -l < "$BASE") lines, $(du -h "$BASE" | cut -f1), $((SECONDS - t0)) s"

if [ "$N" -gt "$(wc -l < "$BASE")" ]; then
    python3 "$HERE/replicate-maillog.py" "$BASE" "$OUT" "$N" || exit 1
else
    cp "$BASE" "$OUT"
fi
echo "gen-maillog: $OUT: $(wc -l < "$OUT") lines, $(du -h "$OUT" | cut -f1), $((SECONDS - t0)) s in all"
