/* SPDX-License-Identifier: MIT */
/*
 * check_sign.c - unit tests of webhook signatures and secrets (sign.h).
 * Table-driven: one row per case.
 *
 * Expected values other than the Standard Webhooks spec vector were
 * computed independently of this code, with Python 3's hmac/hashlib and
 * cross-checked with the openssl command line, e.g.
 *   printf '%s' BODY | openssl dgst -sha256 -hmac s3cr3t-key
 *   printf '%s%s' s3cr3t-key BODY | openssl dgst -sha256
 *   python3 -c 'import hmac,hashlib,base64; k=base64.b64decode(S);
 *       print(base64.b64encode(hmac.new(k, b"id.1.x", hashlib.sha256).digest()))'
 *
 * ECDSA signatures are randomized, so the SendGrid cases verify what is
 * signed with OpenSSL here (d2i_PUBKEY of the public key we print,
 * EVP_DigestVerify over timestamp || body); the fixed key and its public
 * key come from the openssl command line:
 *   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER |
 *       openssl pkcs8 -topk8 -nocrypt -inform DER -outform DER | base64 -w0
 *   ... | openssl pkey -inform DER -pubout -outform DER | base64 -w0
 * and the same key re-encoded (openssl ec -conv_form compressed [-param_enc
 * explicit] [-no_public] | openssl pkcs8 -topk8 -nocrypt). Mailgun vectors:
 *   printf '%s%s' TIMESTAMP TOKEN | openssl dgst -sha256 -hmac KEY
 */
#include "config.h"

#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "sign.h"

#define N(a) (int)(sizeof(a) / sizeof((a)[0]))

#define BODY "{\"type\":\"email.delivered\",\"data\":{\"recipient\":\"bob@example.net\"}}"

/* ---- Standard Webhooks: secret, id, timestamp, body -> signature */
static const struct {
    const char *secret, *id;
    int64_t ts;
    const char *body, *sig;
} standard_cases[] = {
    /* The test vector of the Standard Webhooks specification. */
    { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
      "{\"test\": 2432232314}", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" },
    /* The same key without the prefix: decoded whole. */
    { "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
      "{\"test\": 2432232314}", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" },
    /* Keys 0x01..0x20 (one '='), 0x01..0x1f (two '='), 0x01..0x1e (none).
     * python3 hmac, see above. HMAC zero-fills keys to its 64-byte block,
     * so '=' decoded as zero key bytes goes unnoticed with these ... */
    { "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=", "id", 1, "x",
      "v1,f3taM6hqUXs0o2E4pRRZtMPQv49gVQtAMlpN4dRyKRo=" },
    { "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw==", "id", 1, "x",
      "v1,+8fc3EcATMyloMn2p1RwOjOGF2cy9TmKLJlrj0TD34w=" },
    { "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0e", "id", 1, "x",
      "v1,f/DhGvMgcSi0nzJNgwIMtdMRFSAakzKx0uO6gsVx/OU=" },
    /* ... but not once key and padding pass 64 bytes: keys 0x01..0x40 (two
     * '=') and 0x01..0x41 (one '='); with the padding kept as key bytes they
     * would sign as v1,+7SQOGcP... and v1,UbXFsZEq... */
    { "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/"
      "QA==",
      "id", 1, "x", "v1,Ol3fyWbkoL4S7SNBs3OtBN0J6JpWkdZ/8KZrZ0/WiIg=" },
    { "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/"
      "QEE=",
      "id", 1, "x", "v1,A6UDtD6DDfjVvOL4LSW/Q4M6bg5DnCLWisLnk6tczQI=" },
    /* Negative timestamp, empty body: HMAC(key, "msg_x.-5."), python3. */
    { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_x", -5, "",
      "v1,c7kUFzS8Z/R/5AF7O7xHBJ9KSJMgYnXiKxmeJd8QWz0=" },
};

START_TEST(test_standard)
{
    char out[SIGN_STANDARD_SIZE];
    mh_err_t err = { "" };
    const char *body = standard_cases[_i].body;

    ck_assert_int_eq(sign_standard(standard_cases[_i].secret, standard_cases[_i].id,
                                   standard_cases[_i].ts, body, strlen(body), out, &err),
                     0);
    ck_assert_str_eq(out, standard_cases[_i].sig);
}
END_TEST

/* With the per-thread cache on, the signer keeps the last key's context:
 * every case twice in a row and then all again in turn, hex ones in
 * between, each against its known answer (a stale key would sign with the
 * wrong one). */
START_TEST(test_key_switching)
{
    char out[SIGN_STANDARD_SIZE], hex[SIGN_HEX_SIZE];
    mh_err_t err = { "" };

    sign_thread_cache(true);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N(standard_cases); i++) {
            const char *body = standard_cases[i].body;

            for (int k = 0; k < 2 - round; k++) {
                ck_assert_int_eq(sign_standard(standard_cases[i].secret, standard_cases[i].id,
                                               standard_cases[i].ts, body, strlen(body), out,
                                               &err),
                                 0);
                ck_assert_str_eq(out, standard_cases[i].sig);
            }
            ck_assert_int_eq(sign_hmac_sha256_hex("key", "The quick brown fox jumps over the "
                                                  "lazy dog", 43, hex, &err), 0);
            ck_assert_str_eq(hex, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a"
                                  "3cd8");
        }
    }
    sign_thread_cache(false);
}
END_TEST

