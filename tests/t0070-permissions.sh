#!/bin/bash
# SPDX-License-Identifier: MIT
# t0070: the permission model. mailhookd runs as one user; a producer in
# submit_group (here: nobody, as the web-facing tracker would be) can submit
# over the socket and, with the daemon down, through the spool, but cannot
# read the store (where endpoint secrets live), list other producers' spool
# files, or use the admin socket. A second producer (www-data, also only in
# submit_group) cannot open the first one's spool file even knowing its
# name, nor the first one the second's; mailhookd drains both.
. "$(dirname "$0")/lib/tap.sh"
plan 10
if [ "$(id -u)" -ne 0 ] || ! getent passwd daemon >/dev/null || ! getent passwd nobody >/dev/null ||
        ! getent passwd www-data >/dev/null || ! command -v setpriv >/dev/null; then
    skip_all "needs root, users daemon, nobody and www-data, setpriv"
fi
chmod 755 "$T_DIR"
CONF=$T_DIR/mailhook.conf
write_conf "$CONF" 'user = "daemon"
submit_group = "nogroup"'
sed -i '/^user = ""$/d' "$CONF"
chmod 644 "$CONF"
# The producer: uid nobody, only group nogroup.
as_producer() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
# Another producer: uid www-data, the same group only.
as_producer2() { setpriv --reuid=www-data --regid=nogroup --clear-groups "$@"; }

check "daemon starts as root, runs as daemon" start_daemon "$CONF"
check "producer in submit_group submits over the socket" \
    bash -c "$(declare -f as_producer); as_producer '$MAILHOOKCTL' -c '$CONF' emit app.tracker '{}' | grep -q committed"
check "producer cannot read the state directory" \
    bash -c "$(declare -f as_producer); ! as_producer ls '$T_DIR/state' 2>/dev/null"
check "producer cannot use the admin socket" \
    bash -c "$(declare -f as_producer); ! as_producer '$MAILHOOKCTL' -c '$CONF' status 2>/dev/null"
stop_daemon
check "with the daemon down the producer spools" \
    bash -c "$(declare -f as_producer); as_producer '$MAILHOOKCTL' -c '$CONF' emit app.tracker '{\"n\":2}' 2>/dev/null | grep -q spooled"
check "producer cannot list the spool" \
    bash -c "$(declare -f as_producer); ! as_producer ls '$T_DIR/spool/new' 2>/dev/null"
FILE1=$(ls "$T_DIR/spool/new")
check "a second producer spools too" \
    bash -c "$(declare -f as_producer2); as_producer2 '$MAILHOOKCTL' -c '$CONF' emit app.tracker '{\"n\":3}' 2>/dev/null | grep -q spooled"
FILE2=$(ls "$T_DIR/spool/new" | grep -vxF "$FILE1")
check "the second producer cannot read the first one's file by name" \
    bash -c "$(declare -f as_producer2); [ -n '$FILE1' ] && ! as_producer2 cat '$T_DIR/spool/new/$FILE1'"
check "nor the first producer the second one's" \
    bash -c "$(declare -f as_producer); [ -n '$FILE2' ] && ! as_producer cat '$T_DIR/spool/new/$FILE2'"
start_daemon "$CONF"
check "daemon drains both producers' spool files on start" \
    wait_for 10 bash -c "'$MAILHOOKCTL' -c '$CONF' --json events list --type app.tracker > '$T_DIR/list' && grep -q '\"n\":2' '$T_DIR/list' && grep -q '\"n\":3' '$T_DIR/list'"
stop_daemon
done_testing
