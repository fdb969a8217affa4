# SPDX-License-Identifier: MIT
# tests/lib/receiver.sh - webhook receivers (tests/helpers/receiver.js) and a
# private test CA for the delivery tests.
#
# Source it after tests/lib/tap.sh (or, outside TAP, after setting T_DIR to a
# fresh directory of your own and T_PIDS=""). Every receiver is registered in
# T_PIDS (killed on exit) and exits by itself after --max-seconds (default
# 300); every wait is bounded; every address is 127.0.0.1 or ::1.
#
#   have_node                     exit 0 when node (18+) is here; otherwise
#                                 prints the reason (for SKIP)
#   have_standardwebhooks         exit 0 when the standardwebhooks npm package
#                                 loads (contrib/deps.sh test installs it);
#                                 otherwise prints the reason (for SKIP)
#   have_sendgrid_eventwebhook    the same for @sendgrid/eventwebhook
#   make_test_ca DIR              DIR/ca.pem (+ ca.key): a CA; DIR/server.pem +
#                                 DIR/server.key: a certificate it signed for
#                                 IP:127.0.0.1, IP:::1, DNS:localhost (EC P-256,
#                                 valid 2 days). Quick; reuses DIR if done.
#   start_receiver NAME [--tls] [--h2] [receiver.js args...]
#                                 start receiver NAME (log $T_DIR/recv-NAME.log,
#                                 stderr in $T_DIR/recv-NAME.err); --tls uses
#                                 make_test_ca $T_DIR/ca (clients: --cacert
#                                 "$T_DIR/ca/ca.pem"). Waits (10 s at most) for
#                                 its port; sets RECV_<NAME>_PORT,
#                                 RECV_<NAME>_PID, RECV_<NAME>_URL (e.g.
#                                 https://127.0.0.1:PORT, http://[::1]:PORT
#                                 with --bind ::1) and prints the port.
#                                 NAME: letters, digits, _ (upper-cased for the
#                                 variables). Returns 1 if it did not start.
#                                 Call it in the test's shell, not in $(...)
#                                 (the variables and T_PIDS would be lost):
#                                 start_receiver a >/dev/null || ...
#   stop_receiver NAME            SIGTERM, wait (bounded; then SIGKILL)
#   stop_receivers                stop_receiver for every one started
#   receiver_log NAME             the path of NAME's NDJSON log
#   receiver_count NAME [PREFIX]  number of logged requests (whose path starts
#                                 with PREFIX)
#   receiver_events NAME [PREFIX] the "id" of every event in the logged request
#                                 bodies (an event object or an array of them),
#                                 one per line, in order received, duplicates
#                                 kept
#   receiver_field NAME PREFIX FIELD
#                                 FIELD of every logged request whose path
#                                 starts with PREFIX, one per line: status,
#                                 conn, http, path, body, t, method, or
#                                 headers.NAME (lowercase; empty if absent)
#   receiver_stats NAME           GET /_stats (JSON)
#   wait_receiver_count SECONDS NAME N [PREFIX]
#                                 wait until receiver_count >= N
#
# RECEIVER_JS, VERIFY_SW_JS, VERIFY_SIG_PY, VERIFY_SENDGRID_JS: the helpers'
# paths (node "$VERIFY_SW_JS" LOG SECRET; python3 "$VERIFY_SIG_PY" LOG
# --scheme ...; node "$VERIFY_SENDGRID_JS" PUBLIC-KEY TIMESTAMP BODY-FILE
# SIGNATURE). NODE_PATH gets the npm packages' install directory
# ($MAILHOOK_TEST_NODE_PREFIX/node_modules, default /opt/mailhook-test).

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
RECEIVER_JS=$top_srcdir/tests/helpers/receiver.js
# shellcheck disable=SC2034 # for the tests that source this
VERIFY_SW_JS=$top_srcdir/tests/helpers/verify_sw.js
# shellcheck disable=SC2034
VERIFY_SIG_PY=$top_srcdir/tests/helpers/verify_sig.py
# shellcheck disable=SC2034
VERIFY_SENDGRID_JS=$top_srcdir/tests/helpers/verify_sendgrid.js
MAILHOOK_TEST_NODE_PREFIX=${MAILHOOK_TEST_NODE_PREFIX:-/opt/mailhook-test}
NODE_PATH=$MAILHOOK_TEST_NODE_PREFIX/node_modules${NODE_PATH:+:$NODE_PATH}
export NODE_PATH MAILHOOK_TEST_NODE_PREFIX

have_node() {
    if ! command -v node >/dev/null 2>&1; then echo "no node (Debian package nodejs)"; return 1; fi
    local major
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
    if [ "${major:-0}" -lt 18 ]; then echo "node ${major:-?} is older than 18"; return 1; fi
}

have_standardwebhooks() {
    have_node || return 1
    if ! node -e 'require("standardwebhooks")' >/dev/null 2>&1; then
        echo "npm package standardwebhooks not found in $MAILHOOK_TEST_NODE_PREFIX (bash contrib/deps.sh test)"
        return 1
    fi
}

have_sendgrid_eventwebhook() {
    have_node || return 1
    if ! node -e 'require("@sendgrid/eventwebhook")' >/dev/null 2>&1; then
        echo "npm package @sendgrid/eventwebhook not found in $MAILHOOK_TEST_NODE_PREFIX (bash contrib/deps.sh test)"
        return 1
    fi
}

