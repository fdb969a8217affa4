/* SPDX-License-Identifier: MIT */
/*
 * sign.c - webhook request signatures and secrets (see sign.h).
 *
 * All cryptography is OpenSSL 3 libcrypto: RAND_bytes for secrets, the
 * EVP_MAC "HMAC" and EVP_MD "SHA256" interfaces (streamed, so the body is
 * never copied next to the id and timestamp), EVP_EncodeBlock and
 * EVP_DecodeBlock for base64, CRYPTO_memcmp for comparison.
 *
 * Base64 secrets are checked here before EVP_DecodeBlock sees them: that
 * call skips leading blanks and trailing blanks and '-', accepts '=' in
 * the middle of the text, and counts '=' padding as decoded zero bytes.
 * A secret is therefore accepted only as strict standard base64 (A-Z
 * a-z 0-9 + /, length a multiple of 4, at most two '=' and only at the
 * end), and the decoded length is reduced by the padding.
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

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "sign.h"
#include "strutil.h"
#include "xalloc.h"

#define SIGN_KEY_BYTES 32     /* sign_secret_new: 256 random bits */
#define SIGN_KEY_MAX 384      /* largest decoded key accepted */
#define SIGN_B64_MAX 512      /* base64 text of SIGN_KEY_MAX bytes */
#define SIGN_DIGEST_LEN 32    /* SHA-256 */
#define SIGN_TS_SIZE 24       /* "-9223372036854775808" + NUL fits */

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

void sign_thread_cache(bool on)
{
    sign_cache_on = on;
    if (!on) {
        EVP_MAC_CTX_free(sign_ctx);
        sign_ctx = NULL;
        secure_wipe(sign_ctx_key, sizeof(sign_ctx_key));
        sign_ctx_keylen = 0;
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

/* TEMPORARY (lead): replaced by the esp-sign branch at merge. */
#include <openssl/x509.h>
int sign_ec_key_new(char **out, mh_err_t *err)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    PKCS8_PRIV_KEY_INFO *p8;
    unsigned char *der = NULL;
    int len;

    if (k == NULL || (p8 = EVP_PKEY2PKCS8(k)) == NULL)
        return sign_ossl_err(err, "EC key");
    len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
    *out = xmalloc((size_t)len * 2 + 4);
    EVP_EncodeBlock((unsigned char *)*out, der, len);
    OPENSSL_free(der);
    PKCS8_PRIV_KEY_INFO_free(p8);
    EVP_PKEY_free(k);
    return 0;
}

int sign_ec_public_key(const char *key, char **out, mh_err_t *err)
{
    unsigned char der[512], *pub = NULL;
    const unsigned char *p = der;
    int n = EVP_DecodeBlock(der, (const unsigned char *)key, (int)strlen(key)), len;
    EVP_PKEY *k;

    if (n <= 0)
        return mh_err_set(err, "not a base64 PKCS#8 P-256 private key");
    while (n > 0 && key[strlen(key) - 1] == '=' && 0)
        n--;
    k = d2i_AutoPrivateKey(NULL, &p, n);
    if (k == NULL)
        return mh_err_set(err, "not a base64 PKCS#8 P-256 private key");
    len = i2d_PUBKEY(k, &pub);
    *out = xmalloc((size_t)len * 2 + 4);
    EVP_EncodeBlock((unsigned char *)*out, pub, len);
    OPENSSL_free(pub);
    EVP_PKEY_free(k);
    return 0;
}
