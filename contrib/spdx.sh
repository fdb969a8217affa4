#!/bin/bash
# SPDX-License-Identifier: MIT
# contrib/spdx.sh - the licence line (SPDX-License-Identifier: MIT, see
# LICENSE) at the top of every source file.
#
#   spdx.sh check [FILE...]   print each source file whose first two lines
#                             carry no SPDX-License-Identifier, and each file
#                             of a kind this script does not know; exit 1 if
#                             there is any (tests/t0104-licence.sh)
#   spdx.sh add [FILE...]     give each source file without one its line, in
#                             the comment syntax of its kind, as line 1 or,
#                             after a "#!" line, as line 2; nothing else in
#                             the file changes. Idempotent: run it again
#                             after a merge brings in new files
#   spdx.sh kind FILE         the kind of FILE (below)
#
# Without FILE: every file git tracks (outside a git checkout, such as an
# unpacked release tarball with its generated files, give the files). Run
# from anywhere; paths are relative to the top of the tree.
#
# Kinds: c (/* ... */), js (// ...), lua (-- ...), roff (.\" ...), hash
# (# ...: shell, Python, make, autoconf, configuration; any "#!" script), and
# the files that carry no line of their own: data (test inputs and corpora,
# which must stay byte for byte what they are) and doc (LICENSE itself, NEWS,
# README.md, Debian metadata with a fixed format, covered by
# debian/copyright). A file of no kind is an error for "check": add it to
# spdx_kind below.
set -u
cd "$(dirname "$0")/.."

LINE="SPDX-License-Identifier: MIT"

spdx_kind() {
    case $1 in
    fuzz/corpus/* | tests/data/* | contrib/demo-maillog.txt) echo data; return ;;
    LICENSE | NEWS | README.md | debian/changelog | debian/copyright | debian/source/format | \
        debian/README.Debian | debian/*.docs | debian/*.manpages | debian/*.install | debian/*.links | \
        debian/*.dirs | debian/clean | debian/watch | debian/tests/control | debian/*.bash-completion)
        echo doc; return ;;
    *.c | *.h | *.def) echo c; return ;;
    *.js) echo js; return ;;
    *.lua) echo lua; return ;;
    man/*.[1-8]) echo roff; return ;;
    *.sh | *.py | *.jq | *.am | *.ac | *.m4 | *.in | *.supp | *.conf | *.sysusers | *.tmpfiles | *.bash | *.bash-completion | \
        .gitignore | .clang-format | .editorconfig | debian/control | debian/*lintian-overrides | \
        debian/*.postinst | debian/*.postrm | debian/*.preinst | debian/*.prerm | debian/rules | \
        debian/*.service | debian/*.tmpfiles | debian/*.sysusers | debian/*.maintscript | debian/gbp.conf)
        echo hash; return ;;
    esac
    if [ -f "$1" ] && head -c 2 "$1" | grep -q '^#!'; then echo hash; return; fi
    echo unknown
}

# The comment line for a kind.
spdx_comment() {
    case $1 in
    c) printf '/* %s */\n' "$LINE" ;;
    js) printf '// %s\n' "$LINE" ;;
    lua) printf -- '-- %s\n' "$LINE" ;;
    roff) printf '.\\" %s\n' "$LINE" ;;
    hash) printf '# %s\n' "$LINE" ;;
    esac
}

has_line() { head -n 2 "$1" | grep -q "SPDX-License-Identifier: "; }

# The files to look at: the arguments, or the tree's.
list_files() {
    if [ $# -gt 0 ]; then
        printf '%s\n' "$@"
    else
        git ls-files
    fi
}

# add_line FILE KIND: the comment as line 1, or as line 2 after "#!".
add_line() {
    local f=$1 tmp
    tmp=$(mktemp "$f.spdx.XXXXXX") || return 1
    if head -n 1 "$f" | grep -q '^#!'; then
        { head -n 1 "$f"; spdx_comment "$2"; tail -n +2 "$f"; } > "$tmp"
    else
        { spdx_comment "$2"; cat "$f"; } > "$tmp"
    fi
    # Keep the file's mode (scripts stay executable).
    chmod --reference="$f" "$tmp" && mv "$tmp" "$f"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
kind) [ $# -eq 1 ] || { echo "usage: spdx.sh kind FILE" >&2; exit 64; }; spdx_kind "$1"; exit 0 ;;
check | add) ;;
*) echo "usage: spdx.sh check|add [FILE...] | kind FILE" >&2; exit 64 ;;
esac

if [ $# -eq 0 ] && ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "spdx.sh: not a git checkout: name the files" >&2
    exit 66
fi
bad=0
while IFS= read -r f; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    kind=$(spdx_kind "$f")
    case $kind in
    data | doc) continue ;;
    unknown) echo "$f: no kind known to contrib/spdx.sh (add it to spdx_kind)"; bad=1; continue ;;
    esac
    has_line "$f" && continue
    if [ "$cmd" = add ]; then
        add_line "$f" "$kind" && echo "$f: added ($kind)"
    else
        echo "$f: no SPDX-License-Identifier in its first two lines"; bad=1
    fi
done < <(list_files "$@")
exit $bad
