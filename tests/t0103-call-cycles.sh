#!/bin/bash
# SPDX-License-Identifier: MIT
# t0103: no call cycle spans more than one module (README, Layout): the
# file-level call graph of src/ (tests/lib/callcycles.py, from ctags) has
# no strongly connected component across folders or across two modules of
# one folder; a module split over files behind its private header
# (delivery*.c, store_bdb*.c, maillog_correlate*.c) counts as one. The
# checker itself is tried first on a tree made to hold a cycle. And the
# folders of src/ are those README's Layout names.
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
command -v ctags >/dev/null && ctags --version 2>/dev/null | grep -q Universal ||
    skip_all "universal-ctags is not installed"
plan 4
CC=$top_srcdir/tests/lib/callcycles.py

mkdir -p "$T_DIR/src/util" "$T_DIR/src/global"
printf 'void b(void);\nvoid a(void) { b(); }\n' > "$T_DIR/src/util/a.c"
printf 'void a(void);\nvoid b(void) { a(); }\n' > "$T_DIR/src/global/b.c"
if python3 "$CC" "$T_DIR/src" > "$T_DIR/fixture.out" 2>&1; then
    not_ok "a cycle between two folders is found"; diag < "$T_DIR/fixture.out"
else
    grep -q '^cycle 2 files: global/b.c util/a.c$' "$T_DIR/fixture.out" &&
        ok "a cycle between two folders is found" ||
        { not_ok "a cycle between two folders is found"; diag < "$T_DIR/fixture.out"; }
fi

python3 "$CC" "$top_srcdir/src" > "$T_DIR/src.out" 2>&1
rc=$?
if [ $rc -eq 0 ]; then ok "no call cycle spans two modules in src/"
else not_ok "no call cycle spans two modules in src/"; diag < "$T_DIR/src.out"; fi
grep -q 'module [0-9]* files: store/store_bdb' "$T_DIR/src.out" &&
    ok "the store backend's files are seen as one module (the graph is read)" ||
    { not_ok "the store backend's files are seen as one module"; diag < "$T_DIR/src.out"; }
sed -n '/^## Layout/,/^## /{s|^\(src/[a-z]*\)/ .*|\1|p}' "$top_srcdir/README.md" | sort > "$T_DIR/layout"
(cd "$top_srcdir" && for d in src/*/; do echo "${d%/}"; done) | sort > "$T_DIR/tree"
if [ -s "$T_DIR/layout" ] && diff "$T_DIR/layout" "$T_DIR/tree" > "$T_DIR/layout.diff"; then
    ok "the folders of src/ are README's Layout ($(wc -l < "$T_DIR/tree"))"
else
    not_ok "the folders of src/ are README's Layout"; diag < "$T_DIR/layout.diff"
fi
done_testing
