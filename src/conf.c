/*
 * conf.c - mailhook.conf: the option table, parsing, validation, snapshots.
 *
 * Every option is declared once, as one row of a table below: the libconfuse
 * declaration (name, type, default), where the value lands in mh_conf_t, and
 * its bounds. Everything else is driven by the rows:
 *
 *   conf_load(path, err)   parse with libconfuse, validate each value as it
 *                          is read (cfg_set_validate_func), then check the
 *                          options against each other; a fresh snapshot
 *                          with one reference, or NULL + "FILE:LINE: problem"
 *   conf_defaults()        the built-in defaults (the table, no file)
 *   conf_ref / conf_unref  atomic reference count; the last unref frees
 *   conf_dump(c, fp)       every option in table order, in config syntax,
 *                          so the output loads back to the same values
 *   conf_option_names()    every option name, dotted inside sections
 *
 * Errors: libconfuse's messages and our validators' (cfg_error) both reach
 * conf_errfunc, which prefixes file and line and keeps the first one, the
 * most specific. Nothing is printed. Comments are blanked out before
 * libconfuse sees the text, because libconfuse 3.3 miscounts lines after
 * them (conf_blank_comments). Integers are decimal only (conf_parse_int).
 *
 * Adding a section ("milter { ... }"): give its struct a member in
 * mh_conf_t, write a conf_milter_rows[] table (tests/t0100-conf-doc.sh
 * prefixes the names of a conf_NAME_rows table with "NAME."), and add a row
 *   {CFG_SEC("milter", NULL, CFGF_NONE), .kind = CK_SEC, .off = F(milter),
 *    .sub = &conf_milter},
 * to conf_top_rows (conf_opts_build fills in the sub-options). Parsing, defaults, dump, free and names recurse.
 * Repeated titled sections (endpoint NAME {}) need an array in mh_conf_t
 * and a CK_SECLIST kind; validation already works for them (a section's
 * rows are found by the section's name).
 *
 * libconfuse's scanner is one global flex instance, so parsing is
 * serialized by conf_lock; a snapshot, once built, is never modified.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <confuse.h>

#include "conf.h"
#include "msg.h"
#include "xalloc.h"


#define KIB 1024L
#define MIB (1024L * KIB)
#define GIB (1024L * MIB)
/* libconfuse integers are long: on a 32-bit system the cache tops out lower. */
#if LONG_MAX > 0x7fffffffL
#define CACHE_SIZE_MAX (64L * GIB)
#else
#define CACHE_SIZE_MAX LONG_MAX
#endif
#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
#define NAME_MAX_LEN 32 /* user and group names (useradd's limit) */
#define CONF_MAX_BYTES (1024 * 1024) /* a config file larger than this is a mistake */

enum conf_kind {
    CK_STR,      /* char *: free text, or one of .oneof when set */
    CK_NAME,     /* char *: user or group name, "" allowed */
    CK_PATH,     /* char *: absolute path */
    CK_PATH_OPT, /* char *: absolute path, or "" for none */
    CK_SOCKET,   /* char *: absolute path that fits in sun_path */
    CK_INT,      /* int within [min, max] */
    CK_INT64,    /* int64_t within [min, max] */
    CK_BOOL,     /* bool */
    CK_SEC,      /* a section: a struct at .off described by .sub */
};

struct conf_table;

struct conf_row {
    cfg_opt_t opt;                /* libconfuse declaration: name, type, default */
    enum conf_kind kind;
    size_t off;                   /* offset of the value in the enclosing struct */
    long min, max;                /* CK_INT, CK_INT64: inclusive bounds */
    const char *const *oneof;     /* CK_STR: NULL-terminated allowed values */
    const struct conf_table *sub; /* CK_SEC: the section's rows */
};

struct conf_table {
    const struct conf_row *rows;
    size_t nrows;
};

#define F(field) offsetof(mh_conf_t, field)
#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const conf_log_dests[] = {"syslog", "stderr", NULL};
static const char *const conf_facilities[] = {
    "mail", "daemon", "local0", "local1", "local2", "local3",
    "local4", "local5", "local6", "local7", NULL,
};

