#!/bin/bash
# SPDX-License-Identifier: MIT
# t0320: the SSRF guard. Without an allow-list, mailhookd refuses to
# connect to loopback, private, link-local (the cloud metadata address),
# IPv4-mapped IPv6, local-use NAT64 carrying 127.0.0.1 (RFC 8215) and a
# name that resolves to 127.0.0.1 - judged on the
# address actually connected to, after DNS - and says so in the delivery
# log; the receiver sees nothing. http is refused unless the endpoint
# allows it. With delivery_allow admitting 127.0.0.0/8 (after a reload),
# the same endpoint is delivered to.
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"

if ! why=$(have_node); then echo "1..0 # SKIP $why"; exit 0; fi
plan 13
CONF=$T_DIR/mailhook.conf
start_receiver r >/dev/null || { echo "Bail out! receiver"; exit 1; }
P=$RECV_R_PORT
write_conf "$CONF" "delivery_time_scale = 1000"
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
export CONF MAILHOOKCTL
refused() { # refused NAME: its attempts were refused by the guard
    "$MAILHOOKCTL" -c "$CONF" --json deliveries list --endpoint "$1" | grep -q 'SSRF guard'
}
export -f refused

check "daemon starts" start_daemon "$CONF"
check "http without allow_http is refused (exit 65)" bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint add plain http://127.0.0.1:$P/ok/x 2>&1 | grep -q allow_http; [ \${PIPESTATUS[0]} -eq 65 ]"
i=0
for url in "http://127.0.0.1:$P/ok/loop" "http://10.0.0.1:$P/ok/ten" "http://169.254.169.254/latest/meta-data" \
           "http://localhost:$P/ok/name" "http://[::ffff:127.0.0.1]:$P/ok/mapped" "http://[::1]:$P/ok/v6" \
           "http://[64:ff9b:1::7f00:1]:$P/ok/nat64local"; do
    i=$((i + 1))
    ctl endpoint add "s$i" "$url" --allow-http --type "t.s$i" --retry 1s >/dev/null 2>&1
    ctl emit "t.s$i" '{}' >/dev/null
done
wait_for 20 bash -c 'for i in 1 2 3 4 5 6 7; do refused s$i || exit 1; done'
check "loopback refused" refused s1
check "10/8 refused" refused s2
check "169.254.169.254 (metadata) refused" refused s3
check "a name resolving to 127.0.0.1 refused" refused s4
check "IPv4-mapped IPv6 loopback refused" refused s5
check "::1 refused" refused s6
check "local-use NAT64 of 127.0.0.1 refused" refused s7
check "the receiver saw none of it" bash -c "[ \$(receiver_count r) -eq 0 ]"
check "status counts the refusals" bash -c "'$MAILHOOKCTL' -c '$CONF' --json status | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"delivery\"][\"refused\"] >= 7'"

# Allow loopback: after a reload, a new attempt reaches the receiver.
write_conf "$CONF" "delivery_time_scale = 1000
delivery_allow = {\"127.0.0.0/8\"}"
kill -HUP "$DAEMON_PID"
sleep 0.5
ctl endpoint add ok "http://localhost:$P/ok/allowed" --allow-http --type t.ok >/dev/null 2>&1
ctl emit t.ok '{}' >/dev/null
check "allowed by delivery_allow: delivered" wait_receiver_count 10 r 1 /ok/allowed
check "daemon stops cleanly" stop_daemon
done_testing
