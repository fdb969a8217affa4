/* SPDX-License-Identifier: MIT */
/*
 * conf.h - mailhook.conf: the one configuration file of every component.
 *
 * Syntax is libconfuse's. Every option is declared once, in the cfg_opt_t
 * table in conf.c, with its default and a validator for its bounds; the
 * sample etc/mailhook.conf and man/mailhook.conf.5 document each of them
 * (tests/t0100-conf-doc.sh checks all three agree).
 *
 * A loaded configuration is an immutable, reference-counted snapshot: on
 * SIGHUP the daemon loads a new one and swaps it in; work in flight keeps the
 * snapshot it started with (conf_ref/conf_unref).
 *
 *   conf_load(path, &err)     parse and validate; NULL + "file:line: problem"
 *   conf_defaults()           a snapshot of the built-in defaults (no file)
 *   conf_ref(c) / conf_unref(c)
 *   conf_dump(c, fp)          print the effective values in config syntax
 *                             (mailhookd -T): "name = value" lines, sections
 *                             as blocks; the output loads back unchanged
 *   conf_option_names()       NULL-terminated list of every option name,
 *                             dotted for sections ("milter.socket"), for the
 *                             documentation test
 *   conf_place_error(c, err)  -1, err prefixed with c's "file:line: " (or
 *                             "file: ") for a problem the daemon finds later
 *                             in what c holds: "endpoint NAME: KEY: ..." is
 *                             placed at KEY's line in that section, else at
 *                             the section's closing brace
 *   conf_hop_valid(s)         s has the form of a maillog.content_filters
 *                             item, "HOST:PORT" or "[HOST]:PORT" (also for
 *                             mailhookctl parse --content-filter)
 *   CONF_DEFAULT_PATH         compiled-in default path of the file
 */
#ifndef MH_CONF_H
#define MH_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "endpoint_limits.h"
#include "msg.h"

/* Install paths and the service user come from the Makefile (-D); these
 * fallbacks serve a build without it. */
#ifndef MH_SYSCONFDIR
#define MH_SYSCONFDIR "/etc"
#endif
#ifndef MH_DEFAULT_USER
#define MH_DEFAULT_USER "mailhook"
#endif
#ifndef MH_LOCALSTATEDIR
#define MH_LOCALSTATEDIR "/var"
#endif
#ifndef MH_RUNSTATEDIR
#define MH_RUNSTATEDIR "/run"
#endif
#define CONF_DEFAULT_PATH MH_SYSCONFDIR "/mailhook.conf"

/* One "maillog NAME { ... }" section: a log source for the maillog reader. */
struct mh_conf_maillog {
    char *name;            /* the section title: names the source in status and checkpoints */
    char *type;            /* "file" or "journald" */
    char *path;            /* file: the log file to follow; journald: a journal
                              directory, "" = the system journal */
    char *start_at;        /* first start, no checkpoint yet: "end" (default) or "beginning" */
    int rotate_wait;       /* seconds a renamed-away log must be idle before it is finished (5) */
    bool emit_sent;        /* email.sent from the log for messages no milter recorded (true) */
    bool include_bounces;  /* events for the MTA's own bounce notices (false) */
    char **sender_domains; /* only messages from these sender domains (NULL-terminated);
                              NULL = all */
    size_t n_sender_domains;
    char **sasl_users;     /* only messages submitted by these SASL users (NULL-terminated);
                              NULL = all */
    size_t n_sasl_users;
    char **content_filters; /* next hops that are content filters, "HOST:PORT" or
                               "[HOST]:PORT" (NULL-terminated); NULL = none */
    size_t n_content_filters;
    int content_filter_window; /* seconds a filter hop waits for its re-injection (300) */
    char *filtered_event;  /* mail a filter quarantined or dropped: "failed" or "none" */
    char *discard_event;   /* postfix/discard: "failed", "delivered" or "none" */
    int max_messages;      /* queue ids tracked at most (100000) */
    int max_age;           /* seconds a queue id may stay idle before it is dropped (604800) */
    int max_line;          /* longer lines are skipped and counted (65536) */
    int batch_lines;       /* lines per store transaction at most (4096) */
    int milter_wait;       /* seconds a queue id's events wait for the milter's record (5);
                              0 = never */
};