/* The top level, in documentation order (etc/mailhook.conf, mailhook.conf.5). */
static const struct conf_row conf_top_rows[] = {
    /* process & logging */
    {CFG_STR("user", MH_DEFAULT_USER, CFGF_NONE),
     .kind = CK_NAME, .off = F(user)},
    {CFG_STR("submit_group", "", CFGF_NONE),
     .kind = CK_NAME, .off = F(submit_group)},
    {CFG_STR("admin_group", "", CFGF_NONE),
     .kind = CK_NAME, .off = F(admin_group)},
    {CFG_STR("log", "syslog", CFGF_NONE),
     .kind = CK_STR, .off = F(log), .oneof = conf_log_dests},
    {CFG_STR("syslog_facility", "mail", CFGF_NONE),
     .kind = CK_STR, .off = F(syslog_facility), .oneof = conf_facilities},
    {CFG_INT("log_level", 0, CFGF_NONE),
     .kind = CK_INT, .off = F(log_level), .min = 0, .max = 2},
    /* paths */
    {CFG_STR("state_dir", MH_LOCALSTATEDIR "/lib/mailhook", CFGF_NONE),
     .kind = CK_PATH, .off = F(state_dir)},
    {CFG_STR("spool_dir", MH_LOCALSTATEDIR "/spool/mailhook", CFGF_NONE),
     .kind = CK_PATH, .off = F(spool_dir)},
    {CFG_STR("ingest_socket", MH_RUNSTATEDIR "/mailhook/ingest.sock", CFGF_NONE),
     .kind = CK_SOCKET, .off = F(ingest_socket)},
    {CFG_STR("admin_socket", MH_RUNSTATEDIR "/mailhook/admin.sock", CFGF_NONE),
     .kind = CK_SOCKET, .off = F(admin_socket)},
    {CFG_STR("pid_file", "", CFGF_NONE),
     .kind = CK_PATH_OPT, .off = F(pid_file)},
    /* store */
    {CFG_INT("retention_days", 30, CFGF_NONE),
     .kind = CK_INT, .off = F(retention_days), .min = 0, .max = 36500},
    {CFG_INT("cache_size", 32 * MIB, CFGF_NONE),
     .kind = CK_INT64, .off = F(cache_size), .min = MIB, .max = CACHE_SIZE_MAX},
    {CFG_BOOL("store_sync", cfg_true, CFGF_NONE),
     .kind = CK_BOOL, .off = F(store_sync)},
    /* ingest */
    {CFG_INT("max_event_size", 256 * KIB, CFGF_NONE),
     .kind = CK_INT, .off = F(max_event_size), .min = KIB, .max = 16 * MIB},
    {CFG_INT("commit_batch", 4096, CFGF_NONE),
     .kind = CK_INT, .off = F(commit_batch), .min = 1, .max = 65536},
    {CFG_INT("max_clients", 256, CFGF_NONE),
     .kind = CK_INT, .off = F(max_clients), .min = 1, .max = 65536},
    {CFG_INT("client_timeout", 10, CFGF_NONE),
     .kind = CK_INT, .off = F(client_timeout), .min = 1, .max = 3600},
    {CFG_INT("shutdown_timeout", 10, CFGF_NONE),
     .kind = CK_INT, .off = F(shutdown_timeout), .min = 1, .max = 3600},
    {CFG_INT("spool_scan_interval", 5, CFGF_NONE),
     .kind = CK_INT, .off = F(spool_scan_interval), .min = 1, .max = 3600},
};

static const struct conf_table conf_top = {conf_top_rows, NROWS(conf_top_rows)};

/* ------------------------------------------------------------ errors */

/* Where conf_errfunc puts the message of the parse in progress (conf_lock). */
static struct {
    bool active;
    bool failed;
    const char *path;
    mh_err_t *err;
} conf_sink;

