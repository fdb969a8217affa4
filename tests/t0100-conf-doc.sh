#!/bin/bash
# t0100: every option of the cfg_opt_t table in src/conf.c is documented in
# man/mailhook.conf.5 and shown in etc/mailhook.conf, and nothing else is;
# each once, in table order; and the defaults the sample shows are the ones
# mailhookd really uses (when mailhookd is built).
#
# Builds nothing: the option names are read from the three files.
#   src/conf.c          rows "{CFG_STR("name", ..." etc. inside a table
#                       "static const struct conf_row conf_NAME_rows[] = {";
#                       the table conf_top_rows is the top level, the options
#                       of conf_milter_rows are "milter.NAME"
#   man/mailhook.conf.5 under ".SH OPTIONS", ".TP" then ".B name" (dotted
#                       for section options)
#   etc/mailhook.conf   "# name = default" (one space at most after "#"), or
#                       "name = value"; "# milter {" ... "# }" around the
#                       (indented) options of a section
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"

CONF_C=$top_srcdir/src/conf.c
MAN=$top_srcdir/man/mailhook.conf.5
SAMPLE=$top_srcdir/etc/mailhook.conf

# Option names of the libconfuse table, in table order.
names_from_table() {
    awk '
    /^static const struct conf_row conf_[a-z0-9_]+_rows\[\] = \{/ {
        match($0, /conf_[a-z0-9_]+_rows/)
        t = substr($0, RSTART + 5, RLENGTH - 10)
        prefix = (t == "top") ? "" : t "."
        inside = 1
        next
    }
    inside && /^\};/ { inside = 0; next }
    inside && match($0, /CFG_(STR|INT|BOOL|FLOAT)(_LIST)?(_CB)?\("[^"]+"/) {
        s = substr($0, RSTART, RLENGTH)
        sub(/^[^"]*"/, "", s); sub(/"$/, "", s)
        print prefix s
    }' "$1"
}

# Option names documented in the man page, in page order.
names_from_man() {
    awk '
    /^\.SH / { inopt = ($0 ~ /^\.SH "?OPTIONS"?[ \t]*$/); tp = 0; next }
    inopt && /^\.TP/ { tp = 1; next }
    inopt && tp && /^\.B / { print $2 }
    { tp = 0 }' "$1"
}

# "name<TAB>value" for each directive of a config file, commented out or
# not, dotted inside sections (the sample, or the output of mailhookd -T).
pairs_from_config() {
    awk '
    function put(l,   n, v) {
        n = l; sub(/[ \t]*=.*/, "", n)
        v = l; sub(/^[^=]*=[ \t]*/, "", v)
        printf "%s%s\t%s\n", prefix, n, v
    }
    {
        line = $0
        sub(/^#/, "", line)
        if (prefix == "" && line ~ /^ ?[a-z][a-z0-9_]* = /) {
            sub(/^ /, "", line); put(line)
        } else if (prefix == "" && line ~ /^ ?[a-z][a-z0-9_]*( [^ {]+)? \{[ \t]*$/) {
            sub(/^ /, "", line); sub(/[ \t].*/, "", line); prefix = line "."
        } else if (prefix != "" && line ~ /^[ \t]*\}[ \t]*$/) {
            prefix = ""
        } else if (prefix != "" && line ~ /^[ \t]*[a-z][a-z0-9_]* = /) {
            sub(/^[ \t]*/, "", line); put(line)
        }
    }' "$1"
}

# compare_sets WHAT FILE-A FILE-B: ok when the sorted sets are equal,
# otherwise the differences as diagnostics.
compare_sets() {
    local what=$1 a=$2 b=$3 missing extra
    missing=$(comm -23 <(sort -u "$a") <(sort -u "$b") | xargs)
    extra=$(comm -13 <(sort -u "$a") <(sort -u "$b") | xargs)
    if [ -z "$missing$extra" ]; then
        ok "$what"
    else
        not_ok "$what"
        [ -z "$missing" ] || echo "# missing: $missing"
        [ -z "$extra" ] || echo "# not in the table (or misspelt): $extra"
    fi
}

# twice FILE: the names FILE lists more than once, on one line.
twice() {
    sort "$1" | uniq -d | xargs
}

# order_diff FILE: how FILE's order (first mentions) departs from the table's.
order_diff() {
    diff "$T_DIR/table" <(awk '!seen[$0]++' "$1")
}

# value_matches NAME SAMPLE-VALUE EFFECTIVE-VALUE: the sample shows the
# Debian layout (/var, /run) and the default user; a build may configure
# other directories or user, so for those only the part below the install
# directory must agree.
value_matches() {
    local name=$1 shown=$2 real=$3 tail
    [ "$shown" = "$real" ] && return 0
    [ "$name" = user ] && return 0
    case $shown in
    \"/*/*\")
        tail=/${shown#\"/*/}
        [ "${real%"$tail"}" != "$real" ] && return 0
        ;;
    esac
    return 1
}

plan 6

for f in "$CONF_C" "$MAN" "$SAMPLE"; do
    if [ ! -f "$f" ]; then
        for what in "option table" "man page" "sample config" "once each" "table order" "defaults"; do
            skip "$what: $f is missing"
        done
        exit 0
    fi
done

names_from_table "$CONF_C" > "$T_DIR/table"
names_from_man "$MAN" > "$T_DIR/man"
pairs_from_config "$SAMPLE" > "$T_DIR/sample.pairs"
cut -f1 "$T_DIR/sample.pairs" > "$T_DIR/sample"

n=$(wc -l < "$T_DIR/table")
if [ "$n" -gt 0 ]; then
    ok "src/conf.c declares $n options"
else
    not_ok "src/conf.c declares options (no table rows found: did its layout change?)"
fi

compare_sets "man/mailhook.conf.5 documents every option, and only those" \
    "$T_DIR/table" "$T_DIR/man"
compare_sets "etc/mailhook.conf shows every option, and only those" \
    "$T_DIR/table" "$T_DIR/sample"

what="each option is documented once in the man page and once in the sample"
if [ -z "$(twice "$T_DIR/man")$(twice "$T_DIR/sample")" ]; then
    ok "$what"
else
    not_ok "$what"
    [ -z "$(twice "$T_DIR/man")" ] || echo "# twice in man/mailhook.conf.5: $(twice "$T_DIR/man")"
    [ -z "$(twice "$T_DIR/sample")" ] || echo "# twice in etc/mailhook.conf: $(twice "$T_DIR/sample")"
fi

what="the man page and the sample follow the order of the table"
if order_diff "$T_DIR/man" > /dev/null && order_diff "$T_DIR/sample" > /dev/null; then
    ok "$what"
else
    not_ok "$what"
    echo "# table / man page:"; order_diff "$T_DIR/man" | diag
    echo "# table / sample:"; order_diff "$T_DIR/sample" | diag
fi

if [ ! -x "$MAILHOOKD" ]; then
    skip "defaults in etc/mailhook.conf are mailhookd's: $MAILHOOKD not built"
elif ! "$MAILHOOKD" -T -c /dev/null > "$T_DIR/effective.conf" 2> "$T_DIR/err"; then
    not_ok "defaults in etc/mailhook.conf are mailhookd's (mailhookd -T -c /dev/null failed)"
    diag < "$T_DIR/err"
else
    pairs_from_config "$T_DIR/effective.conf" > "$T_DIR/effective.pairs"
    bad=""
    while IFS=$'\t' read -r name shown; do
        real=$(awk -F '\t' -v n="$name" '$1 == n { print $2; exit }' "$T_DIR/effective.pairs")
        value_matches "$name" "$shown" "$real" || bad="$bad$name: sample $shown, mailhookd $real; "
    done < "$T_DIR/sample.pairs"
    if [ -z "$bad" ]; then
        ok "defaults in etc/mailhook.conf are mailhookd's"
    else
        not_ok "defaults in etc/mailhook.conf are mailhookd's"
        echo "# $bad"
    fi
fi
done_testing