/* ---- secrets that must be refused, with the problem the error names */
static const struct {
    const char *secret, *problem;
} bad_secrets[] = {
    { "", "empty" },
    { "whsec_", "empty" },
    { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", "base64" },  /* not the alphabet */
    { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "base64" },   /* 31 characters */
    { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa=w", "base64" },  /* '=' inside */
    { "whsec_MfKQ9r8GKYqrTwjU=D8ILPZIo2LaLaSw", "base64" },  /* '=' inside */
    { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaL===", "base64" },  /* three '=' */
    { "whsec_====", "base64" },
    { " MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "base64" },       /* EVP would skip it */
    { "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw-", "base64" },       /* EVP would skip it */
    { "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", "base64" },
    { "whsec_MfKQ9r8GKYqrTwjUPD8I-PZIo2LaLaSw", "base64" },  /* URL-safe alphabet */
    { "whsec_MfKQ9r8GKYqrTwjUPD8I_PZIo2LaLaSw", "base64" },
};

START_TEST(test_bad_secret)
{
    char out[SIGN_STANDARD_SIZE];
    mh_err_t err = { "" };

    ck_assert_int_eq(sign_standard(bad_secrets[_i].secret, "msg_1", 1, "{}", 2, out, &err), -1);
    ck_assert_msg(strstr(err.text, bad_secrets[_i].problem) != NULL, "%s", err.text);
    /* The error names the problem, never the value. */
    if (strlen(bad_secrets[_i].secret) > 8)
        ck_assert_ptr_null(strstr(err.text, bad_secrets[_i].secret + 8));
}
END_TEST

START_TEST(test_long_secret)
{
    char secret[1024], out[SIGN_STANDARD_SIZE];
    mh_err_t err = { "" };

    memset(secret, 'A', sizeof(secret) - 1);
    secret[sizeof(secret) - 1] = 0;
    ck_assert_int_eq(sign_standard(secret, "msg_1", 1, "{}", 2, out, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.text, "longer"));
    ck_assert_ptr_null(strstr(err.text, "AAAA"));
}
END_TEST

/* ---- hex HMAC-SHA256 and hex SHA-256(secret || body) */
static const struct {
    const char *secret, *body, *hmac, *sha;
} hex_cases[] = {
    /* openssl dgst -sha256 -hmac s3cr3t-key, and of s3cr3t-key || BODY */
    { "s3cr3t-key", BODY, "f5641d8e4337c640895040df713d68ee89dcb075781071c22f5bcc6928e93fcb",
      "7386372b221183a68edc0d6aeee918d385f3dbd9faa0acb9e178d3b838604a40" },
    /* empty body: python3 hmac.new(b"s3cr3t-key", b"", sha256), sha256(b"s3cr3t-key") */
    { "s3cr3t-key", "", "77ff73c2efef74b2120ec3f9f5fc39bbf5b5b34240f4d1f9e3733bb54be23cee",
      "99ab9660c4e55f77fd420904b46180434242e63be70f6bb54084c9a4abccc941" },
    /* the well-known HMAC example; the secret is used as given, not base64 */
    { "key", "The quick brown fox jumps over the lazy dog",
      "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8", NULL },
};

START_TEST(test_hex)
{
    char out[SIGN_HEX_SIZE];
    const char *body = hex_cases[_i].body;
    mh_err_t err = { "" };

    ck_assert_int_eq(sign_hmac_sha256_hex(hex_cases[_i].secret, body, strlen(body), out, &err),
                     0);
    ck_assert_str_eq(out, hex_cases[_i].hmac);
    if (hex_cases[_i].sha != NULL) {
        ck_assert_int_eq(
            sign_sha256_secret_body(hex_cases[_i].secret, body, strlen(body), out, &err), 0);
        ck_assert_str_eq(out, hex_cases[_i].sha);
    }
}
END_TEST

START_TEST(test_hex_empty_secret)
{
    char out[SIGN_HEX_SIZE];
    mh_err_t err = { "" };

    ck_assert_int_eq(sign_hmac_sha256_hex("", "x", 1, out, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.text, "empty"));
    err.text[0] = 0;
    ck_assert_int_eq(sign_sha256_secret_body("", "x", 1, out, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.text, "empty"));
}
END_TEST

/* ---- new secrets: format, length, key size, uniqueness, usable */
START_TEST(test_secret_new)
{
    static char seen[64][SIGN_SECRET_SIZE];
    const size_t plen = strlen(SIGN_SECRET_PREFIX);
    unsigned char key[48];
    char out[SIGN_STANDARD_SIZE];
    mh_err_t err = { "" };

    for (int i = 0; i < N(seen); i++) {
        char *s = seen[i];

        ck_assert_int_eq(sign_secret_new(s, &err), 0);
        ck_assert_uint_eq(strlen(s), plen + 44);
        ck_assert(strncmp(s, "whsec_", plen) == 0);
        ck_assert_uint_eq(strspn(s + plen, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                           "0123456789+/"),
                          43);
        ck_assert_str_eq(s + plen + 43, "="); /* 32 bytes: one '=' of padding */
        /* 44 characters decode to 33 bytes, of which one is padding */
        ck_assert_int_eq(EVP_DecodeBlock(key, (const unsigned char *)s + plen, 44), 33);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(s, seen[j]);
        ck_assert_int_eq(sign_standard(s, "msg_1", 1, "{}", 2, out, &err), 0);
    }
}
END_TEST

/* ---- constant-time comparison */
static const struct {
    const char *a, *b;
    bool eq;
} equal_cases[] = {
    { "v1,abc", "v1,abc", true },
    { "v1,abc", "v1,abd", false },
    { "v1,abc", "v1,ab", false },
    { "v1,ab", "v1,abc", false }, /* a prefix is not equal */
    { "", "", true },
    { "", "x", false },
    { "Abc", "abc", false },
};

START_TEST(test_equal)
{
    const char *a = equal_cases[_i].a, *b = equal_cases[_i].b;

    ck_assert_int_eq(sign_equal(a, strlen(a), b, strlen(b)), equal_cases[_i].eq);
}
END_TEST

START_TEST(test_equal_binary)
{
    const unsigned char a[] = { 0, 1, 0, 2 }, b[] = { 0, 1, 0, 3 };

    ck_assert(sign_equal(a, sizeof(a), a, sizeof(a)));
    ck_assert(!sign_equal(a, sizeof(a), b, sizeof(b))); /* past a NUL byte */
    ck_assert(sign_equal(a, 3, b, 3));
    /* the longer buffer's extra byte matches what follows the shorter one */
    ck_assert(!sign_equal("ab", 3, "ab", 2));
    ck_assert(!sign_equal("ab", 2, "ab", 3));
}
END_TEST

/* ---- SendGrid: ECDSA P-256 over timestamp || body */

/* A P-256 key (PKCS#8) and its public key, from the openssl CLI (above). */
#define EC_KEY "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1asp8zldMOrS4HZSqJTlMZ24sibO" \
               "vGTfelYt486QA0WhRANCAATYH+FQmiGj5RTac79+U5g5IVoRPF0nJ+FI6IHqbjom1zlkSiebL5z9" \
               "DfkmLjNnQSGxkKArxuylrzDERokzxC6r"
#define EC_PUB "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2B/hUJoho+UU2nO/flOYOSFaETxdJyfhSOiB6m46" \
               "Jtc5ZEonmy+c/Q35Ji4zZ0EhsZCgK8bspa8wxEaJM8Quqw=="

/* The same key in other PKCS#8 encodings: each gives the same public key. */
static const char *const ec_same_key[] = {
    EC_KEY,
    /* compressed point */
    "MGcCAQAwEwYHKoZIzj0CAQYIKoZIzj0DAQcETTBLAgEBBCDVqynzOV0w6tLgdlKolOUxnbiyJs68ZN96Vi3jzpADRaEkA"
    "yIAA9gf4VCaIaPlFNpzv35TmDkhWhE8XScn4UjogepuOibX",
    /* no public key: OpenSSL computes it */
    "MEECAQAwEwYHKoZIzj0CAQYIKoZIzj0DAQcEJzAlAgEBBCDVqynzOV0w6tLgdlKolOUxnbiyJs68ZN96Vi3jzpADRQ==",
    /* compressed point, explicit curve parameters */
    "MIIBWQIBADCCAQMGByqGSM49AgEwgfcCAQEwLAYHKoZIzj0BAQIhAP////8AAAABAAAAAAAAAAAAAAAA////////"
    "////////MFsEIP////8AAAABAAAAAAAAAAAAAAAA///////////////8BCBaxjXYqjqT57PrvVV2mIa8ZR0GsMxT"
    "sPY7zjw+J9JgSwMVAMSdNgiG5wSTamZ44ROdJreBn36QBEEEaxfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiY"
    "wpZP40Li/hp/m47n60p8D54WK84zV2sxXs7LtkBoN79R9QIhAP////8AAAAA//////////+85vqtpxeehPO5ysL8"
    "YyVRAgEBBE0wSwIBAQQg1asp8zldMOrS4HZSqJTlMZ24sibOvGTfelYt486QA0WhJAMiAAPYH+FQmiGj5RTac79+"
    "U5g5IVoRPF0nJ+FI6IHqbjom1w==",
};

/* The public key text pub, parsed by OpenSSL as a SubjectPublicKeyInfo
 * that uses all its bytes. */
static EVP_PKEY *ec_pub_parse(const char *pub)
{
    unsigned char der[256];
    const unsigned char *p = der;
    size_t len = strlen(pub);
    int n;
    EVP_PKEY *k;

    ck_assert_uint_le(len, 4 * sizeof(der) / 3);
    n = EVP_DecodeBlock(der, (const unsigned char *)pub, (int)len);
    ck_assert_int_eq(n, 93); /* 91 bytes and one '=' of padding decoded as 0 */
    k = d2i_PUBKEY(NULL, &p, 91);
    ck_assert_ptr_nonnull(k);
    ck_assert_ptr_eq(p, der + 91);
    return k;
}

/* OpenSSL's verdict on sig (base64 DER) of ts || body under pub. */
static int ec_verify(EVP_PKEY *pub, const char *ts, const char *body, size_t len,
                     const char *sig)
{
    unsigned char der[128];
    int n = EVP_DecodeBlock(der, (const unsigned char *)sig, (int)strlen(sig));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc;

    ck_assert_int_gt(n, 0);
    /* strip what '=' padding decoded to: DER says its own length */
    ck_assert_int_ge(n, der[1] + 2);
    n = der[1] + 2;
    ck_assert_int_eq(EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pub, NULL), 1);
    ck_assert_int_eq(EVP_DigestVerifyUpdate(md, ts, strlen(ts)), 1);
    ck_assert_int_eq(EVP_DigestVerifyUpdate(md, body, len), 1);
    rc = EVP_DigestVerifyFinal(md, der, (size_t)n);
    EVP_MD_CTX_free(md);
    return rc;
}

/* Sign with key and check: it verifies, and not over another body or
 * timestamp. */
static void ec_sign_check(const char *key, EVP_PKEY *pub, int64_t ts, const char *tstext,
                          const char *body)
{
    char *sig = NULL, other[32];
    mh_err_t err = { "" };
    size_t len = strlen(body);

    ck_assert_int_eq(sign_ecdsa_p256(key, ts, len ? body : NULL, len, &sig, &err), 0);
    ck_assert_ptr_nonnull(sig);
    ck_assert_uint_le(strlen(sig), 96);
    ck_assert_int_eq(ec_verify(pub, tstext, body, len, sig), 1);
    ck_assert_int_eq(ec_verify(pub, tstext, "x", 1, sig), 0); /* another body */
    snprintf(other, sizeof(other), "%s0", tstext);
    ck_assert_int_eq(ec_verify(pub, other, body, len, sig), 0); /* another timestamp */
    free(sig);
}

/* A fresh key, with the cache off (_i 0) and on (_i 1): the public key has
 * SendGrid's form, OpenSSL verifies what we sign. */
START_TEST(test_ec_new_sign_verify)
{
    char *key = NULL, *pub = NULL, *pub2 = NULL;
    mh_err_t err = { "" };
    EVP_PKEY *k;

    sign_thread_cache(_i == 1);
    ck_assert_int_eq(sign_ec_key_new(&key, &err), 0);
    ck_assert_uint_eq(strlen(key), 184); /* 138 DER bytes: fits EP_SECRET_MAX */
    ck_assert(strncmp(key, "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEH", 36) == 0);
    ck_assert_int_eq(sign_ec_public_key(key, &pub, &err), 0);
    ck_assert_uint_eq(strlen(pub), 124);
    ck_assert(strncmp(pub, "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE", 36) == 0);
    k = ec_pub_parse(pub);
    ec_sign_check(key, k, 1700000000, "1700000000", BODY);
    ec_sign_check(key, k, 1700000000, "1700000000", BODY); /* again (cached) */
    ec_sign_check(key, k, -5, "-5", "");                    /* no body */
    ck_assert_int_eq(sign_ec_public_key(key, &pub2, &err), 0);
    ck_assert_str_eq(pub2, pub);
    EVP_PKEY_free(k);
    free(pub);
    free(pub2);
    free(key);
    sign_thread_cache(false);
}
END_TEST

/* Two new keys are different. */
START_TEST(test_ec_new_unique)
{
    char *a = NULL, *b = NULL;
    mh_err_t err = { "" };

    ck_assert_int_eq(sign_ec_key_new(&a, &err), 0);
    ck_assert_int_eq(sign_ec_key_new(&b, &err), 0);
    ck_assert_str_ne(a, b);
    free(a);
    free(b);
}
END_TEST

/* The fixed key in each encoding: the openssl CLI's public key, and
 * signatures that verify under it. */
START_TEST(test_ec_known_key)
{
    char *pub = NULL;
    mh_err_t err = { "" };
    EVP_PKEY *k = ec_pub_parse(EC_PUB);

    ck_assert_int_eq(sign_ec_public_key(ec_same_key[_i], &pub, &err), 0);
    ck_assert_str_eq(pub, EC_PUB);
    ec_sign_check(ec_same_key[_i], k, 1588788367, "1588788367", BODY);
    EVP_PKEY_free(k);
    free(pub);
}
END_TEST

/* ---- keys that must be refused */
static const char *const bad_ec_keys[] = {
    "",
    "not base64!",
    "AAAA",
    EC_KEY "AAAA",      /* trailing bytes after the DER */
    " " EC_KEY,         /* EVP_DecodeBlock would skip the blank */
    "-----BEGIN PRIVATE KEY-----\n" EC_KEY "\n-----END PRIVATE KEY-----\n",
    /* the fixed key as SEC1 ECPrivateKey (openssl ec -outform DER), not PKCS#8 */
    "MHcCAQEEINWrKfM5XTDq0uB2UqiU5TGduLImzrxk33pWLePOkANFoAoGCCqGSM49AwEHoUQDQgAE2B/hUJoho+UU2nO/fl"
    "OYOSFaETxdJyfhSOiB6m46Jtc5ZEonmy+c/Q35Ji4zZ0EhsZCgK8bspa8wxEaJM8Quqw==",
    /* P-384 */
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCiU+NbSH5EzOlSpWcOJF4Yy7mASQcIbzakVOptv3StmkCGgd"
    "x9Vf+1jcvtNqMpOkyhZANiAASAGrCFnT+TvAgWnzJGxvEUSdn4eOOIFLPnbPPjqd2U7U/yof/c/S1jBPG+aUw1BrBWENer"
    "u7QqXLfgg3qaBExRlxtUy7Jm6BGFgRPsPRZgw9mPOYxVnwG4FUub8QEwQng=",
    /* secp256k1: 256 bits, not P-256 */
    "MIGEAgEAMBAGByqGSM49AgEGBSuBBAAKBG0wawIBAQQgSgrpTMOG0aWTJhpjU6KJNWz49xO65F7YPFLct8oQSHqhRANCAA"
    "S9pOf575u0kfH0DZFCjP/8wh+xZi19OM9nSTAjyN9/F5hgUdeGHeB0xIFADNtmaT5T6mhXycLxIT7XLIfEd0Fe",
    /* Ed25519 */
    "MC4CAQAwBQYDK2VwBCIEIFJY6dBQuzjdznxqv38htq+pzQ6hmCV2gjKgMfI+ZWak",
    /* a Standard Webhooks secret */
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
};

static void ec_refused(const char *key)
{
    char *out = NULL;
    mh_err_t err = { "" };

    ck_assert_int_eq(sign_ecdsa_p256(key, 1, "{}", 2, &out, &err), -1);
    ck_assert_str_eq(err.text, "not a base64 PKCS#8 P-256 private key");
    ck_assert_ptr_null(out);
    err.text[0] = 0;
    ck_assert_int_eq(sign_ec_public_key(key, &out, &err), -1);
    ck_assert_str_eq(err.text, "not a base64 PKCS#8 P-256 private key");
    ck_assert_ptr_null(out);
}

START_TEST(test_ec_bad_key)
{
    ec_refused(bad_ec_keys[_i]);
}
END_TEST

/* The fixed key's DER with its private value or public point altered: a
 * private value past the group order, and the public point of another key
 * (the structure stays valid; only the key checks can tell). OpenSSL's
 * PKCS#8 layout: the 32 private bytes at 36, the 65-byte point at 73. */
START_TEST(test_ec_inconsistent_key)
{
    unsigned char der[140], other[140];
    char text[200], *fresh = NULL;
    mh_err_t err = { "" };

    ck_assert_int_eq(EVP_DecodeBlock(der, (const unsigned char *)EC_KEY, 184), 138);
    ck_assert_int_eq(der[34], 0x04); /* OCTET STRING ... */
    ck_assert_int_eq(der[35], 0x20); /* ... of 32 bytes */
    ck_assert_int_eq(der[72], 0x00); /* BIT STRING's unused bits */
    ck_assert_int_eq(der[73], 0x04); /* uncompressed point */
    memset(der + 36, 0xff, 32);
    EVP_EncodeBlock((unsigned char *)text, der, 138);
    ec_refused(text);

    ck_assert_int_eq(EVP_DecodeBlock(der, (const unsigned char *)EC_KEY, 184), 138);
    ck_assert_int_eq(sign_ec_key_new(&fresh, &err), 0);
    ck_assert_int_eq(EVP_DecodeBlock(other, (const unsigned char *)fresh, 184), 138);
    memcpy(der + 73, other + 73, 65);
    EVP_EncodeBlock((unsigned char *)text, der, 138);
    ec_refused(text);
    free(fresh);
}
END_TEST

/* With the cache on, keys in turn (a stale key would sign for the wrong
 * public key), a refused key in between (the cached one stays usable),
 * then the cache off again. */
START_TEST(test_ec_cache_switching)
{
    char *keys[2] = { NULL, NULL }, *pub;
    EVP_PKEY *pubs[2];
    mh_err_t err = { "" };

    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(sign_ec_key_new(&keys[i], &err), 0);
        ck_assert_int_eq(sign_ec_public_key(keys[i], &pub, &err), 0);
        pubs[i] = ec_pub_parse(pub);
        free(pub);
    }
    sign_thread_cache(true);
    for (int round = 0; round < 6; round++) {
        int i = round % 2;
        char ts[8];

        snprintf(ts, sizeof(ts), "%d", round);
        ec_sign_check(keys[i], pubs[i], round, ts, BODY);
        if (round == 2)
            ec_refused(bad_ec_keys[3]);
        ec_sign_check(keys[i], pubs[i], 7, "7", BODY);
    }
    sign_thread_cache(false);
    ec_sign_check(keys[0], pubs[0], 8, "8", BODY);
    for (int i = 0; i < 2; i++) {
        EVP_PKEY_free(pubs[i]);
        free(keys[i]);
    }
}
END_TEST

/* ---- Mailgun: HMAC-SHA256(key, timestamp || token), hex */
static const struct {
    const char *key;
    int64_t ts;
    const char *token, *sig;
} mailgun_cases[] = {
    { "key-3ax6xnjp29jd6fds4gc373sgvjxteol0", 1529006854,
      "a8ce0edb2dd8301dea6c90e01e2dd6cb31b1b18a4fb0d2da7d",
      "024fda691971ca0c248deede4f94189c1f20557729f6ef537afba04c9300e710" },
    { "k", -1, "00000000000000000000000000000000000000000000000000",
      "00c657aaafc30d47ad3586273ecb477499dee5b4bdd2416d98ddda9ec843c337" },
};

START_TEST(test_mailgun_known)
{
    char out[SIGN_HEX_SIZE];
    mh_err_t err = { "" };

    sign_thread_cache(_i >= N(mailgun_cases));
    _i %= N(mailgun_cases);
    ck_assert_int_eq(sign_mailgun_token(mailgun_cases[_i].key, mailgun_cases[_i].ts,
                                        mailgun_cases[_i].token, out, &err),
                     0);
    ck_assert_str_eq(out, mailgun_cases[_i].sig);
    sign_thread_cache(false);
}
END_TEST

/* Fresh tokens: 50 lowercase hex digits, all different, each signed as
 * OpenSSL's one-shot HMAC computes it here. */
START_TEST(test_mailgun_fresh)
{
    static char seen[32][SIGN_MAILGUN_TOKEN_SIZE];
    const char *key = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
    char out[SIGN_HEX_SIZE], msg[80], hex[SIGN_HEX_SIZE];
    unsigned char md[32];
    unsigned int mdlen = 0;
    mh_err_t err = { "" };

    for (int i = 0; i < N(seen); i++) {
        ck_assert_int_eq(sign_mailgun(key, 1700000000 + i, seen[i], out, &err), 0);
        ck_assert_uint_eq(strlen(seen[i]), 50);
        ck_assert_uint_eq(strspn(seen[i], "0123456789abcdef"), 50);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(seen[i], seen[j]);
        snprintf(msg, sizeof(msg), "%d%s", 1700000000 + i, seen[i]);
        ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, (int)strlen(key), (unsigned char *)msg,
                                   strlen(msg), md, &mdlen));
        for (unsigned int k = 0; k < mdlen; k++)
            snprintf(hex + 2 * k, 3, "%02x", md[k]);
        ck_assert_str_eq(out, hex);
    }
}
END_TEST

