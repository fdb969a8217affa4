/* SPDX-License-Identifier: MIT */
/*
 * conf_dump.c - a snapshot of mailhook.conf printed back in config syntax,
 * and the list of option names. Part of conf.c (conf_int.h): both walk the
 * row tables declared there.
 *
 *   conf_dump(c, fp)       every option in table order, one "name = value"
 *                          per line; a titled section as
 *                          'maillog "NAME" {' ... '}' with its options
 *                          indented by four, one block per section; lists
 *                          as {"a", "b"} ({} when empty). The output loads
 *                          back to the same snapshot (dump, load, dump
 *                          gives the same text).
 *   conf_option_names()    NULL-terminated, every option name, dotted for
 *                          the options of a section ("maillog.path"); built
 *                          on first use, kept for the life of the process
 *
 * Neither fails: write errors are the caller's to check on fp.
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "conf_int.h"
#include "strutil.h"
#include "xalloc.h"


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
        else if (byte_is_ctl(*p))
            fprintf(fp, "\\x%02x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

/* {"a", "b"}: a libconfuse list; {} when empty (loads back as empty). */
static void conf_dump_list(FILE *fp, char *const *list, size_t n)
{
    size_t i;

    fputc('{', fp);
    for (i = 0; i < n; i++) {
        if (i > 0)
            fputs(", ", fp);
        conf_dump_string(fp, list[i]);
    }
    fputc('}', fp);
}

static void conf_dump_table(FILE *fp, const struct conf_table *t, const void *base, int indent);

/* Each titled section of row: 'NAME "TITLE" {', its options, '}'. */
static void conf_dump_sections(FILE *fp, const struct conf_row *row, const void *base,
                               int indent)
{
    const struct conf_table *sub = row->sub;
    const char *array = conf_ptr_get((const char *)base + row->off), *elem;
    size_t i, n = *(const size_t *)((const char *)base + row->off_n);

    for (i = 0; i < n; i++) {
        elem = array + i * sub->size;
        fprintf(fp, "%*s%s ", indent, "", row->opt.name);
        conf_dump_string(fp, *(char *const *)(elem + sub->title_off));
        fputs(" {\n", fp);
        conf_dump_table(fp, sub, elem, indent + 4);
        fprintf(fp, "%*s}\n", indent, "");
    }
}

static void conf_dump_table(FILE *fp, const struct conf_table *t, const void *base, int indent)
{
    const struct conf_row *row;
    const void *field;
    size_t i;

    for (i = 0; i < t->nrows; i++) {
        row = &t->rows[i];
        field = (const char *)base + row->off;
        if (row->kind == CK_SECLIST) {
            conf_dump_sections(fp, row, base, indent);
            continue;
        }
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
        case CK_STRLIST:
            fputs(" = ", fp);
            conf_dump_list(fp, *(char **const *)field,
                           *(const size_t *)((const char *)base + row->off_n));
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

static bool conf_is_section(const struct conf_row *row)
{
    return row->kind == CK_SEC || row->kind == CK_SECLIST;
}

static size_t conf_names_count(const struct conf_table *t)
{
    size_t i, n = 0;

    for (i = 0; i < t->nrows; i++)
        n += conf_is_section(&t->rows[i]) ? conf_names_count(t->rows[i].sub) : 1;
    return n;
}

/* Append the names of t (prefixed "section." inside one) at out[*n]. */
static void conf_names_fill(const struct conf_table *t, const char *prefix, char **out, size_t *n)
{
    char *sub;
    size_t i;

    for (i = 0; i < t->nrows; i++) {
        if (conf_is_section(&t->rows[i])) {
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
