/* SPDX-License-Identifier: MIT */
/*
 * check_conf.c - unit tests of conf.c (mailhook.conf): defaults, a full
 * file, every bound rejected with the right line, unknown options, wrong
 * types, relative paths, a missing file, dump/load round trip, reference
 * counting; "maillog NAME { }" sections: two of them with every option,
 * defaults inside one, bounds, the path a file source needs, duplicate and
 * malformed names, list items, the round trip of sections and lists.
 *
 * Test configurations are written into a fresh mkdtemp directory per test
 * (checked fixture) named "x.conf", so errors read "DIR/x.conf:LINE: ...".
 * The rejection and acceptance cases are tables: one row per case.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "msg.h"
#include "xalloc.h"


#define NOPTIONS 88 /* options in the tables today (34 + 17 maillog.* + 26 endpoint.* +
                          11 milter.*); update with them */

static char *tmpdir;

static void tmp_setup(void)
{
    const char *base = getenv("TMPDIR");

    tmpdir = xasprintf("%s/check_conf.XXXXXX", base != NULL && base[0] ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void tmp_teardown(void)
{
    nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    tmpdir = xfree(tmpdir);
}

/* Write text to DIR/name; returns the path, caller frees. */
static char *write_conf(const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");

    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fputs(text, fp) >= 0, 1);
    ck_assert_int_eq(fclose(fp), 0);
    return path;
}

/* Load text as DIR/x.conf; err receives the error if any. */
static mh_conf_t *load_text(const char *text, mh_err_t *err)
{
    char *path = write_conf("x.conf", text);
    mh_conf_t *c;

    err->text[0] = '\0';
    c = conf_load(path, err);
    free(path);
    return c;
}

/* conf_dump into a malloc'ed string. */
static char *dump_string(const mh_conf_t *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    ck_assert_ptr_nonnull(fp);
    conf_dump(c, fp);
    ck_assert_int_eq(fclose(fp), 0);
    return buf;
}

/* dump(c) loads back to a snapshot whose dump is the same text. */
static void assert_round_trip(const mh_conf_t *c)
{
    char *first = dump_string(c), *second, *path;
    mh_conf_t *again;
    mh_err_t err;

    path = write_conf("dump.conf", first);
    again = conf_load(path, &err);
    ck_assert_msg(again != NULL, "%s\n%s", err.text, first);
    second = dump_string(again);
    ck_assert_str_eq(first, second);
    conf_unref(again);
    free(path);
    free(first);
    free(second);
}

/* ------------------------------------------------------------ defaults */

START_TEST(test_defaults)
{
    mh_conf_t *c = conf_defaults();

    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->refs, 1);
    ck_assert_ptr_null(c->path);
    ck_assert_str_eq(c->user, MH_DEFAULT_USER);
    ck_assert_str_eq(c->submit_group, "");
    ck_assert_str_eq(c->admin_group, "");
    ck_assert_str_eq(c->log, "syslog");
    ck_assert_str_eq(c->syslog_facility, "mail");
    ck_assert_int_eq(c->log_level, 0);
    ck_assert_str_eq(c->state_dir, MH_LOCALSTATEDIR "/lib/mailhook");
    ck_assert_str_eq(c->spool_dir, MH_LOCALSTATEDIR "/spool/mailhook");
    ck_assert_str_eq(c->ingest_socket, MH_RUNSTATEDIR "/mailhook/ingest.sock");
    ck_assert_str_eq(c->admin_socket, MH_RUNSTATEDIR "/mailhook/admin.sock");
    ck_assert_str_eq(c->pid_file, "");
    ck_assert_int_eq(c->retention_days, 30);
    ck_assert_int_eq(c->cache_size, 33554432);
    ck_assert(c->store_sync);
    ck_assert_int_eq(c->max_event_size, 262144);
    ck_assert_int_eq(c->commit_batch, 4096);
    ck_assert_int_eq(c->max_clients, 256);
    ck_assert_int_eq(c->max_admin_clients, 16);
    ck_assert_int_eq(c->client_timeout, 10);
    ck_assert_int_eq(c->shutdown_timeout, 10);
    ck_assert_int_eq(c->spool_scan_interval, 5);
    ck_assert_ptr_null(c->maillogs); /* no source unless configured */
    ck_assert_uint_eq(c->n_maillogs, 0);
    conf_unref(c);
}
END_TEST

START_TEST(test_empty_file_is_defaults)
{
    mh_conf_t *d = conf_defaults(), *c;
    char *a, *b;
    mh_err_t err;

    c = load_text("# nothing but a comment\n\n", &err);
    ck_assert_msg(c != NULL, "%s", err.text);
    a = dump_string(d);
    b = dump_string(c);
    ck_assert_str_eq(a, b);
    ck_assert_str_eq(c->path + strlen(c->path) - 7, "/x.conf");
    free(a);
    free(b);
    conf_unref(c);
    conf_unref(d);
}
END_TEST

/* ------------------------------------------------------------ a full file */

static const char full_conf[] =
    "# every option, none at its default\n"
    "user = \"mh\"\n"
    "submit_group = \"mhsubmit\"\n"
    "admin_group = \"mhadmin\"\n"
    "log = stderr\n"
    "syslog_facility = \"local3\"\n"
    "log_level = 2\n"
    "state_dir = \"/srv/mh/state\"\n"
    "spool_dir = '/srv/mh/spool'\n"
    "ingest_socket = \"/srv/run/in.sock\"\n"
    "admin_socket = \"/srv/run/adm.sock\"\n"
    "pid_file = \"/srv/run/mailhookd.pid\"\n"
    "retention_days = 0\n"
    "cache_size = 68719476736 /* 64 GiB */\n"
    "store_sync = false\n"
    "max_event_size = 1024\n"
    "commit_batch = 65536\n"
    "max_clients = 1\n"
    "client_timeout = 3600\n"
    "shutdown_timeout = 1\n"
    "spool_scan_interval = 60 // C++ comments work too\n"
    "maillog \"postfix\" {\n"
    "    type = file\n"
    "    path = \"/var/log/mail.log\"\n"
    "    start_at = beginning\n"
    "    rotate_wait = 3600\n"
    "    emit_sent = false\n"
    "    include_bounces = true\n"
    "    sender_domains = {\"example.com\", \"Mail.Example.ORG\", \"xn--bcher-kva.example\"}\n"
    "    sasl_users = {\"bob\", \"alice@example.com\", \"we\\\"ird \\\\ $HOME\"}\n"
    "    content_filters = {\"127.0.0.1:10024\", \"[::1]:10024\", \"localhost:10025\"}\n"
    "    content_filter_window = 60\n"
    "    filtered_event = none\n"
    "    discard_event = delivered\n"
    "    max_messages = 100\n"
    "    max_age = 31536000\n"
    "    max_line = 1024\n"
    "    batch_lines = 65536\n"
    "}\n"
    "maillog journal.2_b-c {\n" /* a title may go unquoted */
    "    type = \"journald\"\n"
    "    sender_domains = \"localhost\" # one item needs no braces\n"
    "    sasl_users = {}\n"
    "    max_messages = 10000000\n"
    "    max_age = 60\n"
    "    rotate_wait = 0\n"
    "    max_line = 1048576\n"
    "    batch_lines = 1\n"
    "}\n";

