#!/bin/bash
# SPDX-License-Identifier: MIT
# t0100: every option of the cfg_opt_t tables in src/global/conf.c is
# documented in man/mailhook.conf.5 and shown in etc/mailhook.conf, and
# nothing else is; each once, in table order; the defaults the sample shows
# are the ones mailhookd really uses (when mailhookd is built), inside
# sections too; and every endpoint option of mailhookctl in the endpoint
# key table, or added by mailhookctl's own option table, is documented in
# man/mailhookctl.1, and nothing else is.
#
# Builds nothing: the option names are read from the files.
#   src/global/conf.c, src/global/conf_sections.c
#                       rows "{CFG_STR("name", ..." etc. inside a table
#                       "static const struct conf_row conf_NAME_rows[] = {";
#                       a line '#include "endpoint_keys.def"' inside a table
#                       stands for the rows of that file with a config
#                       option (conf column other than CONF_NO);
#                       the table conf_top_rows is the top level; a row
#                       "{CFG_SEC("maillog", ..." stands for the options of
#                       the table conf_maillog_rows, named "maillog.NAME",
#                       in its place (a CFG_SEC without its table, or a
#                       table no CFG_SEC uses, fails the first test)
#   src/global/endpoint_keys.def  rows "ENDPOINT_KEY(key, type, min, max,
#                       def, cli, conf, doc)", one or more lines each; cli
#                       CLI("opt") is --opt, CLI_FLAGS("opt") --opt and
#                       --no-opt, CLI_ADD_OFF("opt") --opt, CLI_NO none; a
#                       row without 8 arguments or a doc string is a problem
#   src/mailhookctl/ctl_endpoint_opts.c  rows written out in the table
#                       "ctl_endpoint_optdefs[] = {", "{ "opt", "key", ...":
#                       options that are no row of endpoint_keys.def (the
#                       file form of one, --transform-file)
#   man/mailhook.conf.5 under ".SH OPTIONS", ".TP" then ".B name" (dotted
#                       for section options: ".B maillog.path")
#   man/mailhookctl.1   the list after ".I endpoint\-options", from ".RS" to
#                       ".RE": ".TP" then a line of ".B"/".BI"/".BR" whose
#                       "\-\-name" words are the options
#   etc/mailhook.conf   "# name = default" (one space at most after "#"), or
#                       "name = value"; '# maillog "NAME" {' ... "# }"
#                       around the (indented) options of a section; a
#                       one-line example section ("# maillog "x" { ... }")
#                       is not a list of defaults and is not read
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"

CONF_C=$top_srcdir/src/global/conf.c
CONF_SECTIONS_C=$top_srcdir/src/global/conf_sections.c
ENDPOINT_KEYS_DEF=$top_srcdir/src/global/endpoint_keys.def
MAN=$top_srcdir/man/mailhook.conf.5
CTL_MAN=$top_srcdir/man/mailhookctl.1
CTL_OPTS_C=$top_srcdir/src/mailhookctl/ctl_endpoint_opts.c
SAMPLE=$top_srcdir/etc/mailhook.conf

# The ENDPOINT_KEY rows of endpoint_keys.def, one "key<TAB>cli<TAB>conf"
# line each, in file order (comments and preprocessor lines skipped); a
# malformed row is a line starting with "!".
def_rows() {
    awk '
    /^[ \t]*#/ { next }
    { text = text $0 "\n" }
    function trim(s) { gsub(/^[ \t\n]+|[ \t\n]+$/, "", s); return s }
    END {
        n = length(text); out = ""; instr = 0
        for (i = 1; i <= n; i++) {          # comments out, strings kept
            c = substr(text, i, 1)
            if (instr) {
                out = out c
                if (c == "\\") { out = out substr(text, ++i, 1) } else if (c == "\"") instr = 0
            } else if (c == "\"") {
                instr = 1; out = out c
            } else if (substr(text, i, 2) == "/*") {
                j = index(substr(text, i + 2), "*/"); i += j + 2; out = out " "
            } else {
                out = out c
            }
        }
        while ((p = index(out, "ENDPOINT_KEY(")) > 0) {
            out = substr(out, p + 13); na = 0; arg = ""; depth = 1; instr = 0
            for (i = 1; depth > 0 && i <= length(out); i++) {
                c = substr(out, i, 1)
                if (instr) {
                    if (c == "\\") { arg = arg c; c = substr(out, ++i, 1) } else if (c == "\"") instr = 0
                } else if (c == "\"") instr = 1
                else if (c == "(") depth++
                else if (c == ")" && --depth == 0) break
                else if (c == "," && depth == 1) { a[++na] = trim(arg); arg = ""; continue }
                arg = arg c
            }
            a[++na] = trim(arg); out = substr(out, i + 1)
            if (na != 8 || a[8] !~ /^".+"$/)
                print "!endpoint_keys.def: the row of " a[1] " needs 8 arguments, the last a doc string"
            else
                print a[1] "\t" a[6] "\t" a[7]
        }
    }' "$1"
}

