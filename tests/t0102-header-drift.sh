#!/bin/bash
# t0102: every header still says what it declares (contrib/header-drift.py:
# documented function list = prototypes, documented arguments = parameters,
# *_int.h file attributions = where ctags finds the definitions, and the
# folder layering of includes). A drift listed in tests/data/drift-allow.txt
# ("file: name" per line) is tolerated: that list is temporary and is to be
# emptied, never grown. Skipped visibly without universal-ctags or python3.
. "$(dirname "$0")/lib/tap.sh"
plan 2
S=$top_srcdir
command -v python3 >/dev/null || skip_all "python3 not installed"
ctags --version 2>/dev/null | grep -q 'Universal Ctags' || skip_all "universal-ctags not installed"

python3 "$S/contrib/header-drift.py" "$S/src" > "$T_DIR/drift" 2> "$T_DIR/drift.err"
rc=$?
if [ "$rc" -le 1 ]; then ok "the drift checker runs"; else not_ok "the drift checker runs"; diag < "$T_DIR/drift.err"; fi

# "file:line: name: what" -> "file: name", compared with the allow-list.
sed -n 's/^\([^:]*\):[0-9]*: \([^:]*\):.*/\1: \2/p' "$T_DIR/drift" | sort -u > "$T_DIR/found"
grep -v '^[[:space:]]*\(#\|$\)' "$S/tests/data/drift-allow.txt" | sort -u > "$T_DIR/allowed"
comm -23 "$T_DIR/found" "$T_DIR/allowed" > "$T_DIR/new"
if [ -s "$T_DIR/new" ] || [ "$rc" -gt 1 ]; then
    not_ok "no header drift (beyond tests/data/drift-allow.txt)"
    awk 'NR == FNR { new[$0] = 1; next }
        { k2 = $0; sub(/:[0-9]+: /, ": ", k2); split(k2, a, ": "); if ((a[1] ": " a[2]) in new) print }' \
        "$T_DIR/new" "$T_DIR/drift" | diag
else
    ok "no header drift (beyond tests/data/drift-allow.txt)"
fi
# Entries fixed since: say so, so the list shrinks.
comm -13 "$T_DIR/found" "$T_DIR/allowed" | sed 's/^/stale allow-list entry (remove it): /' | diag
