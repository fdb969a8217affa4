#!/bin/bash
# SPDX-License-Identifier: MIT
# t0012: the command line conventions of issue 14, one check per rule:
# --help and --version on every program and (mailhookctl) every command and
# subcommand, usage errors exit 64; mailhookctl reaches the daemon without
# the whole config; EACCES named as such; status as a health check
# (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN); list options with one rule;
# --json after the command, errors as JSON.
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
plan 32
MAILHOOK_MILTER=$top_builddir/src/milter/mailhook-milter
CONF=$T_DIR/mailhook.conf
SOCK=$T_DIR/run/admin.sock
write_conf "$CONF" 'admin_group = "nogroup"'
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
# Every mailhookctl command, subcommands as "group sub" (the tables of
# src/mailhookctl/*.c; t0013 checks the completion against them).
COMMANDS="status emit replay parse backfill events events@list events@show endpoint
endpoint@add endpoint@update endpoint@list endpoint@show endpoint@enable endpoint@disable
endpoint@remove endpoint@rotate-secret endpoint@test endpoint@preview deliveries deliveries@list
deliveries@show deliveries@retry"
# help_ok CMD...: usage on stdout (nothing on stderr), exit 0
help_ok() {
    "$@" > "$T_DIR/h.out" 2> "$T_DIR/h.err" || { echo "$* exited $?"; return 1; }
    grep -q '^usage: ' "$T_DIR/h.out" && [ ! -s "$T_DIR/h.err" ] || { echo "$*: no usage on stdout"; return 1; }
}
# each_command FN: FN with each mailhookctl command's words; fails if one does
each_command() {
    local c rc=0
    for c in $COMMANDS; do
        # shellcheck disable=SC2086 # the words of the command
        "$1" ${c//@/ } || rc=1
    done
    return $rc
}
ctl_help() { help_ok "$MAILHOOKCTL" -c "$CONF" "$@" --help; }
ctl_version() { [ "$("$MAILHOOKCTL" -c "$CONF" "$@" --version 2>&1)" = "mailhookctl $VERSION" ] || { echo "$* --version"; return 1; }; }
ctl_bad() {
    "$MAILHOOKCTL" -c "$CONF" "$@" --no-such-option > "$T_DIR/b.out" 2> "$T_DIR/b.err"
    local rc=$?
    [ $rc -eq 64 ] && grep -q '^usage: mailhookctl' "$T_DIR/b.err" && [ ! -s "$T_DIR/b.out" ] ||
        { echo "$* --no-such-option: exit $rc"; cat "$T_DIR/b.err"; return 1; }
}
VERSION=$("$MAILHOOKD" -V | sed 's/^mailhookd //')

# --- 1. --help, --version, bad options
check "mailhookd --help: usage on stdout, exit 0" help_ok "$MAILHOOKD" --help
check "mailhook-milter --help: usage on stdout, exit 0" help_ok "$MAILHOOK_MILTER" --help
check "mailhookctl --help: usage on stdout, exit 0" help_ok "$MAILHOOKCTL" --help
check "--version prints NAME VERSION, exit 0, on every program" bash -c "
    [ \"\$('$MAILHOOKD' --version)\" = 'mailhookd $VERSION' ] &&
    [ \"\$('$MAILHOOK_MILTER' --version)\" = 'mailhook-milter $VERSION' ] &&
    [ \"\$('$MAILHOOKCTL' --version)\" = 'mailhookctl $VERSION' ]"
check "a bad option: a short usage on stderr, exit 64, on every program" bash -c "
    for p in '$MAILHOOKD' '$MAILHOOK_MILTER' '$MAILHOOKCTL'; do
        \"\$p\" --no-such-option > '$T_DIR/o' 2> '$T_DIR/e'; rc=\$?
        [ \$rc -eq 64 ] && [ ! -s '$T_DIR/o' ] && grep -q '^usage: ' '$T_DIR/e' &&
            [ \$(wc -l < '$T_DIR/e') -le 3 ] || { echo \"\$p: \$rc\"; cat '$T_DIR/e'; exit 1; }
    done"
check "daemon starts" start_daemon "$CONF"
check "every mailhookctl command and subcommand: --help prints its usage, exit 0" each_command ctl_help
check "... --version prints mailhookctl VERSION" each_command ctl_version
check "... a bad option is a usage error: usage on stderr, exit 64" each_command ctl_bad

# --- 2. the admin socket without the whole config
cp "$CONF" "$T_DIR/typo.conf"
echo 'retention_dayz = 3' >> "$T_DIR/typo.conf"
"$MAILHOOKCTL" -c "$T_DIR/typo.conf" status > "$T_DIR/typo.out" 2> "$T_DIR/typo.err"; rc=$?
check "a typo in the config: status still reaches mailhookd (exit 0), with a warning" \
    bash -c "[ $rc -eq 0 ] && grep -q 'health: *OK' '$T_DIR/typo.out' && grep -q '^mailhookctl: warning: .*typo.conf' '$T_DIR/typo.err'"
"$MAILHOOKCTL" -c "$T_DIR/typo.conf" emit app.x > /dev/null 2>&1; rc=$?
check "... while emit, which needs the whole config, refuses it (78)" [ $rc -eq 78 ]
if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null && getent passwd nobody > /dev/null; then
    chmod 755 "$T_DIR"
    chmod 600 "$T_DIR/typo.conf"
    check "a config the admin cannot read: -s SOCKET still reaches mailhookd" \
        setpriv --reuid=nobody --regid=nogroup --clear-groups "$MAILHOOKCTL" -c "$T_DIR/typo.conf" -s "$SOCK" status
    setpriv --reuid=nobody --regid=daemon --clear-groups "$MAILHOOKCTL" -s "$SOCK" status > "$T_DIR/acc.out" 2>&1
    check "EACCES on the admin socket: permission denied, join the socket's group" \
        grep -q "^mailhookctl: $SOCK: permission denied: add yourself to group nogroup$" "$T_DIR/acc.out"
    chmod 700 "$T_DIR"
else
    skip "needs root, setpriv, user nobody"; skip "needs root, setpriv, user nobody"
fi

# --- 4. status as a health check
check "status with nothing to see: OK, exit 0" bash -c "'$MAILHOOKCTL' -c '$CONF' status | grep -qx 'health: *OK'"
ctl endpoint add off https://hooks.example.com/in --type t.none --disabled > /dev/null
ctl status > "$T_DIR/st.out" 2>&1; rc=$?
check "a disabled endpoint: WARNING, exit 1" bash -c "[ $rc -eq 1 ] && grep -qx 'health: *WARNING: endpoint off disabled' '$T_DIR/st.out'"
check "--json status carries the health and its reasons" bash -c "'$MAILHOOKCTL' -c '$CONF' --json status |
    python3 -c 'import json,sys; h=json.load(sys.stdin)[\"health\"]; sys.exit(h != {\"status\":\"WARNING\",\"code\":1,\"reasons\":[\"endpoint off disabled\"]})'"
# --- 6. one JSON shape, RFC 3339 times
check "--json: every answer that is not a list is one object with \"ok\"" bash -c "
    for c in 'emit app.j' 'endpoint show off' 'endpoint disable off' 'endpoint update off --timeout 4s' \
             'endpoint rotate-secret off' 'replay --since 1h' 'status'; do
        '$MAILHOOKCTL' -c '$CONF' --json \$c 2>/dev/null | python3 -c 'import json,sys
lines = sys.stdin.read().splitlines()
assert len(lines) == 1 and json.loads(lines[0])[\"ok\"] is True' || { echo \"\$c\"; exit 1; }
    done"
check "... and its times are RFC 3339 (endpoints: created, updated; never: null)" bash -c "
    '$MAILHOOKCTL' -c '$CONF' --json endpoint list | python3 -c 'import json,sys,re
e = json.loads(sys.stdin.readline())
t = re.compile(r\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z\$\")
assert t.match(e[\"created\"]) and t.match(e[\"updated\"]) and e[\"health\"][\"last_success\"] is None, e'"
ctl endpoint remove off > /dev/null

# --- 5. lists
for t in t.a t.b t.c; do ctl emit "$t" '{}' > /dev/null; done
check "replay --type a,b replays both types" bash -c "'$MAILHOOKCTL' -c '$CONF' --json replay --since 1h --type t.a,t.b | grep -q '\"matched\":2'"
check "... and --type repeated too" bash -c "'$MAILHOOKCTL' -c '$CONF' --json replay --since 1h --type t.a --type t.b | grep -q '\"matched\":2'"
for d in '{"tenant":"acme"}' '{"tenant":"other"}' '{"tenant":"acme"}' '{"tenant":42}' '{"tenant":"Acme"}'; do
    ctl emit t.d "$d" > /dev/null
done
check "replay --tenant: only that tenant's events (exactly; a number by its text)" bash -c "
    '$MAILHOOKCTL' -c '$CONF' --json replay --since 1h --tenant acme | grep -q '\"matched\":2' &&
    '$MAILHOOKCTL' -c '$CONF' --json replay --since 1h --tenant 42 --type t.d | grep -q '\"matched\":1' &&
    '$MAILHOOKCTL' -c '$CONF' --json replay --since 1h --tenant acme --type t.a | grep -q '\"matched\":0'"
ctl replay --since 1h --tenant '' > /dev/null 2>&1; rc=$?
check "... an empty --tenant is refused (64)" [ $rc -eq 64 ]
check "events list --type a,b lists both, the same rule" bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json events list --type t.a,t.b | wc -l) -eq 2 ]"
ctl replay --since 1h --type 't.a, t.b' > /dev/null 2>&1; rc=$?
check "... and what is not a type is refused (64), not matched against nothing" [ $rc -eq 64 ]
ctl deliveries list --endpoint nosuch > "$T_DIR/dl.out" 2>&1; rc=$?
check "deliveries list --endpoint nosuch: no endpoint nosuch, exit 1, as replay" \
    bash -c "[ $rc -eq 1 ] && grep -q 'no endpoint nosuch' '$T_DIR/dl.out' && ! '$MAILHOOKCTL' -c '$CONF' replay --since 1h --endpoint nosuch 2>/dev/null"
ctl events list --limit 99999999 > "$T_DIR/lim.out" 2>&1; rc=$?
check "events list --limit past the daemon's bound: refused by mailhookctl (64)" \
    bash -c "[ $rc -eq 64 ] && grep -q 'from 1 to 100000' '$T_DIR/lim.out'"

# --- 6. --json
check "--json after the command: status --json prints JSON" bash -c "'$MAILHOOKCTL' -c '$CONF' status --json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"ok\"] is not True)'"
ctl events show evt_nosuch --json > "$T_DIR/j.out" 2> "$T_DIR/j.err"; rc=$?
check "an error under --json is a JSON object on stderr" bash -c "[ $rc -eq 1 ] && [ ! -s '$T_DIR/j.out' ] &&
    python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); sys.exit(not (e[\"ok\"] is False and e[\"code\"]==\"not_found\" and e[\"error\"]))' '$T_DIR/j.err'"
ctl --json events list --limit 0 > "$T_DIR/u.out" 2> "$T_DIR/u.err"; rc=$?
check "... a usage error too (code usage, exit 64)" bash -c "[ $rc -eq 64 ] && [ ! -s '$T_DIR/u.out' ] &&
    python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); sys.exit(not (e[\"ok\"] is False and e[\"code\"]==\"usage\" and \"--limit\" in e[\"error\"]))' '$T_DIR/u.err'"

printf 'bogus_option = 1\n' > "$T_DIR/bad.conf"
"$MAILHOOKCTL" -c "$T_DIR/bad.conf" --json emit t.x '{}' > "$T_DIR/c.out" 2> "$T_DIR/c.err"; rc=$?
check "... and emit's config error too (code config, exit 78)" bash -c "[ $rc -eq 78 ] && [ ! -s '$T_DIR/c.out' ] &&
    python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); sys.exit(not (e[\"ok\"] is False and e[\"code\"]==\"config\" and \"bogus_option\" in e[\"error\"]))' '$T_DIR/c.err'"

# --- 4 again: CRITICAL (a reader in error) and UNKNOWN (no daemon)
stop_daemon
mkdir "$T_DIR/logdir"
write_conf "$CONF" "maillog \"m\" {
    path = \"$T_DIR/logdir\"
}"
start_daemon "$CONF"
check "a maillog reader in error: CRITICAL, exit 2" wait_for 10 bash -c "'$MAILHOOKCTL' -c '$CONF' status > '$T_DIR/c.out'; [ \$? -eq 2 ] && grep -q 'health: *CRITICAL: maillog m: ' '$T_DIR/c.out'"
stop_daemon
ctl status > /dev/null 2>&1; rc=$?
check "daemon down: UNKNOWN, exit 3" [ $rc -eq 3 ]
done_testing