START_TEST(test_full_file)
{
    mh_err_t err;
    mh_conf_t *c = load_text(full_conf, &err);

    ck_assert_msg(c != NULL, "%s", err.text);
    ck_assert_str_eq(c->user, "mh");
    ck_assert_str_eq(c->submit_group, "mhsubmit");
    ck_assert_str_eq(c->admin_group, "mhadmin");
    ck_assert_str_eq(c->log, "stderr");
    ck_assert_str_eq(c->syslog_facility, "local3");
    ck_assert_int_eq(c->log_level, 2);
    ck_assert_str_eq(c->state_dir, "/srv/mh/state");
    ck_assert_str_eq(c->spool_dir, "/srv/mh/spool");
    ck_assert_str_eq(c->ingest_socket, "/srv/run/in.sock");
    ck_assert_str_eq(c->admin_socket, "/srv/run/adm.sock");
    ck_assert_str_eq(c->pid_file, "/srv/run/mailhookd.pid");
    ck_assert_int_eq(c->retention_days, 0);
    ck_assert_int_eq(c->cache_size, 68719476736LL);
    ck_assert(!c->store_sync);
    ck_assert_int_eq(c->max_event_size, 1024);
    ck_assert_int_eq(c->commit_batch, 65536);
    ck_assert_int_eq(c->max_clients, 1);
    ck_assert_int_eq(c->client_timeout, 3600);
    ck_assert_int_eq(c->shutdown_timeout, 1);
    ck_assert_int_eq(c->spool_scan_interval, 60);
    conf_unref(c);
}
END_TEST

/* The two maillog sections of full_conf, in file order. */
START_TEST(test_full_maillogs)
{
    mh_err_t err;
    mh_conf_t *c = load_text(full_conf, &err);
    const struct mh_conf_maillog *m;

    ck_assert_msg(c != NULL, "%s", err.text);
    ck_assert_uint_eq(c->n_maillogs, 2);
    m = &c->maillogs[0];
    ck_assert_str_eq(m->name, "postfix");
    ck_assert_str_eq(m->type, "file");
    ck_assert_str_eq(m->path, "/var/log/mail.log");
    ck_assert_str_eq(m->start_at, "beginning");
    ck_assert(!m->emit_sent);
    ck_assert(m->include_bounces);
    ck_assert_uint_eq(m->n_sender_domains, 3);
    ck_assert_str_eq(m->sender_domains[0], "example.com");
    ck_assert_str_eq(m->sender_domains[1], "Mail.Example.ORG");
    ck_assert_str_eq(m->sender_domains[2], "xn--bcher-kva.example");
    ck_assert_ptr_null(m->sender_domains[3]); /* NULL-terminated as well */
    ck_assert_uint_eq(m->n_sasl_users, 3);
    ck_assert_str_eq(m->sasl_users[0], "bob");
    ck_assert_str_eq(m->sasl_users[1], "alice@example.com");
    ck_assert_str_eq(m->sasl_users[2], "we\"ird \\ $HOME");
    ck_assert_ptr_null(m->sasl_users[3]);
    ck_assert_uint_eq(m->n_content_filters, 3);
    ck_assert_str_eq(m->content_filters[1], "[::1]:10024");
    ck_assert_int_eq(m->content_filter_window, 60);
    ck_assert_str_eq(m->filtered_event, "none");
    ck_assert_str_eq(m->discard_event, "delivered");
    ck_assert_int_eq(m->max_messages, 100);
    ck_assert_int_eq(m->max_age, 31536000);
    ck_assert_int_eq(m->max_line, 1024);
    ck_assert_int_eq(m->batch_lines, 65536);
    ck_assert_int_eq(m->rotate_wait, 3600);
    m = &c->maillogs[1];
    ck_assert_str_eq(m->name, "journal.2_b-c");
    ck_assert_str_eq(m->type, "journald");
    ck_assert_str_eq(m->path, "");
    ck_assert_str_eq(m->start_at, "end");
    ck_assert(m->emit_sent);
    ck_assert(!m->include_bounces);
    ck_assert_uint_eq(m->n_sender_domains, 1);
    ck_assert_str_eq(m->sender_domains[0], "localhost");
    ck_assert_ptr_null(m->sender_domains[1]);
    ck_assert_uint_eq(m->n_sasl_users, 0);
    ck_assert_ptr_null(m->sasl_users); /* empty: NULL, all users */
    ck_assert_int_eq(m->max_messages, 10000000);
    ck_assert_int_eq(m->max_age, 60);
    ck_assert_int_eq(m->max_line, 1048576);
    ck_assert_int_eq(m->batch_lines, 1);
    ck_assert_int_eq(m->rotate_wait, 0);
    conf_unref(c);
}
END_TEST

