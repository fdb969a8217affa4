/* SPDX-License-Identifier: MIT */
/*
 * transform.c - jq programs on events (see transform.h for the model, the
 * confinement, the output rules and the time bound).
 *
 * libjq 1.6 notes. jq_init() leaves the input, debug and out-of-memory
 * callbacks unset (garbage): each is set right after it. A compile error
 * reaches the error callback as "jq: error: MSG at <top-level>, line N:\n
 * LINE", then "jq: N compile error(s)"; the first is kept and rewritten
 * with N relative to the user's program. A runtime error is jq_next()'s
 * invalid value with a message, never the callback. jq_start() resets a
 * state that failed or was halted (jq_reset), so a transform is reusable.
 * The event's text goes in, and the outputs come out, through
 * transform_jv.c (transform_int.h).
 */
#include "config.h"

#include <errno.h>
#include <jq.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cjson.h"
#include "linebuf.h"
#include "msg.h"
#include "timeutil.h"
#include "transform.h"
#include "transform_int.h"
#include "xalloc.h"

/* jq's own texts in an error: cut to this (printable() adds "..."). */
#define TRANSFORM_ERR_TEXT 300

/* Everything a transform must not do, shadowed (transform.h, Confinement).
 * One line: the user's program starts on line 2 of the wrapper. */
#define DENY(name) "def " name ": error(\"" name " is not allowed in a transform\"); "
/* jq 1.6's indices on arrays (`.[$i]`, jv_array_indexes) leaks the
 * elements it compares, on every call, and on strings (_strindices) loops
 * for ever in C, where no time limit reaches, on an empty needle: the same
 * results without either ([] for "", as jq 1.7), and _strindices itself
 * shadowed after them. */
#define INDICES                                                                      \
    "def indices($i): if type == \"array\" and ($i|type) == \"array\" then "          \
    "(if ($i|length) == 0 then [] else . as $a | [range(0; length) | "               \
    "select($a[.:. + ($i|length)] == $i)] end) "                                     \
    "elif type == \"array\" then . as $a | [range(0; length) | select($a[.] == $i)] " \
    "elif type == \"string\" and ($i|type) == \"string\" then "                      \
    "(if $i == \"\" then [] else _strindices($i) end) "                               \
    "else .[$i] end; "                                                               \
    "def index($i): indices($i) | .[0]; def rindex($i): indices($i) | .[-1:][0]; "  \
    "def _strindices($i): indices($i); "
#define PRELUDE                                                                      \
    DENY("halt") DENY("halt_error") "def halt_error(f): error(\"halt_error is not "  \
    "allowed in a transform\"); " DENY("input") DENY("inputs")                       \
    DENY("input_line_number") DENY("modulemeta") DENY("get_search_list")             \
    DENY("get_prog_origin") DENY("get_jq_origin")                                    \
    "def debug: .; def stderr: .; def env: {}; def input_filename: null; "           \
    INDICES                                                                          \
    "{} as $ENV | .[0] as $meta | .[1] | (\n"
#define POSTLUDE "\n)"

struct transform {
    jq_state *jq;
    enum transform_kind kind;
    /* $meta's keys, and the last endpoint name's string (jv refcounts are
     * not atomic: each transform has its own, used by its one thread) */
    jv k_seq, k_attempt, k_endpoint, k_time, k_time_ms;
    char *ep_name;
    jv ep, k_type;
    char last_type[TRANSFORM_TYPE_MAX + 1]; /* transform_last_type */
    /* the watchdog's view of the current run, under mu */
    pthread_mutex_t mu;
    uint64_t gen;      /* runs started */
    bool active;       /* a run is in progress */
    bool halted;       /* the watchdog stopped it */
    uint64_t seen_gen; /* the run the watchdog saw last (its fields) */
    int64_t seen_at;   /* when it first saw it: its thread's CPU time, ms */
    clockid_t cpu;     /* the running thread's CPU clock */
    bool have_cpu;     /* else wall time (time_mono_ms) */
    struct transform *prev, *next; /* the watchdog's list, under wd.mu */
};

/* ---- the watchdog */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC; signalled when the list empties */
    transform_t *list;
    size_t count;
    bool running; /* a thread is (or is about to be) in watchdog_main */
} wd = { .mu = PTHREAD_MUTEX_INITIALIZER };
static pthread_once_t wd_once = PTHREAD_ONCE_INIT;
static atomic_bool wd_running; /* wd.running, read without the lock */
static atomic_int wd_limit_ms = TRANSFORM_TIME_LIMIT_MS;

