/* SPDX-License-Identifier: MIT */
/*
 * sign.h - request signatures and secrets for webhook deliveries.
 *
 * Three schemes (endpoint.h), all HMAC/SHA-256 through OpenSSL:
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
 * Secrets never reach a log line: errors name the problem, not the value.
 *
 * A thread that signs many requests with few keys (the engine) keeps an
 * HMAC context set up for the last key:
 *   sign_thread_cache(true)      from now on, on this thread
 *   sign_thread_cache(false)     stop, free it and wipe the key copy (before
 *                                the thread ends)
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

#endif