static pthread_mutex_t conf_lock = PTHREAD_MUTEX_INITIALIZER;

static void conf_errfunc(cfg_t *cfg, const char *fmt, va_list ap) MH_PRINTF(2, 0);

static void conf_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
    char raw[sizeof(((mh_err_t *)0)->text)], text[sizeof(raw)];

    /* libconfuse quotes the file's text ("no such option '...'"): make it safe. */
    vsnprintf(raw, sizeof(raw), fmt, ap);
    printable(text, sizeof(text), raw, strlen(raw));
    if (!conf_sink.active) {
        msg_warn("configuration: %s", text); /* outside a parse: a bug in conf.c */
        return;
    }
    if (conf_sink.failed)
        return; /* keep the first message: later ones are consequences */
    conf_sink.failed = true;
    /* A section's cfg_t has no file name, but its line is right: use ours. */
    if (cfg != NULL && cfg->line > 0)
        mh_err_set(conf_sink.err, "%s:%d: %s", conf_sink.path, cfg->line, text);
    else
        mh_err_set(conf_sink.err, "%s: %s", conf_sink.path, text);
}

/* ------------------------------------------------------------ validation */

static const struct conf_row *conf_row_find(const struct conf_table *t, const char *name)
{
    size_t i;

    for (i = 0; i < t->nrows; i++)
        if (strcmp(t->rows[i].opt.name, name) == 0)
            return &t->rows[i];
    return NULL;
}

/* The rows of the section cfg is parsing: the root is named "root", a
 * section after its option (sections nest one level). */
static const struct conf_table *conf_table_of(const cfg_t *cfg)
{
    const struct conf_row *row;

    if (strcmp(cfg->name, "root") == 0)
        return &conf_top;
    row = conf_row_find(&conf_top, cfg->name);
    return row != NULL && row->kind == CK_SEC ? row->sub : NULL;
}

/* Integers are decimal only: libconfuse's default (strtol base 0) would
 * read "010" as 8. */
static int conf_parse_int(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
    char shown[64], *end;
    long n;

    errno = 0;
    n = strtol(value, &end, 10);
    printable(shown, sizeof(shown), value, strlen(value));
    if (end == value || *end != '\0') {
        cfg_error(cfg, "option '%s': '%s' is not a decimal integer", opt->name, shown);
        return -1;
    }
    if (errno == ERANGE) {
        cfg_error(cfg, "option '%s': %s is out of range", opt->name, shown);
        return -1;
    }
    *(long *)result = n;
    return 0;
}

static int conf_check_int(cfg_t *cfg, const struct conf_row *row, long n)
{
    if (n >= row->min && n <= row->max)
        return 0;
    cfg_error(cfg, "option '%s': %ld is out of range (%ld to %ld)", row->opt.name, n, row->min,
              row->max);
    return -1;
}

static bool conf_oneof(const char *const *list, const char *s)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

