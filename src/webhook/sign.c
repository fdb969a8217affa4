/* SPDX-License-Identifier: MIT */
/*
 * sign.c - webhook request signatures and secrets (see sign.h).
 *
 * All cryptography is OpenSSL 3 libcrypto: RAND_bytes for secrets and
 * Mailgun tokens, the EVP_MAC "HMAC" and EVP_MD "SHA256" interfaces
 * (streamed, so the body is never copied next to the id and timestamp),
 * EVP_DigestSign for ECDSA, d2i_PKCS8_PRIV_KEY_INFO / EVP_PKCS82PKEY and
 * EVP_PKEY2PKCS8 for PKCS#8, EVP_PKEY_private_check and
 * EVP_PKEY_pairwise_check for keys, EVP_EncodeBlock and EVP_DecodeBlock for
 * base64, CRYPTO_memcmp for comparison.
 *
 * Base64 secrets are checked here before EVP_DecodeBlock sees them: that
 * call skips leading blanks and trailing blanks and '-', accepts '=' in
 * the middle of the text, and counts '=' padding as decoded zero bytes.
 * A secret is therefore accepted only as strict standard base64 (A-Z
 * a-z 0-9 + /, length a multiple of 4, at most two '=' and only at the
 * end), and the decoded length is reduced by the padding.
 *
 * The same strict check guards PKCS#8 keys. OpenSSL trusts the public
 * point a PKCS#8 EC key carries; the key checks make sure it belongs to
 * the private value, since sign_ec_public_key shows it to the receiver.
 * The public key is written from the point's coordinates behind a fixed
 * SubjectPublicKeyInfo prefix, so its form does not depend on how the key
 * was encoded (compressed point, explicit curve parameters): it is always
 * the 91-byte named-curve, uncompressed form SendGrid's verifiers parse.
 *
 * Decoded keys and random bytes live on the stack and are wiped before
 * return. Errors name the problem, never the secret.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "sign.h"
#include "strutil.h"
#include "xalloc.h"

#define SIGN_KEY_BYTES 32     /* sign_secret_new: 256 random bits */
#define SIGN_KEY_MAX 384      /* largest decoded key accepted */
#define SIGN_B64_MAX 512      /* base64 text of SIGN_KEY_MAX bytes */
#define SIGN_DIGEST_LEN 32    /* SHA-256 */
#define SIGN_TS_SIZE 24       /* "-9223372036854775808" + NUL fits */
#define SIGN_EC_SIG_MAX 72    /* DER ECDSA P-256: SEQUENCE of two 33-byte INTEGERs */
#define SIGN_P256_COORD 32    /* bytes of a P-256 coordinate */
#define SIGN_MG_RAND 25       /* random bytes of a Mailgun token: 50 hex digits */

static const char sign_ec_bad[] = "not a base64 PKCS#8 P-256 private key";

/* DER SubjectPublicKeyInfo of a P-256 key up to its point (RFC 5480):
 * SEQUENCE(89) { SEQUENCE(19) { OID id-ecPublicKey, OID prime256v1 },
 * BIT STRING(66) 0 unused bits, 0x04 (uncompressed) }; X and Y follow. */
static const unsigned char sign_p256_spki[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
    0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
};

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Report the failed OpenSSL call with the oldest queued reason, and empty
 * the thread's error queue so the next caller does not inherit it. */
static int sign_ossl_err(mh_err_t *err, const char *what)
{
    unsigned long e = ERR_get_error();
    char reason[256] = "no reason given";

    if (e != 0)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    return mh_err_set(err, "%s failed: %s", what, reason);
}

/* Number of '=' at the end of the base64 text b64 of length len, or -1
 * when the text is not strict standard base64. */
static int sign_b64_padding(const char *b64, size_t len)
{
    size_t body = strspn(b64, b64_alphabet);
    size_t pad = len - body;

    if (len == 0 || len % 4 != 0 || pad > 2)
        return -1;
    for (size_t i = body; i < len; i++)
        if (b64[i] != '=')
            return -1;
    return (int)pad;
}

