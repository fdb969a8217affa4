#!/bin/bash
# SPDX-License-Identifier: MIT
# t0290: the delivery tests' own tools, checked against independent ones:
# tests/helpers/receiver.js (HTTPS with a private CA and curl --cacert, each
# path behaviour, keep-alive, HTTP/2, /_stats, its bounded lifetime),
# tests/helpers/verify_sw.js (the standardwebhooks npm package, on the
# Standard Webhooks spec vector reproduced with the openssl CLI) and
# tests/helpers/verify_sig.py (against openssl dgst). Needs no compiled code.
# Skipped (visibly) without node 18+, curl or openssl; the standardwebhooks
# points are skipped without the npm package (contrib/deps.sh test installs
# it).
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"

if ! why=$(have_node); then
    echo "1..0 # SKIP $why"
    exit 0
fi
for tool in curl openssl python3; do
    command -v $tool >/dev/null 2>&1 || { echo "1..0 # SKIP no $tool"; exit 0; }
done
plan 40
CA=$T_DIR/ca/ca.pem
post() { curl -sS --max-time 10 --cacert "$CA" "$@"; }
# code URL [curl args]: the status code of a POST of {} to URL
code() { local u=$1; shift; post -o /dev/null -w '%{http_code}' -d '{}' "$@" "$u"; }
# is WANT CMD...: CMD's output is WANT (shown when not)
is() { local want=$1 got; shift; got=$("$@"); [ "$got" = "$want" ] && return 0
    printf 'want: %s\ngot:  %s\n' "$want" "$got"; return 1; }
hexof() { od -An -v -tx1 | tr -d ' \n'; }

# Standard Webhooks signing with the openssl CLI alone:
# sw_sign SECRET ID TS BODY: v1,base64(HMAC-SHA256(key, "ID.TS.BODY")),
# key = base64-decoded SECRET after "whsec_"
sw_sign() {
    local key
    key=$(printf '%s' "${1#whsec_}" | base64 -d | hexof)
    printf 'v1,%s' "$(printf '%s.%s.%s' "$2" "$3" "$4" |
        openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)"
}

# ------------------------------------------------------------------ CA
check "make_test_ca: CA and server certificate" make_test_ca "$T_DIR/ca"
sans() { openssl x509 -in "$T_DIR/ca/server.pem" -noout -ext subjectAltName | tail -n +2 | tr -d ' '; }
check "server certificate: signed by the CA" openssl verify -CAfile "$CA" "$T_DIR/ca/server.pem"
check "server certificate: SANs 127.0.0.1, ::1, localhost" \
    is "IPAddress:127.0.0.1,IPAddress:0:0:0:0:0:0:0:1,DNS:localhost" sans