static bool conf_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n > NAME_MAX_LEN || s[0] == '-')
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* "syslog, stderr": the allowed values of list, for an error message. */
static const char *conf_oneof_text(char *buf, size_t len, const char *const *list)
{
    size_t used = 0;

    buf[0] = '\0';
    for (; *list != NULL && used < len; list++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", *list);
    return buf;
}

/* The problem with string s for row, or NULL when it is fine. */
static const char *conf_str_problem(const struct conf_row *row, const char *s)
{
    switch (row->kind) {
    case CK_STR:
        return row->oneof != NULL && !conf_oneof(row->oneof, s) ? "is not one of" : NULL;
    case CK_NAME:
        return conf_name_ok(s) ? NULL : "is not a valid user or group name";
    case CK_PATH_OPT:
        return s[0] == '\0' || s[0] == '/' ? NULL : "is not an absolute path";
    case CK_PATH:
        return s[0] == '/' ? NULL : "is not an absolute path";
    case CK_SOCKET:
        if (s[0] != '/')
            return "is not an absolute path";
        return strlen(s) > SOCKET_PATH_MAX ? "is too long for a Unix socket" : NULL;
    default:
        return NULL;
    }
}

static int conf_check_str(cfg_t *cfg, const struct conf_row *row, const char *s)
{
    char shown[128], allowed[160];
    const char *problem;

    if (s == NULL)
        s = "";
    if ((problem = conf_str_problem(row, s)) == NULL)
        return 0;
    printable(shown, sizeof(shown), s, strlen(s));
    if (row->kind == CK_STR)
        cfg_error(cfg, "option '%s': '%s' %s: %s", row->opt.name, shown, problem,
                  conf_oneof_text(allowed, sizeof(allowed), row->oneof));
    else
        cfg_error(cfg, "option '%s': '%s' %s", row->opt.name, shown, problem);
    return -1;
}

/* The one validator, called by libconfuse for each value read from a file. */
static int conf_validate(cfg_t *cfg, cfg_opt_t *opt)
{
    const struct conf_table *t = conf_table_of(cfg);
    const struct conf_row *row = t != NULL ? conf_row_find(t, opt->name) : NULL;

    if (row == NULL)
        msg_panic_f("option '%s' has no row", opt->name);
    switch (row->kind) {
    case CK_INT:
    case CK_INT64:
        return conf_check_int(cfg, row, cfg_opt_getnint(opt, 0));
    case CK_BOOL:
    case CK_SEC:
        return 0;
    default:
        return conf_check_str(cfg, row, cfg_opt_getnstr(opt, 0));
    }
}

/* ------------------------------------------------------------ cfg_t */

/* libconfuse's option array for table t; cfg_init copies it. */
static cfg_opt_t *conf_opts_build(const struct conf_table *t)
{
    cfg_opt_t *opts = xcalloc(t->nrows + 1, sizeof(*opts)); /* zeroed last = CFG_END() */
    size_t i;

    for (i = 0; i < t->nrows; i++) {
        opts[i] = t->rows[i].opt;
        if (t->rows[i].kind == CK_INT || t->rows[i].kind == CK_INT64)
            opts[i].parsecb = conf_parse_int;
        if (t->rows[i].kind == CK_SEC)
            opts[i].subopts = conf_opts_build(t->rows[i].sub);
    }
    return opts;
}

static void conf_opts_free(cfg_opt_t *opts)
{
    size_t i;

    for (i = 0; opts[i].name != NULL; i++)
        if (opts[i].subopts != NULL)
            conf_opts_free(opts[i].subopts);
    free(opts);
}

/* Attach conf_validate to every option of t; prefix is "" or "section|". */
static void conf_validators_set(cfg_t *cfg, const struct conf_table *t, const char *prefix)
{
    char *name;
    size_t i;

    for (i = 0; i < t->nrows; i++) {
        name = xasprintf("%s%s", prefix, t->rows[i].opt.name);
        if (t->rows[i].kind == CK_SEC) {
            char *sub = xasprintf("%s|", name);
            conf_validators_set(cfg, t->rows[i].sub, sub);
            free(sub);
        } else {
            cfg_set_validate_func(cfg, name, conf_validate);
        }
        free(name);
    }
}

/* A cfg_t holding the defaults, reporting through conf_errfunc. */
static cfg_t *conf_cfg_new(void)
{
    cfg_opt_t *opts = conf_opts_build(&conf_top);
    cfg_t *cfg = cfg_init(opts, CFGF_NONE);

    conf_opts_free(opts);
    if (cfg == NULL)
        msg_fatal(EX_OSERR, "cannot initialize libconfuse: %s", strerror(errno));
    cfg_set_error_function(cfg, conf_errfunc);
    conf_validators_set(cfg, &conf_top, "");
    return cfg;
}

/* ------------------------------------------------------------ snapshot */

static void conf_fill(cfg_t *cfg, const struct conf_table *t, void *base)
{
    const struct conf_row *row;
    const char *s;
    void *field;
    size_t i;

    for (i = 0; i < t->nrows; i++) {
        row = &t->rows[i];
        field = (char *)base + row->off;
        switch (row->kind) {
        case CK_INT:
            *(int *)field = (int)cfg_getint(cfg, row->opt.name);
            break;
        case CK_INT64:
            *(int64_t *)field = cfg_getint(cfg, row->opt.name);
            break;
        case CK_BOOL:
            *(bool *)field = cfg_getbool(cfg, row->opt.name) == cfg_true;
            break;
        case CK_SEC:
            conf_fill(cfg_getsec(cfg, row->opt.name), row->sub, field);
            break;
        default:
            s = cfg_getstr(cfg, row->opt.name);
            *(char **)field = xstrdup(s != NULL ? s : "");
            break;
        }
    }
}

static void conf_free_strings(const struct conf_table *t, void *base)
{
    const struct conf_row *row;
    void *field;
    size_t i;

    for (i = 0; i < t->nrows; i++) {
        row = &t->rows[i];
        field = (char *)base + row->off;
        if (row->kind == CK_SEC)
            conf_free_strings(row->sub, field);
        else if (row->kind != CK_INT && row->kind != CK_INT64 && row->kind != CK_BOOL)
            *(char **)field = xfree(*(char **)field);
    }
}

static mh_conf_t *conf_from_cfg(cfg_t *cfg, const char *path)
{
    mh_conf_t *c = xcalloc(1, sizeof(*c));

    c->refs = 1;
    c->path = path != NULL ? xstrdup(path) : NULL;
    conf_fill(cfg, &conf_top, c);
    return c;
}

mh_conf_t *conf_ref(mh_conf_t *c)
{
    if (c != NULL)
        __atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
    return c;
}

void conf_unref(mh_conf_t *c)
{
    int left;

    if (c == NULL)
        return;
    left = __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
    if (left > 0)
        return;
    if (left < 0)
        msg_panic_f("reference count of %p below zero", (void *)c);
    conf_free_strings(&conf_top, c);
    free(c->path);
    free(c);
}

/* ------------------------------------------------------------ load */

/* dir without its trailing slashes is a prefix of path at a '/' boundary. */
static bool conf_path_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);

    while (n > 0 && dir[n - 1] == '/')
        n--;
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* What a value-by-value check cannot see: the options against each other.
 * state_dir is the daemon user's alone (it holds endpoint secrets), while
 * the spool and sockets are for other groups: neither may contain the other. */