/*
 * Decode the key of a Standard Webhooks secret: the base64 text after an
 * optional "whsec_" prefix. key holds SIGN_KEY_MAX bytes; *keylen receives
 * the decoded length. The caller wipes key.
 */
static int sign_key_decode(const char *secret, unsigned char key[SIGN_KEY_MAX], size_t *keylen,
                           mh_err_t *err)
{
    size_t plen = strlen(SIGN_SECRET_PREFIX), len;
    int pad, n;

    if (strncmp(secret, SIGN_SECRET_PREFIX, plen) == 0)
        secret += plen;
    len = strlen(secret);
    if (len == 0)
        return mh_err_set(err, "secret is empty");
    if (len > SIGN_B64_MAX)
        return mh_err_set(err, "secret is longer than %d base64 characters", SIGN_B64_MAX);
    if ((pad = sign_b64_padding(secret, len)) < 0)
        return mh_err_set(err, "secret is not valid base64 (standard alphabet, padded)");
    n = EVP_DecodeBlock(key, (const unsigned char *)secret, (int)len);
    if (n < 0 || n - pad <= 0)
        return mh_err_set(err, "secret is not valid base64 (standard alphabet, padded)");
    *keylen = (size_t)(n - pad);
    return 0;
}

/* The HMAC implementation, fetched once: a fetch looks through the
 * providers under a lock, which cost more than signing a small body. */
static EVP_MAC *sign_mac;
static pthread_once_t sign_mac_once = PTHREAD_ONCE_INIT;

static void sign_mac_fetch(void)
{
    sign_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static EVP_MAC *sign_hmac_mac(void)
{
    pthread_once(&sign_mac_once, sign_mac_fetch);
    return sign_mac;
}

/* The last key this thread signed with, and a context set up for it,
 * when the thread asked for it (sign_thread_cache): the engine signs every
 * request of an endpoint with the same key, and re-initializing a keyed
 * context skips the key set-up and allocations (EVP_MAC_init with a NULL
 * key keeps the key). Other threads get a fresh context per signature. */
static __thread bool sign_cache_on;
static __thread EVP_MAC_CTX *sign_ctx;
static __thread unsigned char sign_ctx_key[SIGN_KEY_MAX];
static __thread size_t sign_ctx_keylen;

/* Likewise the parsed EC key of the last ECDSA key text (sign_ec_key). */
static __thread EVP_PKEY *sign_ec_pkey;
static __thread char sign_ec_text[SIGN_B64_MAX];
static __thread size_t sign_ec_textlen;

static void sign_ec_forget(void)
{
    EVP_PKEY_free(sign_ec_pkey); /* frees and cleanses the private value */
    sign_ec_pkey = NULL;
    secure_wipe(sign_ec_text, sizeof(sign_ec_text));
    sign_ec_textlen = 0;
}

void sign_thread_cache(bool on)
{
    sign_cache_on = on;
    if (!on) {
        EVP_MAC_CTX_free(sign_ctx);
        sign_ctx = NULL;
        secure_wipe(sign_ctx_key, sizeof(sign_ctx_key));
        sign_ctx_keylen = 0;
        sign_ec_forget();
    }
}

static EVP_MAC_CTX *sign_hmac_ctx(const void *key, size_t keylen)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac = sign_hmac_mac();
    EVP_MAC_CTX *ctx;

    if (!sign_cache_on) {
        ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
        if (ctx && !EVP_MAC_init(ctx, key, keylen, params)) {
            EVP_MAC_CTX_free(ctx);
            ctx = NULL;
        }
        return ctx;
    }
    if (sign_ctx && keylen == sign_ctx_keylen && CRYPTO_memcmp(key, sign_ctx_key, keylen) == 0)
        return EVP_MAC_init(sign_ctx, NULL, 0, NULL) ? sign_ctx : NULL;
    if (sign_ctx == NULL && mac)
        sign_ctx = EVP_MAC_CTX_new(mac);
    sign_ctx_keylen = 0;
    if (sign_ctx == NULL || !EVP_MAC_init(sign_ctx, key, keylen, params))
        return NULL;
    if (keylen <= sizeof(sign_ctx_key)) { /* longer keys: set up every time */
        memcpy(sign_ctx_key, key, keylen);
        sign_ctx_keylen = keylen;
    }
    return sign_ctx;
}

