#!/bin/bash
# SPDX-License-Identifier: MIT
# t0420: mailhook-milter's faults never hold up mail. A real Postfix with
# the milter on an inet socket (milter_default_action = accept, milter
# timeouts of 5 s), mailhookd following its maillog:
#   a) mailhookd stopped while mail flows: Postfix delivers every message,
#      the milter's events go to the spool and are all in the store once
#      mailhookd is back (none lost; at least once);
#   b) the milter killed (kill -9): Postfix delivers every message, the
#      reader's email.sent stands in; a restarted milter is used again;
#   c) the milter hung (kill -STOP): Postfix delivers every message within
#      its milter timeouts; after kill -CONT the milter serves mail again.
# Messages are counted in the sink's saved files (one .json per delivery).
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/postfix.sh"
. "$(dirname "$0")/lib/milter.sh"
plan 21
if ! why=$(mt_available); then
    skip_all "$why"
fi

MT_TIMEOUT=5
M=10             # messages per phase
SPEC=$(mt_socket_inet)
mapfile -t MCF < <(mt_main_cf "$SPEC" "${MT_TIMEOUT}s")
pf_setup "${MCF[@]}"
CONF=$T_DIR/mailhook.conf
write_conf "$CONF" "maillog \"postfix\" {
    path = \"$PF_MAILLOG\"
    start_at = \"beginning\"
}
$(mt_conf_section "$SPEC" 'tenant = "sender_domain"')"
check "postfix starts" pf_start
check "mailhookd starts" start_daemon "$CONF"
check "mailhook-milter starts on $SPEC" mt_start "$CONF"

S=sender@src.test
# send PREFIX TAG: M messages, to PREFIX1..PREFIXM@f.test, over 4 clients
send() {
    local i
    for i in $(seq $M); do echo "$S $1$i@f.test"; done |
        pf_send_batch -c 4 -m 3 -s "fault $2" -H "X-Mailhook-Tag: $2" > "$T_DIR/qids.$2"
}
# delivered PREFIX: how many messages the sink saved for PREFIX*@f.test
delivered() { cat "$PF_SAVE"/*.json 2>/dev/null | grep -oE "\"$1[0-9]+@f\.test\"" | sort -u | wc -l; }
delivered_ge() { [ "$(delivered "$1")" -ge "$2" ]; }
# stored_ge TYPE PREFIX N [milter|reader]: at least N recipients PREFIX*
# with a stored event TYPE (only the milter's / only the reader's)
stored_ge() {
    local out
    out=$("$MAILHOOKCTL" -c "$CONF" --json events list --type "$1" --limit 10000) || return 1
    case ${4:-} in
        milter) out=$(printf '%s\n' "$out" | grep '"milter":true') ;;
        reader) out=$(printf '%s\n' "$out" | grep -v '"milter":true') ;;
    esac
    [ "$(printf '%s\n' "$out" | grep -oE "\"$2[0-9]+@f\.test\"" | sort -u | wc -l)" -ge "$3" ]
}
spooled() { [ -n "$(find "$T_DIR/spool/new" -type f -print -quit 2>/dev/null)" ]; }
not_spooled() { ! spooled; }
log_mark() { wc -l < "$PF_MAILLOG"; }
# log_since_has MARK ERE: a maillog line after line MARK matches ERE
log_since_has() { tail -n +$(($1 + 1)) "$PF_MAILLOG" | grep -qiE -- "$2"; }

# Warm-up: the whole path works.
send okw warm
check "warm-up: $M messages delivered with the milter" wait_for 30 delivered_ge okw $M
check "warm-up: $M milter email.sent stored" wait_for 20 stored_ge email.sent okw $M milter

# ---- a) mailhookd stopped while mail flows
stop_daemon
t0=$SECONDS
send oka fault-a
check "a) mailhookd down: Postfix delivers all $M messages" wait_for 30 delivered_ge oka $M
echo "# a) $(delivered oka) delivered in $((SECONDS - t0)) s"
check "a) the milter's events go to the spool" wait_for 20 spooled
echo "# a) spool: $(find "$T_DIR/spool/new" -type f 2>/dev/null | wc -l) files"
check "a) mailhookd starts again" start_daemon "$CONF"
check "a) all $M milter email.sent are in the store (none lost)" wait_for 30 stored_ge email.sent oka $M milter
check "a) the spool is drained" wait_for 20 not_spooled
check "a) every message's delivery is stored too" wait_for 20 stored_ge email.delivered oka $M

# ---- b) the milter killed
kill -9 "$MILTER_PID"
wait "$MILTER_PID" 2>/dev/null
MILTER_PID=""
mark=$(log_mark)
t0=$SECONDS
send okb fault-b
pf_sendmail -s "fault b sendmail" $S okb99@f.test
check "b) milter killed: Postfix delivers all $((M + 1)) messages (SMTP and sendmail)" \
    wait_for 30 delivered_ge okb $((M + 1))
echo "# b) $(delivered okb) delivered in $((SECONDS - t0)) s"
check "b) Postfix logged that the milter was unreachable" log_since_has "$mark" 'milter.*(refused|can.t connect)'
check "b) the reader's email.sent stands in for each (not superseded)" wait_for 20 stored_ge email.sent okb $((M + 1)) reader
check "b) the milter restarts" mt_start "$CONF"
send okr restarted
check "b) the restarted milter is used again" wait_for 30 stored_ge email.sent okr $M milter

# ---- c) the milter hung
kill -STOP "$MILTER_PID"
mark=$(log_mark)
t0=$SECONDS
send okc fault-c
pf_sendmail -s "fault c sendmail" $S okc99@f.test
# Each SMTP session waits at most connect + command timeouts for the milter.
check "c) milter hung: Postfix delivers all $((M + 1)) messages" \
    wait_for 60 delivered_ge okc $((M + 1))
took=$((SECONDS - t0))
echo "# c) $(delivered okc) delivered in $took s (milter timeouts ${MT_TIMEOUT}s)"
# 4 clients, each session stalls at most ~2 timeouts: far below 45 s
check "c) mail does not stall: all delivered within 45 s (took $took s)" test "$took" -le 45
check "c) Postfix gave up on the hung milter (timeout in the maillog)" log_since_has "$mark" 'milter.*(time|timed) ?out'
kill -CONT "$MILTER_PID"
send okd recovered
check "c) after kill -CONT the milter serves mail again" wait_for 30 stored_ge email.sent okd $M milter
check "c) the milter is still the same process" kill -0 "$MILTER_PID"

mt_stop
stop_daemon
pf_stop
done_testing