static int conf_check_paths(const mh_conf_t *c, const char *path, mh_err_t *err)
{
    const char *shared[] = {c->spool_dir, c->ingest_socket, c->admin_socket};
    const char *names[] = {"spool_dir", "ingest_socket", "admin_socket"};
    size_t i;

    if (strcmp(c->ingest_socket, c->admin_socket) == 0)
        return mh_err_set(err, "%s: ingest_socket and admin_socket are the same path", path);
    for (i = 0; i < NROWS(shared); i++) {
        if (conf_path_within(shared[i], c->state_dir))
            return mh_err_set(err, "%s: %s must not be inside state_dir (private to the daemon)",
                              path, names[i]);
        if (conf_path_within(c->state_dir, shared[i]))
            return mh_err_set(err, "%s: state_dir must not be inside %s", path, names[i]);
    }
    return 0;
}

/*
 * Blank out comments (# and // to the end of the line, C-style blocks)
 * outside quoted strings, keeping every newline, by the rules of
 * libconfuse's scanner. Why: libconfuse 3.3 (Debian 12) advances its line
 * counter by 3 for each "# ..." line, so without this every "FILE:LINE"
 * after the first comment would point at the wrong line. Returns the line where an
 * unterminated block comment starts (libconfuse ignores it silently), or 0.
 */