/* HMAC-SHA256 over the concatenation of nparts buffers. */
static int sign_hmac(const void *key, size_t keylen, const void *const *parts,
                     const size_t *lens, size_t nparts, unsigned char md[SIGN_DIGEST_LEN],
                     mh_err_t *err)
{
    EVP_MAC_CTX *ctx = sign_hmac_ctx(key, keylen);
    size_t mdlen = 0;
    int ok = ctx != NULL;

    for (size_t i = 0; ok && i < nparts; i++)
        ok = EVP_MAC_update(ctx, parts[i], lens[i]);
    ok = ok && EVP_MAC_final(ctx, md, &mdlen, SIGN_DIGEST_LEN) && mdlen == SIGN_DIGEST_LEN;
    if (!sign_cache_on)
        EVP_MAC_CTX_free(ctx);
    else if (!ok)
        sign_ctx_keylen = 0; /* set the key up again next time */
    return ok ? 0 : sign_ossl_err(err, "HMAC-SHA256");
}

int sign_secret_new(char out[SIGN_SECRET_SIZE], mh_err_t *err)
{
    unsigned char key[SIGN_KEY_BYTES];
    size_t plen = strlen(SIGN_SECRET_PREFIX);

    if (RAND_bytes(key, sizeof(key)) != 1)
        return sign_ossl_err(err, "RAND_bytes");
    memcpy(out, SIGN_SECRET_PREFIX, plen);
    /* 32 bytes -> 44 characters + NUL, well inside SIGN_SECRET_SIZE */
    EVP_EncodeBlock((unsigned char *)out + plen, key, sizeof(key));
    secure_wipe(key, sizeof(key));
    return 0;
}

int sign_standard(const char *secret, const char *msg_id, int64_t ts, const void *body,
                  size_t len, char out[SIGN_STANDARD_SIZE], mh_err_t *err)
{
    unsigned char key[SIGN_KEY_MAX], md[SIGN_DIGEST_LEN];
    char tsbuf[SIGN_TS_SIZE];
    size_t keylen = 0;
    int rc;

    if (sign_key_decode(secret, key, &keylen, err) < 0) {
        secure_wipe(key, sizeof(key));
        return -1;
    }
    /* The signed content is msg_id "." timestamp "." body. */
    snprintf(tsbuf, sizeof(tsbuf), ".%" PRId64 ".", ts);
    {
        const void *parts[] = { msg_id, tsbuf, body ? body : "" };
        const size_t lens[] = { strlen(msg_id), strlen(tsbuf), body ? len : 0 };

        rc = sign_hmac(key, keylen, parts, lens, 3, md, err);
    }
    secure_wipe(key, sizeof(key));
    if (rc < 0)
        return -1;
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, md, sizeof(md)); /* 44 chars + NUL */
    return 0;
}

int sign_hmac_sha256_hex(const char *secret, const void *body, size_t len,
                         char out[SIGN_HEX_SIZE], mh_err_t *err)
{
    unsigned char md[SIGN_DIGEST_LEN];
    const void *parts[] = { body ? body : "" };
    const size_t lens[] = { body ? len : 0 };

    if (secret[0] == 0)
        return mh_err_set(err, "secret is empty");
    if (sign_hmac(secret, strlen(secret), parts, lens, 1, md, err) < 0)
        return -1;
    hex_encode(out, md, sizeof(md));
    return 0;
}

