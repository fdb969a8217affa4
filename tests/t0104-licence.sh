#!/bin/bash
# SPDX-License-Identifier: MIT
# t0104: the licence. LICENSE is the MIT licence, and every file git tracks
# is either a source file whose first two lines carry
# "SPDX-License-Identifier: MIT" or a file contrib/spdx.sh knows to carry
# none (test data, LICENSE, NEWS, Debian metadata). The checker is tried
# first on files made to fail it, and its "add" on a script and a C file.
# Outside a git checkout (the release tarball: no list of tracked files)
# the tree check is skipped visibly.
. "$(dirname "$0")/lib/tap.sh"
plan 6
S=$top_srcdir
SPDX=$S/contrib/spdx.sh

check "LICENSE is the MIT licence of the mailhook authors" bash -c "
    head -1 '$S/LICENSE' | grep -qx 'MIT License' &&
    grep -qx 'Copyright (c) 2026 the mailhook authors' '$S/LICENSE' &&
    grep -q 'Permission is hereby granted, free of charge' '$S/LICENSE'"

# Files made to fail: a C file without the line, one with it on line 3, a
# file of no known kind.
printf '/*\n * x.c - a file.\n */\nint x;\n' > "$T_DIR/nolicence.c"
printf '/*\n *\n * SPDX-License-Identifier: MIT\n */\n' > "$T_DIR/late.c"
printf 'data\n' > "$T_DIR/unknown.xyz"
bash "$SPDX" check "$T_DIR/nolicence.c" "$T_DIR/late.c" "$T_DIR/unknown.xyz" > "$T_DIR/fixture" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'nolicence.c: no SPDX' "$T_DIR/fixture" &&
        grep -q 'late.c: no SPDX' "$T_DIR/fixture" && grep -q 'unknown.xyz: no kind' "$T_DIR/fixture"; then
    ok "the checker finds files without the line and of no kind"
else
    not_ok "the checker finds files without the line and of no kind"; diag < "$T_DIR/fixture"
fi

# "add": line 2 after a shebang, line 1 in C, the rest byte for byte, mode kept.
printf '#!/bin/sh\n# a.sh - a script.\necho hi\n' > "$T_DIR/a.sh"
chmod 755 "$T_DIR/a.sh"
cp "$T_DIR/a.sh" "$T_DIR/a.sh.orig"
cp "$T_DIR/nolicence.c" "$T_DIR/nolicence.c.orig"
bash "$SPDX" add "$T_DIR/a.sh" "$T_DIR/nolicence.c" > "$T_DIR/add.out" 2>&1
check "add: a script gets it as line 2, nothing else changes, still executable" bash -c "
    [ \"\$(sed -n 2p '$T_DIR/a.sh')\" = '# SPDX-License-Identifier: MIT' ] &&
    sed 2d '$T_DIR/a.sh' | cmp -s - '$T_DIR/a.sh.orig' && [ -x '$T_DIR/a.sh' ]"
check "add: a C file gets it as line 1, nothing else changes" bash -c "
    [ \"\$(sed -n 1p '$T_DIR/nolicence.c')\" = '/* SPDX-License-Identifier: MIT */' ] &&
    sed 1d '$T_DIR/nolicence.c' | cmp -s - '$T_DIR/nolicence.c.orig'"
check "add is idempotent, and check then passes" bash -c "
    bash '$SPDX' add '$T_DIR/a.sh' '$T_DIR/nolicence.c' && [ \$(wc -l < '$T_DIR/a.sh') -eq 4 ] &&
    bash '$SPDX' check '$T_DIR/a.sh' '$T_DIR/nolicence.c'"

if git -C "$S" rev-parse --is-inside-work-tree >/dev/null 2>&1 && [ -n "$(git -C "$S" ls-files)" ]; then
    check "every tracked source file carries SPDX-License-Identifier: MIT (contrib/spdx.sh check)" \
        bash "$SPDX" check
else
    skip "not a git checkout: no list of tracked files"
fi
done_testing
