/*
 * SPDX-License-Identifier: MIT
 *
 * fuzz_admin.c - libFuzzer entry point for the admin request path: each
 * line of the input is one request to mailhookd's admin dispatch, taken the
 * way the admin socket takes it (admin_cmd.h: admin_job_new with
 * mailhookd's command tables, then admin_job_work, then admin_job_done),
 * here on one thread, against a live
 * store in a temporary directory (TMPDIR, else /tmp; removed at exit) with
 * two endpoints declared in its mailhook.conf ("backup" only into that
 * directory: see fz_backup_check) and a few delivery log
 * records (the engine's, which does not run here). Whatever the request:
 *   - exactly one answer, at once (there is no delivery engine here, so no
 *     answer is deferred: endpoint.test is refused, nothing is ever sent);
 *   - one line of JSON: an object whose "ok" is a boolean, with "code" (one
 *     of admin_proto.h's) and "error" strings when it is false.
 * The store keeps what the requests did from one input to the next (an
 * endpoint added, events backfilled, then replayed) and starts afresh every
 * FUZZ_ADMIN_RESET inputs, so that it stays small and fast.
 * FUZZ_ADMIN_SHOW=1 in the environment prints every answer (to look at
 * what a crash input did: ./fuzz_admin crash-...).
 *
 * Build and run: make fuzz (needs clang), or see tests/t0092-fuzz-admin.sh.
 */
#include "config.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin_backfill.h"
#include "admin_backup.h"
#include "admin_cmd.h"
#include "admin_deliveries.h"
#include "admin_endpoint.h"
#include "admin_events.h"
#include "admin_replay.h"
#include "admin_report.h"
#include "admin_status.h"
#include "append.h"
#include "endpoint_store.h"
#include "fanout.h"
#include "timeutil.h"
#include "xalloc.h"

#define FUZZ_ADMIN_RESET 5000
#define FUZZ_ADMIN_REQUESTS 64 /* lines taken from one input */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[256], fz_state[300];
static mh_conf_t *fz_conf;
static store_t *fz_store;
static fanout_t *fz_fanout;
static struct mhd_counters fz_ctr;
static struct admin_env fz_env; /* no engine, no status side, never stopping */

/* "backup" writes where it is told: here only under the fuzzer's own
 * directory (anything else is refused before admin_backup.c sees it), so
 * that a mutated path never writes a backup elsewhere on the machine. */
static json_t *fz_backup_check(const struct admin_env *env, json_t *req)
{
    const char *dir = json_string_value(json_object_get(req, "dir"));
    size_t n = strlen(fz_dir);

    if (dir && (strncmp(dir, fz_dir, n) != 0 || dir[n] != '/' || strstr(dir, "/..")))
        return admin_error("bad_request", "fuzz_admin: backups only under its directory");
    return admin_backup_commands[0].check(env, req);
}

static json_t *fz_backup_work(const struct admin_env *env, struct admin_job *job, store_t *st,
                              json_t *req)
{
    return admin_backup_commands[0].work(env, job, st, req);
}

static const struct admin_command fz_backup_commands[] = {
    { "backup", fz_backup_check, fz_backup_work, NULL },
    { NULL, NULL, NULL, NULL },
};

static const struct admin_command *const fz_tables[] = {
    admin_status_commands, admin_events_commands, admin_endpoint_commands,
    admin_deliveries_commands, admin_replay_commands, admin_backfill_commands,
    fz_backup_commands, admin_report_commands, NULL,
};
static unsigned long fz_runs;
static bool fz_show;

static const char fz_conf_text[] =
    "user = \"\"\n"
    "log = \"stderr\"\n"
    "state_dir = \"%1$s/state\"\n"
    "spool_dir = \"%1$s/spool\"\n"
    "ingest_socket = \"%1$s/ingest.sock\"\n"
    "admin_socket = \"%1$s/admin.sock\"\n"
    "store_sync = false\n"
    "cache_size = 1048576\n"
    "endpoint \"declared\" {\n"
    "    url = \"https://hooks.example.com/declared\"\n"
    "    types = {\"email.*\"}\n"
    "    secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n"
    "}\n"
    "endpoint \"declared-open\" {\n"
    "    url = \"https://hooks.example.com/open\"\n"
    "    filters = {\"tag=vip\"}\n"
    "}\n";