int sign_sha256_secret_body(const char *secret, const void *body, size_t len,
                            char out[SIGN_HEX_SIZE], mh_err_t *err)
{
    unsigned char md[SIGN_DIGEST_LEN];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx;
    int ok;

    if (secret[0] == 0)
        return mh_err_set(err, "secret is empty");
    ctx = EVP_MD_CTX_new();
    ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
         && EVP_DigestUpdate(ctx, secret, strlen(secret))
         && (body == NULL || EVP_DigestUpdate(ctx, body, len))
         && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == SIGN_DIGEST_LEN;
    EVP_MD_CTX_free(ctx); /* cleanses the digest state, which held the secret */
    if (!ok)
        return sign_ossl_err(err, "SHA-256");
    hex_encode(out, md, sizeof(md));
    return 0;
}

bool sign_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    /* Lengths of signatures are public; only the bytes need constant time. */
    if (alen != blen)
        return false;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

/* ---- SendGrid: ECDSA P-256 */

/* The key is an EC key on P-256 (by the group's short or NIST name). */
static bool sign_ec_is_p256(const EVP_PKEY *pkey)
{
    char name[80];
    size_t len = 0;

    if (!EVP_PKEY_is_a(pkey, "EC") || !EVP_PKEY_get_group_name(pkey, name, sizeof(name), &len))
        return false;
    return OBJ_sn2nid(name) == NID_X9_62_prime256v1
           || EC_curve_nist2nid(name) == NID_X9_62_prime256v1;
}

/* The private value is in range and the public point is its own. */
static bool sign_ec_consistent(EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    bool ok = ctx != NULL && EVP_PKEY_private_check(ctx) == 1
              && EVP_PKEY_pairwise_check(ctx) == 1;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* Parse and check the key text key (see sign.h); NULL + err when it is not
 * a base64 PKCS#8 P-256 private key. OpenSSL's reasons are dropped: they
 * would say no more than the message, and nothing about the key leaks. */
static EVP_PKEY *sign_ec_parse(const char *key, mh_err_t *err)
{
    unsigned char der[SIGN_KEY_MAX];
    const unsigned char *p = der;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    EVP_PKEY *pkey = NULL;
    size_t len = strlen(key);
    int pad = -1, n = -1;

    if (len <= SIGN_B64_MAX && (pad = sign_b64_padding(key, len)) >= 0)
        n = EVP_DecodeBlock(der, (const unsigned char *)key, (int)len);
    if (pad >= 0 && n > pad)
        p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, n - pad);
    if (p8 != NULL && p == der + (n - pad))
        pkey = EVP_PKCS82PKEY(p8);
    PKCS8_PRIV_KEY_INFO_free(p8); /* cleanses the private key's octets */
    secure_wipe(der, sizeof(der));
    if (pkey != NULL && (!sign_ec_is_p256(pkey) || !sign_ec_consistent(pkey))) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    ERR_clear_error();
    if (pkey == NULL)
        mh_err_set(err, "%s", sign_ec_bad);
    return pkey;
}

/* The EVP_PKEY of key: the thread's cached one when the cache is on and
 * key is its text, else parsed (and cached when the cache is on). *owned
 * says whether the caller must free it. */
static EVP_PKEY *sign_ec_key(const char *key, bool *owned, mh_err_t *err)
{
    size_t len = strlen(key);
    EVP_PKEY *pkey;

    *owned = false;
    if (sign_cache_on && sign_ec_pkey != NULL && len == sign_ec_textlen
        && CRYPTO_memcmp(key, sign_ec_text, len) == 0)
        return sign_ec_pkey;
    if ((pkey = sign_ec_parse(key, err)) == NULL)
        return NULL;
    if (sign_cache_on && len <= sizeof(sign_ec_text)) { /* longer: parsed every time */
        sign_ec_forget();
        sign_ec_pkey = pkey;
        memcpy(sign_ec_text, key, len);
        sign_ec_textlen = len;
        return pkey;
    }
    *owned = true;
    return pkey;
}

