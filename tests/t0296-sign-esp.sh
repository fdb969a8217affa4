#!/bin/bash
# SPDX-License-Identifier: MIT
# t0296: the signatures of the ESP formats (sign.h), checked by what the
# receivers use. SendGrid: the official @sendgrid/eventwebhook npm package
# (convertPublicKeyToECDSA + verifySignature, tests/helpers/verify_sendgrid.js)
# accepts our ECDSA signature and public key, and rejects a tampered body, a
# wrong timestamp and another key; openssl dgst -verify agrees; a key made by
# the openssl CLI works too. The helper is first shown to judge a signature
# made by the openssl CLI alone. Mailgun: the "signature" member we splice
# into the body verifies by the algorithm Mailgun documents (python3 hmac,
# compare_digest of the hex digest), and not under another key.
# Signing is done by tests/helpers/sign_sample. The SendGrid points are
# skipped (visibly) without node 18+ or the npm package (contrib/deps.sh test
# installs it), the Mailgun points without python3; all without openssl.
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"

plan 17
SAMPLE=$top_builddir/tests/helpers/sign_sample
command -v openssl >/dev/null 2>&1 || skip_all "no openssl"
if [ ! -x "$SAMPLE" ]; then
    not_ok "tests/helpers/sign_sample is built (make check builds it)"
    skip_all "no sign_sample"
fi
D=$T_DIR
# status WANT CMD...: CMD exits with status WANT (1: "does not verify", not 2: "cannot run")
status() { local want=$1 rc; shift; "$@"; rc=$?; [ "$rc" -eq "$want" ] && return 0
    echo "exit status $rc, want $want"; return 1; }
line() { sed -n "${1}p" "$2"; }

# ------------------------------------------------------------ SendGrid
# A SendGrid body: an array of events, with non-ASCII text (the package
# hashes the body's UTF-8 text).
SG_EVENT='{"email":"bob@example.net","event":"delivered","subject":"Caf\u00e9","sg_event_id":"e1"'
printf '[%s,"note":"café ☕ 😀"}]' "$SG_EVENT" > "$D/sg.json"
printf '[%s,"note":"café ☕ 😁"}]' "$SG_EVENT" > "$D/sg-tampered.json" # one byte differs

