#!/bin/bash
# SPDX-License-Identifier: MIT
# t0266: mailhookctl backfill. mailhookd follows mail.log; the rotated
# mail.log.1 and mail.log.2.gz (gzip, as logrotate's delaycompress leaves
# them) hold older mail it never read. Backfill stores exactly the events
# not yet stored (the live file's are recognised by their derived ids),
# honours --since/--until, stores nothing on a second run, fans new events
# out to the endpoints as the reader would, and with --endpoint queues the
# range for that endpoint alone (a real HTTPS receiver gets them). Progress
# is shown on a terminal only.
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"

if ! why=$(have_node); then echo "1..0 # SKIP $why"; exit 0; fi
plan 21
CONF=$T_DIR/mailhook.conf
LOG=$T_DIR/mail.log
start_receiver r --tls >/dev/null || { echo "Bail out! receiver"; exit 1; }
URL=$RECV_R_URL
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }

# --- three files, oldest first; every line 3 hours to 1 hour ago
BASE=$(( $(date +%s) - 3 * 3600 ))
at() { date -d "@$(( BASE + $1 ))" '+%b %e %H:%M:%S'; } # at SECONDS-AFTER-BASE
msg() { # msg T QID RCPT STATUS DSN TEXT: queue active at T, outcome at T+5
    printf '%s mx postfix/qmgr[100]: %s: from=<s@src.test>, size=100, nrcpt=1 (queue active)\n' "$(at "$1")" "$2"
    printf '%s mx postfix/smtp[200]: %s: to=<%s>, relay=mx.dst.test[192.0.2.1]:25, delay=5, delays=0/0/0/5, dsn=%s, status=%s (%s)\n' "$(at $(( $1 + 5 )))" "$2" "$3" "$5" "$4" "$6"
}
removed() { printf '%s mx postfix/qmgr[100]: %s: removed\n' "$(at "$1")" "$2"; }
{   # 4 events: sent + delivered, sent + bounced
    msg 0 2A00000001 a1@dst.test sent 2.0.0 '250 ok'
    removed 6 2A00000001
    msg 60 2A00000002 a2@dst.test bounced 5.1.1 'host mx.dst.test[192.0.2.1] said: 550 5.1.1 User unknown (in reply to RCPT TO command)'
    removed 66 2A00000002
} | gzip > "$LOG.2.gz"
{   # 5 events: sent + delivered; sent + deferred + delivered
    msg 3600 2B00000001 b1@dst.test sent 2.0.0 '250 ok'
    removed 3606 2B00000001
    msg 3700 2B00000002 b2@dst.test deferred 4.4.1 'connect to mx.dst.test[192.0.2.1]:25: Connection timed out'
    printf '%s mx postfix/smtp[200]: 2B00000002: to=<b2@dst.test>, relay=mx.dst.test[192.0.2.1]:25, delay=300, delays=0/0/0/300, dsn=2.0.0, status=sent (250 ok)\n' "$(at 4005)"
    removed 4006 2B00000002
} > "$LOG.1"
{   # 2 events, read by mailhookd itself
    msg 7200 2C00000001 c1@dst.test sent 2.0.0 '250 ok'
    removed 7206 2C00000001
} > "$LOG"
touch -d "@$(( BASE + 100 ))" "$LOG.2.gz"
touch -d "@$(( BASE + 4010 ))" "$LOG.1"
write_conf "$CONF" "retention_days = 1
delivery_ca_file = \"$T_DIR/ca/ca.pem\"
delivery_allow = {\"127.0.0.0/8\"}
delivery_time_scale = 1000
maillog \"g\" {
    path = \"$LOG\"
    start_at = \"beginning\"
}
endpoint \"all\" {
    url = \"$URL/ok/all\"
    types = {\"email.*\"}
}"
count() { ctl --json events list --limit 1000 | grep -c '"id"'; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
is() { local want=$1 got; shift; got=$("$@"); [ "$got" = "$want" ] && return 0
    printf 'want: %s\ngot:  %s\n' "$want" "$got"; return 1; }

live2() { [ "$(count)" -eq 2 ]; }
check "daemon starts" start_daemon "$CONF"
check "it reads the live log: 2 events stored" wait_for 20 live2

# --- a range: only mail.log.1's events (files given newest first)
ctl --json backfill --since "$(( BASE + 3000 ))" --until "$(( BASE + 5000 ))" "$LOG" "$LOG.1" "$LOG.2.gz" > "$T_DIR/bf1.json" 2> "$T_DIR/bf1.err"
check "--since/--until: 5 events in range" is 5 field in_range < "$T_DIR/bf1.json"
check "--since/--until: 5 stored" is 5 field stored < "$T_DIR/bf1.json"
check "no progress when stderr is not a terminal" bash -c "! grep -q 'backfill: \[' '$T_DIR/bf1.err'"

# --- everything: only the .gz file's 4 are new; the live file's 2 and the
# range's 5 are recognised
ctl --json backfill "$LOG" "$LOG.1" "$LOG.2.gz" > "$T_DIR/bf2.json"
check "all files: 11 events in range" is 11 field in_range < "$T_DIR/bf2.json"
check "all files: the gzip file's 4 stored" is 4 field stored < "$T_DIR/bf2.json"
check "all files: 7 already stored (2 read live, 5 backfilled)" is 7 field duplicates < "$T_DIR/bf2.json"
ctl --json backfill "$LOG" "$LOG.1" "$LOG.2.gz" > "$T_DIR/bf3.json"
check "a second run stores 0" is 0 field stored < "$T_DIR/bf3.json"
check "11 events in the store, no id twice" bash -c "[ \$('$MAILHOOKCTL' -c '$CONF' --json events list --limit 1000 | python3 -c 'import json,sys; ids=[json.loads(l)[\"id\"] for l in sys.stdin if l.strip()]; print(len(set(ids)) if len(ids)==len(set(ids)) else -1)') -eq 11 ]"
check "the bounce keeps its class" bash -c "ctl() { '$MAILHOOKCTL' -c '$CONF' \"\$@\"; }; ctl --json events list --type email.bounced | grep -q '\"bounce_class\":\"unknown-user\"'"

# --- fan-out: the new events reached "all" once each
wait_receiver_count 20 r 11 /ok/all
once() { # once N PREFIX: the receiver got N events there, none twice
    receiver_events r "$2" > "$T_DIR/ids" && [ "$(wc -l < "$T_DIR/ids")" -eq "$1" ] &&
        [ -z "$(sort "$T_DIR/ids" | uniq -d)" ]
}
check "endpoint all got each of the 11 events once" once 11 /ok/all

# --- --endpoint: the range again, for a new endpoint only
ctl endpoint add late "$URL/ok/late" --type 'email.*' > /dev/null
ctl --json backfill --endpoint late "$LOG.2.gz" > "$T_DIR/bf4.json"
check "--endpoint: 4 already stored events queued for it" is 4 field enqueued < "$T_DIR/bf4.json"
wait_receiver_count 20 r 4 /ok/late
check "--endpoint: the receiver got them" is 4 receiver_count r /ok/late
check "--endpoint: no other endpoint got them again" is 11 receiver_count r /ok/all

# --- older than retention_days (2 days ago): only for an endpoint
OLD=$(( $(date +%s) - 2 * 86400 ))
{
    printf '%s mx postfix/qmgr[100]: 2D00000001: from=<s@src.test>, size=100, nrcpt=1 (queue active)\n' "$(date -d "@$OLD" '+%b %e %H:%M:%S')"
    printf '%s mx postfix/smtp[200]: 2D00000001: to=<d1@dst.test>, relay=mx.dst.test[192.0.2.1]:25, delay=5, delays=0/0/0/5, dsn=2.0.0, status=sent (250 ok)\n' "$(date -d "@$(( OLD + 5 ))" '+%b %e %H:%M:%S')"
} | gzip > "$LOG.3.gz"
touch -d "@$(( OLD + 10 ))" "$LOG.3.gz"
ctl --json backfill "$LOG.3.gz" > "$T_DIR/bf5.json"
check "older than retention_days: not stored without an endpoint" is "2 0" bash -c "python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r[\"older_than_retention\"], r[\"stored\"])' '$T_DIR/bf5.json'"
ctl --json backfill --endpoint late "$LOG.3.gz" > "$T_DIR/bf6.json"
check "older than retention_days: stored and queued for the endpoint" is 2 field enqueued < "$T_DIR/bf6.json"
wait_receiver_count 20 r 6 /ok/late
late_all() { echo "$(receiver_count r /ok/late) $(receiver_count r /ok/all)"; }
check "older than retention_days: the endpoint got them, no other" is "6 11" late_all

# --- many events: several admin requests (each at most 64 KiB)
for i in $(seq 1000 1299); do
    msg $(( 5000 + i )) "2E0000$i" "e$i@dst.test" sent 2.0.0 '250 2.0.0 Ok: queued as 4XyZ'
    removed $(( 5006 + i )) "2E0000$i"
done > "$LOG.big"
touch -d "@$(( BASE + 6400 ))" "$LOG.big"
ctl --json backfill "$LOG.big" > "$T_DIR/bf7.json"
check "600 events in several chunks: all stored" is 600 field stored < "$T_DIR/bf7.json"
ctl --json backfill "$LOG.big" > "$T_DIR/bf8.json"
check "600 events again: none stored, 600 already stored" is "0 600" bash -c "python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r[\"stored\"], r[\"duplicates\"])' '$T_DIR/bf8.json'"

# --- progress on a terminal (script(1) gives the command one)
script -qec "'$MAILHOOKCTL' -c '$CONF' backfill '$LOG.1'" /dev/null > "$T_DIR/tty.out" 2>&1
check "progress is shown on a terminal" grep -aq 'backfill: \[1/1\]' "$T_DIR/tty.out"
stop_daemon
stop_receivers
done_testing