/* base64 of n bytes at in, malloc'ed and NUL-terminated. */
static char *sign_b64_dup(const unsigned char *in, size_t n)
{
    char *out = xmalloc(4 * ((n + 2) / 3) + 1);

    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return out;
}

int sign_ec_key_new(char **out, mh_err_t *err)
{
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    PKCS8_PRIV_KEY_INFO *p8 = pkey != NULL ? EVP_PKEY2PKCS8(pkey) : NULL;
    unsigned char der[SIGN_KEY_MAX], *p = der;
    int n = p8 != NULL ? i2d_PKCS8_PRIV_KEY_INFO(p8, NULL) : -1;

    if (n > 0 && (size_t)n <= sizeof(der))
        n = i2d_PKCS8_PRIV_KEY_INFO(p8, &p);
    else
        n = -1;
    PKCS8_PRIV_KEY_INFO_free(p8);
    EVP_PKEY_free(pkey);
    if (n <= 0) {
        secure_wipe(der, sizeof(der));
        return sign_ossl_err(err, "P-256 key generation");
    }
    *out = sign_b64_dup(der, (size_t)n);
    secure_wipe(der, sizeof(der));
    return 0;
}

int sign_ec_public_key(const char *key, char **out, mh_err_t *err)
{
    unsigned char spki[sizeof(sign_p256_spki) + 2 * SIGN_P256_COORD];
    unsigned char *xy = spki + sizeof(sign_p256_spki);
    BIGNUM *x = NULL, *y = NULL;
    bool owned;
    EVP_PKEY *pkey = sign_ec_key(key, &owned, err);
    int ok;

    if (pkey == NULL)
        return -1;
    ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x)
         && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y)
         && BN_bn2binpad(x, xy, SIGN_P256_COORD) == SIGN_P256_COORD
         && BN_bn2binpad(y, xy + SIGN_P256_COORD, SIGN_P256_COORD) == SIGN_P256_COORD;
    BN_free(x);
    BN_free(y);
    if (owned)
        EVP_PKEY_free(pkey);
    if (!ok)
        return sign_ossl_err(err, "P-256 public key");
    memcpy(spki, sign_p256_spki, sizeof(sign_p256_spki));
    *out = sign_b64_dup(spki, sizeof(spki));
    return 0;
}

int sign_ecdsa_p256(const char *key, int64_t ts, const void *body, size_t len, char **out,
                    mh_err_t *err)
{
    unsigned char sig[SIGN_EC_SIG_MAX];
    size_t siglen = sizeof(sig);
    char tsbuf[SIGN_TS_SIZE];
    bool owned;
    EVP_PKEY *pkey = sign_ec_key(key, &owned, err);
    EVP_MD_CTX *md;
    int ok;

    if (pkey == NULL)
        return -1;
    /* The signed content is the timestamp's decimal text, then the body. */
    snprintf(tsbuf, sizeof(tsbuf), "%" PRId64, ts);
    md = EVP_MD_CTX_new();
    ok = md != NULL && EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, pkey, NULL) == 1
         && EVP_DigestSignUpdate(md, tsbuf, strlen(tsbuf)) == 1
         && (len == 0 || EVP_DigestSignUpdate(md, body, len) == 1)
         && EVP_DigestSignFinal(md, sig, &siglen) == 1;
    EVP_MD_CTX_free(md);
    if (owned)
        EVP_PKEY_free(pkey);
    if (!ok)
        return sign_ossl_err(err, "ECDSA P-256 signature");
    *out = sign_b64_dup(sig, siglen);
    return 0;
}

/* ---- Mailgun: HMAC-SHA256 of timestamp || token, in the body */