START_TEST(test_mailgun_empty_key)
{
    char token[SIGN_MAILGUN_TOKEN_SIZE] = "", out[SIGN_HEX_SIZE] = "";
    mh_err_t err = { "" };

    ck_assert_int_eq(sign_mailgun("", 1, token, out, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.text, "empty"));
    ck_assert_str_eq(token, ""); /* written only on success */
    ck_assert_int_eq(sign_mailgun_token("", 1, mailgun_cases[0].token, out, &err), -1);
}
END_TEST

/* ---- the signature member spliced into the body */
#define MG_TOK "a8ce0edb2dd8301dea6c90e01e2dd6cb31b1b18a4fb0d2da7d"
#define MG_SIG "024fda691971ca0c248deede4f94189c1f20557729f6ef537afba04c9300e710"
#define MG_MEMBER "\"signature\":{\"timestamp\":\"1529006854\",\"token\":\"" MG_TOK \
                  "\",\"signature\":\"" MG_SIG "\"}"

static const struct {
    const char *body, *want; /* want NULL: refused */
} mg_body_cases[] = {
    { "{}", "{" MG_MEMBER "}" },
    { "{\"event-data\":{\"event\":\"delivered\"}}",
      "{" MG_MEMBER ",\"event-data\":{\"event\":\"delivered\"}}" },
    { " {\n} \n", " {" MG_MEMBER "\n} \n" },
    { "{ \"a\":1}", "{" MG_MEMBER ", \"a\":1}" },
    /* "signature" below the top level, or as a value, is data */
    { "{\"a\":{\"signature\":1}}", "{" MG_MEMBER ",\"a\":{\"signature\":1}}" },
    { "{\"a\":\"signature\"}", "{" MG_MEMBER ",\"a\":\"signature\"}" },
    { "{\"a\":[\"signature\",{\"signature\":2}]}",
      "{" MG_MEMBER ",\"a\":[\"signature\",{\"signature\":2}]}" },
    /* escapes and brackets inside strings */
    { "{\"a\":\"x\\\"}\\\\\",\"b\":\"{[\"}", "{" MG_MEMBER ",\"a\":\"x\\\"}\\\\\",\"b\":\"{[\"}" },
    /* a top-level "signature" member already */
    { "{\"signature\":1}", NULL },
    { "{\"a\":[1,2],\"signature\":{}}", NULL },
    { "{\"a\":{\"b\":{}},\"signature\":2}", NULL },
    { "{ \"signature\" : 1}", NULL },
    /* not one object */
    { "", NULL },
    { "  ", NULL },
    { "[]", NULL },
    { "null", NULL },
    { "[{}]", NULL },
    { "{", NULL },
    { "{\"a\":\"}\"", NULL },   /* the '}' is in a string */
    { "{\"a\":\"x\\\"}", NULL }, /* escaped quote: the string never ends */
    { "{}}", NULL },
    { "{} {}", NULL },
    { "{}x", NULL },
};

