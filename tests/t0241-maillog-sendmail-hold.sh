#!/bin/bash
# SPDX-License-Identifier: MIT
# t0241: mailhookd holds the events of a Sendmail queue id first seen in a
# to= line for its from= line (the direct "sendmail -t" path can log them
# in that order), and a hold ends by itself on a quiet log: the events go
# out within a bounded wait even when no other line ever comes.
. "$(dirname "$0")/lib/tap.sh"
plan 4
LOG=$T_DIR/mail.log
CONF=$T_DIR/mailhook.conf
now() { date '+%b %e %H:%M:%S'; }
to_line() { # QID RCPT
    printf '%s mx sendmail[300]: %s: to=<%s>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=30297, relay=mx.dst.test. [192.0.2.1], dsn=2.0.0, stat=Sent (OK id=1x)\n' "$(now)" "$1" "$2"
}
from_line() { # QID
    printf '%s mx sendmail[299]: %s: from=<ann@src.test>, size=297, class=0, nrcpts=1, msgid=<%s@src.test>, relay=ann@localhost\n' "$(now)" "$1" "$1"
}
delivered_json() { "$MAILHOOKCTL" -c "$CONF" --json events list --type email.delivered; }
{
    to_line 5AMBA0aa000300 a@dst.test
    from_line 5AMBA0aa000300
} > "$LOG"
write_conf "$CONF" "maillog \"s\" {
    path = \"$LOG\"
    start_at = \"beginning\"
}"
check "daemon starts" start_daemon "$CONF"
check "a to= line before its from= line: the event arrives" \
    wait_for 20 bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json events list --type email.delivered | wc -l) -eq 1 ]"
check "... with the sender and Message-ID of the from= line" \
    bash -c "'$MAILHOOKCTL' -c '$CONF' --json events list --type email.delivered | grep -q '5AMBA0aa000300@src.test'"
to_line 5AMBB0aa000301 b@dst.test >> "$LOG" # its from= line never comes, nor any other line
check "a hold on a quiet log ends by itself (bounded wait)" \
    wait_for 30 bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json events list --type email.delivered | wc -l) -eq 2 ]"
delivered_json | diag
stop_daemon
done_testing
