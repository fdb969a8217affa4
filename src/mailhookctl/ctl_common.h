/* SPDX-License-Identifier: MIT */
/*
 * ctl_common.h - what mailhookctl's command modules share: the run's
 * context, the admin call, option values, output helpers.
 *
 * Commands are functions `int cmd(struct ctl *, argc, argv)` with argv[0]
 * the command word; they return an exit code (sysexits.h, plus CTL_EX_*).
 * Each table row (struct ctl_command) carries the command's synopsis, which
 * --help prints, and says whether it reads the whole configuration
 * (CTL_NEEDS_CONF: emit, backfill) or is a group of subcommands (CTL_GROUP).
 * Errors the user must fix end the program here, not in the caller:
 *
 *   ctl_dispatch(ctl, cmds, argc, argv, synopsis)
 *                               argv[0] a command group ("endpoint"): run
 *                               the entry of cmds (NULL-terminated) named
 *                               by argv[1] with argv + 1; usage error when
 *                               there is none; "GROUP --help" prints the
 *                               group's synopsis, "GROUP SUB ... --help"
 *                               the subcommand's (ctl_help_scan)
 *   ctl_help_scan(argc, argv, synopsis)
 *                               a "--help" among argv[1..] (before "--"):
 *                               "usage: mailhookctl SYNOPSIS" on stdout,
 *                               exit 0
 *   ctl_global_flags(ctl, &argc, argv)
 *                               take the options every command accepts
 *                               after its name out of argv[1..] (before
 *                               "--"): --json sets ctl->json, --version
 *                               prints "mailhookctl VERSION" and exits 0;
 *                               remembers ctl for the usage errors
 *   ctl_call(ctl, req)          send req (consumed) on the admin socket; the
 *                               answer (caller json_decref()s) when it says
 *                               ok, else print the daemon's error (under
 *                               --json as {"ok":false,"code","error"} on
 *                               stderr) and exit: not_found 1,
 *                               bad_request/exists/conflict 65, busy 75,
 *                               anything else (and no daemon) 69; every
 *                               failure exits ctl->fail_rc instead when it
 *                               is set (status: 3, UNKNOWN)
 *   ctl_fail(ctl, rc, code, fmt, ...)
 *                               print an error ("mailhookctl: MESSAGE", or
 *                               the JSON error object under --json) and
 *                               exit rc (ctl->fail_rc when set)
 *   ctl_usage(synopsis)         "usage: mailhookctl SYNOPSIS" on stderr,
 *                               exit 64 (under --json, as ctl_fail does,
 *                               code "usage": so are the next two)
 *   ctl_bad_usage(synopsis, fmt, ...)
 *                               "mailhookctl: MESSAGE" then the usage line,
 *                               exit 64
 *   ctl_getopt(argc, argv, opts, synopsis)
 *                               getopt_long with our own messages (getopt's
 *                               would name argv[0], the command word):
 *                               unknown option or missing value exit 64;
 *                               options and operands may be mixed. Set
 *                               optind = 0 before the first call: main()'s
 *                               "+" (stop at the command) would otherwise
 *                               stay in force, glibc resets it only then
 *   ctl_operands(argc, argv, synopsis)
 *                               for a command without options: any option
 *                               is a usage error (exit 64); returns the
 *                               index of the first operand
 *   ctl_types(types, opt, s, synopsis)
 *                               append the event types of s (one, or a
 *                               comma list: a comma is never part of a
 *                               type) to the JSON array types, each an
 *                               exact type, PREFIX.* or * (mailhookd's rule
 *                               for endpoints, which the store's matching
 *                               follows): anything else exits 64.
 *                               The rule of every repeatable --type
 *   ctl_endpoint_exists(ctl, name)
 *                               ask mailhookd for endpoint name; exits 1
 *                               ("no endpoint NAME") when there is none
 *   ctl_time(opt, s, synopsis)  a TIME (time_parse_user) in ms
 *   ctl_duration_ms(opt, s, max_ms, synopsis)
 *                               a DURATION (time_parse_duration_ms), <= max
 *   ctl_count(opt, s, min, max, synopsis)
 *                               a decimal integer within [min, max]
 *   ctl_jstr(what, s, synopsis)  s as a new JSON string; not UTF-8 exits 64
 *   ctl_print_json(v)           v as one compact JSON line on stdout
 *   ctl_str(obj, key)           the string at key, or NULL
 *   ctl_int(obj, key)           the integer at key, or 0
 *   ctl_fmt_time(buf, v)        a time from the daemon (ms integer or text)
 *                               as RFC 3339 into buf (CTL_TIME_LEN), "-"
 *                               when absent or 0; returns buf
 *   ctl_fmt_duration(buf, n, ms)   "500ms", "5s", "2h", "1d": the largest
 *                               unit that divides ms, so it reads back in
 *   ctl_print_text(label, text, max)
 *                               untrusted multi-line text, each line made
 *                               printable, at most max bytes, indented
 *                               under a "label:" column
 */