/* One "endpoint NAME { ... }" section: a subscriber declared in the file.
 * The daemon turns it into an endpoint (endpoint_declared_json) and
 * validates it there; options left out take the endpoint defaults.
 * One member per row of endpoint_keys.def with a config option, named as
 * its key and in its order: char * for a string (EPK_URL, EPK_SCHEME,
 * EPK_HNAME, EPK_TEXT, EPK_SECRET, EPK_FORMAT, EPK_PROGRAM, EPK_AUTH,
 * EPK_IDFORM), char ** (NULL-terminated; NULL when
 * empty) and size_t n_KEY for a list (EPK_TYPES, EPK_FILTERS, EPK_HEADERS
 * as "Name: value", EPK_RETRY as durations), int (EPK_COUNT, EPK_MS), bool
 * (EPK_BOOL). What each is for, and the value that stands for "not
 * given", is in its row. */
#define CONF_EP_STR(key) char *key;
#define CONF_EP_LIST(key) char **key; size_t n_##key;
#define EPK_URL_CONF_FIELD CONF_EP_STR
#define EPK_FORMAT_CONF_FIELD CONF_EP_STR
#define EPK_PROGRAM_CONF_FIELD CONF_EP_STR
#define EPK_AUTH_CONF_FIELD CONF_EP_STR
#define EPK_IDFORM_CONF_FIELD CONF_EP_STR
#define EPK_TYPES_CONF_FIELD CONF_EP_LIST
#define EPK_FILTERS_CONF_FIELD CONF_EP_LIST
#define EPK_SCHEME_CONF_FIELD CONF_EP_STR
#define EPK_HNAME_CONF_FIELD CONF_EP_STR
#define EPK_TEXT_CONF_FIELD CONF_EP_STR
#define EPK_SECRET_CONF_FIELD CONF_EP_STR
#define EPK_HEADERS_CONF_FIELD CONF_EP_LIST
#define EPK_COUNT_CONF_FIELD(key) int key;
#define EPK_MS_CONF_FIELD(key) int key;
#define EPK_RETRY_CONF_FIELD CONF_EP_LIST
#define EPK_BOOL_CONF_FIELD(key) bool key;
#define CONF_NO CONF_EP_NOFIELD, 0
#define CONF_YES CONF_EP_FIELD, 0
#define CONF_UNSET(v) CONF_EP_FIELD, v
#define CONF_EP_MEMBER(sel, unset, type, key) sel(type, key)
#define CONF_EP_NOFIELD(type, key)
#define CONF_EP_FIELD(type, key) type##_CONF_FIELD(key)
struct mh_conf_endpoint {
    char *name; /* the section title */
#define ENDPOINT_KEY(key, type, min, max, def, cli, conf, doc) CONF_EP_MEMBER(conf, type, key)
#include "endpoint_keys.def"
    char *transform_file; /* a file holding the transform program; "" = none */
    int *lines; /* where each option was written (conf_place_error):
                   one per row of the section's table, 0 = not
                   written, then the closing brace's; NULL = not
                   from a file */
};
/* The helpers above are for the struct only. */
#undef CONF_NO
#undef CONF_YES
#undef CONF_UNSET
#undef CONF_EP_MEMBER
#undef CONF_EP_NOFIELD
#undef CONF_EP_FIELD
#undef CONF_EP_STR
#undef CONF_EP_LIST
#undef EPK_URL_CONF_FIELD
#undef EPK_FORMAT_CONF_FIELD
#undef EPK_PROGRAM_CONF_FIELD
#undef EPK_AUTH_CONF_FIELD
#undef EPK_IDFORM_CONF_FIELD
#undef EPK_TYPES_CONF_FIELD
#undef EPK_FILTERS_CONF_FIELD
#undef EPK_SCHEME_CONF_FIELD
#undef EPK_HNAME_CONF_FIELD
#undef EPK_TEXT_CONF_FIELD
#undef EPK_SECRET_CONF_FIELD
#undef EPK_HEADERS_CONF_FIELD
#undef EPK_COUNT_CONF_FIELD
#undef EPK_MS_CONF_FIELD
#undef EPK_RETRY_CONF_FIELD
#undef EPK_BOOL_CONF_FIELD