/* A section that sets only what it must gets the defaults of conf.h. */
START_TEST(test_maillog_defaults)
{
    static const char text[] = "maillog \"pf\" { path = \"/var/log/mail.log\" }\n"
                               "maillog \"j\" { type = journald }\n";
    const struct mh_conf_maillog *m;
    mh_err_t err;
    mh_conf_t *c = load_text(text, &err);
    size_t i;

    ck_assert_msg(c != NULL, "%s", err.text);
    ck_assert_uint_eq(c->n_maillogs, 2);
    ck_assert_str_eq(c->maillogs[0].name, "pf");
    ck_assert_str_eq(c->maillogs[0].type, "file");
    ck_assert_str_eq(c->maillogs[0].path, "/var/log/mail.log");
    ck_assert_str_eq(c->maillogs[1].name, "j");
    ck_assert_str_eq(c->maillogs[1].type, "journald");
    ck_assert_str_eq(c->maillogs[1].path, ""); /* no path: never NULL */
    for (i = 0; i < c->n_maillogs; i++) {
        m = &c->maillogs[i];
        ck_assert_str_eq(m->start_at, "end");
        ck_assert(m->emit_sent);
        ck_assert(!m->include_bounces);
        ck_assert_ptr_null(m->sender_domains);
        ck_assert_uint_eq(m->n_sender_domains, 0);
        ck_assert_ptr_null(m->sasl_users);
        ck_assert_uint_eq(m->n_sasl_users, 0);
        ck_assert_int_eq(m->max_messages, 100000);
        ck_assert_int_eq(m->max_age, 604800);
        ck_assert_int_eq(m->max_line, 65536);
        ck_assert_int_eq(m->batch_lines, 4096);
        ck_assert_int_eq(m->milter_wait, 5);
        ck_assert_int_eq(m->rotate_wait, 5);
    }
    assert_round_trip(c);
    conf_unref(c);
}
END_TEST

/* ------------------------------------------------------------ rejected */

struct bad_case {
    const char *text;  /* the whole file */
    const char *where; /* expected "x.conf:LINE: " (or "x.conf: ") */
    const char *what;  /* expected substring of the problem */
};