/* Delivery log records as the engine writes them (delivery_http.c), for
 * deliveries.list/show/retry: a success, a failure of two events (one of
 * them the seeds' evt_...A), a test send, one of an endpoint that is gone. */
static const char *const fz_deliveries[] = {
    "{\"id\":\"dlv_01J0000000000000000000000A\",\"time\":\"2026-01-01T00:00:01.000Z\","
    "\"endpoint\":\"declared\",\"webhook_id\":\"evt_01J0000000000000000000000A\","
    "\"events\":[\"evt_01J0000000000000000000000A\"],\"types\":[\"email.delivered\"],"
    "\"attempt\":1,\"status\":200,\"duration_ms\":12,\"ok\":true,\"error\":null,"
    "\"response\":\"ok\",\"url\":\"https://hooks.example.com/declared\",\"test\":false}",
    "{\"id\":\"dlv_01J0000000000000000000000B\",\"time\":\"2026-01-01T00:00:02.000Z\","
    "\"endpoint\":\"declared-open\",\"webhook_id\":\"msg_01J0000000000000000000000B\","
    "\"events\":[\"evt_01J0000000000000000000000A\",\"evt_01J0000000000000000000000Z\"],"
    "\"types\":[\"email.delivered\",\"app.signup\"],\"attempt\":3,\"status\":503,"
    "\"duration_ms\":30,\"ok\":false,\"error\":\"HTTP 503\",\"response\":\"busy\","
    "\"url\":\"https://hooks.example.com/open\",\"test\":false}",
    "{\"id\":\"dlv_01J0000000000000000000000C\",\"time\":\"2026-01-01T00:00:03.000Z\","
    "\"endpoint\":\"declared\",\"webhook_id\":\"evt_01J0000000000000000000000T\","
    "\"events\":[\"evt_01J0000000000000000000000T\"],\"types\":[\"email.delivered\"],"
    "\"attempt\":1,\"status\":0,\"duration_ms\":3000,\"ok\":false,"
    "\"error\":\"timed out\",\"response\":\"\",\"url\":\"https://hooks.example.com/declared\","
    "\"test\":true}",
    "{\"id\":\"dlv_01J0000000000000000000000D\",\"time\":\"2026-01-01T00:00:04.000Z\","
    "\"endpoint\":\"removed\",\"events\":[\"evt_01J0000000000000000000000A\",7],"
    "\"types\":[],\"attempt\":1,\"status\":410,\"duration_ms\":1,\"ok\":false,"
    "\"error\":\"HTTP 410\",\"response\":\"\",\"url\":\"https://gone.example.com/\","
    "\"test\":false}",
    NULL,
};

/* Each record under its id (the 30 bytes after {"id":"). */
static void fz_put_deliveries(store_t *st)
{
    store_txn_t *txn;
    mh_err_t err;
    int rc = 0;

    if ((txn = store_begin(st, &err)) == NULL)
        msg_fatal(EX_SOFTWARE, "fuzz_admin: %s", err.text);
    for (size_t i = 0; rc == 0 && fz_deliveries[i]; i++) {
        char id[31];

        snprintf(id, sizeof(id), "%.30s", fz_deliveries[i] + 7);
        rc = store_kv_put(txn, STORE_DELIVERIES, id, fz_deliveries[i], strlen(fz_deliveries[i]),
                          &err);
    }
    if (rc < 0 || store_commit(txn, &err) < 0)
        msg_fatal(EX_SOFTWARE, "fuzz_admin: %s", err.text);
}