if why=$(have_sendgrid_eventwebhook); then
    V() { node "$VERIFY_SENDGRID_JS" "$@"; }

    # The helper on a signature made by the openssl CLI alone.
    osl_sign() {
        { printf '%s' "$1"; cat "$2"; } | openssl dgst -sha256 -sign "$D/osl.pem" | base64 -w0
    }
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/osl.pem" 2>/dev/null
    OSL_PUB=$(openssl pkey -in "$D/osl.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
    OSL_SIG=$(osl_sign 1700000000 "$D/sg.json")
    check "the package accepts a signature made by the openssl CLI" \
        V "$OSL_PUB" 1700000000 "$D/sg.json" "$OSL_SIG"
    check "the package rejects that signature over another body" \
        status 1 V "$OSL_PUB" 1700000000 "$D/sg-tampered.json" "$OSL_SIG"

    # Ours: a fresh key each run.
    check "sign_sample signs with a fresh key" \
        bash -c "'$SAMPLE' sendgrid '$D/sg.json' > '$D/sg.out' && [ \$(wc -l < '$D/sg.out') -eq 4 ]"
    PUB=$(line 1 "$D/sg.out"); TS=$(line 2 "$D/sg.out")
    SIG=$(line 3 "$D/sg.out"); SIGC=$(line 4 "$D/sg.out")
    pub_form() { [[ $PUB == MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE* ]] && [ ${#PUB} -eq 124 ]; }
    check "the public key has the form SendGrid's settings page shows" pub_form
    check "the package accepts our signature (cache off)" V "$PUB" "$TS" "$D/sg.json" "$SIG"
    check "the package accepts our signature (cache on)" V "$PUB" "$TS" "$D/sg.json" "$SIGC"
    check "the package rejects our signature over a tampered body" \
        status 1 V "$PUB" "$TS" "$D/sg-tampered.json" "$SIG"
    check "the package rejects our signature with a wrong timestamp" \
        status 1 V "$PUB" "$((TS + 1))" "$D/sg.json" "$SIG"
    "$SAMPLE" sendgrid "$D/sg.json" "$TS" > "$D/sg2.out"
    check "the package rejects our signature under another key's public key" \
        status 1 V "$(line 1 "$D/sg2.out")" "$TS" "$D/sg.json" "$SIG"

    # A key the openssl CLI made, as PKCS#8 base64 in the secret.
    OSL_KEY=$(openssl pkcs8 -topk8 -nocrypt -in "$D/osl.pem" -outform DER | base64 -w0)
    "$SAMPLE" sendgrid --key "$OSL_KEY" "$D/sg.json" 1700000000 > "$D/sg3.out"
    check "an openssl-made key: our public key is openssl's" \
        bash -c "[ '$(line 1 "$D/sg3.out")' = '$OSL_PUB' ]"
    check "an openssl-made key: the package accepts our signature" \
        V "$OSL_PUB" 1700000000 "$D/sg.json" "$(line 3 "$D/sg3.out")"
else
    for n in 1 2 3 4 5 6 7 8 9 10 11; do skip "$why"; done
fi

# openssl dgst -verify, a second verifier (no node needed)
osl_verify() {
    "$SAMPLE" sendgrid "$D/sg.json" 1700000000 > "$D/sg4.out" || return 1
    { printf -- '-----BEGIN PUBLIC KEY-----\n'; line 1 "$D/sg4.out" | fold -w 64
      printf -- '-----END PUBLIC KEY-----\n'; } > "$D/pub.pem"
    line 3 "$D/sg4.out" | base64 -d > "$D/sig.der"
    { printf '%s' 1700000000; cat "$D/sg.json"; } |
        openssl dgst -sha256 -verify "$D/pub.pem" -signature "$D/sig.der"
}
check "openssl dgst -verify accepts our signature and public key" osl_verify

# ------------------------------------------------------------- Mailgun
MG_KEY=key-3ax6xnjp29jd6fds4gc373sgvjxteol0
printf '{"event-data":{"event":"delivered","recipient":"bob@example.net",%s}}' \
    '"message":{"headers":{"subject":"café ☕"}}' > "$D/mg.json"
printf '{}' > "$D/mg-empty.json"
printf '%s' '{"event-data":{},"signature":{}}' > "$D/mg-has-sig.json"

# mg_verify KEY FILE: the signature member verifies as Mailgun documents it:
# HMAC-SHA256 with the signing key of timestamp and token concatenated with
# no separator, its hex digest compared to the signature.
mg_verify() {
    python3 - "$1" "$2" <<'PY'
import hashlib, hmac, json, sys
key, path = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    s = json.load(f)["signature"]
digest = hmac.new(key.encode(), (s["timestamp"] + s["token"]).encode(), hashlib.sha256).hexdigest()
if not hmac.compare_digest(digest, s["signature"]):
    sys.exit("signature does not verify")
PY
}
# mg_shape SIGNED ORIGINAL TS: "signature" is the first member, with
# timestamp (TS as a string), a 50-hex token and a 64-hex signature, in that
# order; the other members are ORIGINAL's, in order.
mg_shape() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, re, sys
def pairs(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=list)
signed, orig, ts = pairs(sys.argv[1]), pairs(sys.argv[2]), sys.argv[3]
name, sig = signed[0]
assert name == "signature", signed
assert [k for k, _ in sig] == ["timestamp", "token", "signature"], sig
d = dict(sig)
assert d["timestamp"] == ts, d
assert re.fullmatch(r"[0-9a-f]{50}", d["token"]), d
assert re.fullmatch(r"[0-9a-f]{64}", d["signature"]), d
assert signed[1:] == orig, (signed[1:], orig)
PY
}

if command -v python3 >/dev/null 2>&1; then
    "$SAMPLE" mailgun "$MG_KEY" "$D/mg.json" 1529006854 > "$D/mg.out"
    check "Mailgun: the signature object is the body's first member, the rest kept" \
        mg_shape "$D/mg.out" "$D/mg.json" 1529006854
    check "Mailgun: it verifies by Mailgun's documented algorithm" mg_verify "$MG_KEY" "$D/mg.out"
    check "Mailgun: it does not verify under another key" \
        status 1 mg_verify "${MG_KEY}x" "$D/mg.out"
    mg_empty() {
        "$SAMPLE" mailgun "$MG_KEY" "$D/mg-empty.json" 1529006854 > "$D/mg-empty.out" &&
            mg_shape "$D/mg-empty.out" "$D/mg-empty.json" 1529006854 &&
            mg_verify "$MG_KEY" "$D/mg-empty.out"
    }
    check "Mailgun: {} becomes {\"signature\":{...}} alone, and verifies" mg_empty
    check "Mailgun: a body with a top-level signature member is refused" \
        status 1 "$SAMPLE" mailgun "$MG_KEY" "$D/mg-has-sig.json"
else
    for n in 1 2 3 4 5; do skip "no python3"; done
fi
done_testing
