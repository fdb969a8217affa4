#!/bin/bash
# SPDX-License-Identifier: MIT
# t0013: the bash completion for mailhookctl (contrib/mailhookctl.bash-completion)
# against the program: its commands are the code's command tables, every
# option it offers is accepted, every option of a command's usage is
# offered; the schemes and formats it completes are those of
# src/global/endpoint_keys.def; it completes; "make install" puts it where
# bash-completion looks.
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
plan 7
COMP=$top_srcdir/contrib/mailhookctl.bash-completion
SRC=$top_srcdir/src/mailhookctl
# shellcheck source=../contrib/mailhookctl.bash-completion
. "$COMP"

# The names of a command table in FILE (rows { "name", fn, SYNOPSIS, flags }).
table() { sed -n 's/^ *{ "\([a-z-]*\)", [a-z_]*, \([A-Z_]*SYNOPSIS\|"\).*/\1/p' "$1" | tr '\n' ' ' | sed 's/ $//'; }
check "the commands are mailhookctl.c's table" [ "$(table "$SRC/mailhookctl.c")" = "$_mailhookctl_commands" ]
check "the subcommands are the groups' tables" bash -c "
    [ '$(table "$SRC/ctl_events.c")' = '$_mailhookctl_events' ] &&
    [ '$(table "$SRC/ctl_endpoint.c")' = '$_mailhookctl_endpoint' ] &&
    [ '$(table "$SRC/ctl_deliveries.c")' = '$_mailhookctl_deliveries' ]"

# Each command as the completion names it: "events-list" for "events list".
KEYS=""
for c in $_mailhookctl_commands; do
    v=_mailhookctl_$c
    if [ -n "${!v:-}" ]; then for s in ${!v}; do KEYS="$KEYS $c-$s"; done; else KEYS="$KEYS $c"; fi
done
# offered_ok: every option offered for a command is one it takes (no daemon
# is needed: an option is refused, or not, before anything is asked)
offered_ok() {
    local k o rc=0
    for k in $KEYS; do
        for o in $(_mailhookctl_options "$k"); do
            # shellcheck disable=SC2046 # the words of the command
            "$MAILHOOKCTL" -s "$T_DIR/none.sock" $(echo "$k" | sed 's/^\(events\|endpoint\|deliveries\)-/\1 /') "$o" \
                < /dev/null > /dev/null 2> "$T_DIR/o.err"
            if grep -q 'unknown option\|unrecognized option' "$T_DIR/o.err"; then echo "$k $o"; rc=1; fi
        done
    done
    return $rc
}
check "every option the completion offers is one the command takes" offered_ok
# usage_offered: every --option of a command's usage (COMMAND --help; for
# endpoint add and update, the OPTIONS of mailhookctl --help) is offered
usage_offered() {
    local k words opts o rc=0
    for k in $KEYS; do
        words=$(echo "$k" | sed 's/^\(events\|endpoint\|deliveries\)-/\1 /')
        # shellcheck disable=SC2086
        opts=$("$MAILHOOKCTL" $words --help | grep -o -- '--[a-z-]*' | grep -vx -- '--help')
        case $k in endpoint-add | endpoint-update)
            opts="$opts $("$MAILHOOKCTL" --help | sed -n '/^endpoint OPTIONS:/,/^TIME:/p' | grep -o -- '--[a-z-]*')"
            [ "$k" = endpoint-update ] && opts=$(echo "$opts" | tr ' ' '\n' | grep -vx -- '--disabled')
            ;;
        esac
        for o in $opts; do
            echo " $(_mailhookctl_options "$k") --json " | tr -s ' \n' ' ' | grep -q -- " $o " ||
                { echo "$k: $o not offered"; rc=1; }
        done
    done
    return $rc
}
check "every option of a command's usage is offered" usage_offered
# The names of the ROW(id, "name", ...) rows of endpoint_keys.def, in order.
def_names() {
    tr '\n' ' ' < "$top_srcdir/src/global/endpoint_keys.def" |
        grep -o "\(^\| \)$1([A-Z0-9_]*, *\"[a-z0-9-]*\"" |
        sed 's/.*"\(.*\)"/\1/' | tr '\n' ' ' | sed 's/ $//'
}
check "the schemes and formats offered are endpoint_keys.def's" bash -c "
    [ '$(def_names ENDPOINT_SCHEME)' = '$_mailhookctl_schemes' ] &&
    [ '$(def_names ENDPOINT_FORMAT)' = '$_mailhookctl_formats' ] &&
    [ -n '$_mailhookctl_formats' ]"
# complete WORDS...: what the completion offers for the last word
complete_words() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMPREPLY=()
    _mailhookctl
    echo "${COMPREPLY[*]}"
}
check "it completes commands, subcommands and options" bash -c "
    . '$COMP'; $(declare -f complete_words)
    [ \"\$(complete_words mailhookctl end)\" = endpoint ] &&
    [ \"\$(complete_words mailhookctl -s x endpoint ro)\" = rotate-secret ] &&
    [ \"\$(complete_words mailhookctl events list --li)\" = --limit ] &&
    [ \"\$(complete_words mailhookctl endpoint add n u --sch)\" = --scheme ] &&
    [ \"\$(complete_words mailhookctl endpoint add n u --scheme st)\" = standard ] &&
    [ \"\$(complete_words mailhookctl endpoint add n u --scheme se)\" = sendgrid ] &&
    [ \"\$(complete_words mailhookctl endpoint update n --format pe)\" = penguinmails ] &&
    [ \"\$(complete_words mailhookctl endpoint update n --delivery-id u)\" = 'ulid uuid' ]"
if [ -f "$top_builddir/Makefile" ] && command -v make > /dev/null; then
    check "make install puts it in bash-completion's directory, as mailhookctl" bash -c "
        make -s -C '$top_builddir' install-bash-completion DESTDIR='$T_DIR/inst' > /dev/null &&
        f=\$(find '$T_DIR/inst' -type f -path '*/bash-completion/completions/mailhookctl') &&
        cmp \"\$f\" '$COMP' &&
        make -s -C '$top_builddir' uninstall-bash-completion DESTDIR='$T_DIR/inst' &&
        [ -z \"\$(find '$T_DIR/inst' -type f)\" ]"
else
    skip "no Makefile in the build directory"
fi
done_testing
