#!/bin/bash
# SPDX-License-Identifier: MIT
# t0041: what "mailhookd -n" must refuse, with FILE[:LINE]: a config path
# that is not a regular file (a FIFO would keep it waiting for a writer; the
# same for mailhookctl emit, which reads the same file; status warns), an unset ${VAR}, and the
# errors of an endpoint section's values.
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
plan 17
C=$T_DIR/c.conf
ERR=$T_DIR/err

# --- a FIFO (or any file that is not regular) is refused before it is read
mkfifo "$T_DIR/fifo.conf"
timeout 20 "$MAILHOOKD" -n -c "$T_DIR/fifo.conf" > "$ERR" 2>&1; rc=$?
check "mailhookd -n on a FIFO exits 78 at once (no wait for a writer)" [ $rc -eq 78 ]
check "... naming the file and what it is" grep -q "^$T_DIR/fifo.conf: is a FIFO: the configuration must be a regular file" "$ERR"
# mailhookctl emit reads the whole file; status only wants the admin socket
# and takes a bad file as a warning (the default socket: no daemon there)
timeout 20 "$MAILHOOKCTL" -c "$T_DIR/fifo.conf" emit app.x > "$ERR" 2>&1; rc=$?
check "mailhookctl emit on a FIFO exits 78 at once" [ $rc -eq 78 ]
check "... with the same message" grep -q "$T_DIR/fifo.conf: is a FIFO" "$ERR"
timeout 20 "$MAILHOOKCTL" -c "$T_DIR/fifo.conf" status > "$ERR" 2>&1; rc=$?
check "mailhookctl status on a FIFO does not wait either: a warning, then no daemon (3)" \
    bash -c "[ $rc -eq 3 ] && grep -q '^mailhookctl: warning: $T_DIR/fifo.conf: is a FIFO' '$ERR'"
timeout 20 "$MAILHOOKD" -n -c "$T_DIR" > "$ERR" 2>&1; rc=$?
check "a directory is refused too" bash -c "[ $rc -eq 78 ] && grep -q 'is a directory' '$ERR'"

# --- ${VAR}: an unset variable is an error at its line, not ""
# shellcheck disable=SC2016 # ${VAR} is for mailhookd to expand
write_conf "$C" '
pid_file = "${MH_T0041_UNSET}/mailhookd.pid"'
env -u MH_T0041_UNSET "$MAILHOOKD" -n -c "$C" > "$ERR" 2>&1; rc=$?
line=$(grep -n MH_T0041_UNSET "$C" | cut -d: -f1)
check "-n refuses an unset \${VAR} (exit 78)" [ $rc -eq 78 ]
check "... at FILE:LINE, naming it" grep -q "^$C:$line: \${MH_T0041_UNSET} is not set in the environment" "$ERR"
check "set, the same file is accepted" env MH_T0041_UNSET="$T_DIR/run" "$MAILHOOKD" -n -c "$C"
# shellcheck disable=SC2016
write_conf "$C" 'pid_file = "${MH_T0041_UNSET:-/run}/mailhookd.pid"'
check "\${VAR:-default} may be unset" env -u MH_T0041_UNSET "$MAILHOOKD" -n -c "$C"
check "... and gives its default" bash -c "env -u MH_T0041_UNSET '$MAILHOOKD' -T -c '$C' | grep -qx 'pid_file = \"/run/mailhookd.pid\"'"

# --- an endpoint section: its values are checked by the daemon's endpoint
# model after the parse, and reported at the line of the option
endpoint_conf() { # endpoint_conf LINES-OF-SECOND-ENDPOINT
    write_conf "$C" "endpoint \"good\" {
    url = \"https://a.example/in\"
}
endpoint \"bad\" {
    url = \"https://b.example/in\"
$1
}"
}
at() { grep -n -F -- "$1" "$C" | head -1 | cut -d: -f1; }
endpoint_conf '    types = {"app.ok",
             "Bad Type"}
    batch_max = 5'
"$MAILHOOKD" -n -c "$C" > "$ERR" 2>&1
check "endpoint section: a bad type at the line of types" grep -q "^$C:$(at 'types = {'): endpoint bad: types: event type \"Bad Type\"" "$ERR"
endpoint_conf '    batch_max = 5
    retry = {"5s", "10 minutes"}'
"$MAILHOOKD" -n -c "$C" > "$ERR" 2>&1
check "... a bad retry delay at the line of retry" grep -q "^$C:$(at 'retry = {'): endpoint bad: retry: \"10 minutes\"" "$ERR"
endpoint_conf '    allow_http = false
    url = "http://b.example/in"'
"$MAILHOOKD" -n -c "$C" > "$ERR" 2>&1
check "... a url given twice: at the one in effect" grep -q "^$C:$(at 'url = "http:'): endpoint bad: url: scheme must be https" "$ERR"
endpoint_conf '    secret = "whsec_not base64!"'
"$MAILHOOKD" -n -c "$C" > "$ERR" 2>&1
check "... a bad secret at its line" grep -q "^$C:$(at 'secret = '): endpoint bad: secret: " "$ERR"

# ... and the same when mailhookd reloads the file on SIGHUP
endpoint_conf '    retry = {"5s"}'
check "daemon starts with the endpoints" start_daemon "$C"
endpoint_conf '    batch_max = 5
    headers = {"X-Mailhook-Event: x"}'
kill -HUP "$DAEMON_PID"
check "reload refused at FILE:LINE of the option" wait_for 20 grep -q "reload failed, keeping the running configuration: $C:$(at 'headers = {'): endpoint bad: headers: " "$T_DIR/daemon.log"
stop_daemon
done_testing
