#!/bin/bash
# SPDX-License-Identifier: MIT
# t0200: the Postfix harness itself (tests/lib/postfix.sh and
# tests/helpers/smtp_sink.py). A private, real Postfix on 127.0.0.1 takes
# mail for each kind of outcome and its maillog shows the raw lines the
# parser will read: sent, deferred, bounced (with the non-delivery
# notification), error/discard (relay=none), connection refused, expired and
# returned to sender, NOQUEUE and cleanup rejects, pickup (sendmail), and a
# second instance side by side under its own syslog_name; smtpd and cleanup
# run chrooted in the queue directory, as Debian ships them. Skipped (visibly)
# when not root or without Postfix.
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/postfix.sh
. "$(dirname "$0")/lib/postfix.sh"

if ! why=$(pf_available); then
    echo "1..0 # SKIP $why"
    exit 0
fi
plan 35
T0=$SECONDS
S=sender@b.test
LOG=$T_DIR/postfix/maillog

# has ERE [SECS]: the maillog gets a line matching ERE within SECS (5).
has() { pf_wait_log "${2:-5}" "$1"; }
qid_ok() { [[ $1 =~ ^[0-9A-F]{6,}$ ]]; }

# A second instance first (its port is the main one's route for relay.test).
check "second instance set up" pf_setup -n out
OUT_PORT=$PF_PORT
check "main instance set up" pf_setup -r "relay.test smtp:[127.0.0.1]:$OUT_PORT"
check "main instance starts" pf_start
SINK=$PF_SINK_PORT
pf_use out
check "second instance starts" pf_start
pf_use main

Q_OK=$(pf_send -s "harness ok" -H "X-Harness: 1" "$S" ok@a.test ok2@a.test)
Q_DEFER=$(pf_send "$S" defer@a.test)
Q_UNK=$(pf_send "$S" unknown@a.test)
Q_ERR=$(pf_send "$S" x@error.test)
Q_DISC=$(pf_send "$S" y@discard.test)
Q_DEAD=$(pf_send "$S" z@dead.test)
Q_RELAY=$(pf_send "$S" ok-relayed@relay.test)
check "queue ids returned by pf_send" bash -c "for q in '$Q_OK' '$Q_DEFER' '$Q_UNK' '$Q_ERR' '$Q_DISC' '$Q_DEAD' '$Q_RELAY'; do [[ \$q =~ ^[0-9A-F]{6,}\$ ]] || exit 1; done"
if pf_send "$S" q@blocked.test 2> "$T_DIR/blocked.err"; then not_ok "smtpd refuses blocked.test at RCPT"
else ok "smtpd refuses blocked.test at RCPT"; fi
if pf_send -H "X-Test-Action: reject" "$S" ok-rejected@a.test 2> "$T_DIR/hdr.err"; then not_ok "cleanup refuses by header_checks"
else ok "cleanup refuses by header_checks"; fi
check "sendmail(1) submission" pf_sendmail -s "via sendmail" "$S" ok-sendmail@a.test
# Debian's chroot flags are kept, and a running smtpd (idle after the
# sessions above) and cleanup really have the queue directory as root.
chrooted() {
    local svc p n=0 master
    for svc in "127.0.0.1:$PF_PORT/inet" cleanup/unix; do
        [ "$(postconf -c "$PF_CONF" -Fh "$svc/chroot")" = y ] || { echo "$svc: not chrooted in master.cf"; return 1; }
    done
    master=$(cat "$PF_DIR/master.pid")
    for p in /proc/[0-9]*; do
        [ "$(awk '{ print $4 }' "$p/stat" 2>/dev/null)" = "$master" ] || continue
        case $(cat "$p/comm" 2>/dev/null) in smtpd|cleanup) ;; *) continue ;; esac
        [ "$(readlink "$p/root")" = "$PF_QUEUE" ] || { echo "$p: root $(readlink "$p/root")"; return 1; }
        n=$((n + 1))
    done
    [ "$n" -ge 2 ]
}
check "smtpd and cleanup run chrooted in the queue directory" wait_for 10 chrooted

SENT="relay=127\.0\.0\.1\[127\.0\.0\.1\]:$SINK, delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: queued as SINK[0-9]+\)"
check "client= line" has "postfix/smtpd\[[0-9]+\]: $Q_OK: client=unknown\[127\.0\.0\.1\]$"
check "message-id line" has "postfix/cleanup\[[0-9]+\]: $Q_OK: message-id=<[^>]+@client\.test>$"
check "queue active line" has "postfix/qmgr\[[0-9]+\]: $Q_OK: from=<$S>, size=[0-9]+, nrcpt=2 \(queue active\)$"
check "status=sent for ok@a.test" has "postfix/smtp\[[0-9]+\]: $Q_OK: to=<ok@a\.test>, $SENT$"
check "status=sent for ok2@a.test" has "$Q_OK: to=<ok2@a\.test>, $SENT$"
check "removed line" has "postfix/qmgr\[[0-9]+\]: $Q_OK: removed$"
check "status=deferred for defer@a.test (450 at RCPT)" \
    has "$Q_DEFER: to=<defer@a\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$SINK, .*dsn=4\.2\.0, status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 450 4\.2\.0 <defer@a\.test>: Mailbox busy, try later \(in reply to RCPT TO command\)\)$"
