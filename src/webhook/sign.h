/* SPDX-License-Identifier: MIT */
/*
 * sign.h - request signatures and secrets for webhook deliveries.
 *
 * Three schemes (endpoint.h), all HMAC/SHA-256 through OpenSSL, and the
 * primitives of two ESPs' own schemes (below):
 *   standard            Standard Webhooks (standardwebhooks.com):
 *                       "v1," + base64(HMAC-SHA256(key, id "." ts "." body))
 *                       key = base64-decoded secret after the "whsec_" prefix
 *                       (a secret without the prefix is base64-decoded whole)
 *   hmac-sha256-hex     lowercase hex HMAC-SHA256(secret bytes as given, body)
 *   sha256-secret-body  lowercase hex SHA-256(secret bytes as given || body)
 *
 *   sign_secret_new(out, err)    "whsec_" + base64 of 32 random bytes
 *                                (RAND_bytes); 0, or -1 + err
 *   sign_standard(secret, msg_id, ts, body, len, out, err)
 *                                out receives "v1,<base64>" (NUL-terminated)
 *   sign_hmac_sha256_hex(secret, body, len, out, err)     64 hex digits + NUL
 *   sign_sha256_secret_body(secret, body, len, out, err)  64 hex digits + NUL
 *   sign_equal(a, alen, b, blen) constant-time comparison (CRYPTO_memcmp);
 *                                different lengths are unequal
 *
 * The signing calls return 0, or -1 + err: for an empty secret (all three
 * schemes: a signature under no key proves nothing), for a standard secret
 * that is not strict padded standard base64 or decodes to more than 384
 * bytes, or when OpenSSL fails. body may be NULL when len is 0. out is
 * written only on success.
 *
 * SendGrid's Signed Event Webhook (twilio.com/docs/sendgrid, "Getting
 * Started with the Event Webhook Security Features"): ECDSA P-256 with
 * SHA-256 over the timestamp's decimal text followed by the body, the
 * base64 of the DER signature in X-Twilio-Email-Event-Webhook-Signature,
 * the timestamp (unix seconds) in X-Twilio-Email-Event-Webhook-Timestamp.
 * The endpoint's secret holds the private key; the receiver holds the
 * public key, base64 of its DER SubjectPublicKeyInfo (RFC 5480: named
 * curve, uncompressed point), which is the form SendGrid's settings page
 * shows and @sendgrid/eventwebhook's convertPublicKeyToECDSA(key) reads.
 *   sign_ec_key_new(out, err)    a new P-256 key: *out receives base64 of its
 *                                DER PKCS#8 PrivateKeyInfo (184 characters,
 *                                fits EP_SECRET_MAX), malloc'ed: the caller
 *                                wipes (secure_wipe) and frees it; 0, or -1
 *                                + err
 *   sign_ec_public_key(key, out, err)
 *                                *out receives the public half of key (base64
 *                                DER SubjectPublicKeyInfo, 124 characters),
 *                                malloc'ed, caller frees; 0, or -1 + err
 *   sign_ecdsa_p256(key, ts, body, len, out, err)
 *                                *out receives base64 of the DER ECDSA
 *                                signature of ts's decimal text || body
 *                                (at most 96 characters), malloc'ed, caller
 *                                frees; 0, or -1 + err
 * A key is accepted only as strict padded standard base64 of one DER
 * PKCS#8 PrivateKeyInfo with nothing after it, holding an EC key on P-256
 * whose private value is in range and whose public point matches it (a
 * file with a corrupt public half would give a public key that verifies
 * nothing); anything else is -1 + err "not a base64 PKCS#8 P-256 private
 * key". The body is signed as bytes: SendGrid's libraries hash the body's
 * text, which is the same for UTF-8 (every body mailhook writes). ECDSA
 * signatures are randomized: two signatures of one body differ, both
 * verify.
 *
 * Mailgun (documentation.mailgun.com, "Securing Webhooks"): the body's
 * "signature" member {"timestamp":"<unix s>","token":"<50 hex>",
 * "signature":"<hex HMAC-SHA256(key, timestamp || token)>"}, the key being
 * the endpoint's secret bytes as given:
 *   sign_mailgun(key, ts, token, out, err)
 *                                token receives a fresh token (50 lowercase
 *                                hex digits of 25 RAND_bytes, + NUL), out its
 *                                signature (64 hex digits + NUL); 0, or -1 +
 *                                err (empty key, OpenSSL failure)
 *   sign_mailgun_token(key, ts, token, out, err)
 *                                out receives the signature of the given
 *                                token: what a receiver computes (tests,
 *                                previews); 0, or -1 + err
 *   sign_mailgun_body(body, len, ts, token, sig, outlen)
 *                                a copy of the JSON object text body with
 *                                "signature":{"timestamp":"<ts>","token":
 *                                "<token>","signature":"<sig>"} as its first
 *                                member ("{}" gives {"signature":{...}},
 *                                other bodies get the member and a comma
 *                                after their '{'; blanks around are kept);
 *                                malloc'ed, NUL-terminated, *outlen its
 *                                length; the caller frees it. NULL (and
 *                                *outlen untouched) when body is not one
 *                                object (after blanks, '{' up to its
 *                                matching '}', then only blanks), when it
 *                                already has a top-level "signature" member
 *                                (a receiver would read one of the two:
 *                                refused rather than sent), or when token or
 *                                sig is not what sign_mailgun writes.
 * The check is structural, not a JSON validator: strings (with their
 * escapes) and bracket depth are followed; the body comes from the format
 * program, whose output jq has already made JSON. A top-level key spelled
 * with escapes ("\u0073ignature") is not recognised as "signature" (jq
 * and cjson write ASCII letters as they are).
 *
 * Secrets never reach a log line: errors name the problem, not the value.
 *
 * A thread that signs many requests with few keys (the engine) keeps an
 * HMAC context set up for the last key, and the parsed EC key (EVP_PKEY)
 * of the last ECDSA key text:
 *   sign_thread_cache(true)      from now on, on this thread
 *   sign_thread_cache(false)     stop, free them and wipe the key copies
 *                                (before the thread ends)
 * Parsing and checking a PKCS#8 key costs twenty times the signature:
 * sign_ecdsa_p256 of a 400-byte body took 450-550 us without the cache and
 * 19-27 us with it (OpenSSL 3.0.19, AMD EPYC, 3000 signatures in a row;
 * without: ~390 us in OpenSSL's decoder reading the PKCS#8, ~50 us in the
 * pairwise key check, ~20 us signing).
 */
