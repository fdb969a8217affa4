#!/bin/bash
# SPDX-License-Identifier: MIT
# t0102: every header still says what it declares (contrib/header-drift.py:
# documented function list = prototypes, documented arguments = parameters,
# *_int.h file attributions = where ctags finds the definitions, and the
# folder layering of includes). There is no allow-list: a drift is fixed in
# the header (or the code). The checker itself is tried first on a header
# made to drift. Skipped visibly without universal-ctags or python3.
. "$(dirname "$0")/lib/tap.sh"
plan 3
S=$top_srcdir
command -v python3 >/dev/null || skip_all "python3 not installed"
ctags --version 2>/dev/null | grep -q 'Universal Ctags' || skip_all "universal-ctags not installed"

mkdir -p "$T_DIR/src/util"
cat > "$T_DIR/src/util/drift.h" <<'H'
/*
 * drift.h - a header that says less than it declares.
 *
 *   drift_one(a)      documented with one argument, declared with two
 */
int drift_one(int a, int b);
int drift_two(void);
H
printf 'int drift_one(int a, int b) { return a + b; }\nint drift_two(void) { return 0; }\n' > "$T_DIR/src/util/drift.c"
python3 "$S/contrib/header-drift.py" "$T_DIR/src" > "$T_DIR/fixture" 2>&1
if grep -q 'drift_one: documented with 1 argument' "$T_DIR/fixture" &&
        grep -q 'drift_two: declared, not documented' "$T_DIR/fixture"; then
    ok "the checker finds a made drift"
else
    not_ok "the checker finds a made drift"; diag < "$T_DIR/fixture"
fi

python3 "$S/contrib/header-drift.py" "$S/src" > "$T_DIR/drift" 2> "$T_DIR/drift.err"
rc=$?
if [ "$rc" -le 1 ]; then ok "the drift checker runs"; else not_ok "the drift checker runs"; diag < "$T_DIR/drift.err"; fi
if [ "$rc" -eq 0 ] && ! [ -s "$T_DIR/drift" ]; then
    ok "no header drift in src/"
else
    not_ok "no header drift in src/"; diag < "$T_DIR/drift"
fi
done_testing