make_test_ca() {
    local d=$1
    [ -s "$d/ca.pem" ] && [ -s "$d/server.pem" ] && [ -s "$d/server.key" ] && return 0
    mkdir -p "$d" || return 1
    (
        set -e
        cd "$d"
        openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
        openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=mailhook test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem 2>/dev/null
        openssl ecparam -name prime256v1 -genkey -noout -out server.key 2>/dev/null
        openssl req -new -key server.key -subj "/CN=localhost" -out server.csr 2>/dev/null
        printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
            -extfile server.ext -out server.pem 2>/dev/null
        openssl verify -CAfile ca.pem server.pem >/dev/null
    ) || { echo "make_test_ca: openssl failed in $d" >&2; return 1; }
}

# _recv_var NAME: the variable stem for NAME (RECV_<NAME>).
_recv_var() { printf 'RECV_%s' "$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')"; }

start_receiver() {
    local name=$1; shift
    case $name in ''|*[!A-Za-z0-9_]*) echo "start_receiver: bad name '$name'" >&2; return 1 ;; esac
    local tls="" h2="" host=127.0.0.1 args=()
    while [ $# -gt 0 ]; do
        case $1 in
        --tls) tls=1 ;;
        --h2) tls=1; h2=1 ;;
        --bind) host=${2:-}; args+=("$1" "${2:-}"); shift ;;
        *) args+=("$1") ;;
        esac
        shift
    done
    if [ -n "$tls" ]; then
        make_test_ca "$T_DIR/ca" || return 1
        args=(--tls-cert "$T_DIR/ca/server.pem" --tls-key "$T_DIR/ca/server.key" ${h2:+--h2} "${args[@]}")
    fi
    local pf=$T_DIR/recv-$name.port
    rm -f "$pf"
    node "$RECEIVER_JS" --port 0 --port-file "$pf" --log "$T_DIR/recv-$name.log" "${args[@]}" \
        >> "$T_DIR/recv-$name.err" 2>&1 &
    local pid=$!
    T_PIDS="$T_PIDS $pid"
    RECV_NAMES="${RECV_NAMES:-} $name"
    local i=0
    while [ ! -s "$pf" ] && [ $i -lt 100 ]; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1; i=$((i + 1))
    done
    if [ ! -s "$pf" ]; then
        echo "start_receiver $name: no port within 10 s:" >&2
        sed 's/^/  /' "$T_DIR/recv-$name.err" >&2
        kill -9 "$pid" 2>/dev/null
        return 1
    fi
    local port v
    port=$(cat "$pf")
    v=$(_recv_var "$name")
    printf -v "${v}_PORT" '%s' "$port"
    printf -v "${v}_PID" '%s' "$pid"
    case $host in *:*) host="[$host]" ;; esac
    printf -v "${v}_URL" '%s://%s:%s' "$([ -n "$tls" ] && echo https || echo http)" "$host" "$port"
    export "${v}_PORT" "${v}_URL"
    echo "$port"
}

stop_receiver() {
    local v pid
    v=$(_recv_var "$1")_PID
    pid=${!v:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    local i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    printf -v "$(_recv_var "$1")_PID" '%s' ""
    return 0
}

stop_receivers() {
    local n
    for n in ${RECV_NAMES:-}; do stop_receiver "$n"; done
    RECV_NAMES=""
}

receiver_log() { printf '%s\n' "$T_DIR/recv-$1.log"; }

# The log's lines as JSON objects, filtered by path prefix, through a small
# Python program (stdin: the log).
_recv_py() {
    local log=$T_DIR/recv-$1.log prefix=${2:-} prog=$3
    [ -f "$log" ] || { [ "$prog" = count ] && echo 0; return 0; }
    python3 -c '
import json, sys
prefix, prog = sys.argv[1], sys.argv[2]
n = 0
for line in sys.stdin:
    try:
        r = json.loads(line)
    except ValueError:
        continue  # a line being written
    if not r.get("path", "").startswith(prefix):
        continue
    n += 1
    if prog.startswith("field:"):
        v = r
        for k in prog[6:].split(".", 1) if prog[6:].startswith("headers.") else [prog[6:]]:
            v = v.get(k) if isinstance(v, dict) else None
        print("" if v is None else v if isinstance(v, str) else json.dumps(v))
    elif prog == "events":
        try:
            b = json.loads(r.get("body") or "null")
        except ValueError:
            continue
        for e in (b if isinstance(b, list) else [b]):
            if isinstance(e, dict) and isinstance(e.get("id"), str):
                print(e["id"])
if prog == "count":
    print(n)
' "$prefix" "$prog" < "$log"
}

receiver_count() { _recv_py "$1" "${2:-}" count; }
receiver_events() { _recv_py "$1" "${2:-}" events; }
receiver_field() { _recv_py "$1" "$2" "field:$3"; }
# Usable in "check NAME bash -c '...'" subshells too.
export T_DIR
export -f _recv_py receiver_count receiver_events receiver_field receiver_log

receiver_stats() {
    local v url
    v=$(_recv_var "$1")_URL
    url=${!v:-}
    [ -n "$url" ] || { echo "receiver_stats: no receiver $1" >&2; return 1; }
    case $url in
    https:*) curl -sS --max-time 5 --cacert "$T_DIR/ca/ca.pem" "$url/_stats" ;;
    *) curl -sS --max-time 5 "$url/_stats" ;;
    esac
}

wait_receiver_count() {
    local secs=$1 name=$2 n=$3 prefix=${4:-}
    local limit=$((secs * 10)) i=0
    while [ $i -lt $limit ]; do
        [ "$(receiver_count "$name" "$prefix")" -ge "$n" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
