#!/bin/bash
# SPDX-License-Identifier: MIT
# t0240: garbage, binary, truncated and very long (> 64 KiB) lines in the
# maillog are skipped and counted; they never stop the reader nor disturb
# the events of the good lines around them. Other programs' lines (opendkim,
# dovecot) and mailhook's own (it logs to facility mail) are counted apart
# from garbage; Sendmail's and the postfix command's lines are neither.
. "$(dirname "$0")/lib/tap.sh"
plan 8
LOG=$T_DIR/mail.log
CONF=$T_DIR/mailhook.conf
good() { # good QID RCPT: the three lines of one delivered message
    printf '%s mx postfix/qmgr[100]: %s: from=<s@src.test>, size=100, nrcpt=1 (queue active)\n' "$(date '+%b %e %H:%M:%S')" "$1"
    printf '%s mx postfix/smtp[200]: %s: to=<%s>, relay=mx.dst.test[192.0.2.1]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 ok)\n' "$(date '+%b %e %H:%M:%S')" "$1" "$2"
    printf '%s mx postfix/qmgr[100]: %s: removed\n' "$(date '+%b %e %H:%M:%S')" "$1"
}
{
    good 1A2B3C4D01 a@dst.test
    echo 'this is not a syslog line at all'
    head -c 3000 /dev/urandom | tr -d '\n'; echo
    printf 'Nov 22 06:30:19 mx postfix/smtp[200]: 1A2B3C4D99: to=<x@dst.test>, relay=mx[192.0.2.1]:25, dsn=2.0.0, status=se\n'
    printf 'Nov 22 06:30:19 mx postfix/smtp[200]: 1A2B3C4D02: to=<'; head -c 70000 /dev/zero | tr '\0' 'x'; printf '@dst.test>, status=sent (250 ok)\n'
    printf 'Nov 22 06:30:19 mx postfix/smtp[200]: \x00\x01\x02 nul bytes\n'
    printf 'Nov 22 06:30:19 mx opendkim[88]: 1A2B3C4D03: DKIM-Signature field added (s=mail, d=src.test)\n'
    printf 'Nov 22 06:30:19 mx dovecot[77]: lmtp(b): msgid=<m@src.test>: saved mail to INBOX\n'
    printf 'Nov 22 06:30:19 mx mailhookd[1]: maillog g: following %s from the checkpoint\n' "$LOG"
    printf 'Nov 22 06:30:19 mx postfix[99]: Postfix is using backwards-compatible default settings\n'
    printf 'Nov 22 06:30:19 mx sm-acceptingconnections[98]: starting daemon (8.17.1.9): SMTP+queueing@00:10:00\n'
    good 1A2B3C4D03 b@dst.test
} > "$LOG"
write_conf "$CONF" "maillog \"g\" {
    path = \"$LOG\"
    start_at = \"beginning\"
}"
check "daemon starts" start_daemon "$CONF"
check "events of the good lines arrive" wait_for 10 bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json events list --type email.delivered | wc -l) -eq 2 ]"
"$MAILHOOKCTL" -c "$CONF" --json status > "$T_DIR/status.json"
check "over-long line counted as skipped_long" python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["maillog"]["g"]; sys.exit(0 if m["skipped_long"]==1 else 1)' "$T_DIR/status.json"
check "garbage and binary lines counted as skipped_garbage, and only they" python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["maillog"]["g"]; sys.exit(0 if m["skipped_garbage"]==3 else 1)' "$T_DIR/status.json"
check "other programs counted as skipped_other" python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["maillog"]["g"]; sys.exit(0 if m["skipped_other"]==2 else 1)' "$T_DIR/status.json"
check "mailhook's own lines counted as skipped_own" python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["maillog"]["g"]; sys.exit(0 if m["skipped_own"]==1 else 1)' "$T_DIR/status.json"
check "human status shows the counters" bash -c "'$MAILHOOKCTL' -c '$CONF' status | grep 'maillog g: following' | grep -q '7 skipped (3 garbage, 2 other programs, 1 mailhook.s own, 1 too long)'"
"$MAILHOOKCTL" parse "$LOG" > /dev/null 2> "$T_DIR/parse.err"
check "mailhookctl parse counts them the same" grep -q '7 skipped (3 not mail log lines, 2 of other programs, 1 of mailhook, 1 too long)' "$T_DIR/parse.err"
diag < "$T_DIR/status.json"
stop_daemon
done_testing