int sign_mailgun_token(const char *key, int64_t ts, const char *token, char out[SIGN_HEX_SIZE],
                       mh_err_t *err)
{
    unsigned char md[SIGN_DIGEST_LEN];
    char tsbuf[SIGN_TS_SIZE];

    if (key[0] == 0)
        return mh_err_set(err, "secret is empty");
    snprintf(tsbuf, sizeof(tsbuf), "%" PRId64, ts);
    {
        const void *parts[] = { tsbuf, token };
        const size_t lens[] = { strlen(tsbuf), strlen(token) };

        if (sign_hmac(key, strlen(key), parts, lens, 2, md, err) < 0)
            return -1;
    }
    hex_encode(out, md, sizeof(md));
    return 0;
}

int sign_mailgun(const char *key, int64_t ts, char token[SIGN_MAILGUN_TOKEN_SIZE],
                 char out[SIGN_HEX_SIZE], mh_err_t *err)
{
    unsigned char rnd[SIGN_MG_RAND];
    char tok[SIGN_MAILGUN_TOKEN_SIZE];

    if (key[0] == 0)
        return mh_err_set(err, "secret is empty");
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return sign_ossl_err(err, "RAND_bytes");
    hex_encode(tok, rnd, sizeof(rnd));
    if (sign_mailgun_token(key, ts, tok, out, err) < 0)
        return -1;
    memcpy(token, tok, sizeof(tok));
    return 0;
}

static bool sign_json_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* s holds exactly n lowercase hex digits. */
static bool sign_is_hex(const char *s, size_t n)
{
    return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/*
 * Follow the object text that starts at *p (its '{') up to its matching
 * '}', leaving *p after it: strings are skipped with their escapes, depth
 * counts brackets. -1 when the text ends first, or when a top-level key
 * (a string at depth 1 after '{' or ',') is "signature".
 */
static int sign_mg_object(const char **p, const char *end)
{
    size_t depth = 0;
    bool key_next = false;

    while (*p < end) {
        char c = *(*p)++;

        if (c == '"') {
            const char *s = *p;

            while (*p < end && **p != '"')
                *p += **p == '\\' && *p + 1 < end ? 2 : 1;
            if (*p >= end)
                return -1;
            if (depth == 1 && key_next && *p - s == 9 && memcmp(s, "signature", 9) == 0)
                return -1;
            (*p)++;
            key_next = false;
        } else if (c == '{' || c == '[') {
            depth++;
            key_next = c == '{' && depth == 1;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return 0;
        } else if (c == ',') {
            key_next = depth == 1;
        }
    }
    return -1;
}

char *sign_mailgun_body(const char *body, size_t len, int64_t ts, const char *token,
                        const char *sig, size_t *outlen)
{
    const char *end = body + len, *open = body, *p, *rest;
    char *member, *out;
    size_t mlen, n;
    bool empty;

    if (!sign_is_hex(token, SIGN_MAILGUN_TOKEN_SIZE - 1) || !sign_is_hex(sig, SIGN_HEX_SIZE - 1))
        return NULL;
    while (open < end && sign_json_blank(*open))
        open++;
    if (open == end || *open != '{')
        return NULL;
    p = open;
    if (sign_mg_object(&p, end) < 0)
        return NULL;
    for (const char *q = p; q < end; q++)
        if (!sign_json_blank(*q))
            return NULL;
    rest = open + 1;
    while (sign_json_blank(*rest))
        rest++;
    empty = *rest == '}';
    member = xasprintf("\"signature\":{\"timestamp\":\"%" PRId64 "\",\"token\":\"%s\","
                       "\"signature\":\"%s\"}%s",
                       ts, token, sig, empty ? "" : ",");
    mlen = strlen(member);
    n = (size_t)(open + 1 - body);
    out = xmalloc(len + mlen + 1);
    memcpy(out, body, n);
    memcpy(out + n, member, mlen);
    memcpy(out + n + mlen, open + 1, len - n);
    out[len + mlen] = 0;
    free(member);
    *outlen = len + mlen;
    return out;
}
