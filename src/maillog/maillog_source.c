/* SPDX-License-Identifier: MIT */
/*
 * maillog_source.c - the maillog source interface (maillog_source.h): the
 * table of kinds, chosen by the section's type, and the calls that go to
 * the kind's operations (maillog_source_int.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "maillog_source_int.h"
#include "xalloc.h"

struct maillog_source {
    const struct maillog_source_ops *ops;
    void *impl;
};

static const struct maillog_source_ops *const kinds[] = {
    &maillog_source_file_ops,
    &maillog_source_journal_ops,
};

maillog_source_t *maillog_source_open(const struct mh_conf_maillog *conf, const char *pos_json,
                                      mh_err_t *err)
{
    const char *type = conf->type ? conf->type : "file";

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        maillog_source_t *s;
        void *impl;

        if (strcmp(kinds[i]->type, type) != 0)
            continue;
        if ((impl = kinds[i]->open(conf, pos_json, err)) == NULL)
            return NULL;
        s = xcalloc(1, sizeof(*s));
        s->ops = kinds[i];
        s->impl = impl;
        return s;
    }
    mh_err_set(err, "unknown maillog type \"%s\"", type);
    return NULL;
}

int maillog_source_next(maillog_source_t *s, const char **line, size_t *len, bool *truncated)
{
    return s ? s->ops->next(s->impl, line, len, truncated) : 0;
}

int maillog_source_fd(const maillog_source_t *s)
{
    return s ? s->ops->fd(s->impl) : -1;
}

void maillog_source_process(maillog_source_t *s)
{
    if (s)
        s->ops->process(s->impl);
}

char *maillog_source_pos_encode(const maillog_source_t *s)
{
    return s->ops->pos_encode(s->impl);
}

int64_t maillog_source_written_ms(const maillog_source_t *s)
{
    return s ? s->ops->written_ms(s->impl) : -1;
}

int64_t maillog_source_behind_bytes(const maillog_source_t *s, bool caught_up)
{
    return s ? s->ops->behind_bytes(s->impl, caught_up) : -1;
}

const char *maillog_source_describe(const maillog_source_t *s)
{
    return s->ops->describe(s->impl);
}

maillog_source_t *maillog_source_close(maillog_source_t *s)
{
    if (s == NULL)
        return NULL;
    s->ops->close(s->impl);
    free(s);
    return NULL;
}
