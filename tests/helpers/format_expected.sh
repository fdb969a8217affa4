#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/helpers/format_expected.sh - make tests/data/formats/NAME.expected:
# what each built-in payload format (data/formats/NAME.jq) gives for each
# sample event (tests/data/formats/events/*.json), computed with the jq CLI
# (1.6) around the program exactly as transform.h wraps it:
# `.[0] as $meta | .[1] | (PROGRAM)` on [meta, event]. A unit test can run
# the built-in programs on the same inputs and compare byte for byte.
#
#   format_expected.sh [--check] [NAME...]   (default: every data/formats/*.jq)
#
# --check: write nothing; exit 1 (and show the difference) when a file is
# not what the programs now give. Each .expected line is
#   EVENT-FILE <TAB> META <TAB> OUTPUT
# EVENT-FILE: the sample's name under tests/data/formats/events/; META: the
# $meta object given (seq 101, 102, ... in file order; attempt 1; endpoint
# "test"; time and time_ms from the event's timestamp); OUTPUT: the compact
# JSON the program gives (several outputs joined by ","; nothing when it
# skips the event). Lines starting with # are comments. The outputs contain
# none of the characters whose escaping differs between jq -c and cjson
# (DEL, non-ASCII): compare bytes as they are.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
check=""
if [ "${1:-}" = --check ]; then check=1; shift; fi
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for f in "$top"/data/formats/*.jq; do names+=("$(basename "$f" .jq)"); done
fi
status=0
for name in "${names[@]}"; do
    prog=$top/data/formats/$name.jq
    [ -f "$prog" ] || { echo "format_expected: no $prog" >&2; exit 64; }
    out=$(mktemp)
    {
        echo "# $name.expected - made by tests/helpers/format_expected.sh from data/formats/$name.jq"
        echo "# (jq $(jq --version 2>&1 | sed 's/^jq-//')); do not edit: run it again. EVENT-FILE <TAB> META <TAB> OUTPUT"
        seq=100
        for ev in "$top"/tests/data/formats/events/*.json; do
            seq=$((seq + 1))
            meta=$(jq -c --argjson seq "$seq" '.timestamp as $ts
                | ($ts | sub("\\.[0-9]+Z$"; "Z") | fromdate) as $s
                | (($ts | capture("\\.(?<ms>[0-9]{3})Z$").ms // "0") | tonumber) as $ms
                | {seq: $seq, attempt: 1, endpoint: "test", time: $s, time_ms: ($s * 1000 + $ms)}' "$ev")
            res=$(jq -c --argjson meta "$meta" --slurpfile e "$ev" -n '[$meta, $e[0]]' |
                jq -c "(.[0] as \$meta | .[1] | ($(cat "$prog")
))" | paste -sd, -)
            printf '%s\t%s\t%s\n' "$(basename "$ev")" "$meta" "$res"
        done
    } > "$out"
    dest=$top/tests/data/formats/$name.expected
    if [ -n "$check" ]; then
        if ! diff -u "$dest" "$out"; then status=1; fi
        rm -f "$out"
    else
        mv "$out" "$dest"
    fi
done
exit $status
