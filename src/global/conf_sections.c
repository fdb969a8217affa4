/* SPDX-License-Identifier: MIT */
/*
 * conf_sections.c - the tables of mailhook.conf's titled sections (conf.h,
 * conf_int.h): "maillog NAME { }" sources of the maillog reader and
 * "endpoint NAME { }" webhook endpoints, each with the check of a finished
 * section, and the "milter { }" section. The top-level table, which points
 * at these, is in conf.c. An endpoint section keeps the line of each of its
 * options: the daemon checks their values against the endpoint model later,
 * and conf_place_error() puts its problem at the option's line.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <confuse.h>

#include "conf.h"
#include "conf_int.h"
#include "endpoint_limits.h"
#include "strutil.h"

#define KIB 1024L
#define MIB (1024L * KIB)
#define FM(field) offsetof(struct mh_conf_maillog, field)
#define FE(field) offsetof(struct mh_conf_endpoint, field)
#define FL(field) offsetof(struct mh_conf_milter, field)
#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const conf_maillog_types[] = {"file", "journald", NULL};
static const char *const conf_maillog_starts[] = {"end", "beginning", NULL};
static const char *const conf_maillog_filtered[] = {"failed", "none", NULL};
static const char *const conf_maillog_discard[] = {"failed", "delivered", "none", NULL};

/* One "maillog NAME { ... }" section: a log source of the maillog reader. */
static const struct conf_row conf_maillog_rows[] = {
    {CFG_STR("type", "file", CFGF_NONE),
     .kind = CK_STR, .off = FM(type), .oneof = conf_maillog_types},
    {CFG_STR("path", "", CFGF_NONE), /* required for type file: conf_maillog_check */
     .kind = CK_PATH_OPT, .off = FM(path)},
    {CFG_STR("start_at", "end", CFGF_NONE),
     .kind = CK_STR, .off = FM(start_at), .oneof = conf_maillog_starts},
    {CFG_INT("rotate_wait", 5, CFGF_NONE),
     .kind = CK_INT, .off = FM(rotate_wait), .min = 0, .max = 3600},
    {CFG_BOOL("emit_sent", cfg_true, CFGF_NONE),
     .kind = CK_BOOL, .off = FM(emit_sent)},
    {CFG_BOOL("include_bounces", cfg_false, CFGF_NONE),
     .kind = CK_BOOL, .off = FM(include_bounces)},
    {CFG_STR_LIST("sender_domains", NULL, CFGF_NONE),
     .kind = CK_STRLIST, .off = FM(sender_domains), .off_n = FM(n_sender_domains),
     .item = CK_DOMAIN},
    {CFG_STR_LIST("sasl_users", NULL, CFGF_NONE),
     .kind = CK_STRLIST, .off = FM(sasl_users), .off_n = FM(n_sasl_users), .item = CK_TEXT},
    {CFG_STR_LIST("content_filters", NULL, CFGF_NONE), /* form: conf_maillog_check */
     .kind = CK_STRLIST, .off = FM(content_filters), .off_n = FM(n_content_filters),
     .item = CK_TEXT},
    {CFG_INT("content_filter_window", 300, CFGF_NONE),
     .kind = CK_INT, .off = FM(content_filter_window), .min = 1, .max = 86400},
    {CFG_STR("filtered_event", "failed", CFGF_NONE),
     .kind = CK_STR, .off = FM(filtered_event), .oneof = conf_maillog_filtered},
    {CFG_STR("discard_event", "failed", CFGF_NONE),
     .kind = CK_STR, .off = FM(discard_event), .oneof = conf_maillog_discard},
    {CFG_INT("max_messages", 100000, CFGF_NONE),
     .kind = CK_INT, .off = FM(max_messages), .min = 100, .max = 10000000},
    {CFG_INT("max_age", 604800, CFGF_NONE),
     .kind = CK_INT, .off = FM(max_age), .min = 60, .max = 31536000},
    {CFG_INT("max_line", 64 * KIB, CFGF_NONE),
     .kind = CK_INT, .off = FM(max_line), .min = KIB, .max = MIB},
    {CFG_INT("batch_lines", 4096, CFGF_NONE),
     .kind = CK_INT, .off = FM(batch_lines), .min = 1, .max = 65536},
    {CFG_INT("milter_wait", 5, CFGF_NONE),
     .kind = CK_INT, .off = FM(milter_wait), .min = 0, .max = 600},
};

static conf_sec_check_fn conf_maillog_check;

