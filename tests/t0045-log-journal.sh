#!/bin/bash
# SPDX-License-Identifier: MIT
# t0045: with log = "stderr" under systemd (JOURNAL_STREAM names stderr's
# DEV:INODE), every line starts with its syslog priority, "<6>" for info
# and "<4>" for a warning (sd-daemon(3)), so that journald records it and
# `journalctl -p warning` finds the warnings; a JOURNAL_STREAM inherited
# by a process whose stderr is something else changes nothing.
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
plan 6
CONF=$T_DIR/mailhook.conf
# A dead endpoint: "is failing" after 3 failures is a warning.
write_conf "$CONF" "delivery_allow = {\"127.0.0.0/8\"}
delivery_time_scale = 1000
endpoint \"dead\" {
    url = \"http://127.0.0.1:9/hook\"
    allow_http = true
}"
LOG=$T_DIR/daemon.log
: > "$LOG"
JOURNAL_STREAM=$(stat -c '%d:%i' "$LOG")
export JOURNAL_STREAM
check "daemon starts with JOURNAL_STREAM naming its stderr" start_daemon "$CONF"
for i in 1 2 3 4; do "$MAILHOOKCTL" -c "$CONF" emit app.tick '{}' >/dev/null; done
check "a warning is logged" wait_for 20 grep -q 'is failing' "$LOG"
stop_daemon
check "the warning starts with <4>" grep -qE '^<4>mailhookd: warning: endpoint dead is failing' "$LOG"
check "info lines start with <6>" grep -qE '^<6>mailhookd: mailhookd .* ready' "$LOG"
check "every line starts with a priority" bash -c "! grep -vE '^<[0-7]>' '$LOG'"

# The same variable, but stderr is another file: no prefix.
mv "$LOG" "$T_DIR/journal.log"
: > "$LOG"
check "stderr not the journal stream: plain lines" bash -c \
    "'$MAILHOOKD' -n -v -c '$CONF' 2>'$T_DIR/n.log' >/dev/null; '$MAILHOOKD' -f -c /nonexistent.conf 2>>'$T_DIR/n.log'; [ -s '$T_DIR/n.log' ] && ! grep -qE '^<[0-7]>' '$T_DIR/n.log'"
done_testing