check "status=deferred for dead.test (connection refused)" \
    has "$Q_DEAD: to=<z@dead\.test>, relay=none, .*dsn=4\.4\.1, status=deferred \(connect to 127\.0\.0\.1\[127\.0\.0\.1\]:$PF_DEAD_PORT: Connection refused\)$"
check "status=bounced dsn=5.1.1 for unknown@a.test" \
    has "$Q_UNK: to=<unknown@a\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$SINK, .*dsn=5\.1\.1, status=bounced \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 <unknown@a\.test>: Recipient address rejected: User unknown in local recipient table \(in reply to RCPT TO command\)\)$"
check "sender non-delivery notification for the bounce" \
    has "postfix/bounce\[[0-9]+\]: $Q_UNK: sender non-delivery notification: [0-9A-F]+$"
NDN=$(sed -nE "s/.*: $Q_UNK: sender non-delivery notification: ([0-9A-F]+)$/\1/p" "$LOG")
check "the notification goes to the sender" has "${NDN:-none}: to=<$S>, $SENT$"
check "error: transport bounces with relay=none" \
    has "postfix/error\[[0-9]+\]: $Q_ERR: to=<x@error\.test>, relay=none, .*dsn=5\.1\.2, status=bounced \(Host or domain name not found \(test: error\.test\)\)$"
check "discard: transport with relay=none" \
    has "postfix/discard\[[0-9]+\]: $Q_DISC: to=<y@discard\.test>, relay=none, .*dsn=2\.0\.0, status=sent \(test discard\.test\)$"
check "NOQUEUE reject line" \
    has "postfix/smtpd\[[0-9]+\]: NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 554 5\.7\.1 <q@blocked\.test>: Recipient address rejected: Access denied; from=<$S> to=<q@blocked\.test> proto=ESMTP helo=<client\.test>$"
check "cleanup header reject line" \
    has "postfix/cleanup\[[0-9]+\]: [0-9A-F]+: reject: header X-Test-Action: reject from unknown\[127\.0\.0\.1\]; from=<$S> to=<ok-rejected@a\.test> proto=ESMTP helo=<client\.test>: 5\.7\.1 message content rejected$"
check "pickup line for sendmail(1)" has "postfix/pickup\[[0-9]+\]: [0-9A-F]+: uid=0 from=<$S>$"
Q_SM=$(pf_qids "postfix/pickup.*uid=0 from=<$S>" | head -1)
check "sendmail(1) message delivered" has "${Q_SM:-none}: to=<ok-sendmail@a\.test>, $SENT$"
check "relayed to the second instance" \
    has "postfix/smtp\[[0-9]+\]: $Q_RELAY: to=<ok-relayed@relay\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:$OUT_PORT, .*status=sent \(250 2\.0\.0 Ok: queued as [0-9A-F]+\)$"
check "second instance delivers under syslog_name postfix-out" \
    has "postfix-out/smtp\[[0-9]+\]: [0-9A-F]+: to=<ok-relayed@relay\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:[0-9]+, .*status=sent \(250 2\.0\.0 Ok: queued as SINK[0-9]+\)$"

# The sink keeps what it accepted.
check "the sink saved the message with its headers" bash -c "
    f=\$(grep -l '\"ok@a.test\"' '$PF_SAVE'/*.json | head -1) && grep -q '\"mail_from\": \"$S\"' \"\$f\" &&
    grep -q '^Subject: harness ok' \"\${f%.json}.eml\" && grep -q '^X-Harness: 1' \"\${f%.json}.eml\""

# Expiry: maximal_queue_lifetime is PF_QUEUE_LIFETIME (6 s); retries every ~1-2 s.
check "deferred message expires and is returned to sender" \
    has "postfix/qmgr\[[0-9]+\]: $Q_DEFER: from=<$S>, status=expired, returned to sender$" 60
check "dead.test message expires too" \
    has "postfix/qmgr\[[0-9]+\]: $Q_DEAD: from=<$S>, status=expired, returned to sender$" 60
check "expired message gets its non-delivery notification" \
    has "$Q_DEFER: sender non-delivery notification: [0-9A-F]+$" 10
check "queue drains" pf_wait_queue_empty 60

# Stopping leaves nothing behind.
QDIRS="$T_DIR/postfix/main/queue $T_DIR/postfix/out/queue"
pf_stop
pf_use out && pf_stop
pf_use main
check "no Postfix process left in our queues" bash -c "
    for d in /proc/[0-9]*; do c=\$(readlink \$d/cwd 2>/dev/null) || continue
        for q in $QDIRS; do [ \"\$c\" = \"\$q\" ] && { echo \"left: \$d \$c\"; exit 1; }; done
    done; exit 0"
# postfix-script logs "stopping" just before it signals master, whose
# postlogd may go before writing it; it then logs "waiting ... to
# terminate" (seen once under load): either line is the stop, logged.
check "stop is logged" has "postfix/postfix-script\[[0-9]+\]: (stopping the Postfix mail system|waiting for the Postfix mail system to terminate)$" 2

echo "# t0200 took $((SECONDS - T0)) s"
if [ "$T_FAILED" -gt 0 ]; then
    echo "# ---- maillog ($LOG):"
    diag < "$LOG"
    for f in "$T_DIR"/postfix/*/sink.log "$T_DIR"/postfix/*/start.out; do
        [ -s "$f" ] && { echo "# ---- $f:"; diag < "$f"; }
    done
fi
done_testing