START_TEST(test_mailgun_body)
{
    const char *body = mg_body_cases[_i].body, *want = mg_body_cases[_i].want;
    size_t outlen = 12345;
    char *out = sign_mailgun_body(body, strlen(body), 1529006854, MG_TOK, MG_SIG, &outlen);

    if (want == NULL) {
        ck_assert_msg(out == NULL, "%s -> %s", body, out);
        ck_assert_uint_eq(outlen, 12345);
        return;
    }
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, want);
    ck_assert_uint_eq(outlen, strlen(want));
    free(out);
}
END_TEST

/* Only the body's len bytes count, and token and sig must be what
 * sign_mailgun writes (they are put in the JSON as they are). */
START_TEST(test_mailgun_body_args)
{
    size_t outlen = 0, first;
    char *out = sign_mailgun_body("{}{\"x\":1}", 2, 7, MG_TOK, MG_SIG, &outlen);

    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(outlen, strlen(out));
    ck_assert_ptr_nonnull(strstr(out, "{\"signature\":{\"timestamp\":\"7\","));
    ck_assert_ptr_null(strstr(out, "\"x\""));
    first = outlen;
    free(out);
    /* uppercase, one digit too many, a quote; the same for sig */
    ck_assert_ptr_null(sign_mailgun_body(
        "{}", 2, 7, "A8CE0EDB2DD8301DEA6C90E01E2DD6CB31B1B18A4FB0D2DA7D", MG_SIG, &outlen));
    ck_assert_ptr_null(sign_mailgun_body("{}", 2, 7, MG_TOK "0", MG_SIG, &outlen));
    ck_assert_ptr_null(sign_mailgun_body(
        "{}", 2, 7, "\"8ce0edb2dd8301dea6c90e01e2dd6cb31b1b18a4fb0d2da7d", MG_SIG, &outlen));
    ck_assert_ptr_null(sign_mailgun_body(
        "{}", 2, 7, MG_TOK, "024FDA691971CA0C248DEEDE4F94189C1F20557729F6EF537AFBA04C9300E710",
        &outlen));
    ck_assert_ptr_null(sign_mailgun_body("{}", 2, 7, MG_TOK, MG_SIG "0", &outlen));
    ck_assert_ptr_null(sign_mailgun_body(
        "{}", 2, 7, MG_TOK, "\"}4fda691971ca0c248deede4f94189c1f20557729f6ef537afba04c9300e710",
        &outlen));
    ck_assert_uint_eq(outlen, first); /* untouched */
}
END_TEST

