#!/bin/bash
# SPDX-License-Identifier: MIT
# t0022: max_event_size holds for every way in. With max_event_size = 4096,
# an event of 10000 bytes left in the spool by a producer (alone in its
# file, or next to a valid event) is not stored: its file is moved to bad/,
# counted as quarantined and logged with the file, the line and the limit,
# while the valid event next to it is stored. The ingest socket and the
# admin backfill command refuse the same event.
. "$(dirname "$0")/lib/tap.sh"
plan 11
CONF=$T_DIR/mailhook.conf
write_conf "$CONF" "max_event_size = 4096"
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
PAD=$(head -c 10000 /dev/zero | tr '\0' x)
# new_spool_file: the spool file the last emit made (listing before/after).
new_spool_file() { ls "$T_DIR/spool/new" | comm -13 "$T_DIR/before" -; }

check "first start makes the spool" start_daemon "$CONF"
stop_daemon

# A producer spools an oversized event of its own: one file, one line.
ID_BIG=$(ctl emit app.big "{\"pad\":\"$PAD\"}" | awk '{print $1}')
# A file holding a valid event, then an oversized one.
ls "$T_DIR/spool/new" > "$T_DIR/before"
small=$(ctl --json emit app.small '{}' | sed 's/^{"ok":true,"stored":"[a-z]*","event":\(.*\)}$/\1/')
rm -f "$T_DIR/spool/new/$(new_spool_file)"
big2=$(ctl --json emit app.big2 "{\"pad\":\"$PAD\"}" | sed 's/^{"ok":true,"stored":"[a-z]*","event":\(.*\)}$/\1/')
rm -f "$T_DIR/spool/new/$(new_spool_file)"
ID_SMALL=$(printf '%s' "$small" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
ID_BIG2=$(printf '%s' "$big2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
printf '%s\n%s\n' "$small" "$big2" > "$T_DIR/spool/new/0000000001.1.1.mixed.host"
check "two spool files wait, one of them the producer's own" \
    bash -c "[ \$(ls '$T_DIR/spool/new' | wc -l) -eq 2 ] && [ ${#ID_BIG} -eq 30 ]"

check "daemon starts" start_daemon "$CONF"
check "the valid event next to the oversized one is stored" \
    wait_for 10 "$MAILHOOKCTL" -c "$CONF" events show "$ID_SMALL"
check "the oversized spooled events are not stored" \
    bash -c "! '$MAILHOOKCTL' -c '$CONF' events show $ID_BIG && ! '$MAILHOOKCTL' -c '$CONF' events show $ID_BIG2"
check "both files are in bad/, new/ is empty" \
    bash -c "[ \$(ls '$T_DIR/spool/bad' | wc -l) -eq 2 ] && [ -z \"\$(ls '$T_DIR/spool/new')\" ]"
check "the log names file, line and limit" bash -c "
    grep -q 'spool: 0000000001.1.1.mixed.host line 2: event of [0-9]* bytes is larger than max_event_size (4096); stored its 1 valid events, moving it to bad/' '$T_DIR/daemon.log' &&
    grep -q 'line 1: event of [0-9]* bytes is larger than max_event_size (4096); stored its 0 valid events' '$T_DIR/daemon.log'"
check "status counts both files as quarantined" bash -c "'$MAILHOOKCTL' -c '$CONF' --json status |
    python3 -c 'import json,sys; assert json.load(sys.stdin)[\"counters\"][\"quarantined\"] == 2'"

check "the ingest socket refuses the oversized event" \
    bash -c "! '$MAILHOOKCTL' -c '$CONF' emit app.big3 '{\"pad\":\"$PAD\"}' > '$T_DIR/emit.out' 2>&1 && grep -q max_event_size '$T_DIR/emit.out'"

# backfill over the admin socket: the oversized event is refused, and so
# nothing of the request is stored; a small one goes in.
backfill() { # backfill ID PADLEN: the daemon's answer
    python3 - "$T_DIR/run/admin.sock" "$1" "$2" <<'PY'
import json, socket, sys
path, evid, padlen = sys.argv[1], sys.argv[2], int(sys.argv[3])
ev = {"id": evid, "type": "app.backfilled", "timestamp": "2024-05-01T10:00:00.000Z",
      "data": {"pad": "x" * padlen}}
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(path)
s.sendall((json.dumps({"cmd": "backfill", "events": [ev]}) + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
print(buf.decode().strip())
PY
}
export -f backfill
export T_DIR
check "backfill refuses the oversized event and stores nothing" bash -c "
    backfill evt_01HX0000000000000000000B1G 10000 | tee '$T_DIR/bf.out' | grep -q '\"ok\": *false' &&
    grep -q 'larger than max_event_size (4096)' '$T_DIR/bf.out' &&
    ! '$MAILHOOKCTL' -c '$CONF' events show evt_01HX0000000000000000000B1G"
check "backfill stores an event within the limit" bash -c "
    backfill evt_01HX000000000000000000SMA1 100 | grep -q '\"stored\": *1' &&
    '$MAILHOOKCTL' -c '$CONF' events show evt_01HX000000000000000000SMA1"
stop_daemon
done_testing
