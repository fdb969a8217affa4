/* SPDX-License-Identifier: MIT */
/*
 * conf_int.h - private to the parts of mailhook.conf handling (conf.h):
 * conf.c (top-level table, parse, validation, snapshots), conf_sections.c
 * (the section tables), conf_read.c (the file's
 * text) and conf_dump.c (dump, option names). Nothing else includes it.
 *
 *   enum conf_kind          what a row's value is, and how it is checked
 *   struct conf_row         one option: libconfuse declaration, place, bounds
 *   struct conf_table       the rows of the top level or of one section
 *   conf_top                the top-level table (conf.c); sections hang off it
 *   conf_read_text(path, err)  the file's text, comments blanked (conf_read.c)
 *   conf_ptr_get/set        a pointer member of any type, by offset
 *
 * The tables themselves, and how to add an option or a section, are in
 * conf.c; conf_dump.c walks them to print a snapshot and to list names.
 */
#ifndef MH_CONF_INT_H
#define MH_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <confuse.h>

#include "msg.h"

enum conf_kind {
    CK_STR,      /* char *: free text, or one of .oneof when set */
    CK_NAME,     /* char *: user or group name, "" allowed */
    CK_PATH,     /* char *: absolute path */
    CK_PATH_OPT, /* char *: absolute path, or "" for none */
    CK_SOCKET,   /* char *: absolute path that fits in sun_path */
    CK_DOMAIN,   /* char *: a plausible domain name (list items) */
    CK_TEXT,     /* char *: non-empty, no control characters (list items) */
    CK_STRLIST,  /* char **, NULL-terminated, NULL when empty; size_t count
                    at .off_n; each item checked as kind .item */
    CK_INT,      /* int within [min, max] */
    CK_INT64,    /* int64_t within [min, max] */
    CK_BOOL,     /* bool */
    CK_SEC,      /* a section: a struct at .off described by .sub */
    CK_SECLIST,  /* titled sections, zero or more: an array of .sub->size
                    structs at .off (NULL when none), size_t count at .off_n */
};

struct conf_table;

struct conf_row {
    cfg_opt_t opt;                /* libconfuse declaration: name, type, default */
    enum conf_kind kind;
    size_t off;                   /* offset of the value in the enclosing struct */
    size_t off_n;                 /* CK_STRLIST, CK_SECLIST: offset of the count */
    long min, max;                /* CK_INT, CK_INT64: inclusive bounds */
    const char *const *oneof;     /* CK_STR: NULL-terminated allowed values */
    enum conf_kind item;          /* CK_STRLIST: the kind of each item */
    const struct conf_table *sub; /* CK_SEC, CK_SECLIST: the section's rows */
};

/* A check of a finished section as a whole (options against each other):
 * 0, or -1 after cfg_error(cfg, ...). cfg is the enclosing cfg_t, whose line
 * is the section's closing brace; sec the section. */
typedef int conf_sec_check_fn(cfg_t *cfg, cfg_t *sec);

struct conf_table {
    const struct conf_row *rows;
    size_t nrows;
    size_t size;              /* CK_SECLIST: bytes of one element */
    size_t title_off;         /* CK_SECLIST: the element's char * for the title */
    size_t lines_off;         /* CK_SECLIST, optional: the element's int * for the
                                 line of each row's option, then of the closing
                                 brace (conf_fill); 0 = not kept (offset 0 is
                                 the title's) */
    conf_sec_check_fn *check; /* CK_SEC, CK_SECLIST: or NULL */
};

extern const struct conf_table conf_top;        /* conf.c */
extern const struct conf_table conf_maillog;    /* conf_sections.c */
extern const struct conf_table conf_endpoint;   /* conf_sections.c */
extern const struct conf_table conf_milter;     /* conf_sections.c */

/* The whole file as a NUL-terminated string (malloc'ed, the caller frees),
 * comments replaced by spaces; NULL + "FILE[:LINE]: problem" in err. */
char *conf_read_text(const char *path, mh_err_t *err);

/* A CK_SECLIST array is a pointer to a struct type conf.c does not name:
 * read and write it through memcpy, which any object type allows. */
static inline void *conf_ptr_get(const void *field)
{
    void *p;

    memcpy(&p, field, sizeof(p));
    return p;
}

static inline void conf_ptr_set(void *field, void *p)
{
    memcpy(field, &p, sizeof(p));
}

#endif
