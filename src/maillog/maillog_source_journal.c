/* SPDX-License-Identifier: MIT */
/*
 * maillog_source_journal.c - the "journald" kind of maillog source
 * (maillog_source.h): the mail programs' entries of the systemd journal
 * (journal_source.h), its position {"cursor": "..."}, the cursor of the
 * last entry handed out.
 *
 * The section's path is a journal directory; "" is the system journal. A
 * saved cursor the journal refuses would fail the same way forever: it is
 * warned about (naming the source) and the source starts as start_at says.
 * The fd to watch is sd_journal's own; processing it is
 * journal_source_process (called at every poll tick too: inotify does not
 * fire on network filesystems). The journal's lines carry their year (no
 * written time) and its size is not a position (bytes behind unknown).
 */
#include "config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "journal_source.h"
#include "maillog_source_int.h"
#include "xalloc.h"

struct journal_src {
    journal_source_t *j;
    char *cursor; /* after the last line handed out, NULL before the first */
    size_t cursor_cap;
    char *dir;    /* NULL: the system journal */
};

static void *journal_open(const struct mh_conf_maillog *conf, const char *pos_json,
                          mh_err_t *errp)
{
    json_t *o = pos_json ? json_loads(pos_json, 0, NULL) : NULL;
    const char *cursor = json_string_value(json_object_get(o, "cursor"));
    const char *dir = conf->path[0] ? conf->path : NULL;
    bool from_start = strcmp(conf->start_at, "beginning") == 0;
    struct journal_src *js;
    journal_source_t *j;
    mh_err_t err;

    j = journal_source_open(dir, cursor, from_start, (size_t)conf->max_line, &err);
    if (j == NULL && cursor) {
        msg_warn("maillog %s: %s; starting at the %s instead", conf->name, err.text,
                 from_start ? "beginning" : "end");
        j = journal_source_open(dir, NULL, from_start, (size_t)conf->max_line, &err);
    }
    json_decref(o);
    if (j == NULL) {
        *errp = err;
        return NULL;
    }
    js = xcalloc(1, sizeof(*js));
    js->j = j;
    js->dir = dir ? xstrdup(dir) : NULL;
    return js;
}

static int journal_next(void *impl, const char **line, size_t *len, bool *truncated)
{
    struct journal_src *js = impl;
    const char *cursor;
    size_t clen;
    int rc = journal_source_next(js->j, line, len, truncated, &cursor);

    if (rc == 1) {
        clen = strlen(cursor) + 1;
        if (clen > js->cursor_cap)
            js->cursor = xrealloc(js->cursor, js->cursor_cap = clen * 2);
        memcpy(js->cursor, cursor, clen);
    }
    return rc;
}

static int journal_fd(const void *impl)
{
    return journal_source_fd(((const struct journal_src *)impl)->j);
}

static void journal_process(void *impl)
{
    journal_source_process(((struct journal_src *)impl)->j);
}

static char *journal_pos_encode(const void *impl)
{
    const struct journal_src *js = impl;
    json_t *o = json_pack("{s:s}", "cursor", js->cursor ? js->cursor : "");
    char *s = json_dumps(o, JSON_COMPACT);

    json_decref(o);
    return s;
}

static int64_t journal_written_ms(const void *impl)
{
    (void)impl;
    return -1;
}

static int64_t journal_behind_bytes(const void *impl, bool caught_up)
{
    (void)impl;
    (void)caught_up;
    return -1;
}

static const char *journal_describe(const void *impl)
{
    const struct journal_src *js = impl;

    return js->dir ? js->dir : "the journal";
}

static void journal_close(void *impl)
{
    struct journal_src *js = impl;

    journal_source_close(js->j);
    free(js->cursor);
    free(js->dir);
    free(js);
}

const struct maillog_source_ops maillog_source_journal_ops = {
    .type = "journald",
    .open = journal_open,
    .next = journal_next,
    .fd = journal_fd,
    .process = journal_process,
    .pos_encode = journal_pos_encode,
    .written_ms = journal_written_ms,
    .behind_bytes = journal_behind_bytes,
    .describe = journal_describe,
    .close = journal_close,
};
