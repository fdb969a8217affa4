#!/bin/bash
# SPDX-License-Identifier: MIT
# t0080: the admin socket under misuse. Adding an endpoint whose name is
# taken is answered "exists" (it once freed the name it quoted, and took
# mailhookd down); an error quoting a name cut inside a UTF-8 character is
# still an answer; a request over the 64 KiB limit is answered with why
# (pipelined answers before it first, a request of exactly the limit still
# served); and a flood of idle admin connections beyond max_admin_clients
# is answered "busy", while ingest keeps working: mailhookd runs with few
# file descriptors here, so connections it kept would starve the ingest
# socket.
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
plan 19
CONF=$T_DIR/mailhook.conf
SOCK=$T_DIR/run/admin.sock
write_conf "$CONF" 'max_admin_clients = 4'
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
alive() { kill -0 "$DAEMON_PID" 2>/dev/null && ctl status >/dev/null; }
# raw FILE: send the file's bytes on one admin connection, print the answers.
raw() {
    python3 - "$SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
s.sendall(open(sys.argv[2], "rb").read())
s.shutdown(socket.SHUT_WR)  # no more requests: mailhookd answers them all, then closes
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except ConnectionResetError:  # closed with our request unread: what came before stands
    pass
sys.stdout.write(data.decode())
PY
}

# The daemon with a low descriptor limit (64; it needs about 20 idle).
start() {
    (ulimit -n 64 && exec "$MAILHOOKD" -f -c "$CONF") >> "$T_DIR/daemon.log" 2>&1 &
    DAEMON_PID=$!
    T_PIDS="$T_PIDS $DAEMON_PID"
    wait_for 20 ctl status
}
# Each part below starts from a running daemon, whatever the one before did.
running() { kill -0 "$DAEMON_PID" 2>/dev/null || start; }
check "daemon starts" start

# --- endpoint.add of a name that exists
check "endpoint add" bash -c "'$MAILHOOKCTL' -c '$CONF' endpoint add twice https://hooks.example.com/a >/dev/null"
ctl endpoint add twice https://hooks.example.com/b > "$T_DIR/again.out" 2>&1
echo $? > "$T_DIR/again.rc"
check "the same name again: exit 65" [ "$(cat "$T_DIR/again.rc")" = 65 ]
check "... and the answer says it exists" grep -qx 'mailhookctl: endpoint twice exists already' "$T_DIR/again.out"
check "... and mailhookd is alive" alive
check "the endpoint is the first one" bash -c "'$MAILHOOKCTL' -c '$CONF' --json endpoint show twice | grep -q 'hooks.example.com/a'"

# --- an error quoting a name cut inside a UTF-8 character ("%.40s" of 3-byte characters)
running
printf '{"cmd":"%s"}\n' "$(printf '€%.0s' $(seq 20))" > "$T_DIR/utf8.req"
check "unknown command of 3-byte characters: answered bad_request" \
    bash -c "$(declare -f raw); SOCK='$SOCK'; raw '$T_DIR/utf8.req' | grep -q '\"code\":\"bad_request\",\"error\":\"unknown command'"
check "... and mailhookd is alive" alive

# --- requests over the limit (65535 bytes and the newline)
running
long=$(head -c 70000 /dev/zero | tr '\0' a)
ctl endpoint add big "https://hooks.example.com/$long" > "$T_DIR/big.out" 2>&1
echo $? > "$T_DIR/big.rc"
check "a 70 KB request: exit 65" [ "$(cat "$T_DIR/big.rc")" = 65 ]
check "... with the reason, not 'closed the connection'" \
    grep -qx 'mailhookctl: a request is at most 65535 bytes: this one was not read, and the connection is closed' "$T_DIR/big.out"
# 400 KB: more than the socket buffers take, so mailhookctl's send fails first
args=(); for i in $(seq 2000); do args+=(--filter "tag=$(printf 'v%0200d' "$i")"); done
ctl endpoint add huge https://hooks.example.com/ "${args[@]}" > "$T_DIR/huge.out" 2>&1
check "a 400 KB request (mailhookd stops reading it): the reason too" \
    grep -q '^mailhookctl: a request is at most 65535 bytes' "$T_DIR/huge.out"
{ echo '{"cmd":"status"}'; echo "$long"; echo '{"cmd":"status"}'; } > "$T_DIR/pipelined.req"
raw "$T_DIR/pipelined.req" > "$T_DIR/pipelined.out"
check "pipelined: the request before is answered, then the refusal, then nothing" \
    bash -c "[ \$(wc -l < '$T_DIR/pipelined.out') -eq 2 ] && head -1 '$T_DIR/pipelined.out' | grep -q '^{\"ok\":true' &&
             tail -1 '$T_DIR/pipelined.out' | grep -q '\"code\":\"bad_request\",\"error\":\"a request is at most 65535 bytes'"
pad=$(head -c $((65535 - 25)) /dev/zero | tr '\0' p)
printf '{"cmd":"status","pad":"%s"}\n' "$pad" > "$T_DIR/exact.req"
check "a request of exactly 65535 bytes is served" \
    bash -c "[ \$(stat -c %s '$T_DIR/exact.req') -eq 65536 ] && $(declare -f raw); SOCK='$SOCK'; raw '$T_DIR/exact.req' | grep -q '^{\"ok\":true'"

# --- a flood of idle admin connections: 100, with max_admin_clients = 4
running
touch "$T_DIR/gate"
python3 "$top_srcdir/tests/helpers/admin_flood.py" "$SOCK" 100 "$T_DIR/gate" "$T_DIR/ready" \
    > "$T_DIR/flood.out" 2> "$T_DIR/flood.err" &
FLOOD=$!
T_PIDS="$T_PIDS $FLOOD"
wait_for 20 test -e "$T_DIR/ready" || { echo "Bail out! the flood did not connect"; cat "$T_DIR/flood.err"; exit 1; }
# Accepted in order: when mailhookctl's connection is answered, the flood's were.
timeout 60 "$MAILHOOKCTL" -c "$CONF" status > "$T_DIR/busy.out" 2>&1
echo $? > "$T_DIR/busy.rc"
check "during the flood, mailhookctl status is refused: exit 3 (UNKNOWN)" [ "$(cat "$T_DIR/busy.rc")" = 3 ]
check "... saying why" grep -qx 'mailhookctl: too many admin connections (max_admin_clients = 4): try again later' "$T_DIR/busy.out"
check "during the flood, ingest works: the event is committed, not spooled" \
    bash -c "'$MAILHOOKCTL' -c '$CONF' emit app.flood '{\"n\":1}' | grep -q ' committed$'"
rm -f "$T_DIR/gate"
wait "$FLOOD"
check "the 4 connections held were served" [ "$(grep -c '^ok$' "$T_DIR/flood.out")" -eq 4 ]
check "the other 96 were answered busy" [ "$(grep -c '^busy$' "$T_DIR/flood.out")" -eq 96 ]
check "after the flood, admin works again" alive
stop_daemon
done_testing