static Suite *sign_suite(void)
{
    Suite *s = suite_create("sign");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_standard, 0, N(standard_cases));
    tcase_add_loop_test(tc, test_bad_secret, 0, N(bad_secrets));
    tcase_add_test(tc, test_long_secret);
    tcase_add_test(tc, test_key_switching);
    tcase_add_loop_test(tc, test_hex, 0, N(hex_cases));
    tcase_add_test(tc, test_hex_empty_secret);
    tcase_add_test(tc, test_secret_new);
    tcase_add_loop_test(tc, test_equal, 0, N(equal_cases));
    tcase_add_test(tc, test_equal_binary);
    tcase_add_loop_test(tc, test_ec_new_sign_verify, 0, 2);
    tcase_add_test(tc, test_ec_new_unique);
    tcase_add_loop_test(tc, test_ec_known_key, 0, N(ec_same_key));
    tcase_add_loop_test(tc, test_ec_bad_key, 0, N(bad_ec_keys));
    tcase_add_test(tc, test_ec_inconsistent_key);
    tcase_add_test(tc, test_ec_cache_switching);
    tcase_add_loop_test(tc, test_mailgun_known, 0, 2 * N(mailgun_cases));
    tcase_add_test(tc, test_mailgun_fresh);
    tcase_add_test(tc, test_mailgun_empty_key);
    tcase_add_loop_test(tc, test_mailgun_body, 0, N(mg_body_cases));
    tcase_add_test(tc, test_mailgun_body_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sign_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
