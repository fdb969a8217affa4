#!/bin/bash
# t0100: every option of the cfg_opt_t tables in src/conf.c is documented
# in man/mailhook.conf.5 and shown in etc/mailhook.conf, and nothing else
# is; each once, in table order; and the defaults the sample shows are the
# ones mailhookd really uses (when mailhookd is built), inside sections too.
#
# Builds nothing: the option names are read from the files.
#   src/conf.c, src/conf_sections.c  rows "{CFG_STR("name", ..." etc. inside a table
#                       "static const struct conf_row conf_NAME_rows[] = {";
#                       the table conf_top_rows is the top level; a row
#                       "{CFG_SEC("maillog", ..." stands for the options of
#                       the table conf_maillog_rows, named "maillog.NAME",
#                       in its place (a CFG_SEC without its table, or a
#                       table no CFG_SEC uses, fails the first test)
#   man/mailhook.conf.5 under ".SH OPTIONS", ".TP" then ".B name" (dotted
#                       for section options: ".B maillog.path")
#   etc/mailhook.conf   "# name = default" (one space at most after "#"), or
#                       "name = value"; '# maillog "NAME" {' ... "# }"
#                       around the (indented) options of a section; a
#                       one-line example section ("# maillog "x" { ... }")
#                       is not a list of defaults and is not read
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"

CONF_C=$top_srcdir/src/global/conf.c
CONF_SECTIONS_C=$top_srcdir/src/global/conf_sections.c
MAN=$top_srcdir/man/mailhook.conf.5
SAMPLE=$top_srcdir/etc/mailhook.conf

# Option names of the libconfuse tables, in table order: conf_top_rows,
# each CFG_SEC row replaced by the rows of its table, prefixed "SECTION.".
# A problem with the tables themselves is a line starting with "!".
names_from_table() {
    awk '
    function quoted(s) {
        s = substr($0, RSTART, RLENGTH)
        sub(/^[^"]*"/, "", s); sub(/"$/, "", s)
        return s
    }
    function emit(t, prefix,   i, r, sec) {
        used[t] = 1
        for (i = 1; i <= nrows[t]; i++) {
            r = row[t, i]
            if (substr(r, 1, 1) != "{") {
                print prefix r
                continue
            }
            sec = substr(r, 2)
            if (!(sec in nrows))
                print "!CFG_SEC(\"" sec "\") in conf_" t "_rows has no table conf_" sec "_rows"
            else if (sec in used)
                print "!conf_" sec "_rows is used by more than one CFG_SEC row"
            else
                emit(sec, prefix sec ".")
        }
    }
    /^static const struct conf_row conf_[a-z0-9_]+_rows\[\] = \{/ {
        match($0, /conf_[a-z0-9_]+_rows/)
        t = substr($0, RSTART + 5, RLENGTH - 10)
        tables[++ntables] = t
        nrows[t] = 0
        inside = 1
        next
    }
    inside && /^\};/ { inside = 0; next }
    inside && match($0, /CFG_(STR|INT|BOOL|FLOAT)(_LIST)?(_CB)?\("[^"]+"/) {
        row[t, ++nrows[t]] = quoted()
    }
    inside && match($0, /CFG_SEC\("[^"]+"/) {
        row[t, ++nrows[t]] = "{" quoted()
    }
    END {
        if (!("top" in nrows)) {
            print "!no table conf_top_rows"
            exit
        }
        emit("top", "")
        for (i = 1; i <= ntables; i++)
            if (!(tables[i] in used))
                print "!conf_" tables[i] "_rows is not used by any CFG_SEC row"
    }' "$@"
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

# section_probes SECTION: the sections whose defaults mailhookd -T shows, one
# "OPTION<TAB>BODY" a line: a section that needs an option to be valid
# (a maillog of type file needs its path, an endpoint its url) is probed
# once per such option,
# each probe setting another one, and checks every option but the one it
# sets; so every option is checked by some probe.
section_probes() {
    case $1 in
    maillog)
        printf '%s\t%s\n' type 'type = "journald"' path 'path = "/var/log/mail.log"'
        ;;
    endpoint)
        printf '%s\t%s\n' url 'url = "https://hooks.example.com/x"'
        ;;
    *)
        printf '\t\n' # valid empty: one probe checks everything
        ;;
    esac
}

