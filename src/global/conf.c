/* SPDX-License-Identifier: MIT */
/*
 * conf.c - mailhook.conf: the option tables, parsing, validation, snapshots.
 *
 * Every option is declared once, as one row of a table below: the libconfuse
 * declaration (name, type, default), where the value lands in mh_conf_t, and
 * its bounds. Everything else is driven by the rows:
 *
 *   conf_load(path, err)   parse with libconfuse, validate each value as it
 *                          is read (the rows' validcb), each titled section
 *                          as it closes, then the options against each
 *                          other; a fresh snapshot with one reference, or
 *                          NULL + "FILE:LINE: problem"
 *   conf_defaults()        the built-in defaults (the table, no file)
 *   conf_ref / conf_unref  atomic reference count; the last unref frees
 *   conf_dump(c, fp)       (conf_dump.c) every option in table order, in
 *                          config syntax, so the output loads back the same
 *   conf_option_names()    (conf_dump.c) every option name, dotted inside
 *                          sections
 *
 * Errors: libconfuse's messages and our validators' (cfg_error) both reach
 * conf_errfunc, which prefixes file and line and keeps the first one, the
 * most specific. Nothing is printed. Comments are blanked out before
 * libconfuse sees the text, because libconfuse 3.3 miscounts lines after
 * them (conf_blank_comments). Integers are decimal only (conf_parse_int).
 * A problem with a titled section as a whole (its name, options that
 * require each other) is found when libconfuse hands over the finished
 * section, so it is reported at the line of the section's closing brace;
 * a duplicate title is libconfuse's own message, at the second opening.
 * An endpoint section's values are checked by the daemon after the parse
 * (endpoint.h is not ours): the snapshot keeps the line of each of its
 * options (conf_note_line), and conf_place_error (conf_sections.c) puts the
 * daemon's problem at that line.
 *
 * Adding a section ("milter { ... }"): give its struct a member in
 * mh_conf_t, write a conf_milter_rows[] table (tests/t0100-conf-doc.sh
 * prefixes the names of a conf_NAME_rows table with "NAME." and lists them
 * where the CFG_SEC row stands), and add a row
 *   {CFG_SEC("milter", NULL, CFGF_NONE), .kind = CK_SEC, .off = F(milter),
 *    .sub = &conf_milter},
 * to conf_top_rows (conf_opts_build fills in the sub-options). Parsing,
 * defaults, dump, free and names recurse. Repeated titled sections
 * ("maillog NAME { }") are a CK_SECLIST row: an array and its count in
 * mh_conf_t, a table that also gives the element's size, where its title
 * goes and, optionally, a check of the finished section (conf_maillog,
 * in conf_sections.c with the other section tables).
 *
 * libconfuse's scanner is one global flex instance, so parsing is
 * serialized by conf_lock; a snapshot, once built, is never modified.
 */
#include "config.h"

