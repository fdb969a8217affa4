#!/bin/bash
# SPDX-License-Identifier: MIT
# t0270: real logs from public projects (../shared/corpus/maillog, beside the
# clone: never copied into it). For every file, the events `mailhookctl
# parse` makes are held to an independent oracle (tests/helpers/
# maillog_oracle.py): every delivery outcome line gives exactly one correct
# event, hand-offs, probes and the MTA's own notices give none, each
# recipient has one email.sent, and years are right. One test point a file.
# Skipped, visibly, where the corpus is not there (a user's clone).
. "$(dirname "$0")/lib/tap.sh"
CORPUS=${MAILHOOK_SHARED:-$top_srcdir/../shared}/corpus/maillog
# Per-file reader settings the oracle must know too: the content filter
# next hops of the Proxmox Mail Gateway logs.
opts_for() {
    case "$1" in
    pf-pmg-*) echo "--content-filter 127.0.0.1:10024" ;;
    esac
}
files=$(ls "$CORPUS"/*.log 2>/dev/null)
if [ -z "$files" ]; then
    plan 1
    skip_all "no maillog corpus at $CORPUS (it lives in ../shared beside the clone)"
fi
plan "$(echo "$files" | wc -l)"
for f in $files; do
    b=$(basename "$f")
    # shellcheck disable=SC2046
    if "$MAILHOOKCTL" parse --json $(opts_for "$b") "$f" > "$T_DIR/$b.json" 2> "$T_DIR/$b.err" &&
        python3 "$top_srcdir/tests/helpers/maillog_oracle.py" $(opts_for "$b") "$f" "$T_DIR/$b.json" \
            > "$T_DIR/$b.out" 2>&1; then
        ok "$b: $(tail -1 "$T_DIR/$b.out" | sed 's/^[^:]*: //')"
    else
        not_ok "$b: $(tail -1 "$T_DIR/$b.out" 2>/dev/null | sed 's/^[^:]*: //')"
        head -40 "$T_DIR/$b.out" "$T_DIR/$b.err" | diag
    fi
done
done_testing