static const struct bad_case bad_cases[] = {
    /* bounds, each on a line of its own so the line number is checked */
    {"\n\nretention_days = 36501\n", "x.conf:3: ", "'retention_days': 36501 is out of range"},
    {"retention_days = -1\n", "x.conf:1: ", "'retention_days': -1 is out of range (0 to 36500)"},
    {"# c\ncache_size = 1048575\n", "x.conf:2: ", "'cache_size': 1048575 is out of range"},
    {"cache_size = 68719476737\n", "x.conf:1: ", "'cache_size'"},
    {"store_log_file_size = 1048575\n", "x.conf:1: ",
     "'store_log_file_size': 1048575 is out of range (1048576 to 1073741824)"},
    {"store_log_file_size = 1073741825\n", "x.conf:1: ", "'store_log_file_size'"},
    {"\n\n\n\nmax_event_size = 1023\n", "x.conf:5: ", "'max_event_size': 1023"},
    {"max_event_size = 16777217\n", "x.conf:1: ", "'max_event_size': 16777217"},
    {"log_level = 1\ncommit_batch = 0\n", "x.conf:2: ", "'commit_batch': 0"},
    {"commit_batch = 65537\n", "x.conf:1: ", "'commit_batch': 65537"},
    {"max_clients = 0\n", "x.conf:1: ", "'max_clients': 0"},
    {"max_clients = 65537\n", "x.conf:1: ", "'max_clients': 65537"},
    {"\nclient_timeout = 0\n", "x.conf:2: ", "'client_timeout': 0"},
    {"client_timeout = 3601\n", "x.conf:1: ", "'client_timeout': 3601"},
    {"shutdown_timeout = 0\n", "x.conf:1: ", "'shutdown_timeout': 0"},
    {"shutdown_timeout = 3601\n", "x.conf:1: ", "'shutdown_timeout': 3601"},
    {"spool_scan_interval = 0\n", "x.conf:1: ", "'spool_scan_interval': 0"},
    {"spool_scan_interval = 3601\n", "x.conf:1: ", "'spool_scan_interval': 3601"},
    {"log_level = 3\n", "x.conf:1: ", "'log_level': 3 is out of range (0 to 2)"},
    {"log_level = -1\n", "x.conf:1: ", "'log_level': -1"},
    {"/* a\n   b */\nretention_days = 99999\n", "x.conf:3: ", "'retention_days'"},
    {"retention_days = 1 max_clients = 0\n", "x.conf:1: ", "'max_clients'"},
    /* comments must not shift line numbers (libconfuse 3.3 miscounts them) */
    {"# one\n# two\n// three\n\nlog_level = 9\n", "x.conf:5: ", "'log_level'"},
    {"log = stderr # trailing\n/* a\n * b\n */ log_level = 9\n", "x.conf:4: ", "'log_level'"},
    {"pid_file = \"/a#b\" # the first # is in a string\nlog_level = 9\n", "x.conf:2: ", "'log_level'"},
    {"pid_file = '/it\\'s' // sq escape\nlog_level = 9\n", "x.conf:2: ", "'log_level'"},
    {"pid_file = \"/two\nlines\"\nlog_level = 9\n", "x.conf:3: ", "'log_level'"},
    {"\n\n/* never closed\nlog_level = 1\n", "x.conf:3: ", "unterminated comment"},
    /* choices */
    {"log = \"file\"\n", "x.conf:1: ", "'log': 'file' is not one of: syslog, stderr"},
    {"syslog_facility = local8\n", "x.conf:1: ", "'syslog_facility': 'local8' is not one of"},
    {"syslog_facility = \"MAIL\"\n", "x.conf:1: ", "'syslog_facility'"},
    /* paths */
    {"\nstate_dir = \"var/lib/mailhook\"\n", "x.conf:2: ", "'state_dir': 'var/lib/mailhook' is not an absolute path"},
    {"spool_dir = \"\"\n", "x.conf:1: ", "'spool_dir': '' is not an absolute path"},
    {"ingest_socket = \"ingest.sock\"\n", "x.conf:1: ", "'ingest_socket'"},
    {"admin_socket = \"./admin.sock\"\n", "x.conf:1: ", "'admin_socket'"},
    {"pid_file = \"mailhookd.pid\"\n", "x.conf:1: ", "'pid_file'"},
    {"ingest_socket = \"/run/mailhook/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\"\n",
     "x.conf:1: ", "is too long for a Unix socket"},
    /* names */
    {"user = \"mail hook\"\n", "x.conf:1: ", "'user': 'mail hook' is not a valid user or group name"},
    {"submit_group = \"-g\"\n", "x.conf:1: ", "'submit_group'"},
    {"admin_group = \"a/b\"\n", "x.conf:1: ", "'admin_group'"},
    {"user = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n", "x.conf:1: ", "'user'"},
    /* unknown options */
    {"\ncolour = blue\n", "x.conf:2: ", "no such option 'colour'"},
    {"State_Dir = \"/x\"\n", "x.conf:1: ", "no such option 'State_Dir'"},
    {"tracker {\n}\n", "x.conf:1: ", "no such option 'tracker'"},
    /* the milter section */
    {"milter {\n socket = \"tcp:25\"\n}\n", "x.conf:3: ", "milter: socket: expected"},
    {"milter {\n socket = \"unix:run/m.sock\"\n}\n", "x.conf:3: ", "absolute path"},
    {"milter {\n socket = \"inet:99999@127.0.0.1\"\n}\n", "x.conf:3: ", "milter: socket"},
    {"milter {\n tenant = \"user\"\n}\n", "x.conf:2: ", "'tenant'"},
    {"milter {\n max_recipients = 0\n}\n", "x.conf:2: ", "'max_recipients'"},
    /* wrong types */
    {"\n\nstore_sync = maybe\n", "x.conf:3: ", "invalid boolean value for option 'store_sync'"},
    {"retention_days = thirty\n", "x.conf:1: ", "'retention_days': 'thirty' is not a decimal integer"},
    {"retention_days = 1.5\n", "x.conf:1: ", "is not a decimal integer"},
    {"cache_size = 0x2000000\n", "x.conf:1: ", "is not a decimal integer"},
    {"cache_size = 32M\n", "x.conf:1: ", "is not a decimal integer"},
    {"cache_size = 99999999999999999999999\n", "x.conf:1: ", "out of range"},
    {"user = {\"a\", \"b\"}\n", "x.conf:1: ", "unexpected token '{'"},
    {"retention_days =\n", "x.conf:2: ", "premature end of file"}, /* at EOF */
    /* options against each other */
    {"admin_socket = \"/run/mailhook/ingest.sock\"\ningest_socket = \"/run/mailhook/ingest.sock\"\n",
     "x.conf: ", "ingest_socket and admin_socket are the same path"},
    {"state_dir = \"/var/mh\"\nspool_dir = \"/var/mh/spool\"\n", "x.conf: ",
     "spool_dir must not be inside state_dir"},
    {"state_dir = \"/var/mh/\"\nadmin_socket = \"/var/mh/a.sock\"\n", "x.conf: ",
     "admin_socket must not be inside state_dir"},
    {"spool_dir = \"/srv/spool\"\nstate_dir = \"/srv/spool/db\"\n", "x.conf: ", "state_dir must not be inside spool_dir"},
    {"state_dir = \"/\"\n", "x.conf: ", "spool_dir must not be inside state_dir"},
    /* maillog sections: bounds, at the line of the value */
#define ML "maillog \"m\" {\n    path = \"/var/log/mail.log\"\n" /* two lines */
    {ML "    max_messages = 99\n}\n", "x.conf:3: ", "'max_messages': 99 is out of range (100 to 10000000)"},
    {ML "\n    max_messages = 10000001\n}\n", "x.conf:4: ", "'max_messages': 10000001 is out of range"},
    {ML "    # a comment\n    max_age = 59\n}\n", "x.conf:4: ", "'max_age': 59 is out of range (60 to 31536000)"},
    {ML "    max_age = 31536001\n}\n", "x.conf:3: ", "'max_age': 31536001 is out of range"},
    {ML "    /* a\n       b */ max_line = 1023\n}\n", "x.conf:4: ", "'max_line': 1023 is out of range (1024 to 1048576)"},
    {ML "    max_line = 1048577\n}\n", "x.conf:3: ", "'max_line': 1048577 is out of range"},
    {ML "    batch_lines = 0\n}\n", "x.conf:3: ", "'batch_lines': 0 is out of range (1 to 65536)"},
    {ML "    batch_lines = 65537\n}\n", "x.conf:3: ", "'batch_lines': 65537 is out of range"},
    {ML "    milter_wait = 601\n}\n", "x.conf:3: ", "'milter_wait': 601 is out of range (0 to 600)"},
    {ML "    rotate_wait = -1\n}\n", "x.conf:3: ", "'rotate_wait': -1 is out of range (0 to 3600)"},
    {ML "    rotate_wait = 3601\n}\n", "x.conf:3: ", "'rotate_wait': 3601 is out of range"},
    {"log_level = 1\n" ML "    max_messages = 100 batch_lines = -1\n}\n", "x.conf:4: ", "'batch_lines': -1"},
    /* ... choices, paths, types */
    {ML "    type = syslog\n}\n", "x.conf:3: ", "'type': 'syslog' is not one of: file, journald"},
    {ML "    type = \"File\"\n}\n", "x.conf:3: ", "'type': 'File' is not one of"},
    {ML "    start_at = middle\n}\n", "x.conf:3: ", "'start_at': 'middle' is not one of: end, beginning"},
    {"maillog \"m\" {\n    path = \"var/log/mail.log\"\n}\n", "x.conf:2: ", "'path': 'var/log/mail.log' is not an absolute path"},
    {ML "    emit_sent = maybe\n}\n", "x.conf:3: ", "invalid boolean value for option 'emit_sent'"},
    {ML "    include_bounces = 2\n}\n", "x.conf:3: ", "invalid boolean value for option 'include_bounces'"},
    {ML "    max_line = 64k\n}\n", "x.conf:3: ", "'max_line': '64k' is not a decimal integer"},
    {ML "    path = {\"/a\"}\n}\n", "x.conf:3: ", "unexpected token '{'"},
    {ML "    path += \"/a\"\n}\n", "x.conf:3: ", "attempt to append to non-list option 'path'"},
    {ML "    sender_domains = {\"a.com\" \"b.com\"}\n}\n", "x.conf:3: ", "unexpected token 'b.com'"},
    {ML "    colour = blue\n}\n", "x.conf:3: ", "no such option 'colour'"},
    {ML "    maillog \"n\" { }\n}\n", "x.conf:3: ", "no such option 'maillog'"},
    {ML "    log_level = 1\n}\n", "x.conf:3: ", "no such option 'log_level'"},
    /* ... a section left open (libconfuse would take the end of the file for its '}') */
    {"\n" ML "\n", "x.conf:2: ", "'{' is never closed"},
    {ML "    sender_domains = {\"a.com\"} # }\n    sasl_users = {\"}\", '}', \"\\\"}\"}\n",
     "x.conf:1: ", "'{' is never closed"},
    {ML "    path = ${MH_CHECK_CONF_DIR}\n", "x.conf:1: ", "'{' is never closed"},
    {ML "}\n}\n", "x.conf:4: ", "unexpected closing brace"},
    /* ... a file source needs a path: reported at the section's closing brace */
    {"maillog \"pf\" {\n    start_at = beginning\n}\n", "x.conf:3: ", "maillog \"pf\": path is required for type file"},
    {"maillog \"pf\" {\n    type = file\n    path = \"\"\n}\n", "x.conf:4: ", "maillog \"pf\": path is required for type file"},
    {"log_level = 1\n\nmaillog \"pf\" { }\n", "x.conf:3: ", "maillog \"pf\": path is required for type file"},
    {"maillog \"j\" { type = journald }\nmaillog \"pf\" {\n}\n", "x.conf:3: ", "maillog \"pf\": path is required"},
    /* ... names: unique, 1 to 64 of [A-Za-z0-9_.-] */
    {"maillog \"a\" { path = \"/a\" }\n\nmaillog \"a\" { path = \"/b\" }\n", "x.conf:3: ", "found duplicate title 'a'"},
    {"maillog \"a b\" {\n    path = \"/l\"\n}\n", "x.conf:3: ",
     "maillog \"a b\": a name must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'"},
    {"maillog \"\" { path = \"/l\" }\n", "x.conf:1: ", "maillog \"\": a name must be 1 to 64"},
    {"maillog \"a/b\" { path = \"/l\" }\n", "x.conf:1: ", "maillog \"a/b\": a name must be"},
    {"maillog \"caf\xc3\xa9\" { path = \"/l\" }\n", "x.conf:1: ", "a name must be"},
    {"maillog \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" { path = \"/l\" }\n",
     "x.conf:1: ", "a name must be 1 to 64"}, /* 65 */
    {"\nmaillog {\n    path = \"/l\"\n}\n", "x.conf:2: ", "missing title for section 'maillog'"},
    {"maillog = \"m\"\n", "x.conf:1: ", "missing title for section 'maillog'"},
    /* ... list items */
    {ML "    sender_domains = {\"example.com\",\n        \"exa mple.com\"}\n}\n", "x.conf:4: ",
     "'sender_domains': 'exa mple.com' is not a valid domain name"},
    {ML "    sender_domains = \"user@example.com\"\n}\n", "x.conf:3: ", "'user@example.com' is not a valid domain name"},
    {ML "    sender_domains = {\"\"}\n}\n", "x.conf:3: ", "'' is not a valid domain name"},
    {ML "    sender_domains = {\"-a.com\"}\n}\n", "x.conf:3: ", "'-a.com' is not a valid domain name"},
    {ML "    sender_domains = {\"a-.com\"}\n}\n", "x.conf:3: ", "'a-.com' is not"},
    {ML "    sender_domains = {\"a..com\"}\n}\n", "x.conf:3: ", "'a..com' is not"},
    {ML "    sender_domains = {\".a.com\"}\n}\n", "x.conf:3: ", "'.a.com' is not"},
    {ML "    sender_domains = {\"a.com.\"}\n}\n", "x.conf:3: ", "'a.com.' is not"},
    {ML "    sender_domains = {\"a_b.com\"}\n}\n", "x.conf:3: ", "'a_b.com' is not"},
    {ML "    sender_domains = {\"*.a.com\"}\n}\n", "x.conf:3: ", "'*.a.com' is not"},
    {ML "    sender_domains = {\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com\"}\n}\n", "x.conf:3: ",
     "is not a valid domain name"}, /* a 64-byte label */
    {ML "    sender_domains = {\"a.com\"}\n    sender_domains += \"b..com\"\n}\n", "x.conf:4: ", "'b..com' is not"},
    {ML "    sasl_users = {\"bob\", \"\"}\n}\n", "x.conf:3: ", "'sasl_users': '' is empty"},
    {ML "    sasl_users = {\"bob\",\n  \"b\\x01b\"}\n}\n", "x.conf:4: ", "'sasl_users': 'b?b' contains a control character"},
    /* ... content filter hops: "HOST:PORT" or "[HOST]:PORT", at the closing brace */
    {ML "    content_filters = {\"127.0.0.1:10024\", \"127.0.0.1\"}\n}\n", "x.conf:4: ",
     "maillog \"m\": content_filters: expected \"HOST:PORT\" or \"[HOST]:PORT\", not \"127.0.0.1\""},
    {ML "    content_filters = {\"::1:10024\"}\n}\n", "x.conf:4: ", "not \"::1:10024\""},
    {ML "    content_filters = {\"[::1]10024\"}\n}\n", "x.conf:4: ", "not \"[::1]10024\""},
    {ML "    content_filters = {\"[]:10024\"}\n}\n", "x.conf:4: ", "not \"[]:10024\""},
    {ML "    content_filters = {\"localhost:0\"}\n}\n", "x.conf:4: ", "not \"localhost:0\""},
    {ML "    content_filters = {\"localhost:65536\"}\n}\n", "x.conf:4: ", "not \"localhost:65536\""},
    {ML "    content_filters = {\"localhost:+25\"}\n}\n", "x.conf:4: ", "not \"localhost:+25\""},
    {ML "    content_filters = {\":25\"}\n}\n", "x.conf:4: ", "not \":25\""},
    {ML "    filtered_event = dropped\n}\n", "x.conf:3: ", "filtered_event"},
    {ML "    discard_event = bounced\n}\n", "x.conf:3: ", "discard_event"},
    {ML "    content_filter_window = 0\n}\n", "x.conf:3: ", "content_filter_window"},
    /* ... a ${VAR} that is not set, in a section as at the top */
    {ML "    sasl_users = {\"a\",\n  \"${MH_CHECK_UNSET}\"}\n}\n", "x.conf:4: ",
     "${MH_CHECK_UNSET} is not set in the environment"},
#undef ML
    /* an unset ${VAR}: libconfuse would make it "" */
    {"\n\nstate_dir = ${MH_CHECK_UNSET}\n", "x.conf:3: ", "${MH_CHECK_UNSET} is not set"},
    {"# ${MH_CHECK_CONF_DIR}\npid_file = \"/run/${MH_CHECK_UNSET}.pid\"\n", "x.conf:2: ",
     "${MH_CHECK_UNSET} is not set in the environment (write ${MH_CHECK_UNSET:-default}"},
    {"pid_file = \"/run/\\\\${MH_CHECK_UNSET}\"\n", "x.conf:1: ", "is not set"}, /* \\ then $ */
    {"pid_file = \"/run/${MH_CHECK_UNSET:x}\"\n", "x.conf:1: ", "${MH_CHECK_UNSET:x} is not"},
    {"log_level = 1\n\npid_file = \"/r${MH_CHECK\x01UNSET}\"\n", "x.conf:3: ",
     "${MH_CHECK?UNSET} is not set"},
};

START_TEST(test_rejected)
{
    const struct bad_case *bc = &bad_cases[_i];
    mh_err_t err;
    mh_conf_t *c;

    unsetenv("MH_CHECK_UNSET");
    c = load_text(bc->text, &err);

    ck_assert_msg(c == NULL, "accepted: %s", bc->text);
    ck_assert_msg(strstr(err.text, bc->where) != NULL, "'%s' lacks '%s'", err.text, bc->where);
    ck_assert_msg(strstr(err.text, bc->what) != NULL, "'%s' lacks '%s'", err.text, bc->what);
    /* the message starts with the path of the file */
    ck_assert_int_eq(strncmp(err.text, tmpdir, strlen(tmpdir)), 0);
}
END_TEST

/* ------------------------------------------------------------ accepted */

struct good_case {
    const char *text;
    const char *dump_line; /* expected in the dump, with its newline */
};

static const struct good_case good_cases[] = {
    {"retention_days = 36500\n", "retention_days = 36500\n"},
    {"retention_days = 010\n", "retention_days = 10\n"}, /* decimal, not octal */
    {"retention_days = \"7\"\n", "retention_days = 7\n"},
    {"cache_size = 1048576\n", "cache_size = 1048576\n"},
    {"max_event_size = 16777216\n", "max_event_size = 16777216\n"},
    {"log_level = 1\n", "log_level = 1\n"},
    {"store_sync = no\n", "store_sync = false\n"},
    {"store_sync = On\n", "store_sync = true\n"},
    {"user = \"\"\n", "user = \"\"\n"},
    {"user = www-data\n", "user = \"www-data\"\n"},
    {"syslog_facility = local7\n", "syslog_facility = \"local7\"\n"},
    {"state_dir = /srv/mailhook\n", "state_dir = \"/srv/mailhook\"\n"}, /* unquoted */
    {"pid_file = \"\"\n", "pid_file = \"\"\n"},
    {"state_dir = \"/a\"\nstate_dir = \"/b\"\n", "state_dir = \"/b\"\n"}, /* last one wins */
    {"state_dir = \"${MH_CHECK_CONF_DIR}/state\"\n", "state_dir = \"/srv/env/state\"\n"},
    /* an unset variable with a default, escaped, single-quoted or in a comment */
    {"state_dir = ${MH_CHECK_UNSET:-/srv/dflt}\n", "state_dir = \"/srv/dflt\"\n"},
    {"pid_file = \"/run/${MH_CHECK_UNSET:-}x.pid\"\n", "pid_file = \"/run/x.pid\"\n"},
    {"# ${MH_CHECK_UNSET}\n/* ${MH_CHECK_UNSET} */ state_dir = '/srv/${MH_CHECK_UNSET}'\n",
     "state_dir = \"/srv/\\${MH_CHECK_UNSET}\"\n"},
    {"state_dir = \"/srv/\\${MH_CHECK_UNSET}\"\n", "state_dir = \"/srv/\\${MH_CHECK_UNSET}\"\n"},
    {"state_dir = \"/srv/mh\"\nspool_dir = \"/srv/mh-spool\"\n", "spool_dir = \"/srv/mh-spool\"\n"},
    /* maillog sections */
#define ML "maillog \"m\" {\n    path = \"/var/log/mail.log\"\n"
    {ML "}\n", "maillog \"m\" {\n    type = \"file\"\n    path = \"/var/log/mail.log\"\n"},
    {ML "}\n", "    sender_domains = {}\n    sasl_users = {}\n"},
    {ML "    sender_domains = example.com\n}\n", "    sender_domains = {\"example.com\"}\n"},
    {ML "    sender_domains = {\"a.com\"}\n    sender_domains += \"b.com\"\n}\n",
     "    sender_domains = {\"a.com\", \"b.com\"}\n"},
    {ML "    sasl_users = {\"a\"}\n    sasl_users = {\"b\", \"c\"}\n}\n", "    sasl_users = {\"b\", \"c\"}\n"},
    {ML "    sasl_users = {\"a\"}\n    sasl_users = {}\n}\n", "    sasl_users = {}\n"},
    {ML "    sender_domains = {\"EXAMPLE.com\", \"xn--bcher-kva.ch\", \"localhost\"}\n}\n",
     "    sender_domains = {\"EXAMPLE.com\", \"xn--bcher-kva.ch\", \"localhost\"}\n"},
    {ML "    sender_domains = {\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.a-b.com\"}\n}\n",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.a-b.com"}, /* a 63-byte label */
    {ML "    sasl_users = {\"Bob Smith\", \"a\\\\b\"}\n}\n", "    sasl_users = {\"Bob Smith\", \"a\\\\b\"}\n"},
    {ML "    max_messages = 0100\n}\n", "    max_messages = 100\n"},
    {ML "    emit_sent = no\n    include_bounces = yes\n}\n", "    emit_sent = false\n    include_bounces = true\n"},
    {ML "    start_at = \"beginning\"\n}\n", "    start_at = \"beginning\"\n"},
    {"maillog j { type = journald }\n", "maillog \"j\" {\n    type = \"journald\"\n    path = \"\"\n"},
    {"maillog j { type = journald path = \"/ignored\" }\n", "    path = \"/ignored\"\n"},
    {"maillog \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" { path = \"/l\" }\n",
     "maillog \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" {\n"}, /* 64 */
    {"maillog \"A.b_c-9\" { path = \"/l\" }\nmaillog \"a.b_c-9\" { path = \"/l\" }\n", /* case counts */
     "}\nmaillog \"a.b_c-9\" {\n"},
    {ML "    path = ${MH_CHECK_CONF_DIR} sasl_users = {\"${MH_CHECK_CONF_DIR}\"}\n}\n",
     "    path = \"/srv/env\"\n"}, /* ${VAR} is not a brace */
    {ML "    sasl_users = {\"{\", '{', \"\\\"{\"} /* } */ // }\n}\n", "    sasl_users = {\"{\", \"{\", \"\\\"{\"}\n"},
    {"maillog \"a\" { path = \"/a\" }\nlog_level = 1\nmaillog \"b\" { path = \"/b\" }\n",
     "    milter_wait = 5\n}\nmaillog \"b\" {\n"}, /* all top-level options first */
#undef ML
};

START_TEST(test_accepted)
{
    const struct good_case *gc = &good_cases[_i];
    mh_err_t err;
    mh_conf_t *c;
    char *dump;

    setenv("MH_CHECK_CONF_DIR", "/srv/env", 1);
    unsetenv("MH_CHECK_UNSET");
    c = load_text(gc->text, &err);
    ck_assert_msg(c != NULL, "%s: %s", gc->text, err.text);
    dump = dump_string(c);
    ck_assert_msg(strstr(dump, gc->dump_line) != NULL, "dump lacks %s", gc->dump_line);
    free(dump);
    conf_unref(c);
}
END_TEST

/* ------------------------------------------------------------ files */

START_TEST(test_missing_file)
{
    char *path = xasprintf("%s/absent.conf", tmpdir);
    char *want = xasprintf("%s: cannot open: %s", path, strerror(ENOENT));
    mh_err_t err;

    ck_assert_ptr_null(conf_load(path, &err));
    ck_assert_str_eq(err.text, want);
    ck_assert_ptr_null(conf_load(path, NULL)); /* err may be NULL */
    free(want);
    free(path);
}
END_TEST

START_TEST(test_directory)
{
    mh_err_t err;

    ck_assert_ptr_null(conf_load(tmpdir, &err));
    ck_assert_msg(strstr(err.text, ": is a directory: the configuration must be a regular "
                                   "file") != NULL, "%s", err.text);
}
END_TEST

/* A FIFO is refused at once, not read (which would wait for a writer):
 * the alarm turns a hang into a failure, with or without CK_FORK. */
START_TEST(test_fifo)
{
    char *path = xasprintf("%s/fifo.conf", tmpdir);
    mh_err_t err;

    ck_assert_int_eq(mkfifo(path, 0600), 0);
    alarm(10);
    ck_assert_ptr_null(conf_load(path, &err));
    alarm(0);
    ck_assert_msg(strstr(err.text, "fifo.conf: is a FIFO: the configuration must be a regular "
                                   "file") != NULL, "%s", err.text);
    free(path);
}
END_TEST

START_TEST(test_not_text)
{
    static const char text[] = "log_level = 1\n\0log_level = 9\n";
    char *path = xasprintf("%s/nul.conf", tmpdir);
    FILE *fp = fopen(path, "w");
    mh_err_t err;

    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fwrite(text, 1, sizeof(text) - 1, fp), sizeof(text) - 1);
    ck_assert_int_eq(fclose(fp), 0);
    ck_assert_ptr_null(conf_load(path, &err));
    ck_assert_msg(strstr(err.text, "nul.conf: contains a NUL byte") != NULL, "%s", err.text);
    free(path);
}
END_TEST

START_TEST(test_too_large)
{
    size_t n = 1024 * 1024 + 1;
    char *text = xmalloc(n + 1), *path;
    mh_err_t err;

    memset(text, '\n', n);
    text[n] = '\0';
    path = write_conf("big.conf", text);
    ck_assert_ptr_null(conf_load(path, &err));
    ck_assert_msg(strstr(err.text, "big.conf: larger than 1048576 bytes") != NULL, "%s", err.text);
    text[n - 1] = '\0'; /* exactly the limit is fine */
    free(path);
    path = write_conf("big.conf", text);
    err.text[0] = '\0';
    conf_unref(conf_load(path, &err));
    ck_assert_str_eq(err.text, "");
    free(path);
    free(text);
}
END_TEST

START_TEST(test_dev_null)
{
    mh_err_t err;
    mh_conf_t *c = conf_load("/dev/null", &err);

    ck_assert_msg(c != NULL, "%s", err.text);
    ck_assert_str_eq(c->path, "/dev/null");
    conf_unref(c);
}
END_TEST

/* ------------------------------------------------------------ dump */

START_TEST(test_round_trip_defaults)
{
    mh_conf_t *c = conf_defaults();

    assert_round_trip(c); /* also proves every default passes its validator */
    conf_unref(c);
}
END_TEST

START_TEST(test_round_trip_full)
{
    mh_err_t err;
    mh_conf_t *c = load_text(full_conf, &err);

    ck_assert_msg(c != NULL, "%s", err.text);
    assert_round_trip(c);
    conf_unref(c);
}
END_TEST

/* Characters that mean something inside a libconfuse string survive. */
START_TEST(test_round_trip_escapes)
{
    static const char text[] = "pid_file = \"/tmp/we\\\"ird \\\\ $HOME \\${X} \\t.pid\"\n";
    mh_err_t err;
    mh_conf_t *c = load_text(text, &err);

    ck_assert_msg(c != NULL, "%s", err.text);
    ck_assert_str_eq(c->pid_file, "/tmp/we\"ird \\ $HOME ${X} \t.pid");
    assert_round_trip(c);
    conf_unref(c);
}
END_TEST

/* The dump line at *line starts with want; *line moves to the next line. */
static void expect_line(char **line, const char *want, size_t n)
{
    char *nl;

    ck_assert_msg(strncmp(*line, want, n) == 0, "dump line is not %.*s...: %.60s", (int)n, want,
                  *line);
    nl = strchr(*line, '\n');
    ck_assert_ptr_nonnull(nl);
    *line = nl + 1;
}

/* The dump has one "name = value" line per option, in conf_option_names
 * order; the options of a section ("maillog.path") inside the block of
 * each section, which come after the top-level options, in table order. */
START_TEST(test_dump_lists_every_option)
{
    const char *const *names = conf_option_names();
    mh_err_t err;
    mh_conf_t *c = load_text("maillog \"m\" { path = \"/l\" }\n"
                             "endpoint \"m\" { url = \"https://h.example/\" }\n", &err);
    char *dump, *line, *want, *section = NULL;
    const char *dot;
    size_t i;

    ck_assert_msg(c != NULL, "%s", err.text);
    dump = dump_string(c);
    line = dump;
    for (i = 0; names[i] != NULL; i++) {
        if ((dot = strchr(names[i], '.')) == NULL) {
            ck_assert_msg(section == NULL, "%s after a section option", names[i]);
            want = xasprintf("%s = ", names[i]);
        } else {
            if (section == NULL || strncmp(names[i], section, strlen(section)) != 0) {
                if (section != NULL)
                    expect_line(&line, "}\n", 2);
                free(section);
                section = xasprintf("%.*s.", (int)(dot - names[i]), names[i]);
                if (strncmp(names[i], "milter.", 7) == 0) /* untitled */
                    want = xasprintf("%.*s {\n", (int)(dot - names[i]), names[i]);
                else
                    want = xasprintf("%.*s \"m\" {\n", (int)(dot - names[i]), names[i]);
                expect_line(&line, want, strlen(want));
                free(want);
            }
            want = xasprintf("    %s = ", dot + 1);
        }
        expect_line(&line, want, strlen(want));
        free(want);
    }
    if (section != NULL)
        expect_line(&line, "}\n", 2);
    ck_assert_int_eq(i, NOPTIONS);
    ck_assert_str_eq(line, "");
    ck_assert_ptr_eq(conf_option_names(), names); /* built once */
    ck_assert_str_eq(names[NOPTIONS - 1], "milter.timeout");
    free(section);
    free(dump);
    conf_unref(c);
}
END_TEST

/* The defaults have no maillog section, so their dump has no section line. */
START_TEST(test_dump_defaults_no_sections)
{
    mh_conf_t *c = conf_defaults();
    char *dump = dump_string(c);

    ck_assert_ptr_null(strstr(dump, "maillog"));
    ck_assert_ptr_null(strstr(dump, "endpoint \""));
    /* no titled section block; lists are "{}"; the untitled milter section
     * shows its defaults */
    ck_assert_ptr_null(strstr(dump, "\" {\n"));
    ck_assert_ptr_nonnull(strstr(dump, "milter {\n    socket = \"unix:"));
    free(dump);
    conf_unref(c);
}
END_TEST

/* ------------------------------------------------------------ placing errors */

/* An endpoint section keeps the line of each option it sets (the first
 * line of a list, the last "=" of an option given twice) and of its closing
 * brace; conf_place_error puts the daemon's "endpoint NAME: KEY: ..." there. */
START_TEST(test_place_error)
{
    static const char text[] = "log_level = 1\n"              /* 1 */
                               "endpoint \"a\" {\n"            /* 2 */
                               "    url = \"https://a.example/\"\n" /* 3 */
                               "}\n"                             /* 4 */
                               "endpoint \"b\" {\n"            /* 5 */
                               "    url = \"https://b.example/\"\n" /* 6 */
                               "    retry = {\"5s\",\n"          /* 7 */
                               "             \"1m\"}\n"          /* 8 */
                               "    timeout_ms = 900\n"           /* 9 */
                               "    timeout_ms = 1000\n"          /* 10 */
                               "}\n";                            /* 11 */
    mh_err_t err;
    mh_conf_t *c = load_text(text, &err);
    char *want;

    ck_assert_msg(c != NULL, "%s", err.text);
    ck_assert_uint_eq(c->n_endpoints, 2);
    ck_assert_ptr_nonnull(c->endpoints[1].lines);
#define PLACED(problem, line)                                                        \
    do {                                                                             \
        mh_err_set(&err, "%s", problem);                                             \
        ck_assert_int_eq(conf_place_error(c, &err), -1);                             \
        want = (line) > 0 ? xasprintf("%s:%d: %s", c->path, (line), problem)         \
                          : xasprintf("%s: %s", c->path, problem);                   \
        ck_assert_str_eq(err.text, want);                                            \
        free(want);                                                                  \
    } while (0)
    PLACED("endpoint b: retry: \"x\" is not a duration", 7);
    PLACED("endpoint b: url: scheme must be https", 6);
    PLACED("endpoint b: timeout_ms: must be", 10);
    PLACED("endpoint a: url: scheme must be https", 3);
    PLACED("endpoint b: secret: must be 8 to 255 characters", 11); /* not set: the brace */
    PLACED("endpoint b: health: whatever", 11);                      /* not an option */
    PLACED("endpoint a: retry: \"x\"", 4);
    PLACED("endpoint bb: url: no such endpoint", 0);
    PLACED("delivery_allow: \"x\" is not a CIDR", 0);
#undef PLACED
    conf_unref(c);
    c = conf_defaults(); /* not from a file: left alone */
    mh_err_set(&err, "endpoint a: url: x");
    ck_assert_int_eq(conf_place_error(c, &err), -1);
    ck_assert_str_eq(err.text, "endpoint a: url: x");
    conf_unref(c);
}
END_TEST

/* ------------------------------------------------------------ refcount */

START_TEST(test_refcount)
{
    mh_conf_t *c = conf_defaults();

    ck_assert_ptr_eq(conf_ref(c), c);
    ck_assert_int_eq(c->refs, 2);
    conf_unref(c);
    ck_assert_int_eq(c->refs, 1);
    ck_assert_str_eq(c->state_dir, MH_LOCALSTATEDIR "/lib/mailhook"); /* still usable */
    conf_unref(c); /* frees: valgrind reports a leak or a double free otherwise */
    ck_assert_ptr_null(conf_ref(NULL));
    conf_unref(NULL);
}
END_TEST

/* ------------------------------------------------------------ main */

static Suite *conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("conf");

    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_empty_file_is_defaults);
    tcase_add_test(tc, test_full_file);
    tcase_add_test(tc, test_full_maillogs);
    tcase_add_test(tc, test_maillog_defaults);
    tcase_add_loop_test(tc, test_rejected, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
    tcase_add_loop_test(tc, test_accepted, 0, sizeof(good_cases) / sizeof(good_cases[0]));
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_directory);
    tcase_add_test(tc, test_fifo);
    tcase_add_test(tc, test_not_text);
    tcase_add_test(tc, test_too_large);
    tcase_add_test(tc, test_dev_null);
    tcase_add_test(tc, test_round_trip_defaults);
    tcase_add_test(tc, test_round_trip_full);
    tcase_add_test(tc, test_round_trip_escapes);
    tcase_add_test(tc, test_dump_lists_every_option);
    tcase_add_test(tc, test_dump_defaults_no_sections);
    tcase_add_test(tc, test_refcount);
    tcase_add_test(tc, test_place_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conf_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
