#!/bin/bash
# SPDX-License-Identifier: MIT
# t0230: two Postfix instances at once, the second with long queue ids
# (enable_long_queue_ids) and its own syslog_name (postfix-out), each
# followed as its own source by one mailhookd.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/postfix.sh"
plan 5
if ! why=$(pf_available); then
    skip_all "$why"
fi
pf_setup -n main -l "$T_DIR/main.log"
pf_setup -n out -o -l "$T_DIR/out.log"
CONF=$T_DIR/mailhook.conf
write_conf "$CONF" "maillog \"main\" {
    path = \"$T_DIR/main.log\"
    start_at = \"beginning\"
}
maillog \"out\" {
    path = \"$T_DIR/out.log\"
    start_at = \"beginning\"
}"
pf_use main; pf_start
pf_use out; pf_start
check "mailhookd follows both logs" start_daemon "$CONF"
pf_use main; pf_send -s one s@src.test ok-main@a.test >/dev/null
pf_use out; pf_send -s two s@src.test ok-out@a.test >/dev/null
pf_use main; pf_wait_queue_empty 30
pf_use out; pf_wait_queue_empty 30
check "delivered from the first instance" wait_for 20 bash -c "'$MAILHOOKCTL' -c '$CONF' --json events list --type email.delivered | grep -q ok-main@a.test"
check "delivered from the second instance" wait_for 20 bash -c "'$MAILHOOKCTL' -c '$CONF' --json events list --type email.delivered | grep -q ok-out@a.test"
check "the second instance logs as postfix-out with long queue ids" grep -qE 'postfix-out/smtp\[[0-9]+\]: [0-9A-Za-z]{12,}: to=<ok-out@a.test>' "$T_DIR/out.log"
QID=$(grep -oE 'postfix-out/qmgr\[[0-9]+\]: [0-9A-Za-z]+: from=<s@src.test>' "$T_DIR/out.log" | head -1 | sed 's/.*: \([0-9A-Za-z]*\): from.*/\1/')
check "long queue id carried in the event ($QID)" bash -c "'$MAILHOOKCTL' -c '$CONF' --json events list --type email.delivered | grep ok-out@a.test | grep -q '\"queue_id\":\"$QID\"'"
stop_daemon
pf_use main; pf_stop
pf_use out; pf_stop
done_testing