const struct conf_table conf_maillog = {
    .rows = conf_maillog_rows,
    .nrows = NROWS(conf_maillog_rows),
    .size = sizeof(struct mh_conf_maillog),
    .title_off = FM(name),
    .check = conf_maillog_check,
};

/* The format names of endpoint_keys.def, for the format option's oneof. */
static const char *const conf_formats[] = {
#define ENDPOINT_FORMAT(id, name, shape, defaults, doc) name,
#include "endpoint_keys.def"
    NULL,
};

/* The delivery_id option: "" = not given (the format's default). */
static const char *const conf_idforms[] = { "", "ulid", "uuid", NULL };

/* The scheme names of endpoint_keys.def, for the scheme option's oneof. */
static const char *const conf_schemes[] = {
    "", /* not given: the format's default */
#define ENDPOINT_SCHEME(id, name, doc) name,
#include "endpoint_keys.def"
    NULL,
};

/* A row's option, by its type (endpoint_keys.def): the libconfuse
 * declaration, with def as its default, and its bounds. */
#define CONF_EP_STR(key, lo, hi, def) \
    {CFG_STR(#key, def, CFGF_NONE), .kind = CK_STR, .off = FE(key)},
#define CONF_EP_LIST(key, lo, hi, def) \
    {CFG_STR_LIST(#key, NULL, CFGF_NONE), \
     .kind = CK_STRLIST, .off = FE(key), .off_n = FE(n_##key), .item = CK_TEXT},
#define CONF_EP_INT(key, lo, hi, def) \
    {CFG_INT(#key, def, CFGF_NONE), .kind = CK_INT, .off = FE(key), .min = lo, .max = hi},
#define EPK_URL_CONF_ROW CONF_EP_STR /* required: conf_endpoint_check */
#define EPK_FORMAT_CONF_ROW(key, lo, hi, def) \
    {CFG_STR(#key, def, CFGF_NONE), .kind = CK_STR, .off = FE(key), .oneof = conf_formats},
#define EPK_PROGRAM_CONF_ROW CONF_EP_STR
#define EPK_AUTH_CONF_ROW CONF_EP_STR
#define EPK_IDFORM_CONF_ROW(key, lo, hi, def) \
    {CFG_STR(#key, def, CFGF_NONE), .kind = CK_STR, .off = FE(key), .oneof = conf_idforms},
#define EPK_TYPES_CONF_ROW CONF_EP_LIST
#define EPK_FILTERS_CONF_ROW CONF_EP_LIST
#define EPK_SCHEME_CONF_ROW(key, lo, hi, def) \
    {CFG_STR(#key, def, CFGF_NONE), .kind = CK_STR, .off = FE(key), .oneof = conf_schemes},
#define EPK_HNAME_CONF_ROW CONF_EP_STR
#define EPK_TEXT_CONF_ROW CONF_EP_STR
#define EPK_SECRET_CONF_ROW CONF_EP_STR
#define EPK_HEADERS_CONF_ROW CONF_EP_LIST
#define EPK_COUNT_CONF_ROW CONF_EP_INT
#define EPK_MS_CONF_ROW CONF_EP_INT
#define EPK_RETRY_CONF_ROW CONF_EP_LIST
#define EPK_BOOL_CONF_ROW(key, lo, hi, def) \
    {CFG_BOOL(#key, (def) ? cfg_true : cfg_false, CFGF_NONE), .kind = CK_BOOL, .off = FE(key)},

/* The conf column of a row: no option; an option whose default is the
 * endpoint's; an option whose default v stands for "not given" (its
 * lower bound takes v in too: connect_timeout_ms 0). */
#define CONF_NO CONF_EP_SKIP, 0
#define CONF_YES CONF_EP_DEF, 0
#define CONF_UNSET(v) CONF_EP_UNSET, v
#define CONF_EP_ROW(sel, unset, type, key, lo, hi, def) sel(unset, type, key, lo, hi, def)
#define CONF_EP_SKIP(unset, type, key, lo, hi, def)
#define CONF_EP_DEF(unset, type, key, lo, hi, def) type##_CONF_ROW(key, lo, hi, def)
#define CONF_EP_UNSET(unset, type, key, lo, hi, def) \
    type##_CONF_ROW(key, (unset) < (lo) ? (unset) : (lo), hi, unset)

/* One "endpoint NAME { ... }" section: a subscriber declared in the file,
 * one option per row of endpoint_keys.def with a config option, named as
 * its key, with the endpoint's bounds; the daemon checks the section as a
 * whole (url, types, filters, headers) when it loads it. */
static const struct conf_row conf_endpoint_rows[] = {
#define ENDPOINT_KEY(key, type, lo, hi, def, cli, conf, doc) \
    CONF_EP_ROW(conf, type, key, lo, hi, def)
#include "endpoint_keys.def"
    /* the file form of transform (endpoint_declared_json reads it) */
    {CFG_STR("transform_file", "", CFGF_NONE), .kind = CK_PATH_OPT, .off = FE(transform_file)},
};

static conf_sec_check_fn conf_endpoint_check;

const struct conf_table conf_endpoint = {
    .rows = conf_endpoint_rows,
    .nrows = NROWS(conf_endpoint_rows),
    .size = sizeof(struct mh_conf_endpoint),
    .title_off = FE(name),
    .lines_off = FE(lines), /* conf_place_error: the daemon checks values later */
    .check = conf_endpoint_check,
};

/* A content filter next hop as the MTA logs it: "HOST:PORT" or
 * "[HOST]:PORT" (brackets required around an IPv6 address), port 1-65535. */
bool conf_hop_valid(const char *s)
{
    const char *colon, *port;
    char *end;
    long n;

    if (s[0] == '[') {
        colon = strchr(s, ']');
        if (colon == NULL || colon == s + 1 || colon[1] != ':')
            return false;
        colon++;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || colon == s || memchr(s, ':', (size_t)(colon - s)) != NULL ||
            strpbrk(s, "[] ") != NULL)
            return false;
    }
    port = colon + 1;
    n = strtol(port, &end, 10);
    return end != port && *end == '\0' && port[0] != '-' && port[0] != '+' && n >= 1 &&
           n <= 65535;
}

/* A maillog source of type file follows path: without one it has nothing
 * to read. (Its title was checked before.) Content filter hops have the
 * form the log gives them. */
static int conf_maillog_check(cfg_t *cfg, cfg_t *sec)
{
    const char *type = cfg_getstr(sec, "type"), *path = cfg_getstr(sec, "path");

    if (type != NULL && strcmp(type, "file") == 0 && (path == NULL || path[0] == '\0')) {
        cfg_error(cfg, "maillog \"%s\": path is required for type file", cfg_title(sec));
        return -1;
    }
    for (unsigned i = 0; i < cfg_size(sec, "content_filters"); i++) {
        const char *hop = cfg_getnstr(sec, "content_filters", i);

        if (!conf_hop_valid(hop)) {
            cfg_error(cfg, "maillog \"%s\": content_filters: expected \"HOST:PORT\" or "
                           "\"[HOST]:PORT\", not \"%s\"", cfg_title(sec), hop);
            return -1;
        }
    }
    return 0;
}

/* An endpoint needs a url; the rest of its checks need the endpoint
 * model and run when the daemon loads the section. */
static int conf_endpoint_check(cfg_t *cfg, cfg_t *sec)
{
    const char *url = cfg_getstr(sec, "url");

    if (url == NULL || url[0] == '\0') {
        cfg_error(cfg, "endpoint \"%s\": url is required", cfg_title(sec));
        return -1;
    }
    if (str_has_ctl(url)) {
        cfg_error(cfg, "endpoint \"%s\": url contains a control character", cfg_title(sec));
        return -1;
    }
    return 0;
}

/* The line of option key (klen bytes) in endpoint section ce, else of the
 * section's closing brace; 0 when not from a file. */
static int conf_endpoint_line(const struct mh_conf_endpoint *ce, const char *key, size_t klen)
{
    if (ce->lines == NULL)
        return 0;
    for (size_t i = 0; i < NROWS(conf_endpoint_rows); i++) {
        const char *name = conf_endpoint_rows[i].opt.name;

        if (strlen(name) == klen && strncmp(name, key, klen) == 0 && ce->lines[i] > 0)
            return ce->lines[i];
    }
    return ce->lines[NROWS(conf_endpoint_rows)];
}

/* The endpoint model's problems read "endpoint NAME: KEY: ..." (endpoint.h),
 * KEY being the option of the same name. */
int conf_place_error(const mh_conf_t *c, mh_err_t *err)
{
    const char *text, *key;
    size_t n;
    int line = 0;

    if (err == NULL || c->path == NULL)
        return -1;
    text = err->text;
    for (size_t i = 0; i < c->n_endpoints && line == 0; i++) {
        n = strlen(c->endpoints[i].name);
        if (strncmp(text, "endpoint ", 9) == 0 &&
            strncmp(text + 9, c->endpoints[i].name, n) == 0 && strncmp(text + 9 + n, ": ", 2) == 0) {
            key = text + 9 + n + 2;
            line = conf_endpoint_line(&c->endpoints[i], key, strcspn(key, ":"));
        }
    }
    if (line > 0)
        return mh_err_prefix(err, "%s:%d", c->path, line);
    return mh_err_prefix(err, "%s", c->path);
}

static const char *const conf_milter_tenants[] = {"sasl_user", "sender_domain", NULL};

/* The default milter socket is inside Postfix's queue directory, its chroot
 * (Debian runs smtpd and cleanup chrooted), where a chrooted smtpd finds it
 * as "unix:mailhook/milter.sock", as OpenDKIM's Debian package does with
 * opendkim/. Postfix's queue directory, not one of ours: /var/spool/postfix
 * on Debian and in Postfix's own default install, whatever our prefix. */
#define CONF_POSTFIX_QUEUE_DIR "/var/spool/postfix"

/* The "milter { ... }" section: mailhook-milter(8). */
static const struct conf_row conf_milter_rows[] = {
    {CFG_STR("socket", "unix:" CONF_POSTFIX_QUEUE_DIR "/mailhook/milter.sock", CFGF_NONE),
     .kind = CK_STR, .off = FL(socket)}, /* form: conf_milter_check */
    {CFG_STR("tenant", "sasl_user", CFGF_NONE),
     .kind = CK_STR, .off = FL(tenant), .oneof = conf_milter_tenants},
    {CFG_BOOL("remove_control_headers", cfg_true, CFGF_NONE),
     .kind = CK_BOOL, .off = FL(remove_control_headers)},
    {CFG_STR_LIST("header_metadata", NULL, CFGF_NONE),
     .kind = CK_STRLIST, .off = FL(header_metadata), .off_n = FL(n_header_metadata),
     .item = CK_TEXT},
    {CFG_INT("max_header_bytes", 8 * KIB, CFGF_NONE),
     .kind = CK_INT, .off = FL(max_header_bytes), .min = 256, .max = MIB},
    {CFG_INT("max_headers", 500, CFGF_NONE),
     .kind = CK_INT, .off = FL(max_headers), .min = 10, .max = 100000},
    {CFG_INT("max_recipients", 1000, CFGF_NONE),
     .kind = CK_INT, .off = FL(max_recipients), .min = 1, .max = 100000},
    {CFG_INT("max_tags", 32, CFGF_NONE),
     .kind = CK_INT, .off = FL(max_tags), .min = 0, .max = 1000},
    {CFG_INT("max_metadata_bytes", 8 * KIB, CFGF_NONE),
     .kind = CK_INT, .off = FL(max_metadata_bytes), .min = 0, .max = MIB},
    {CFG_INT("queue_events", 20000, CFGF_NONE),
     .kind = CK_INT, .off = FL(queue_events), .min = 1, .max = 10000000},
    {CFG_INT("timeout", 600, CFGF_NONE),
     .kind = CK_INT, .off = FL(timeout), .min = 1, .max = 86400},
};

static conf_sec_check_fn conf_milter_check;

const struct conf_table conf_milter = {
    .rows = conf_milter_rows,
    .nrows = NROWS(conf_milter_rows),
    .check = conf_milter_check,
};

/* libmilter's socket forms: "unix:/abs/path" (or "local:"), "inet:PORT",
 * "inet:PORT@HOST", "inet6:PORT@HOST". */
static int conf_milter_check(cfg_t *cfg, cfg_t *sec)
{
    const char *s = cfg_getstr(sec, "socket");
    const char *rest;
    char *end;
    long port;

    if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) {
        rest = strchr(s, ':') + 1;
        if (rest[0] != '/' || strlen(rest) >= 100 || str_has_ctl(rest)) {
            cfg_error(cfg, "milter: socket: a unix socket needs an absolute path of at most 99 "
                           "characters: \"%s\"", s);
            return -1;
        }
        return 0;
    }
    if (strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0) {
        rest = strchr(s, ':') + 1;
        port = strtol(rest, &end, 10);
        if (end != rest && port >= 1 && port <= 65535 &&
            (*end == 0 || (*end == '@' && end[1] && !str_has_ctl(end + 1))))
            return 0;
    }
    cfg_error(cfg, "milter: socket: expected \"unix:/PATH\", \"inet:PORT@HOST\" or "
                   "\"inet6:PORT@HOST\", not \"%s\"", s);
    return -1;
}
