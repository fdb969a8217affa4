#!/bin/bash
# SPDX-License-Identifier: MIT
# t0246: the year of traditional timestamps ("Apr  3 00:15:40") in
# mailhookctl parse comes from each file's own clock, its mtime: a log last
# written in April 2025 is of 2025 whenever it is read, and a retry logged a
# day after its first attempt keeps the year (the real Sendmail lines of the
# shared corpus, when it is there).
. "$(dirname "$0")/lib/tap.sh"
plan 4
OLD=$T_DIR/mail.log.1
NEW=$T_DIR/mail.log
# the shared corpus beside the source tree (MAILHOOK_SHARED elsewhere, e.g. from a worktree)
SHARED=${MAILHOOK_SHARED:-$top_srcdir/../shared}
CORPUS=$SHARED/corpus/maillog/sm-yudai09-fluent-sendmail.log
# years FILE...: "recipient type timestamp" per event, sorted
years() { TZ=UTC "$MAILHOOKCTL" parse --json "$@" 2>/dev/null | python3 -c '
import json, sys
for l in sys.stdin:
    e = json.loads(l)
    print(e["data"].get("recipient"), e["type"], e["timestamp"])' | sort; }
{
    echo 'Dec 30 10:00:00 mx postfix/qmgr[1]: 1A2B3C4D01: from=<s@src.test>, size=100, nrcpt=1 (queue active)'
    echo 'Dec 30 10:00:01 mx postfix/smtp[2]: 1A2B3C4D01: to=<a@dst.test>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to mx.dst.test[192.0.2.1]:25: Connection refused)'
} > "$OLD"
{
    echo 'Jan  2 10:00:01 mx postfix/smtp[3]: 1A2B3C4D01: to=<a@dst.test>, relay=mx.dst.test[192.0.2.1]:25, delay=259201, delays=259200/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)'
    echo 'Jan  2 10:00:01 mx postfix/qmgr[1]: 1A2B3C4D01: removed'
} > "$NEW"
touch -d '2024-12-30T10:00:02Z' "$OLD"
touch -d '2025-01-05T00:00:00Z' "$NEW"
check "each file's year from its mtime, across New Year" bash -c "
    [ \"\$($(declare -f years); MAILHOOKCTL='$MAILHOOKCTL' years '$OLD' '$NEW')\" = 'a@dst.test email.deferred 2024-12-30T10:00:01.000Z
a@dst.test email.delivered 2025-01-02T10:00:01.000Z
a@dst.test email.sent 2024-12-30T10:00:00.000Z' ]"
touch -d '2025-04-05T08:00:00Z' "$NEW"
printf '%s\n' \
    'Apr  2 00:15:25 mx postfix/qmgr[1]: 5B2C3D4E02: from=<s@src.test>, size=100, nrcpt=1 (queue active)' \
    'Apr  3 00:15:40 mx postfix/smtp[2]: 5B2C3D4E02: to=<b@dst.test>, relay=mx.dst.test[192.0.2.1]:25, delay=86415, delays=86400/0/5/10, dsn=2.0.0, status=sent (250 ok)' > "$NEW"
touch -d '2025-04-05T08:00:00Z' "$NEW"
check "a file last written in April 2025 is of 2025, a day's gap keeps it" bash -c "
    [ \"\$($(declare -f years); MAILHOOKCTL='$MAILHOOKCTL' years '$NEW')\" = 'b@dst.test email.delivered 2025-04-03T00:15:40.000Z
b@dst.test email.sent 2025-04-02T00:15:25.000Z' ]"
check "from standard input the year is now's" bash -c "
    $(declare -f years); MAILHOOKCTL='$MAILHOOKCTL'; years - < '$NEW' | grep -q \"email.delivered \$(date -u +%Y)-04-03T\\|email.delivered \$((\$(date -u +%Y) - 1))-04-03T\""
if [ -r "$CORPUS" ]; then
    cp "$CORPUS" "$T_DIR/sm.log"
    touch -d '2016-04-05T00:00:00Z' "$T_DIR/sm.log"
    check "corpus sm-yudai09: the retry a day later keeps the year (lines 2, 5, 6)" bash -c "
        $(declare -f years); MAILHOOKCTL='$MAILHOOKCTL'; years '$T_DIR/sm.log' > '$T_DIR/sm.events'
        grep -q '^deferred1@example.com email.deferred 2016-04-02T00:15:25.000Z\$' '$T_DIR/sm.events' &&
        grep -q '^deferred2@example.com email.deferred 2016-04-03T00:15:40.000Z\$' '$T_DIR/sm.events' &&
        ! grep -qv ' 2016-04-0[23]T' '$T_DIR/sm.events'"
else
    skip "the shared corpus is not at $SHARED"
fi
done_testing