static void wd_cv_init(void)
{
    pthread_condattr_t ca;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wd.cv, &ca);
    pthread_condattr_destroy(&ca);
}

static void wd_prepare(void) { pthread_mutex_lock(&wd.mu); }
static void wd_parent(void) { pthread_mutex_unlock(&wd.mu); }
/* A child has no watchdog thread (the next run starts one), and its copy
 * of the condition may count the parent's thread as a waiter. */
static void wd_child(void)
{
    wd.running = false;
    atomic_store(&wd_running, false);
    wd_cv_init();
    pthread_mutex_unlock(&wd.mu);
}

static void wd_init(void)
{
    wd_cv_init();
    pthread_atfork(wd_prepare, wd_parent, wd_child);
}

/* The clock a run is timed by: its thread's CPU time, so that a run on a
 * busy machine, descheduled for a while, is not taken for a loop (t->mu
 * held). */
static int64_t wd_run_clock(const transform_t *t)
{
    struct timespec ts;

    if (t->have_cpu && clock_gettime(t->cpu, &ts) == 0)
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return time_mono_ms();
}

/* Stop t's run if it is the one seen for the limit already (wd.mu held). */
static void wd_check(transform_t *t, int limit)
{
    int64_t now;

    pthread_mutex_lock(&t->mu);
    now = t->active && !t->halted ? wd_run_clock(t) : 0;
    if (t->active && !t->halted) {
        if (t->gen != t->seen_gen) {
            t->seen_gen = t->gen;
            t->seen_at = now;
        } else if (now - t->seen_at >= limit) {
            /* numbers and null: nothing the worker's thread frees races */
            jq_halt(t->jq, jv_number(1), jv_null());
            t->halted = true;
        }
    }
    pthread_mutex_unlock(&t->mu);
}

static int wd_poll_ms(int limit)
{
    int p = limit / 4;

    return p < 1 ? 1 : p > TRANSFORM_POLL_MS ? TRANSFORM_POLL_MS : p;
}

static void *wd_main(void *arg)
{
    struct timespec until;
    int64_t now, at;
    int limit;

    pthread_mutex_lock(&wd.mu);
    while (wd.count > 0) {
        now = time_mono_ms();
        limit = atomic_load(&wd_limit_ms);
        for (transform_t *t = wd.list; t; t = t->next)
            wd_check(t, limit);
        at = now + wd_poll_ms(limit);
        until.tv_sec = at / 1000;
        until.tv_nsec = (long)(at % 1000) * 1000000L;
        while (pthread_cond_timedwait(&wd.cv, &wd.mu, &until) == EINTR)
            ;
    }
    wd.running = false;
    atomic_store(&wd_running, false);
    pthread_mutex_unlock(&wd.mu);
    return NULL;
}

static void wd_start(void)
{
    pthread_attr_t attr;
    pthread_t th;
    int rc = 0;

    pthread_mutex_lock(&wd.mu);
    if (!wd.running && wd.count > 0) {
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&th, &attr, wd_main, NULL);
        pthread_attr_destroy(&attr);
        wd.running = rc == 0;
        atomic_store(&wd_running, wd.running);
    }
    pthread_mutex_unlock(&wd.mu);
    if (rc != 0)
        msg_fatal(EX_OSERR, "transform: cannot start the watchdog thread: %s", strerror(rc));
}

static void wd_add(transform_t *t)
{
    pthread_once(&wd_once, wd_init);
    pthread_mutex_lock(&wd.mu);
    t->next = wd.list;
    if (wd.list)
        wd.list->prev = t;
    wd.list = t;
    wd.count++;
    pthread_mutex_unlock(&wd.mu);
}

static void wd_remove(transform_t *t)
{
    pthread_mutex_lock(&wd.mu);
    if (t->prev)
        t->prev->next = t->next;
    else
        wd.list = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (--wd.count == 0)
        pthread_cond_signal(&wd.cv); /* the thread ends now, not at its next poll */
    pthread_mutex_unlock(&wd.mu);
}