check "HTTPS receiver starts" start_receiver r --tls --max-seconds 120
U=${RECV_R_URL:-https://127.0.0.1:1}
LOG=$(receiver_log r)

# ----------------------------------------------------- Standard Webhooks
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
MSGID=msg_p5jXN8AQM9LWM0D4loKWxJek
VBODY='{"test": 2432232314}'
VSIG='v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
check "openssl reproduces the spec vector" is "$VSIG" sw_sign $SECRET $MSGID 1614265330 "$VBODY"
# swpost PATH ID TS BODY SIGNATURE: a signed POST; prints the status code
swpost() {
    post -o /dev/null -w '%{http_code}' -H 'content-type: application/json' -H "webhook-id: $2" \
        -H "webhook-timestamp: $3" -H "webhook-signature: $5" --data-binary "$4" "$U$1"
}
logged_verbatim() {
    [ "$(swpost /ok/sw/vector $MSGID 1614265330 "$VBODY" "$VSIG")" = 200 ] &&
        is "$VBODY" receiver_field r /ok/sw/vector body &&
        is "$VSIG" receiver_field r /ok/sw/vector headers.webhook-signature &&
        is "$MSGID" receiver_field r /ok/sw/vector headers.webhook-id &&
        is "1614265330" receiver_field r /ok/sw/vector headers.webhook-timestamp &&
        is "1.1" receiver_field r /ok/sw/vector http
}
check "spec vector POSTed over HTTPS (--cacert): 200, logged verbatim" logged_verbatim

NOW=$(date +%s)
OLD=whsec_$(head -c 32 /dev/urandom | base64)
BODY='{"id":"evt_1","type":"delivery.sent","timestamp":"2026-01-01T00:00:00.000Z","data":{"n":1}}'
swpost /ok/sw/good msg_good "$NOW" "$BODY" "$(sw_sign $SECRET msg_good "$NOW" "$BODY")" > /dev/null
swpost /ok/sw/tampered msg_tampered "$NOW" "${BODY/\"n\":1/\"n\":2}" \
    "$(sw_sign $SECRET msg_tampered "$NOW" "$BODY")" > /dev/null
swpost /ok/sw/rotated msg_rotated "$NOW" "$BODY" \
    "$(sw_sign $SECRET msg_rotated "$NOW" "$BODY") $(sw_sign "$OLD" msg_rotated "$NOW" "$BODY")" > /dev/null
sw() { node "$VERIFY_SW_JS" "$@"; }
# sw_says WANT-EXIT WANT-OUTPUT-GLOB ARGS...
sw_says() {
    local rc=$1 glob=$2 out st; shift 2
    out=$(sw "$@"); st=$?
    echo "exit $st: $out"
    # shellcheck disable=SC2053 # $glob is a pattern
    [ "$st" -eq "$rc" ] && [[ $out == $glob ]]
}
if why=$(have_standardwebhooks); then
    check "verify_sw.js: a fresh signature is ok" sw_says 0 "ok msg_good" --path /ok/sw/good "$LOG" $SECRET
    check "verify_sw.js: a tampered body is bad" sw_says 1 "bad msg_tampered *" --path /ok/sw/tampered "$LOG" $SECRET
    check "verify_sw.js: the spec vector is bad only for its age" \
        sw_says 1 "bad $MSGID *too old*" --path /ok/sw/vector "$LOG" $SECRET
    check "verify_sw.js: rotation, both signatures verify, each with its secret" \
        sw_says 0 "ok msg_rotated" --path /ok/sw/rotated "$LOG" $SECRET "$OLD"
    check "verify_sw.js: rotation, one signature alone is bad" \
        sw_says 1 "bad msg_good old secret: *" --path /ok/sw/good "$LOG" $SECRET "$OLD"
    check "verify_sw.js: an empty selection is bad" sw_says 1 "bad - no request*" --path /nothing "$LOG" $SECRET
else
    for _ in 1 2 3 4 5 6; do skip "verify_sw.js: $why"; done
fi

# ----------------------------------------------------- the other schemes
HSECRET='s3cr3t with "quotes" & spaces'
HBODY='[{"id":"evt_2","type":"delivery.bounced","timestamp":"2026-01-01T00:00:00.000Z","data":{"é":"ü"}}]'
hmac_hex=$(printf '%s' "$HBODY" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(printf '%s' "$HSECRET" | hexof)" -r | cut -d' ' -f1)
cat_hex=$(printf '%s%s' "$HSECRET" "$HBODY" | openssl dgst -sha256 -r | cut -d' ' -f1)
post -o /dev/null -H "X-Delivery-Sig: sha256=$hmac_hex" --data-binary "$HBODY" "$U/ok/hmac/good"
post -o /dev/null -H "X-Delivery-Sig: sha256=$hmac_hex" --data-binary "${HBODY/evt_2/evt_3}" "$U/ok/hmac/bad"
post -o /dev/null -H "X-Body-Sha: $cat_hex" --data-binary "$HBODY" "$U/ok/cat/good"
post -o /dev/null -H "X-Body-Sha: $cat_hex" --data-binary "$HBODY " "$U/ok/cat/bad"
vs() { python3 "$VERIFY_SIG_PY" "$LOG" "$@"; }
vs_says() { # WANT-EXIT WANT-OUTPUT-GLOB ARGS...
    local rc=$1 glob=$2 out st; shift 2
    out=$(vs "$@"); st=$?
    echo "exit $st: $out"
    # shellcheck disable=SC2053 # $glob is a pattern
    [ "$st" -eq "$rc" ] && [[ $out == $glob ]]
}
HM=(--scheme hmac-sha256-hex --header x-delivery-sig --secret "$HSECRET")
SB=(--scheme sha256-secret-body --header X-Body-Sha --secret "$HSECRET")
check "verify_sig.py hmac-sha256-hex, prefix sha256=: agrees with openssl" \
    vs_says 0 "ok line*" --path /ok/hmac/good "${HM[@]}" --prefix sha256=
check "verify_sig.py hmac-sha256-hex: a tampered body is bad" \
    vs_says 1 "bad line* signature mismatch" --path /ok/hmac/bad "${HM[@]}" --prefix sha256=
check "verify_sig.py hmac-sha256-hex: a value without the prefix is bad" \
    vs_says 1 "bad line* signature mismatch" --path /ok/hmac/good "${HM[@]}"
check "verify_sig.py sha256-secret-body: agrees with openssl" vs_says 0 "ok line*" --path /ok/cat/good "${SB[@]}"
check "verify_sig.py sha256-secret-body: a tampered body is bad" vs_says 1 "bad line*" --path /ok/cat/bad "${SB[@]}"

# ----------------------------------------------------- path behaviours
check "/ok: 200 ok" is ok post -d '{}' "$U/ok/plain"
fails() { echo "$(code "$U/fail/2/a") $(code "$U/fail/2/a") $(code "$U/fail/2/b") $(code "$U/fail/2/a")"; }
check "/fail/2: 500, 500, then 200, per exact path" is "500 500 500 200" fails
ra() { post -D - -o /dev/null -d '{}' "$1" | tr -d '\r' | grep -iE '^(HTTP/|retry-after:)' | tr '\n' ' '; }
twice() { echo "$("$@")|$("$@")"; }
check "/retry-after/1: 429 + Retry-After: 1, then 200" \
    is "HTTP/1.1 429 Too Many Requests retry-after: 1 |HTTP/1.1 200 OK " twice ra "$U/retry-after/1/x"
check "/unavailable/3: 503 + Retry-After: 3, then 200" \
    is "HTTP/1.1 503 Service Unavailable retry-after: 3 |HTTP/1.1 200 OK " twice ra "$U/unavailable/3/x"
check "/status/410: always 410" is "410|410" twice code "$U/status/410/x"
loc() { post -D - -o /dev/null -d '{}' "$1" | tr -d '\r' | grep -iE '^(HTTP/|location:)' | tr '\n' ' '; }
check "/status/301: Location: http://127.0.0.1:1/" \
    is "HTTP/1.1 301 Moved Permanently location: http://127.0.0.1:1/ " loc "$U/status/301/x"
hang() {
    local rc; curl -sS --cacert "$CA" --max-time 1 -d '{}' "$U/hang/x"; rc=$?
    [ $rc -eq 28 ] && is 0 receiver_field r /hang/ status
}
check "/hang: curl --max-time 1 fails (28); logged with status 0" hang
check "/reset: partial headers, then the connection dies (curl fails)" \
    bash -c "! curl -sS --cacert '$CA' --max-time 5 -d '{}' '$U/reset/x'"
check "/big: 200 with 10 MB" is "200 10485760" post -o /dev/null -w '%{http_code} %{size_download}' -d '{}' "$U/big/x"
slow() {
    local out; out=$(post -o /dev/null -w '%{http_code} %{time_total}' -d '{}' "$U/slow/400/x")
    echo "$out"; awk '{exit !($1 == 200 && $2 >= 0.4 && $2 < 5)}' <<< "$out"
}
check "/slow/400: 200 after 0.4 s" slow
gated() {
    post -o "$T_DIR/gate.out" -w '%{http_code}' -d '{}' "$U/gate/g1/x" > "$T_DIR/gate.code" & local p=$!
    wait_receiver_count 5 r 1 /gate/g1/x || return 1
    kill -0 $p || { echo "answered before the gate opened"; return 1; }
    post -o /dev/null -w '%{http_code}' -X POST "$U/_open/g1" | grep -qx 204 || return 1
    wait $p && [ "$(cat "$T_DIR/gate.code")" = 200 ] &&
        [ "$(post -o /dev/null -w '%{http_code}' -d '{}' "$U/gate/g1/y")" = 200 ]
}
check "/gate/g1: held (received, not answered) until POST /_open/g1, then 200; later ones at once" gated
check "anything else: 404" is "404 404 404" echo "$(code "$U/nope") $(code "$U/status/99/x") $(code "$U/fail/x")"

# keep-alive: one curl, two requests, one connection; another curl, another.
post -o /dev/null -o /dev/null -d '{}' "$U/ok/ka/1" "$U/ok/ka/2"
post -o /dev/null -d '{}' "$U/ok/kb/1"
keepalive() {
    local a b; a=$(receiver_field r /ok/ka/ conn | sort -u); b=$(receiver_field r /ok/kb/ conn)
    echo "ka: [$a] kb: [$b]"
    [ "$(receiver_count r /ok/ka/)" -eq 2 ] && [ -n "$a" ] && [ "$(echo "$a" | wc -l)" -eq 1 ] &&
        [ -n "$b" ] && [ "$a" != "$b" ]
}
check "keep-alive: two requests of one curl share a conn id, another curl has its own" keepalive

# ----------------------------------------------------- stats, counting
evpost() { # ID AGE-MS: POST one event whose timestamp is AGE-MS ago
    local ts; ts=$(date -u -d "@$(awk -v n="$(date +%s.%N)" -v a="$2" 'BEGIN{printf "%.3f", n - a/1000}')" +%Y-%m-%dT%H:%M:%S.%3NZ)
    post -o /dev/null -d "{\"id\":\"$1\",\"type\":\"t\",\"timestamp\":\"$ts\",\"data\":{}}" "$U/ok/ev"
}
post -o /dev/null -X POST "$U/_reset_stats"
evpost ev_a 1000; evpost ev_b 1000; evpost ev_b 1000
post -o /dev/null -d '[{"id":"ev_c","timestamp":"2000-01-01T00:00:00.000Z"}]' "$U/status/500/ev"
stats_ok() {
    local s; s=$(receiver_stats r); echo "$s"
    python3 -c '
import json, sys
s = json.loads(sys.argv[1]); l = s["latency_ms"]
assert s["requests"] == 4 and s["events"] == 3 and s["unique_events"] == 2, s
assert s["status"] == {"200": 3, "500": 1}, s
assert l["n"] == 3 and 1000 <= l["p50"] < 6000 and 1000 <= l["p99"] < 6000, l' "$s"
}
check "/_stats: requests, events of 2xx answers, latency from the event timestamp" stats_ok
check "/_stats, /_reset_stats and /_open are not logged" is 0 receiver_count r /_
events_of() { receiver_events r /ok/ev; receiver_events r /status/500/ev; }
check "receiver_events: ids of object and array bodies, in order" is "$(printf 'ev_a\nev_b\nev_b\nev_c')" events_of
check "receiver_count: all, and by path prefix" is "36 4 2" echo "$(receiver_count r) $(receiver_count r /ok/sw/) $(receiver_count r /ok/ka)"

# ----------------------------------------------------- HTTP/2, options
check "HTTP/2 receiver (--h2) starts" start_receiver h --h2 --max-seconds 60
H=${RECV_H_URL:-https://127.0.0.1:1}
h2() {
    post -o /dev/null -o /dev/null -w '%{http_version} ' -d '{"id":"h"}' --http2 "$H/ok/h2/1" "$H/ok/h2/2"
    post -o /dev/null -w '%{http_version}' -d '{"id":"h"}' --http1.1 "$H/ok/h1/1"
}
check "HTTP/2 and HTTP/1.1 on one port" is "2 2 1.1" h2
check "HTTP/2: logged as 2.0 on one connection; HTTP/1.1 as 1.1" \
    is "$(printf '2.0 1\n2.0 1\n1.1 2')" paste -d' ' <(receiver_field h / http) <(receiver_field h / conn)
bounded() {
    local t0=$SECONDS
    node "$RECEIVER_JS" --max-seconds 1 --port-file "$T_DIR/bounded.port" 2>&1 &
    local pid=$!; T_PIDS="$T_PIDS $pid"
    wait $pid; local rc=$?
    echo "exit $rc after $((SECONDS - t0)) s"
    [ $rc -eq 0 ] && [ $((SECONDS - t0)) -le 5 ] && [ -s "$T_DIR/bounded.port" ]
}
check "--max-seconds 1: exits by itself" bounded
refuses() {
    local rc; timeout 10 node "$RECEIVER_JS" --bind "$1" --max-seconds 2; rc=$?
    echo "exit $rc"; [ $rc -eq 64 ]
}
check "--bind: a non-loopback address is refused" refuses 0.0.0.0
quiet() {
    start_receiver q --quiet-log --max-seconds 60 >/dev/null || return 1
    local i; for i in 1 2 3; do curl -sS -o /dev/null -d "{\"id\":\"q$i\"}" "$RECV_Q_URL/ok/q"; done
    sleep 0.2
    [ ! -s "$(receiver_log q)" ] && receiver_stats q | grep -q '"requests":3,"connections":3,"events":3'
}
check "--quiet-log (plain HTTP): nothing logged, /_stats counts" quiet
stop_receivers
done_testing