static int conf_blank_comments(char *s)
{
    enum { CODE, DQUOTE, SQUOTE, LINE, BLOCK } st = CODE;
    int line = 1, block_line = 0;

    for (; *s != '\0'; s++) {
        if (*s == '\n')
            line++;
        if (st == CODE && (*s == '"' || *s == '\'')) {
            st = *s == '"' ? DQUOTE : SQUOTE;
        } else if (st == CODE && (*s == '#' || (s[0] == '/' && s[1] == '/'))) {
            st = LINE;
            *s = ' ';
        } else if (st == CODE && s[0] == '/' && s[1] == '*') {
            st = BLOCK;
            block_line = line;
            s[0] = s[1] = ' ';
            s++;
        } else if ((st == DQUOTE || st == SQUOTE) && s[0] == '\\' && s[1] != '\0') {
            line += s[1] == '\n'; /* an escaped character, even a quote */
            s++;
        } else if ((st == DQUOTE && *s == '"') || (st == SQUOTE && *s == '\'')) {
            st = CODE;
        } else if (st == LINE && *s == '\n') {
            st = CODE;
        } else if (st == BLOCK && s[0] == '*' && s[1] == '/') {
            st = CODE;
            s[0] = s[1] = ' ';
            s++;
        } else if ((st == LINE || st == BLOCK) && *s != '\n') {
            *s = ' ';
        }
    }
    return st == BLOCK ? block_line : 0;
}

/* Read all of fp into *out (malloc'ed, NUL-terminated, *len bytes before
 * the NUL), stopping past max. 0, -1 with errno, or 1 when larger than max. */
static int conf_slurp(FILE *fp, size_t max, char **out, size_t *len)
{
    size_t size = 4096;
    char *buf = xmalloc(size);

    *len = 0;
    while (*len <= max && !ferror(fp) && !feof(fp)) {
        if (*len == size - 1)
            buf = xrealloc(buf, size *= 2);
        *len += fread(buf + *len, 1, size - 1 - *len, fp);
    }
    buf[*len] = '\0';
    *out = buf;
    if (ferror(fp))
        return -1;
    return *len > max ? 1 : 0;
}

/* The whole file as a NUL-terminated string (malloc'ed), at most
 * CONF_MAX_BYTES of text; NULL + err when it cannot be used. */