/* A run begins (after jq_start: jq_reset must not race jq_halt). */
static void run_enter(transform_t *t)
{
    clockid_t cpu;
    bool have_cpu = pthread_getcpuclockid(pthread_self(), &cpu) == 0; /* no system call */

    if (!atomic_load_explicit(&wd_running, memory_order_relaxed))
        wd_start();

    pthread_mutex_lock(&t->mu);
    t->gen++;
    t->active = true;
    t->have_cpu = have_cpu;
    if (have_cpu)
        t->cpu = cpu;
    pthread_mutex_unlock(&t->mu);
}

/* The run ends: true when the watchdog stopped it. What the run still
 * holds (a halted run's whole stack) is let go of here, on the thread
 * that ran it: jq 1.6 frees values recursively, and one nested ~10^5
 * deep needs a deep stack (the caller's, chosen for it), not that of
 * whichever thread frees t later (jq_teardown). */
static bool run_leave(transform_t *t)
{
    bool halted;

    pthread_mutex_lock(&t->mu);
    t->active = false;
    halted = t->halted;
    t->halted = false;
    pthread_mutex_unlock(&t->mu);
    jq_start(t->jq, jv_null(), 0); /* resets the state: frees the run's values */
    return halted;
}

void transform_set_time_limit(int ms)
{
    atomic_store(&wd_limit_ms, ms < 1 ? 1 : ms);
}

/* ---- errors */