# mailhookctl's endpoint options of the table: CLI("opt") is opt,
# CLI_FLAGS("opt") opt and no-opt, CLI_ADD_OFF("opt") opt.
cli_from_def() {
    awk -F '\t' '
    $2 ~ /^CLI(_ADD_OFF)?\("[a-z0-9-]+"\)$/ { o = $2; sub(/^[^"]*"/, "", o); sub(/".*/, "", o); print o }
    $2 ~ /^CLI_FLAGS\("[a-z0-9-]+"\)$/ { o = $2; sub(/^[^"]*"/, "", o); sub(/".*/, "", o); print o; print "no-" o }
    $2 !~ /^CLI(_ADD_OFF|_FLAGS)?\("[a-z0-9-]+"\)$/ && $2 != "CLI_NO" { print "!" $1 ": cli column " $2 }
    ' "$1"
}

# The options mailhookctl's endpoint table adds to the rows of the .def
# (written out as "{ "opt", "key", KIND, ..." inside the table).
cli_extra() {
    awk '
    /ctl_endpoint_optdefs\[\] = \{/ { inside = 1; next }
    inside && /^\};/ { exit }
    inside && /^[ \t]*\{ "[a-z0-9-]+", "[a-z_]+",/ { o = $0; sub(/^[^"]*"/, "", o); sub(/".*/, "", o); print o }
    ' "$1"
}

# The endpoint options documented in mailhookctl(1), in page order.
cli_from_man() {
    awk '
    /^\.I endpoint\\-options/ { armed = 1; next }
    armed && /^\.RS/ { inside = 1; next }
    inside && /^\.RE/ { exit }
    inside && /^\.TP/ { tp = 1; next }
    inside && tp && /^\.B[IR]? / {
        line = $0; gsub(/\\-/, "-", line)
        while (match(line, /--[a-z0-9-]+/)) {
            print substr(line, RSTART + 2, RLENGTH - 2); line = substr(line, RSTART + RLENGTH)
        }
    }
    { tp = 0 }' "$1"
}

# Option names of the libconfuse tables, in table order: conf_top_rows,
# each CFG_SEC row replaced by the rows of its table, prefixed "SECTION.".
# A problem with the tables themselves is a line starting with "!".
names_from_table() {
    awk -v defrows="$T_DIR/def.rows" '
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
    inside && /^#include "endpoint_keys.def"/ {
        while ((getline l < defrows) > 0) {
            split(l, f, "\t")
            if (substr(l, 1, 1) != "!" && f[3] != "CONF_NO")
                row[t, ++nrows[t]] = f[1]
        }
        close(defrows)
        next
    }
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

plan 7

for f in "$CONF_C" "$CONF_SECTIONS_C" "$ENDPOINT_KEYS_DEF" "$MAN" "$SAMPLE" "$CTL_MAN" "$CTL_OPTS_C"; do
    if [ ! -f "$f" ]; then
        for what in "option table" "man page" "sample config" "once each" "table order" "defaults" \
            "mailhookctl endpoint options"; do
            skip "$what: $f is missing"
        done
        exit 0
    fi
done

def_rows "$ENDPOINT_KEYS_DEF" > "$T_DIR/def.rows"
names_from_table "$CONF_C" "$CONF_SECTIONS_C" > "$T_DIR/table.raw"
grep '^!' "$T_DIR/def.rows" >> "$T_DIR/table.raw"
if [ ! -s "$T_DIR/def.rows" ]; then
    echo "!no ENDPOINT_KEY rows in src/global/endpoint_keys.def" >> "$T_DIR/table.raw"
fi
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

{ cli_from_def "$T_DIR/def.rows"; cli_extra "$CTL_OPTS_C"; } > "$T_DIR/cli.raw"
grep -v '^!' "$T_DIR/cli.raw" > "$T_DIR/cli"
cli_from_man "$CTL_MAN" > "$T_DIR/cli.man"
what="man/mailhookctl.1 documents every endpoint option of src/global/endpoint_keys.def, and only those"
if grep -q '^!' "$T_DIR/cli.raw" || [ ! -s "$T_DIR/cli" ]; then
    not_ok "$what"
    echo "# the table's cli column does not read (or names no option):"
    grep '^!' "$T_DIR/cli.raw" | sed 's/^!//' | diag
elif [ -n "$(twice "$T_DIR/cli.man")$(twice "$T_DIR/cli")" ]; then
    not_ok "$what"
    echo "# twice: $(twice "$T_DIR/cli.man") $(twice "$T_DIR/cli")"
else
    compare_sets "$what" "$T_DIR/cli" "$T_DIR/cli.man"
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
