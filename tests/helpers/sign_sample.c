/* SPDX-License-Identifier: MIT */
/*
 * sign_sample.c - a test program: sign a body file the way a SendGrid or
 * Mailgun endpoint is signed (sign.h), for t0296 to check with SendGrid's
 * own npm package and with Mailgun's documented algorithm.
 *
 *   sign_sample sendgrid [--key KEY] BODY-FILE [TIMESTAMP]
 *       prints four lines: the public key (base64 DER SubjectPublicKeyInfo,
 *       SendGrid's form), the timestamp, the signature made with the
 *       thread cache off, and one made with it on (the key's second use,
 *       from the cache). The key is KEY (base64 PKCS#8), else a fresh one
 *       (sign_ec_key_new).
 *   sign_sample mailgun KEY BODY-FILE [TIMESTAMP]
 *       prints the body (a JSON object) with the Mailgun "signature" member
 *       spliced in, signed with KEY (a fresh token), and no newline added.
 *
 * TIMESTAMP: unix seconds, default now. Exit 0; 1 when signing fails (the
 * reason on stderr); 64 on a usage error. Bodies are read whole, up to
 * SAMPLE_BODY_MAX bytes.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sign.h"
#include "timeutil.h"
#include "xalloc.h"

#define SAMPLE_BODY_MAX (1 << 20)

static void usage(void)
{
    fprintf(stderr, "usage: sign_sample sendgrid [--key KEY] BODY-FILE [TIMESTAMP]\n"
                    "       sign_sample mailgun KEY BODY-FILE [TIMESTAMP]\n");
    exit(64);
}

/* The whole file path (at most SAMPLE_BODY_MAX bytes) into *len bytes. */
static char *read_body(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = xmalloc(SAMPLE_BODY_MAX + 1);

    if (f == NULL) {
        fprintf(stderr, "sign_sample: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    *len = fread(buf, 1, SAMPLE_BODY_MAX + 1, f);
    if (ferror(f) || *len > SAMPLE_BODY_MAX) {
        fprintf(stderr, "sign_sample: %s: unreadable or longer than %d bytes\n", path,
                SAMPLE_BODY_MAX);
        exit(1);
    }
    fclose(f);
    return buf;
}

static int64_t parse_ts(const char *s)
{
    char *end;
    long long v;

    if (s == NULL)
        return time_now_ms() / 1000;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != 0)
        usage();
    return (int64_t)v;
}

static int fail(const mh_err_t *err)
{
    fprintf(stderr, "sign_sample: %s\n", err->text);
    return 1;
}

static int sample_sendgrid(int argc, char **argv)
{
    char *key = NULL, *pub = NULL, *sig[2] = { NULL, NULL }, *body;
    const char *given = NULL;
    mh_err_t err = { "" };
    size_t len;
    int64_t ts;

    if (argc >= 2 && strcmp(argv[0], "--key") == 0) {
        given = argv[1];
        argc -= 2;
        argv += 2;
    }
    if (argc < 1 || argc > 2)
        usage();
    body = read_body(argv[0], &len);
    ts = parse_ts(argc == 2 ? argv[1] : NULL);
    if (given == NULL && sign_ec_key_new(&key, &err) < 0)
        return fail(&err);
    if (given != NULL)
        key = xstrdup(given);
    if (sign_ec_public_key(key, &pub, &err) < 0 ||
        sign_ecdsa_p256(key, ts, body, len, &sig[0], &err) < 0)
        return fail(&err);
    sign_thread_cache(true);
    for (int i = 0; i < 2; i++) { /* the first use fills the cache, the second is from it */
        free(sig[1]);
        if (sign_ecdsa_p256(key, ts, body, len, &sig[1], &err) < 0)
            return fail(&err);
    }
    sign_thread_cache(false);
    printf("%s\n%" PRId64 "\n%s\n%s\n", pub, ts, sig[0], sig[1]);
    secure_wipe(key, strlen(key));
    free(key);
    free(pub);
    free(sig[0]);
    free(sig[1]);
    free(body);
    return 0;
}

static int sample_mailgun(int argc, char **argv)
{
    char token[SIGN_MAILGUN_TOKEN_SIZE], sig[SIGN_HEX_SIZE], *body, *out;
    mh_err_t err = { "" };
    size_t len, outlen = 0;
    int64_t ts;

    if (argc < 2 || argc > 3)
        usage();
    body = read_body(argv[1], &len);
    ts = parse_ts(argc == 3 ? argv[2] : NULL);
    if (sign_mailgun(argv[0], ts, token, sig, &err) < 0)
        return fail(&err);
    out = sign_mailgun_body(body, len, ts, token, sig, &outlen);
    if (out == NULL) {
        fprintf(stderr, "sign_sample: the body is not one JSON object without a top-level "
                        "\"signature\" member\n");
        return 1;
    }
    fwrite(out, 1, outlen, stdout);
    free(out);
    free(body);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "sendgrid") == 0)
        return sample_sendgrid(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "mailgun") == 0)
        return sample_mailgun(argc - 2, argv + 2);
    usage();
    return 64;
}