#include <errno.h>
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
#include "conf_int.h"
#include "msg.h"
#include "strutil.h"
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
#define NAME_MAX_LEN 32     /* user and group names (useradd's limit) */
#define TITLE_MAX_LEN 64    /* section titles ("maillog NAME") */
#define DOMAIN_MAX_LEN 253  /* RFC 1035, without the trailing dot */
#define LABEL_MAX_LEN 63

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

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
    {CFG_INT("retention_interval", 60, CFGF_NONE),
     .kind = CK_INT, .off = F(retention_interval), .min = 1, .max = 86400},
    {CFG_INT("cache_size", 32 * MIB, CFGF_NONE),
     .kind = CK_INT64, .off = F(cache_size), .min = MIB, .max = CACHE_SIZE_MAX},
    {CFG_INT("store_log_file_size", 8 * MIB, CFGF_NONE),
     .kind = CK_INT, .off = F(store_log_file_size), .min = MIB, .max = GIB},
    {CFG_BOOL("store_sync", cfg_true, CFGF_NONE),
     .kind = CK_BOOL, .off = F(store_sync)},
    /* ingest */
    {CFG_INT("max_event_size", 256 * KIB, CFGF_NONE),
     .kind = CK_INT, .off = F(max_event_size), .min = KIB, .max = 16 * MIB},
    {CFG_INT("commit_batch", 4096, CFGF_NONE),
     .kind = CK_INT, .off = F(commit_batch), .min = 1, .max = 65536},
    {CFG_INT("max_clients", 256, CFGF_NONE),
     .kind = CK_INT, .off = F(max_clients), .min = 1, .max = 65536},
    {CFG_INT("max_admin_clients", 16, CFGF_NONE),
     .kind = CK_INT, .off = F(max_admin_clients), .min = 1, .max = 1024},
    {CFG_INT("client_timeout", 10, CFGF_NONE),
     .kind = CK_INT, .off = F(client_timeout), .min = 1, .max = 3600},
    {CFG_INT("shutdown_timeout", 10, CFGF_NONE),
     .kind = CK_INT, .off = F(shutdown_timeout), .min = 1, .max = 3600},
    {CFG_INT("spool_scan_interval", 5, CFGF_NONE),
     .kind = CK_INT, .off = F(spool_scan_interval), .min = 1, .max = 3600},
    /* delivery */
    {CFG_INT("delivery_max_in_flight", 256, CFGF_NONE),
     .kind = CK_INT, .off = F(delivery_max_in_flight), .min = 1, .max = 10000},
    {CFG_INT("delivery_memory_events", 10000, CFGF_NONE),
     .kind = CK_INT, .off = F(delivery_memory_events), .min = 100, .max = 1000000},
    {CFG_INT("delivery_log_days", 7, CFGF_NONE),
     .kind = CK_INT, .off = F(delivery_log_days), .min = 0, .max = 3650},
    {CFG_STR("delivery_ca_file", "", CFGF_NONE),
     .kind = CK_PATH_OPT, .off = F(delivery_ca_file)},
    {CFG_STR_LIST("delivery_allow", NULL, CFGF_NONE),
     .kind = CK_STRLIST, .off = F(delivery_allow), .off_n = F(n_delivery_allow),
     .item = CK_TEXT},
    {CFG_INT("delivery_time_scale", 1, CFGF_NONE),
     .kind = CK_INT, .off = F(delivery_time_scale), .min = 1, .max = 100000},
    {CFG_INT("endpoint_disable_after", 120, CFGF_NONE),
     .kind = CK_INT, .off = F(endpoint_disable_after), .min = 0, .max = 87600},
    {CFG_INT("endpoint_disable_failures", 0, CFGF_NONE),
     .kind = CK_INT, .off = F(endpoint_disable_failures), .min = 0, .max = 1000000},
    {CFG_STR("notify_email", "", CFGF_NONE),
     .kind = CK_STR, .off = F(notify_email)},
    {CFG_STR("sendmail_path", "/usr/sbin/sendmail", CFGF_NONE),
     .kind = CK_PATH, .off = F(sendmail_path)},
    /* maillog reader: zero or more sources */
    {CFG_SEC("maillog", NULL, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
     .kind = CK_SECLIST, .off = F(maillogs), .off_n = F(n_maillogs), .sub = &conf_maillog},
    /* endpoints declared here: zero or more */
    {CFG_SEC("endpoint", NULL, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
     .kind = CK_SECLIST, .off = F(endpoints), .off_n = F(n_endpoints), .sub = &conf_endpoint},
    /* mailhook-milter */
    {CFG_SEC("milter", NULL, CFGF_NONE), .kind = CK_SEC, .off = F(milter), .sub = &conf_milter},
};

const struct conf_table conf_top = {.rows = conf_top_rows, .nrows = NROWS(conf_top_rows)};

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

/* ------------------------------------------------------------ lines */

/* Where the options of sections that keep their lines (a table with
 * lines_off) were written, noted as libconfuse validates each value and
 * copied into the snapshot by conf_fill_sections: libconfuse keeps no line
 * once a value is read. The parse in progress only (conf_lock). */
static struct conf_line {
    const cfg_t *sec;
    size_t row; /* index in the section's table; nrows: its closing brace */
    int line;
} *conf_lines;
static size_t conf_nlines, conf_lines_cap;

/* Note line for row of sec; an existing note is replaced only if replace. */
static void conf_note_line(const cfg_t *sec, size_t row, int line, bool replace)
{
    size_t i;

    if (!conf_sink.active)
        return; /* defaults: no file, no lines */
    for (i = 0; i < conf_nlines; i++) {
        if (conf_lines[i].sec == sec && conf_lines[i].row == row) {
            if (replace)
                conf_lines[i].line = line;
            return;
        }
    }
    if (conf_nlines == conf_lines_cap) {
        conf_lines_cap = conf_lines_cap ? 2 * conf_lines_cap : 32;
        conf_lines = xrealloc(conf_lines, conf_lines_cap * sizeof(*conf_lines));
    }
    conf_lines[conf_nlines++] = (struct conf_line){ sec, row, line };
}

/* The lines noted for section sec of table t: nrows + 1 of them, 0 = none. */
static int *conf_lines_of(const cfg_t *sec, const struct conf_table *t)
{
    int *lines = xcalloc(t->nrows + 1, sizeof(*lines));

    for (size_t i = 0; i < conf_nlines; i++)
        if (conf_lines[i].sec == sec)
            lines[conf_lines[i].row] = conf_lines[i].line;
    return lines;
}

static void conf_lines_forget(void)
{
    conf_lines = xfree(conf_lines);
    conf_nlines = conf_lines_cap = 0;
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
 * section (titled or not) after its option (sections nest one level). */
static const struct conf_table *conf_table_of(const cfg_t *cfg)
{
    const struct conf_row *row;

    if (strcmp(cfg->name, "root") == 0)
        return &conf_top;
    row = conf_row_find(&conf_top, cfg->name);
    return row != NULL && (row->kind == CK_SEC || row->kind == CK_SECLIST) ? row->sub : NULL;
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
    return strspn(s, ALNUM "._-") == n;
}

/* A section title: it names the source in status output and checkpoints. */
static bool conf_title_ok(const char *s)
{
    size_t n = strlen(s);

    return n >= 1 && n <= TITLE_MAX_LEN && strspn(s, ALNUM "._-") == n;
}

/* A plausible domain name: labels of 1 to 63 letters, digits and hyphens,
 * not starting or ending with a hyphen, joined by single dots, 253 bytes at
 * most, no trailing dot. Internationalized names are written as A-labels
 * (xn--...), the form MTAs log. */
static bool conf_domain_ok(const char *s)
{
    size_t n = strlen(s), label = 0, i;

    if (n == 0 || n > DOMAIN_MAX_LEN || strspn(s, ALNUM ".-") != n)
        return false;
    for (i = 0; i <= n; i++) {
        if (s[i] == '.' || s[i] == '\0') {
            if (label == 0 || label > LABEL_MAX_LEN || s[i - 1] == '-')
                return false;
            label = 0;
        } else if (label++ == 0 && s[i] == '-') {
            return false;
        }
    }
    return true;
}

/* "syslog, stderr": the allowed values of list, for an error message. */
static const char *conf_oneof_text(char *buf, size_t len, const char *const *list)
{
    size_t used = 0;

    buf[0] = '\0';
    for (; *list != NULL && used < len; list++)
        if (**list) /* "": a "not given" value, not offered */
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", *list);
    return buf;
}

/* The problem with string s, checked as kind (a list's items are checked
 * as the row's .item), or NULL when it is fine. */
static const char *conf_str_problem(const struct conf_row *row, enum conf_kind kind,
                                    const char *s)
{
    switch (kind) {
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
    case CK_DOMAIN:
        return conf_domain_ok(s) ? NULL : "is not a valid domain name";
    case CK_TEXT:
        if (s[0] == '\0')
            return "is empty";
        return str_has_ctl(s) ? "contains a control character" : NULL;
    default:
        return NULL;
    }
}

static int conf_check_str(cfg_t *cfg, const struct conf_row *row, enum conf_kind kind,
                          const char *s)
{
    char shown[128], allowed[160];
    const char *problem;

    if (s == NULL)
        s = "";
    if ((problem = conf_str_problem(row, kind, s)) == NULL)
        return 0;
    printable(shown, sizeof(shown), s, strlen(s));
    if (kind == CK_STR)
        cfg_error(cfg, "option '%s': '%s' %s: %s", row->opt.name, shown, problem,
                  conf_oneof_text(allowed, sizeof(allowed), row->oneof));
    else
        cfg_error(cfg, "option '%s': '%s' %s", row->opt.name, shown, problem);
    return -1;
}

/* A titled section has just closed: its title, then the options of the
 * section against each other (the table's check). */
static int conf_check_section(cfg_t *cfg, const struct conf_row *row, cfg_t *sec)
{
    const char *title = cfg_title(sec) != NULL ? cfg_title(sec) : "";
    char shown[TITLE_MAX_LEN + 8];

    if (!conf_title_ok(title)) {
        printable(shown, sizeof(shown), title, strlen(title));
        cfg_error(cfg,
                  "%s \"%s\": a name must be 1 to %d characters from A-Z, a-z, 0-9, '.', '_' "
                  "and '-'",
                  row->opt.name, shown, TITLE_MAX_LEN);
        return -1;
    }
    return row->sub->check != NULL ? row->sub->check(cfg, sec) : 0;
}

/* The one validator, called by libconfuse for each value read from a file:
 * after each item of a list (and again at its closing brace), after each
 * titled section. */
static int conf_validate(cfg_t *cfg, cfg_opt_t *opt)
{
    const struct conf_table *t = conf_table_of(cfg);
    const struct conf_row *row = t != NULL ? conf_row_find(t, opt->name) : NULL;
    unsigned n = cfg_opt_size(opt);

    if (row == NULL)
        msg_panic_f("option '%s' has no row", opt->name);
    /* a list is validated after each item: its line is where it starts,
     * unless "=" started it again (one item so far) */
    if (t->lines_off != 0)
        conf_note_line(cfg, (size_t)(row - t->rows), cfg->line,
                       !(opt->flags & CFGF_LIST) || n <= 1);
    if (row->kind == CK_SECLIST && n > 0 && row->sub->lines_off != 0)
        conf_note_line(cfg_opt_getnsec(opt, n - 1), row->sub->nrows, cfg->line, true);
    switch (row->kind) {
    case CK_INT:
    case CK_INT64:
        return conf_check_int(cfg, row, cfg_opt_getnint(opt, 0));
    case CK_BOOL:
        return 0;
    case CK_SEC: /* an untitled section: only the table's check */
        return n == 0 || row->sub->check == NULL ? 0 : row->sub->check(cfg, cfg_opt_getnsec(opt, 0));
    case CK_STRLIST: /* the items before the last one were checked already */
        return n == 0 ? 0 : conf_check_str(cfg, row, row->item, cfg_opt_getnstr(opt, n - 1));
    case CK_SECLIST:
        return n == 0 ? 0 : conf_check_section(cfg, row, cfg_opt_getnsec(opt, n - 1));
    default:
        return conf_check_str(cfg, row, row->kind, cfg_opt_getnstr(opt, 0));
    }
}

/* ------------------------------------------------------------ cfg_t */

/* libconfuse's option array for table t, every option validated by
 * conf_validate; cfg_init copies it, and each new section copies its
 * subopts, callbacks included. */
static cfg_opt_t *conf_opts_build(const struct conf_table *t)
{
    cfg_opt_t *opts = xcalloc(t->nrows + 1, sizeof(*opts)); /* zeroed last = CFG_END() */
    size_t i;

    for (i = 0; i < t->nrows; i++) {
        opts[i] = t->rows[i].opt;
        opts[i].validcb = conf_validate;
        if (t->rows[i].kind == CK_INT || t->rows[i].kind == CK_INT64)
            opts[i].parsecb = conf_parse_int;
        if (t->rows[i].kind == CK_SEC || t->rows[i].kind == CK_SECLIST)
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

/* A cfg_t holding the defaults, reporting through conf_errfunc. */
static cfg_t *conf_cfg_new(void)
{
    cfg_opt_t *opts = conf_opts_build(&conf_top);
    cfg_t *cfg = cfg_init(opts, CFGF_NONE);

    conf_opts_free(opts);
    if (cfg == NULL)
        msg_fatal(EX_OSERR, "cannot initialize libconfuse: %s", strerror(errno));
    cfg_set_error_function(cfg, conf_errfunc);
    return cfg;
}

/* ------------------------------------------------------------ snapshot */

static void conf_fill(cfg_t *cfg, const struct conf_table *t, void *base);

/* A string list: NULL-terminated as well as counted, NULL when empty. */
static void conf_fill_list(cfg_t *cfg, const struct conf_row *row, void *base)
{
    size_t i, n = cfg_size(cfg, row->opt.name);
    char **list = NULL;
    const char *s;

    if (n > 0) {
        list = xcalloc(n + 1, sizeof(*list));
        for (i = 0; i < n; i++) {
            s = cfg_getnstr(cfg, row->opt.name, (unsigned)i);
            list[i] = xstrdup(s != NULL ? s : "");
        }
    }
    *(char ***)((char *)base + row->off) = list;
    *(size_t *)((char *)base + row->off_n) = n;
}

/* Titled sections: an array of the table's structs, NULL when none. */
static void conf_fill_sections(cfg_t *cfg, const struct conf_row *row, void *base)
{
    const struct conf_table *sub = row->sub;
    size_t i, n = cfg_size(cfg, row->opt.name);
    char *array = n > 0 ? xcalloc(n, sub->size) : NULL, *elem;
    cfg_t *sec;

    for (i = 0; i < n; i++) {
        sec = cfg_getnsec(cfg, row->opt.name, (unsigned)i);
        elem = array + i * sub->size;
        *(char **)(elem + sub->title_off) = xstrdup(cfg_title(sec));
        if (sub->lines_off != 0)
            conf_ptr_set(elem + sub->lines_off, conf_lines_of(sec, sub));
        conf_fill(sec, sub, elem);
    }
    conf_ptr_set((char *)base + row->off, array);
    *(size_t *)((char *)base + row->off_n) = n;
}

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
        case CK_STRLIST:
            conf_fill_list(cfg, row, base);
            break;
        case CK_SECLIST:
            conf_fill_sections(cfg, row, base);
            break;
        default:
            s = cfg_getstr(cfg, row->opt.name);
            *(char **)field = xstrdup(s != NULL ? s : "");
            break;
        }
    }
}

/* Free what conf_fill allocated in base (not base itself). */
static void conf_free_fields(const struct conf_table *t, void *base)
{
    const struct conf_row *row;
    size_t i, j, *n;
    char **list, *array;
    void *field;

    for (i = 0; i < t->nrows; i++) {
        row = &t->rows[i];
        field = (char *)base + row->off;
        n = (size_t *)((char *)base + row->off_n);
        switch (row->kind) {
        case CK_INT:
        case CK_INT64:
        case CK_BOOL:
            break;
        case CK_SEC:
            conf_free_fields(row->sub, field);
            break;
        case CK_STRLIST:
            list = *(char ***)field;
            for (j = 0; j < *n; j++)
                free(list[j]);
            *(char ***)field = xfree(list);
            *n = 0;
            break;
        case CK_SECLIST:
            array = conf_ptr_get(field);
            for (j = 0; j < *n; j++) {
                free(*(char **)(array + j * row->sub->size + row->sub->title_off));
                if (row->sub->lines_off != 0)
                    free(conf_ptr_get(array + j * row->sub->size + row->sub->lines_off));
                conf_free_fields(row->sub, array + j * row->sub->size);
            }
            conf_ptr_set(field, xfree(array));
            *n = 0;
            break;
        default:
            *(char **)field = xfree(*(char **)field);
            break;
        }
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
    conf_free_fields(&conf_top, c);
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
    conf_lines_forget();
    conf_sink.active = false;
    conf_sink.err = NULL;
    return c;
}

mh_conf_t *conf_load(const char *path, mh_err_t *err)
{
    mh_conf_t *c;
    char *text;

    if (path == NULL)
        msg_panic_f("path is NULL");
    if ((text = conf_read_text(path, err)) == NULL)
        return NULL;
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