/* jv text, printable and bounded, into out. */
static void jv_text(char *out, size_t outlen, jv s)
{
    if (jv_get_kind(s) == JV_KIND_STRING)
        printable(out, outlen, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
    else
        printable(out, outlen, "(no message)", 12);
}

/* The first compile error jq reports, raw. */
struct compile_errs {
    char first[1024];
    bool have;
};

static void compile_err_cb(void *data, jv msg)
{
    struct compile_errs *c = data;

    if (!c->have && jv_get_kind(msg) == JV_KIND_STRING) {
        size_t n = (size_t)jv_string_length_bytes(jv_copy(msg));
        if (n >= sizeof(c->first))
            n = sizeof(c->first) - 1;
        memcpy(c->first, jv_string_value(msg), n);
        c->first[n] = 0;
        c->have = true;
    }
    jv_free(msg);
}

static void discard_cb(void *data, jv msg) { jv_free(msg); }

static int count_lines(const char *s)
{
    int n = 1;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* "jq: error: MSG at <top-level>, line N:\nLINE" -> "transform: MSG, line
 * N-1: LINE" (the wrapper's first line is the prelude). */
static int compile_error(const struct compile_errs *c, int user_lines, mh_err_t *err)
{
    static const char at[] = " at <top-level>, line ", hint[] = " (Unix shell quoting issues?)";
    char msg[TRANSFORM_ERR_TEXT], src[TRANSFORM_ERR_TEXT / 2];
    const char *m = c->first, *loc, *h, *line;
    char *end;
    long n;

    if (!c->have)
        return mh_err_set(err, "transform: the program does not compile");
    if (strncmp(m, "jq: error: ", 11) == 0)
        m += 11;
    loc = strstr(m, at);
    if (loc == NULL) {
        printable(msg, sizeof(msg), m, strlen(m));
        return mh_err_set(err, "transform: %s", msg);
    }
    h = strstr(m, hint);
    printable(msg, sizeof(msg), m, (size_t)((h && h < loc ? h : loc) - m));
    n = strtol(loc + sizeof(at) - 1, &end, 10) - 1;
    line = *end == ':' && end[1] == '\n' ? end + 2 : "";
    printable(src, sizeof(src), line, strlen(line));
    if (n > user_lines)
        return mh_err_set(err, "transform: %s, at the end of the program", msg);
    return mh_err_set(err, "transform: %s, line %ld: %s", msg, n < 1 ? 1 : n, src);
}

/* r: jq_next's invalid value; -1 + err when it holds an error. Frees r. */
static int runtime_error(jv r, mh_err_t *err)
{
    char text[TRANSFORM_ERR_TEXT];
    jv msg;

    if (!jv_invalid_has_msg(jv_copy(r))) {
        jv_free(r);
        return 0;
    }
    msg = jv_invalid_get_msg(r);
    if (jv_get_kind(msg) == JV_KIND_STRING) {
        jv_text(text, sizeof(text), msg);
        jv_free(msg);
        return mh_err_set(err, "transform: %s", text);
    }
    msg = jv_dump_string(msg, 0); /* error({...}): rare, any text will do */
    jv_text(text, sizeof(text), msg);
    jv_free(msg);
    return mh_err_set(err, "transform: error (not a string): %s", text);
}

static int time_limit_error(mh_err_t *err)
{
    return mh_err_set(err, "transform: time limit (%d ms) exceeded", atomic_load(&wd_limit_ms));
}

/* ---- compile */

static void nomem(void *data)
{
    msg_fatal(EX_OSERR, "transform: out of memory");
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!strchr(" \t\r\n", *s))
            return false;
    return true;
}

transform_t *transform_compile(const char *program, enum transform_kind kind, mh_err_t *err)
{
    struct compile_errs errs = { .have = false };
    transform_t *t;
    char *text;
    int ok;

    if (program == NULL || blank(program)) {
        mh_err_set(err, "transform: the program is empty");
        return NULL;
    }
    t = xcalloc(1, sizeof(*t));
    t->kind = kind;
    t->jq = jq_init();
    if (t->jq == NULL)
        msg_fatal(EX_OSERR, "transform: out of memory");
    jq_set_nomem_handler(t->jq, nomem, NULL);
    jq_set_input_cb(t->jq, NULL, NULL);
    jq_set_debug_cb(t->jq, discard_cb, NULL);
    jq_set_error_cb(t->jq, compile_err_cb, &errs);
    text = xasprintf("%s%s%s", PRELUDE, program, POSTLUDE);
    ok = jq_compile_args(t->jq, text, jv_object());
    free(text);
    jq_set_error_cb(t->jq, discard_cb, NULL);
    if (!ok) {
        compile_error(&errs, count_lines(program), err);
        jq_teardown(&t->jq);
        free(t);
        return NULL;
    }
    t->k_seq = jv_string("seq");
    t->k_attempt = jv_string("attempt");
    t->k_endpoint = jv_string("endpoint");
    t->k_time = jv_string("time");
    t->k_time_ms = jv_string("time_ms");
    t->k_type = jv_string("type");
    t->ep = jv_null();
    pthread_mutex_init(&t->mu, NULL);
    wd_add(t);
    return t;
}

transform_t *transform_free(transform_t *t)
{
    if (t == NULL)
        return NULL;
    wd_remove(t);
    pthread_mutex_destroy(&t->mu);
    jq_teardown(&t->jq);
    jv_free(t->k_seq);
    jv_free(t->k_attempt);
    jv_free(t->k_endpoint);
    jv_free(t->k_time);
    jv_free(t->k_time_ms);
    jv_free(t->k_type);
    jv_free(t->ep);
    free(t->ep_name);
    free(t);
    return NULL;
}

const char *transform_builtin(const char *format)
{
    if (format == NULL)
        return NULL;
    for (const struct transform_format *f = transform_formats; f->name; f++)
        if (strcmp(f->name, format) == 0)
            return f->program;
    return NULL;
}

/* ---- a run */

static jv meta_endpoint(transform_t *t, const char *name)
{
    if (name == NULL)
        return jv_null();
    if (t->ep_name == NULL || strcmp(t->ep_name, name) != 0) {
        free(t->ep_name);
        t->ep_name = xstrdup(name);
        jv_free(t->ep);
        t->ep = jv_string(name);
    }
    return jv_copy(t->ep);
}

static jv meta_value(transform_t *t, const struct transform_meta *m)
{
    jv o = jv_object();
    int64_t secs;

    if (m == NULL) {
        o = jv_object_set(o, jv_copy(t->k_seq), jv_null());
        o = jv_object_set(o, jv_copy(t->k_attempt), jv_null());
        o = jv_object_set(o, jv_copy(t->k_endpoint), jv_null());
        o = jv_object_set(o, jv_copy(t->k_time), jv_null());
        return jv_object_set(o, jv_copy(t->k_time_ms), jv_null());
    }
    secs = m->ts_ms / 1000 - (m->ts_ms % 1000 < 0); /* floor, also before 1970 */
    o = jv_object_set(o, jv_copy(t->k_seq), jv_number((double)m->seq));
    o = jv_object_set(o, jv_copy(t->k_attempt), jv_number(m->attempt));
    o = jv_object_set(o, jv_copy(t->k_endpoint), meta_endpoint(t, m->endpoint));
    o = jv_object_set(o, jv_copy(t->k_time), jv_number((double)secs));
    return jv_object_set(o, jv_copy(t->k_time_ms), jv_number((double)m->ts_ms));
}

/* Parse the event and start a run on [meta, event]. */
static int run_start(transform_t *t, const char *event, size_t len,
                     const struct transform_meta *meta, mh_err_t *err)
{
    char text[TRANSFORM_ERR_TEXT];
    jv ev, msg;

    if (len > INT_MAX)
        return mh_err_set(err, "transform: the event is too large");
    ev = transform_jv_parse(event, len);
    if (!jv_is_valid(ev)) {
        msg = jv_invalid_get_msg(ev);
        jv_text(text, sizeof(text), msg);
        jv_free(msg);
        return mh_err_set(err, "transform: the event is not JSON: %s", text);
    }
    jq_start(t->jq, JV_ARRAY(meta_value(t, meta), ev), 0);
    run_enter(t);
    return 0;
}

/* b's text appended to *out (the ownership rule of transform.h). */
static void append_out(struct cjson_buf *b, char **out, size_t *outlen)
{
    size_t n;
    char *s = linebuf_steal(&b->lb, &n);

    if (*out == NULL) {
        *out = s;
        *outlen = n;
        return;
    }
    *out = xrealloc(*out, *outlen + n + 1);
    memcpy(*out + *outlen, s, n + 1);
    *outlen += n;
    free(s);
}

/* The "type" member of output r, if it is an object with a short string
 * there, else "" (transform_last_type). */
static void note_type(transform_t *t, jv r)
{
    jv v;

    t->last_type[0] = '\0';
    if (jv_get_kind(r) != JV_KIND_OBJECT)
        return;
    v = jv_object_get(jv_copy(r), jv_copy(t->k_type));
    if (jv_get_kind(v) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(v)) <= TRANSFORM_TYPE_MAX)
        snprintf(t->last_type, sizeof(t->last_type), "%s", jv_string_value(v));
    jv_free(v);
}