static char *conf_read(const char *path, mh_err_t *err)
{
    char *buf;
    size_t len;
    FILE *fp;
    int rc;

    if ((fp = fopen(path, "r")) == NULL) {
        mh_err_set(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    rc = conf_slurp(fp, CONF_MAX_BYTES, &buf, &len);
    if (rc < 0)
        mh_err_set(err, "%s: cannot read: %s", path, strerror(errno));
    else if (rc > 0)
        mh_err_set(err, "%s: larger than %d bytes", path, CONF_MAX_BYTES);
    else if (strlen(buf) != len)
        rc = mh_err_set(err, "%s: contains a NUL byte: not a text file", path);
    fclose(fp);
    return rc == 0 ? buf : xfree(buf);
}

/* Parse text (comments blanked) into a snapshot; called with conf_lock held. */
static mh_conf_t *conf_parse_locked(const char *text, const char *path, mh_err_t *err)
{
    mh_conf_t *c = NULL;
    cfg_t *cfg;
    int rc;

    conf_sink.active = true;
    conf_sink.failed = false;
    conf_sink.path = path;
    conf_sink.err = err;
    cfg = conf_cfg_new();
    rc = cfg_parse_buf(cfg, text);
    if (rc == CFG_SUCCESS && !conf_sink.failed)
        c = conf_from_cfg(cfg, path);
    else if (!conf_sink.failed)
        mh_err_set(err, "%s: cannot parse", path);
    cfg_free(cfg);
    conf_sink.active = false;
    conf_sink.err = NULL;
    return c;
}

mh_conf_t *conf_load(const char *path, mh_err_t *err)
{
    mh_conf_t *c;
    char *text;
    int line;

    if (path == NULL)
        msg_panic_f("path is NULL");
    if ((text = conf_read(path, err)) == NULL)
        return NULL;
    if ((line = conf_blank_comments(text)) > 0) {
        free(text);
        mh_err_set(err, "%s:%d: unterminated comment", path, line);
        return NULL;
    }
    pthread_mutex_lock(&conf_lock);
    c = conf_parse_locked(text, path, err);
    pthread_mutex_unlock(&conf_lock);
    free(text);
    if (c != NULL && conf_check_paths(c, path, err) < 0) {
        conf_unref(c);
        return NULL;
    }
    return c;
}

mh_conf_t *conf_defaults(void)
{
    mh_conf_t *c;
    cfg_t *cfg;

    pthread_mutex_lock(&conf_lock);
    cfg = conf_cfg_new(); /* libconfuse may run its scanner on defaults */
    c = conf_from_cfg(cfg, NULL);
    cfg_free(cfg);
    pthread_mutex_unlock(&conf_lock);
    return c;
}

/* ------------------------------------------------------------ dump */

/* s as a double-quoted libconfuse string: backslash, quote and '$' (which
 * would start ${VAR} substitution) escaped, control characters as \xHH. */
static void conf_dump_string(FILE *fp, const char *s)
{
    const unsigned char *p;

    fputc('"', fp);
    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '\\' || *p == '"' || *p == '$')
            fprintf(fp, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(fp, "\\x%02x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

static void conf_dump_table(FILE *fp, const struct conf_table *t, const void *base, int indent)
{
    const struct conf_row *row;
    const void *field;
    size_t i;

    for (i = 0; i < t->nrows; i++) {
        row = &t->rows[i];
        field = (const char *)base + row->off;
        fprintf(fp, "%*s%s", indent, "", row->opt.name);
        switch (row->kind) {
        case CK_SEC:
            fputs(" {\n", fp);
            conf_dump_table(fp, row->sub, field, indent + 4);
            fprintf(fp, "%*s}\n", indent, "");
            continue;
        case CK_INT:
            fprintf(fp, " = %d", *(const int *)field);
            break;
        case CK_INT64:
            fprintf(fp, " = %" PRId64, *(const int64_t *)field);
            break;
        case CK_BOOL:
            fprintf(fp, " = %s", *(const bool *)field ? "true" : "false");
            break;
        default:
            fputs(" = ", fp);
            conf_dump_string(fp, *(char *const *)field);
            break;
        }
        fputc('\n', fp);
    }
}

void conf_dump(const mh_conf_t *c, FILE *fp)
{
    conf_dump_table(fp, &conf_top, c, 0);
}

/* ------------------------------------------------------------ names */

static size_t conf_names_count(const struct conf_table *t)
{
    size_t i, n = 0;

    for (i = 0; i < t->nrows; i++)
        n += t->rows[i].kind == CK_SEC ? conf_names_count(t->rows[i].sub) : 1;
    return n;
}

/* Append the names of t (prefixed "section." inside one) at out[*n]. */
static void conf_names_fill(const struct conf_table *t, const char *prefix, char **out, size_t *n)
{
    char *sub;
    size_t i;

    for (i = 0; i < t->nrows; i++) {
        if (t->rows[i].kind == CK_SEC) {
            sub = xasprintf("%s%s.", prefix, t->rows[i].opt.name);
            conf_names_fill(t->rows[i].sub, sub, out, n);
            free(sub);
        } else {
            out[(*n)++] = xasprintf("%s%s", prefix, t->rows[i].opt.name);
        }
    }
}

static void conf_names_free(char **names)
{
    size_t i;

    for (i = 0; names[i] != NULL; i++)
        free(names[i]);
    free(names);
}

/* Built on first use and kept for the life of the process. */
const char *const *conf_option_names(void)
{
    static char **names;
    char **built, **expected = NULL;
    size_t n = 0;

    built = __atomic_load_n(&names, __ATOMIC_ACQUIRE);
    if (built != NULL)
        return (const char *const *)built;
    built = xcalloc(conf_names_count(&conf_top) + 1, sizeof(*built));
    conf_names_fill(&conf_top, "", built, &n);
    if (!__atomic_compare_exchange_n(&names, &expected, built, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        conf_names_free(built); /* another thread won the race */
        built = expected;
    }
    return (const char *const *)built;
}
