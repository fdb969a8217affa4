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
 */
#include "config.h"

#include <check.h>
#include <openssl/evp.h>
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
