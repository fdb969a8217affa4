#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/helpers/verify_sig.py - check the non-Standard-Webhooks signatures
of the requests a receiver logged (tests/helpers/receiver.js --log).

    verify_sig.py LOG --scheme hmac-sha256-hex|sha256-secret-body
                  --header NAME [--prefix sha256=] --secret S [--path PREFIX]

For each logged request (whose path starts with PREFIX), the expected value
is recomputed over the raw body (the logged "body_b64" when present, else
the UTF-8 "body"):

    hmac-sha256-hex     lowercase hex HMAC-SHA256(key = S's bytes, body)
    sha256-secret-body  lowercase hex SHA-256(S's bytes || body)

and compared (hmac.compare_digest) with the header NAME (case-insensitive)
after PREFIX-of-the-value (--prefix) is removed; the prefix must be there.
Prints "ok <id>" or "bad <id> <reason>" per request, where <id> is the
X-Mailhook-Delivery header, else webhook-id, else the request's line number.
Exit 0 when all are ok, 1 when any is bad or no request was logged, 2 on a
usage error. Python 3 standard library only.
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys


def expected(scheme, secret, body):
    if scheme == "hmac-sha256-hex":
        return hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hashlib.sha256(secret + body).hexdigest()


def main():
    ap = argparse.ArgumentParser(description="verify logged webhook signatures")
    ap.add_argument("log")
    ap.add_argument("--scheme", required=True, choices=["hmac-sha256-hex", "sha256-secret-body"])
    ap.add_argument("--header", required=True)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--secret", required=True)
    ap.add_argument("--path", default="", help="only requests whose path starts with this")
    a = ap.parse_args()
    secret = a.secret.encode("utf-8")
    header = a.header.lower()
    try:
        with open(a.log, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as e:
        print(f"verify_sig: {e}", file=sys.stderr)
        return 2
    n = bad = 0
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError:
            continue  # a line still being written
        if not str(r.get("path", "")).startswith(a.path):
            continue
        n += 1
        headers = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
        rid = headers.get("x-mailhook-delivery") or headers.get("webhook-id") or f"line{lineno}"
        if "body_b64" in r:
            body = base64.b64decode(r["body_b64"])
        else:
            body = (r.get("body") or "").encode("utf-8")
        got = headers.get(header)
        reason = None
        if got is None:
            reason = f"no {a.header} header"
        elif not got.startswith(a.prefix):
            reason = f"{a.header} does not start with {a.prefix!r}"
        elif not hmac.compare_digest(got[len(a.prefix):].encode("utf-8"),
                                     expected(a.scheme, secret, body).encode("ascii")):
            reason = "signature mismatch"
        if reason:
            bad += 1
            print(f"bad {rid} {reason}")
        else:
            print(f"ok {rid}")
    if n == 0:
        print(f"bad - no request logged in {a.log}" + (f" under {a.path}" if a.path else ""))
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
