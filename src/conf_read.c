/*
 * conf_read.c - the text of mailhook.conf, ready for libconfuse: read
 * whole, bounded, checked to be text, comments blanked out. Part of conf.c
 * (conf_int.h); the parse itself is there.
 *
 *   conf_read_text(path, err)  the file as a NUL-terminated string
 *                              (malloc'ed, the caller frees), or NULL +
 *                              "FILE: problem" / "FILE:LINE: problem"
 *
 * Limits: CONF_MAX_BYTES of text; no NUL byte (libconfuse would stop
 * there silently). Checked here because libconfuse lets them pass: an
 * unterminated block comment, a '{' never closed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"
#include "msg.h"
#include "xalloc.h"


#define CONF_MAX_BYTES (1024 * 1024) /* a config file larger than this is a mistake */

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

/*
 * The line of a '{' that is never closed, or 0, in text whose comments are
 * blanked. Why: libconfuse takes the end of the file for the closing brace
 * of a section, so a section left open at the end would load silently.
 * Braces count outside quoted strings (the scanner's rules, as above) and
 * outside a ${VAR} reference, which is one token; a '}' too many is
 * libconfuse's to report ("unexpected closing brace").
 */
static int conf_unclosed_brace(const char *s)
{
    enum { CODE, DQUOTE, SQUOTE } st = CODE;
    int line = 1, depth = 0, open_line = 0;
    const char *end;

    for (; *s != '\0'; s++) {
        if (*s == '\n')
            line++;
        if (st == CODE && (*s == '"' || *s == '\'')) {
            st = *s == '"' ? DQUOTE : SQUOTE;
        } else if (st != CODE && s[0] == '\\' && s[1] != '\0') {
            line += s[1] == '\n';
            s++;
        } else if ((st == DQUOTE && *s == '"') || (st == SQUOTE && *s == '\'')) {
            st = CODE;
        } else if (st == CODE && s[0] == '$' && s[1] == '{' && (end = strchr(s, '}')) != NULL) {
            for (; s < end; s++)
                line += *s == '\n';
        } else if (st == CODE && *s == '{') {
            if (depth++ == 0)
                open_line = line;
        } else if (st == CODE && *s == '}' && depth > 0) {
            depth--;
        }
    }
    return depth > 0 ? open_line : 0;
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

char *conf_read_text(const char *path, mh_err_t *err)
{
    char *text;
    int line;

    if ((text = conf_read(path, err)) == NULL)
        return NULL;
    if ((line = conf_blank_comments(text)) > 0) {
        mh_err_set(err, "%s:%d: unterminated comment", path, line);
        return xfree(text);
    }
    if ((line = conf_unclosed_brace(text)) > 0) {
        mh_err_set(err, "%s:%d: '{' is never closed", path, line);
        return xfree(text);
    }
    return text;
}