#ifndef MH_CTL_COMMON_H
#define MH_CTL_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "conf.h"
#include "msg.h"

#define CTL_TIMEOUT_MS 30000
#define CTL_EX_NOTFOUND 1
#define CTL_EX_NOTSENT 1 /* endpoint preview: the endpoint would send nothing */
#define CTL_TIME_LEN 64
#define CTL_LABEL_WIDTH 18 /* "key:" column of the detail views */

struct ctl {
    mh_conf_t *conf; /* the whole configuration: only for CTL_NEEDS_CONF */
    const char *admin_socket;
    bool json;
    int fail_rc; /* when not 0, the exit code of every failure of ctl_call */
};

#define CTL_NEEDS_CONF 1 /* reads the whole configuration (emit, backfill) */
#define CTL_GROUP 2      /* a group of subcommands: fn calls ctl_dispatch */

struct ctl_command {
    const char *name;
    int (*fn)(struct ctl *ctl, int argc, char **argv);
    const char *synopsis; /* after "usage: mailhookctl " */
    int flags;            /* CTL_NEEDS_CONF, CTL_GROUP */
};

int ctl_dispatch(struct ctl *ctl, const struct ctl_command *cmds, int argc, char **argv,
                 const char *synopsis);
void ctl_help_scan(int argc, char **argv, const char *synopsis);
void ctl_global_flags(struct ctl *ctl, int *argc, char **argv);
json_t *ctl_call(struct ctl *ctl, json_t *req);
void ctl_fail(const struct ctl *ctl, int rc, const char *code, const char *fmt, ...)
    MH_PRINTF(4, 5) MH_NORETURN;
void ctl_usage(const char *synopsis) MH_NORETURN;
void ctl_bad_usage(const char *synopsis, const char *fmt, ...) MH_PRINTF(2, 3) MH_NORETURN;
int ctl_getopt(int argc, char **argv, const struct option *opts, const char *synopsis);
int ctl_operands(int argc, char **argv, const char *synopsis);
void ctl_types(json_t *types, const char *opt, const char *s, const char *synopsis);
void ctl_endpoint_exists(struct ctl *ctl, const char *name);
int64_t ctl_time(const char *opt, const char *s, const char *synopsis);
int64_t ctl_duration_ms(const char *opt, const char *s, int64_t max_ms, const char *synopsis);
long long ctl_count(const char *opt, const char *s, long long min, long long max,
                    const char *synopsis);
json_t *ctl_jstr(const char *what, const char *s, const char *synopsis);
void ctl_print_json(const json_t *v);
const char *ctl_str(const json_t *obj, const char *key);
json_int_t ctl_int(const json_t *obj, const char *key);
char *ctl_fmt_time(char *buf, const json_t *v);
char *ctl_fmt_duration(char *buf, size_t n, int64_t ms);
void ctl_print_text(const char *label, const char *text, size_t max);

#endif
