# SPDX-License-Identifier: MIT
# tests/lib/fuzz.sh - run a libFuzzer target for a bounded time, as one TAP
# test point (source after tests/lib/tap.sh, which has planned 1 point).
#
#   fuzz_run NAME WHAT LIBS SOURCE...
#       builds fuzz/fuzz_NAME.c with the SOURCEs (paths under src/: a file,
#       or a folder "util/" for every .c in it but a program's main, so
#       that a module moved or split inside a library needs no edit here;
#       a folder's sources the build generated, in the build tree, too),
#       and the
#       LIBS (pkg-config modules; words starting with "-", such as -ldb for
#       a library without a .pc, go to the linker as they are) under ASan +
#       UBSan, seeds it with fuzz/corpus/NAME/, and runs it FUZZ_SECONDS
#       (default 20), with TMPDIR and the crash artifacts in $T_DIR (kept
#       when the point fails). Skipped visibly when clang with libFuzzer is
#       not installed, or failed when FUZZ_REQUIRED is set (make fuzz).
fuzz_run() {
    local name=$1 what=$2 libs=$3 cc=${FUZZ_CC:-clang} secs=${FUZZ_SECONDS:-20} S=$top_srcdir src lib
    shift 3
    if ! command -v "$cc" >/dev/null || ! echo 'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){return 0;}' |
            "$cc" -fsanitize=fuzzer -x c - -o "$T_DIR/probe" 2>/dev/null; then
        if [ -n "${FUZZ_REQUIRED:-}" ]; then
            not_ok "fuzz target $name: $cc with libFuzzer is not installed"
            return 1
        fi
        skip "clang with libFuzzer not available"
        return 0
    fi
    local sources=() modules=() flags=()
    local includes=() dir
    for dir in "$S"/src/*/; do includes+=(-I "$dir"); done
    for src in "$@"; do
        case $src in
        */) for f in "$S/src/$src"*.c; do
                case ${f##*/} in mailhookd.c | milter.c | mailhookctl.c) ;; *) sources+=("$f") ;; esac
            done
            # sources the build generates (format_programs.c), in a VPATH build
            if [ "$(cd "$top_builddir" && pwd)" != "$(cd "$S" && pwd)" ]; then
                for f in "$top_builddir/src/$src"*.c; do [ -f "$f" ] && sources+=("$f"); done
            fi ;;
        *) sources+=("$S/src/$src") ;;
        esac
    done
    for lib in $libs; do
        case $lib in -*) flags+=("$lib") ;; *) modules+=("$lib") ;; esac
    done
    local pc=()
    [ ${#modules[@]} -eq 0 ] || read -r -a pc <<< "$(pkg-config --cflags --libs "${modules[@]}")"
    "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -pthread \
        -I "$top_builddir" "${includes[@]}" "$S/fuzz/fuzz_$name.c" "${sources[@]}" \
        "${pc[@]}" "${flags[@]}" -lm -o "$T_DIR/fuzz_$name" \
        2> "$T_DIR/build.err" ||
        { not_ok "fuzz target $name builds"; diag < "$T_DIR/build.err"; return 1; }
    mkdir -p "$T_DIR/corpus" && cp "$S/fuzz/corpus/$name"/* "$T_DIR/corpus/"
    check "$what survives ${secs}s of libFuzzer (ASan+UBSan)" env TMPDIR="$T_DIR" \
        "$T_DIR/fuzz_$name" -max_total_time="$secs" -max_len=4096 -timeout=5 \
        -artifact_prefix="$T_DIR/" "$T_DIR/corpus"
}
