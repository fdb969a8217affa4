#!/bin/bash
# SPDX-License-Identifier: MIT
# t0020: the daemon is down -> producers spool -> the daemon starts and the
# events appear; a corrupted or foreign spool file is quarantined with a
# warning and does not stop the others.
. "$(dirname "$0")/lib/tap.sh"
plan 9
CONF=$T_DIR/mailhook.conf
write_conf "$CONF"
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }

# Run the daemon once so the spool exists with its real permissions, then stop it.
check "first start" start_daemon "$CONF"
stop_daemon

out=$(ctl emit app.offline '{"n":1}')
check "emit while mailhookd is down spools" bash -c "echo '$out' | grep -q spooled"
ID1=$(echo "$out" | awk '{print $1}')
ID2=$(ctl emit app.offline '{"n":2}' | awk '{print $1}')
check "two spool files in new/" bash -c "[ \$(ls '$T_DIR/spool/new' | wc -l) -eq 2 ]"

# Foreign and corrupted files next to the good ones.
printf 'this is not json\n' > "$T_DIR/spool/new/0000000001.1.1.bad.host"
printf '\x00\x01\x02 binary' > "$T_DIR/spool/new/0000000002.1.1.bin.host"
# A mixed file: one valid event (taken from a real spool file) and a truncated line.
ls "$T_DIR/spool/new" > "$T_DIR/before"
good=$(ctl --json emit app.mixed '{}' | sed 's/^{"ok":true,"stored":"[a-z]*","event":\(.*\)}$/\1/')
spooled=$(ls "$T_DIR/spool/new" | comm -13 "$T_DIR/before" -)
rm -f "$T_DIR/spool/new/$spooled"
printf '%s\n{"id":"evt_trunc' "$good" > "$T_DIR/spool/new/0000000003.1.1.mixed.host"

check "daemon starts with a dirty spool" start_daemon "$CONF"
check "spooled events appear after start" wait_for 10 bash -c "ctl() { '$MAILHOOKCTL' -c '$CONF' \"\$@\"; }; ctl events show $ID1 && ctl events show $ID2"
check "valid event of a mixed file is stored" bash -c "'$MAILHOOKCTL' -c '$CONF' --json events list --type app.mixed | grep -q app.mixed"
check "bad files are quarantined in bad/" bash -c "[ \$(ls '$T_DIR/spool/bad' | wc -l) -eq 3 ]"
check "new/ is empty" bash -c "[ -z \"\$(ls '$T_DIR/spool/new')\" ]"
check "quarantine is logged with the file name" grep -q 'spool: 0000000001.1.1.bad.host.*bad/' "$T_DIR/daemon.log"
stop_daemon
done_testing
