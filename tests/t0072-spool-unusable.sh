#!/bin/bash
# SPDX-License-Identifier: MIT
# t0072: a spool mailhookd cannot drain. Started as root with user daemon
# and the spool inside a directory only root may search, mailhookd makes
# the spool as root but could not list it once it is daemon: it does not
# start, exits 73 (EX_CANTCREAT) and says which directory and why, instead
# of running with a spool whose events would never be stored. With the
# parent searchable, the same configuration starts.
. "$(dirname "$0")/lib/tap.sh"
plan 4
if [ "$(id -u)" -ne 0 ] || ! getent passwd daemon >/dev/null || ! command -v setpriv >/dev/null; then
    skip_all "needs root, user daemon, setpriv"
fi
chmod 755 "$T_DIR"
mkdir -m 0700 "$T_DIR/locked"
CONF=$T_DIR/mailhook.conf
write_conf "$CONF" "user = \"daemon\"
spool_dir = \"$T_DIR/locked/spool\""
sed -i '/^user = ""$/d; \|^spool_dir = "'"$T_DIR"'/spool"$|d' "$CONF"
chmod 644 "$CONF"

# Start it and wait (bounded) until it has either exited or answers.
( "$MAILHOOKD" -f -c "$CONF" > "$T_DIR/start.log" 2>&1; echo $? > "$T_DIR/rc" ) &
T_PIDS="$T_PIDS $!"
wait_for 20 bash -c "[ -s '$T_DIR/rc' ] || { '$MAILHOOKCTL' -c '$CONF' status; [ \$? -le 2 ]; }"
if [ ! -s "$T_DIR/rc" ] && [ -s "$T_DIR/run/mailhookd.pid" ]; then
    echo "# mailhookd is running with a spool it cannot drain; stopping it"
    kill -TERM "$(cat "$T_DIR/run/mailhookd.pid")"
    wait_for 20 test -s "$T_DIR/rc"
fi
check "mailhookd does not start with a spool it cannot drain: exit 73" \
    bash -c "[ \"\$(cat '$T_DIR/rc')\" = 73 ] || { cat '$T_DIR/start.log'; false; }"
check "it names the directory, the cause and its uid" \
    grep -q "spool: cannot list $T_DIR/locked/spool/tmp: Permission denied: mailhookd (uid $(id -u daemon)) cannot drain the spool" "$T_DIR/start.log"

chmod 711 "$T_DIR/locked"
check "with the spool reachable the same configuration starts" start_daemon "$CONF"
check "and stops cleanly" stop_daemon
done_testing