/* The "milter { ... }" section: mailhook-milter(8). */
struct mh_conf_milter {
    char *socket;           /* libmilter's: "unix:/path", "inet:PORT@HOST", "inet6:PORT@HOST" */
    char *tenant;           /* "sasl_user" (else the sender domain) or "sender_domain" */
    bool remove_control_headers; /* drop X-Mailhook-Tag and -Metadata from the message (true) */
    char **header_metadata; /* "Header-Name=key": the header's value as metadata.key */
    size_t n_header_metadata;
    int max_header_bytes;   /* a longer header value is cut to this (8192) */
    int max_headers;        /* headers looked at per message (500) */
    int max_recipients;     /* email.sent events per message at most (1000) */
    int max_tags;           /* tags kept per message (32) */
    int max_metadata_bytes; /* X-Mailhook-Metadata JSON kept per message (8192) */
    int queue_events;       /* events waiting for mailhookd in memory; beyond, spooled (20000) */
    int timeout;            /* seconds libmilter waits on the MTA (smfi_settimeout) (600) */
};

typedef struct mh_conf {
    int refs; /* managed by conf_ref/conf_unref (atomic) */
    char *path; /* file it was loaded from, or NULL for defaults */

    /* process */
    char *user;         /* drop to this user after binding; "" = stay as started */
    char *submit_group; /* group allowed to submit events (ingest socket, spool); "" = user's group */
    char *admin_group;  /* group allowed to use the admin socket; "" = user's group */
    char *log;          /* "syslog" or "stderr" */
    char *syslog_facility; /* "mail", "daemon", "local0".."local7" */
    int log_level;      /* 0 = info, 1+ = debug */

    /* paths */
    char *state_dir;     /* Berkeley DB environment */
    char *spool_dir;     /* producer fallback spool (tmp/, new/, bad/) */
    char *ingest_socket; /* producers submit here */
    char *admin_socket;  /* mailhookctl talks here */
    char *pid_file;      /* "" = none */

    /* store */
    int retention_days;      /* events stored longer ago than this are expired
                                (unless still queued); 0 = keep forever */
    int retention_interval;  /* seconds between retention passes */
    int64_t cache_size;      /* Berkeley DB cache bytes */
    int store_log_file_size; /* bytes of each Berkeley DB log file */
    bool store_sync;         /* fsync each commit (false only for tests/benchmarks) */

    /* ingest */
    int max_event_size;      /* bytes of one event's JSON */
    int commit_batch;        /* at most this many events per transaction */
    int max_clients;         /* simultaneous ingest connections */
    int max_admin_clients;   /* simultaneous admin connections (apart: they never take ingest's) */
    int client_timeout;      /* seconds a producer waits for an ack before spooling */
    int shutdown_timeout;    /* seconds SIGTERM waits for in-flight work */
    int spool_scan_interval; /* seconds between spool scans (besides inotify) */

    /* maillog reader: zero or more sources */
    struct mh_conf_maillog *maillogs;
    size_t n_maillogs;

    /* delivery */
    int delivery_max_in_flight;  /* requests in flight, all endpoints */
    int delivery_memory_events;  /* events held in memory per endpoint */
    int delivery_log_days;       /* delivery log retention; 0 = keep forever */
    char *delivery_ca_file;      /* CA bundle for endpoints; "" = the system's */
    char **delivery_allow;       /* SSRF guard allow-list (CIDRs); NULL = none */
    size_t n_delivery_allow;
    int delivery_time_scale;     /* retry delays and failure spans divided by this */
    int endpoint_disable_after;  /* hours of continuous failure; 0 = never */
    int endpoint_disable_failures; /* consecutive failures; 0 = never */
    char *notify_email;          /* admin address for endpoint alerts; "" = none */
    char *sendmail_path;
    struct mh_conf_endpoint *endpoints;
    size_t n_endpoints;

    /* mailhook-milter */
    struct mh_conf_milter milter;
} mh_conf_t;

mh_conf_t *conf_load(const char *path, mh_err_t *err);
mh_conf_t *conf_defaults(void);
mh_conf_t *conf_ref(mh_conf_t *c);
void conf_unref(mh_conf_t *c);
void conf_dump(const mh_conf_t *c, FILE *fp);
const char *const *conf_option_names(void);
bool conf_hop_valid(const char *s);
int conf_place_error(const mh_conf_t *c, mh_err_t *err);

#endif