const char *transform_last_type(const transform_t *t)
{
    return t->last_type;
}

int transform_run(transform_t *t, const char *event, size_t len, const struct transform_meta *meta,
                  size_t max_out, char **out, size_t *outlen, mh_err_t *err)
{
    struct transform_writer w = { { LINEBUF_INIT(CJSON_TEXT_MAX), false },
                                  max_out > *outlen ? max_out - *outlen : 0, max_out, err };
    int n = 0, rc = 0;

    if (t->kind != TRANSFORM_MAP)
        msg_panic_f("a where program run as a transform");
    if (run_start(t, event, len, meta, err) < 0)
        return -1;
    for (;;) {
        jv r = jq_next(t->jq);
        if (!jv_is_valid(r)) {
            rc = runtime_error(r, err);
            break;
        }
        if (jv_get_kind(r) == JV_KIND_NULL)
            continue; /* dropped; a null owns nothing */
        if (n == 0)
            note_type(t, r);
        if (n > 0 || *outlen > 0)
            cjson_put_raw(&w.b, ",", 1);
        rc = transform_jv_write(&w, r, 0);
        jv_free(r);
        if (rc < 0)
            break;
        n++;
    }
    if (run_leave(t) && rc == 0)
        rc = time_limit_error(err);
    if (rc < 0 || n == 0) {
        linebuf_free(&w.b.lb);
        return rc < 0 ? -1 : 0;
    }
    append_out(&w.b, out, outlen);
    return n;
}

int transform_where(transform_t *t, const char *event, size_t len,
                    const struct transform_meta *meta, mh_err_t *err)
{
    jv r;
    jv_kind k;
    bool halted;

    if (t->kind != TRANSFORM_WHERE)
        msg_panic_f("a transform program run as a where filter");
    if (run_start(t, event, len, meta, err) < 0)
        return -1;
    r = jq_next(t->jq);
    halted = run_leave(t);
    if (!jv_is_valid(r)) {
        if (runtime_error(r, err) < 0)
            return -1;
        return halted ? time_limit_error(err) : 0;
    }
    k = jv_get_kind(r);
    jv_free(r);
    return k != JV_KIND_NULL && k != JV_KIND_FALSE;
}