# value_matches NAME SAMPLE-VALUE EFFECTIVE-VALUE: the sample shows the
# Debian layout (/var, /run) and the default user; a build may configure
# other directories or user, so for those only the part below the install
# directory must agree.
value_matches() {
    local name=$1 shown=$2 real=$3 tail
    [ "$shown" = "$real" ] && return 0
    shown=${shown/#\"unix:/\"} # a libmilter "unix:/path" socket is a path
    real=${real/#\"unix:/\"}
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

for f in "$CONF_C" "$CONF_SECTIONS_C" "$MAN" "$SAMPLE"; do
    if [ ! -f "$f" ]; then
        for what in "option table" "man page" "sample config" "once each" "table order" "defaults"; do
            skip "$what: $f is missing"
        done
        exit 0
    fi
done

names_from_table "$CONF_C" "$CONF_SECTIONS_C" > "$T_DIR/table.raw"
grep -v '^!' "$T_DIR/table.raw" > "$T_DIR/table"
grep '^!' "$T_DIR/table.raw" | sed 's/^!//' > "$T_DIR/table.problems"
names_from_man "$MAN" > "$T_DIR/man"
pairs_from_config "$SAMPLE" > "$T_DIR/sample.pairs"
cut -f1 "$T_DIR/sample.pairs" > "$T_DIR/sample"

n=$(wc -l < "$T_DIR/table")
if [ "$n" -gt 0 ] && [ ! -s "$T_DIR/table.problems" ]; then
    ok "src/global/conf.c declares $n options"
elif [ "$n" -eq 0 ]; then
    not_ok "src/global/conf.c declares options (no table rows found: did its layout change?)"
else
    not_ok "src/global/conf.c declares $n options in tables that fit together"
    diag < "$T_DIR/table.problems"
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

# compare_defaults CONF SECTION SKIP: the sample's values of the top level
# (SECTION empty) or of SECTION's options, but SECTION.SKIP, against those
# of mailhookd -T -c CONF; appends the differences to $bad and the names
# checked to $T_DIR/checked. 1 if mailhookd fails.
compare_defaults() {
    local conf=$1 sec=$2 skip=$3 name shown real
    if ! "$MAILHOOKD" -T -c "$conf" > "$T_DIR/effective.conf" 2> "$T_DIR/err"; then
        bad="${bad}mailhookd -T -c $conf failed: $(cat "$T_DIR/err"); "
        return 1
    fi
    pairs_from_config "$T_DIR/effective.conf" > "$T_DIR/effective.pairs"
    while IFS=$'\t' read -r name shown; do
        case $name in
        "$sec".*) [ -n "$sec" ] && [ "$name" != "$sec.$skip" ] || continue ;;
        *.*) continue ;;
        *) [ -z "$sec" ] || continue ;;
        esac
        real=$(awk -F '\t' -v n="$name" '$1 == n { print $2; exit }' "$T_DIR/effective.pairs")
        value_matches "$name" "$shown" "$real" || bad="$bad$name: sample $shown, mailhookd $real; "
        echo "$name" >> "$T_DIR/checked"
    done < "$T_DIR/sample.pairs"
}

what="defaults in etc/mailhook.conf are mailhookd's"
if [ ! -x "$MAILHOOKD" ]; then
    skip "$what: $MAILHOOKD not built"
else
    bad=""
    : > "$T_DIR/checked"
    compare_defaults /dev/null "" ""
    for sec in $(grep -o '^[a-z0-9_]*\.' "$T_DIR/sample" | tr -d . | sort -u); do
        # An untitled section ("milter { }") is in the dump of an empty file.
        if "$MAILHOOKD" -T -c /dev/null 2>/dev/null | grep -q "^$sec {"; then
            compare_defaults /dev/null "$sec" ""
            continue
        fi
        while IFS=$'\t' read -r skip body; do
            printf '%s "t0100" {\n    %s\n}\n' "$sec" "$body" > "$T_DIR/probe.conf"
            compare_defaults "$T_DIR/probe.conf" "$sec" "$skip"
        done < <(section_probes "$sec")
    done
    # endpoint.url has no default a section could be valid with ("" is
    # refused): the sample shows it empty, every probe must set it.
    echo endpoint.url >> "$T_DIR/checked"
    unchecked=$(comm -23 <(sort -u "$T_DIR/sample") <(sort -u "$T_DIR/checked") | xargs)
    [ -z "$unchecked" ] || bad="${bad}not checked by any probe: $unchecked; "
    if [ -z "$bad" ]; then
        ok "$what"
    else
        not_ok "$what"
        echo "# $bad"
    fi
fi
done_testing