#ifndef MH_SIGN_H
#define MH_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "msg.h"

#define SIGN_SECRET_PREFIX "whsec_"
#define SIGN_SECRET_SIZE 64   /* "whsec_" + 44 base64 chars + NUL fits */
#define SIGN_STANDARD_SIZE 64 /* "v1," + 44 base64 chars + NUL fits */
#define SIGN_HEX_SIZE 65
#define SIGN_MAILGUN_TOKEN_SIZE 51 /* 50 hex digits + NUL */

int sign_secret_new(char out[SIGN_SECRET_SIZE], mh_err_t *err);
void sign_thread_cache(bool on);
int sign_standard(const char *secret, const char *msg_id, int64_t ts, const void *body,
                  size_t len, char out[SIGN_STANDARD_SIZE], mh_err_t *err);
int sign_hmac_sha256_hex(const char *secret, const void *body, size_t len,
                         char out[SIGN_HEX_SIZE], mh_err_t *err);
int sign_sha256_secret_body(const char *secret, const void *body, size_t len,
                            char out[SIGN_HEX_SIZE], mh_err_t *err);
int sign_ec_key_new(char **out, mh_err_t *err);
int sign_ec_public_key(const char *key, char **out, mh_err_t *err);
bool sign_equal(const void *a, size_t alen, const void *b, size_t blen);
int sign_ec_key_new(char **out, mh_err_t *err);
int sign_ec_public_key(const char *key, char **out, mh_err_t *err);
int sign_ecdsa_p256(const char *key, int64_t ts, const void *body, size_t len, char **out,
                    mh_err_t *err);
int sign_mailgun(const char *key, int64_t ts, char token[SIGN_MAILGUN_TOKEN_SIZE],
                 char out[SIGN_HEX_SIZE], mh_err_t *err);
int sign_mailgun_token(const char *key, int64_t ts, const char *token, char out[SIGN_HEX_SIZE],
                       mh_err_t *err);
char *sign_mailgun_body(const char *body, size_t len, int64_t ts, const char *token,
                        const char *sig, size_t *outlen);

#endif
