#!/bin/bash
# SPDX-License-Identifier: MIT
# t0250: a journald source. Real journal files (written by
# systemd-journal-remote) hold Postfix, Sendmail and unrelated entries;
# mailhookd follows the journal directory, correlates the mail entries into
# events, and after a restart resumes from its committed cursor: entries
# added while it was down are read once, the old ones not again.
. "$(dirname "$0")/lib/tap.sh"
plan 5
MJ=$top_srcdir/tests/helpers/make_journal.py
if ! python3 "$MJ" --check >/dev/null 2>&1; then
    skip_all "systemd-journal-remote not installed"
fi
J=$T_DIR/journal
mkdir -p "$J"
now=$(($(date +%s) * 1000000))
entry() { printf '%s\t%s\t%s\t%s\t%s\n' "$@"; }
message() { # message N QID RCPT: queue active + delivered + removed, at now + N s
    local t=$((now + $1 * 1000000))
    entry $t mx postfix/qmgr 100 "$2: from=<s@src.test>, size=100, nrcpt=1 (queue active)"
    entry $((t + 1000)) mx postfix/smtp 200 "$2: to=<$3>, relay=mx.dst.test[192.0.2.1]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)"
    entry $((t + 2000)) mx postfix/qmgr 100 "$2: removed"
}
{
    message 1 3A1B2C3D01 j1@dst.test
    entry $((now + 1500000)) mx sshd 300 "Accepted publickey for root from 192.0.2.9"
    entry $((now + 1600000)) mx sm-mta 400 "xAMBUJ0H012345: from=<a@src.test>, size=12, class=0, nrcpts=1, msgid=<sm1@src.test>, proto=ESMTP, relay=localhost [127.0.0.1]"
    entry $((now + 1700000)) mx sm-mta 400 "xAMBUJ0H012345: to=<sm-user@dst.test>, ctladdr=<a@src.test> (0/0), delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=120000, relay=mx.dst.test. [192.0.2.5], dsn=5.1.1, stat=User unknown"
    message 2 3A1B2C3D02 j2@dst.test
} | python3 "$MJ" "$J" first
CONF=$T_DIR/mailhook.conf
write_conf "$CONF" "maillog \"journal\" {
    type = \"journald\"
    path = \"$J\"
    start_at = \"beginning\"
}"
list() { "$MAILHOOKCTL" -c "$CONF" --json events list --limit 1000; }
check "daemon starts with a journald source" start_daemon "$CONF"
check "postfix entries from the journal become events" \
    wait_for 10 bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json events list --type email.delivered | wc -l) -eq 2 ]"
# A Sendmail message received from loopback may be the MTA's leg of an MSP
# hand-off: its events wait (5 s of log time) for the hand-off line.
check "sendmail entries too (bounced, unknown-user)" wait_for 15 bash -c "'$MAILHOOKCTL' -c '$CONF' --json events list --type email.bounced | grep sm-user@dst.test | grep -q unknown-user"
stop_daemon
message 3 3A1B2C3D03 j3@dst.test | python3 "$MJ" "$J" second
start_daemon "$CONF"
check "entries added while down are read after restart" \
    wait_for 10 bash -c "'$MAILHOOKCTL' -c '$CONF' --json events list --type email.delivered | grep -q j3@dst.test"
sleep 1
check "resumed from the cursor: nothing read twice (3 delivered, 1 bounced, 4 sent)" \
    wait_for 10 bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json events list --type 'email.*' --limit 1000 | wc -l) -eq 8 ]"
list | diag
stop_daemon
done_testing
