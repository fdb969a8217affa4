#!/bin/bash
# SPDX-License-Identifier: MIT
# t0265: a log line read again never makes a second event. mailhookd reads
# a log; then its checkpoint is lost (deleted from the store with mailhookd
# stopped) and, separately, the log is copied to a new inode; each time
# mailhookd reads every line again from the start and stores nothing new:
# log-derived events have deterministic ids, and the store drops the copies.
. "$(dirname "$0")/lib/tap.sh"
plan 8
LOG=$T_DIR/mail.log
CONF=$T_DIR/mailhook.conf
CKDEL=$top_builddir/tests/helpers/checkpoint_del
ts() { date -d '-6 min' '+%b %e %H:%M:%S'; }
msg() { # msg QID RCPT STATUS DSN TEXT
    printf '%s mx postfix/qmgr[100]: %s: from=<s@src.test>, size=100, nrcpt=1 (queue active)\n' "$(ts)" "$1"
    printf '%s mx postfix/smtp[200]: %s: to=<%s>, relay=mx.dst.test[192.0.2.1]:25, delay=0.1, delays=0/0/0/0.1, dsn=%s, status=%s (%s)\n' "$(ts)" "$1" "$2" "$4" "$3" "$5"
}
{
    msg 1A2B3C4D01 a@dst.test sent 2.0.0 '250 ok'
    msg 1A2B3C4D02 b@dst.test deferred 4.4.1 'connect to mx.dst.test[192.0.2.1]:25: Connection timed out'
    # the retry, 5 minutes later (the time tells attempts apart)
    printf '%s mx postfix/smtp[200]: 1A2B3C4D02: to=<b@dst.test>, relay=mx.dst.test[192.0.2.1]:25, delay=300, delays=0/0/300/0, dsn=4.4.1, status=deferred (connect to mx.dst.test[192.0.2.1]:25: Connection timed out)\n' "$(date -d '-1 min' '+%b %e %H:%M:%S')"
    msg 1A2B3C4D03 c@dst.test bounced 5.1.1 'host mx.dst.test[192.0.2.1] said: 550 5.1.1 <c@dst.test>: Recipient address rejected: User unknown (in reply to RCPT TO command)'
    printf '%s mx postfix/qmgr[100]: 1A2B3C4D01: removed\n' "$(ts)"
    printf '%s mx postfix/qmgr[100]: 1A2B3C4D03: removed\n' "$(ts)"
} > "$LOG"
NLINES=$(wc -l < "$LOG")
write_conf "$CONF" "maillog \"g\" {
    path = \"$LOG\"
    start_at = \"beginning\"
    emit_sent = true
}"
events() { "$MAILHOOKCTL" -c "$CONF" --json events list --limit 1000 | python3 -c 'import json,sys; print(len([l for l in sys.stdin if l.strip()]))'; }
lines_read() { "$MAILHOOKCTL" -c "$CONF" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["maillog"]["g"]["lines"])'; }
all_read() { [ "$(lines_read)" -ge "$NLINES" ]; }
# 3 sent, 1 delivered, 2 deferred, 1 bounced
read_all() { start_daemon "$CONF" && wait_for 20 all_read && wait_for 10 test "$(events)" -ge 7; }
same_events() { # same_events FILE: the stored ids are exactly those in FILE
    "$MAILHOOKCTL" -c "$CONF" --json events list --limit 1000 |
        python3 -c 'import json,sys; print("\n".join(sorted(json.loads(l)["id"] for l in sys.stdin if l.strip())))' > "$T_DIR/ids.now" &&
        diff "$1" "$T_DIR/ids.now"
}
check "first read: 7 events" read_all
"$MAILHOOKCTL" -c "$CONF" --json events list --limit 1000 |
    python3 -c 'import json,sys; print("\n".join(sorted(json.loads(l)["id"] for l in sys.stdin if l.strip())))' > "$T_DIR/ids.first"
check "exactly 7" test "$(wc -l < "$T_DIR/ids.first")" -eq 7
stop_daemon

check "checkpoint deleted (position and states)" bash -c "[ \$('$CKDEL' '$T_DIR/state' g) -ge 1 ]"
check "checkpoint lost: every line read again" read_all
check "checkpoint lost: no second event" same_events "$T_DIR/ids.first"
stop_daemon

# the same file under a new inode, as a copy or a restore from backup makes
cp -p "$LOG" "$LOG.copy" && mv "$LOG.copy" "$LOG"
check "new inode: every line read again" read_all
check "new inode: no second event" same_events "$T_DIR/ids.first"
# this run: 01 and 03 were closed (sent + outcome again), 02's state was
# kept (its two deferrals again): 6 copies, nothing new
check "the copies were counted as duplicates, nothing stored" bash -c "'$MAILHOOKCTL' -c '$CONF' --json status | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"counters\"]; print(c); sys.exit(0 if c[\"duplicates\"] == 6 and c[\"ingested\"] == 0 else 1)'"
stop_daemon
done_testing