static int fz_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void fz_rm_tree(const char *path)
{
    nftw(path, fz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh store, the declared endpoints synced into it (as at start). */
static void fz_store_open(void)
{
    struct store_opts opts = { .nosync = true, .cache_bytes = 1024 * 1024 };
    json_t *declared = endpoint_store_declared_all(fz_conf);
    mh_err_t err;

    if ((fz_store = store_open(fz_state, &opts, &err)) == NULL)
        msg_fatal(EX_UNAVAILABLE, "fuzz_admin: %s", err.text);
    fz_fanout = fanout_new();
    if (endpoint_store_sync(fz_store, fz_fanout, declared, &err) < 0)
        msg_fatal(EX_SOFTWARE, "fuzz_admin: %s", err.text);
    json_decref(declared);
    fz_put_deliveries(fz_store);
    fz_env = (struct admin_env){ .conf = fz_conf, .fanout = fz_fanout,
                                 .append = append_new(fz_fanout, &fz_ctr), .ctr = &fz_ctr };
}

static void fz_store_close(void)
{
    store_close(fz_store);
    fz_env.append = append_free(fz_env.append);
    fz_fanout = fanout_free(fz_fanout);
    fz_rm_tree(fz_state);
}

static void fz_atexit(void)
{
    fz_store_close();
    conf_unref(fz_conf);
    fz_rm_tree(fz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");
    char path[320];
    mh_err_t err;
    FILE *fp;

    snprintf(fz_dir, sizeof(fz_dir), "%s/fuzz_admin.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(fz_dir) == NULL)
        msg_fatal(EX_CANTCREAT, "fuzz_admin: mkdtemp %s", fz_dir);
    snprintf(fz_state, sizeof(fz_state), "%s/state", fz_dir);
    snprintf(path, sizeof(path), "%s/mailhook.conf", fz_dir);
    if ((fp = fopen(path, "w")) == NULL)
        msg_fatal(EX_CANTCREAT, "fuzz_admin: %s", path);
    fprintf(fp, fz_conf_text, fz_dir);
    fclose(fp);
    if ((fz_conf = conf_load(path, &err)) == NULL)
        msg_fatal(EX_CONFIG, "fuzz_admin: %s", err.text);
    fz_show = getenv("FUZZ_ADMIN_SHOW") != NULL;
    fz_store_open();
    atexit(fz_atexit);
    return 0;
}

static const char *const fz_codes[] = { "not_found", "bad_request", "exists", "conflict",
                                        "busy",      "internal",    NULL };

static bool fz_known_code(const char *code)
{
    for (size_t i = 0; code && fz_codes[i]; i++)
        if (strcmp(code, fz_codes[i]) == 0)
            return true;
    return false;
}

/* admin_answer_fn: one answer, as admin_proto.h says. */
static void fz_answer(void *ctx, const char *text, size_t len)
{
    unsigned *answers = ctx;
    json_t *a = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL), *ok = json_object_get(a, "ok");

    ++*answers;
    if (fz_show)
        fprintf(stderr, "fuzz_admin: %.*s\n", (int)len, text);
    if (memchr(text, '\n', len) != NULL || !json_is_object(a) || !json_is_boolean(ok))
        abort();
    if (json_is_false(ok) && (!fz_known_code(json_string_value(json_object_get(a, "code"))) ||
                              !json_is_string(json_object_get(a, "error"))))
        abort();
    json_decref(a);
}

static void fz_request(const char *line, size_t len)
{
    unsigned answers = 0;
    struct admin_job *job = admin_job_new(fz_tables, &fz_env, line, len, fz_answer,
                                          &answers);

    admin_job_work(fz_store, job);
    admin_job_done(job);
    if (answers != 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size, *nl;
    struct fanout_items items = STAILQ_HEAD_INITIALIZER(items);
    size_t len;

    if (++fz_runs % FUZZ_ADMIN_RESET == 0) {
        fz_store_close();
        fz_store_open();
    }
    for (int n = 0; p < end && n < FUZZ_ADMIN_REQUESTS; n++) {
        nl = memchr(p, '\n', (size_t)(end - p));
        len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        fz_request(p, len);
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    /* What the engine would have taken: the committed queue entries. */
    fanout_take(fz_fanout, &items);
    fanout_items_free(&items);
    return 0;
}
