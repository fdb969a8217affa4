/* SPDX-License-Identifier: MIT */
/*
 * conf_read.c - the text of mailhook.conf, ready for libconfuse: read
 * whole, bounded, checked to be text, comments blanked out. Part of conf.c
 * (conf_int.h); the parse itself is there.
 *
 *   conf_read_text(path, err)  the file as a NUL-terminated string
 *                              (malloc'ed, the caller frees), or NULL +
 *                              "FILE: problem" / "FILE:LINE: problem"
 *
 * Limits: a regular file or /dev/null (a FIFO or a device could block or
 * never end); CONF_MAX_BYTES of text; no NUL byte (libconfuse would stop
 * there silently). Checked here because libconfuse lets them pass: an
 * unterminated block comment, a '{' never closed, a ${VAR} that is not set.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Quoting as libconfuse's scanner sees it, outside comments. */
enum conf_quote { Q_CODE, Q_DQUOTE, Q_SQUOTE };

/*
 * Step over the character at s: *q becomes the quoting after it and *line
 * counts the newlines stepped over; an escape inside quotes is stepped over
 * whole (even an escaped quote). Returns where the next character starts.
 * Callers look at *s and *q before stepping.
 */
static const char *conf_lex_step(const char *s, enum conf_quote *q, int *line)
{
    *line += *s == '\n';
    if (*q == Q_CODE && (*s == '"' || *s == '\'')) {
        *q = *s == '"' ? Q_DQUOTE : Q_SQUOTE;
    } else if (*q != Q_CODE && s[0] == '\\' && s[1] != '\0') {
        *line += s[1] == '\n';
        return s + 2;
    } else if ((*q == Q_DQUOTE && *s == '"') || (*q == Q_SQUOTE && *s == '\'')) {
        *q = Q_CODE;
    }
    return s + 1;
}

/* The end ('}') of the ${VAR} reference at s, or NULL when s holds none. */
static const char *conf_reference_end(const char *s)
{
    return s[0] == '$' && s[1] == '{' ? strchr(s, '}') : NULL;
}

/* Step over a ${VAR} reference from s to its end, counting lines. */
static const char *conf_skip_reference(const char *s, const char *end, int *line)
{
    for (; s <= end; s++)
        *line += *s == '\n';
    return s;
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
    enum conf_quote q = Q_CODE;
    int line = 1, depth = 0, open_line = 0;
    const char *end;

    while (*s != '\0') {
        if (q == Q_CODE && (end = conf_reference_end(s)) != NULL) {
            s = conf_skip_reference(s, end, &line);
            continue;
        }
        if (q == Q_CODE && *s == '{' && depth++ == 0)
            open_line = line;
        else if (q == Q_CODE && *s == '}' && depth > 0)
            depth--;
        s = conf_lex_step(s, &q, &line);
    }
    return depth > 0 ? open_line : 0;
}

/*
 * The line of the first ${VAR} whose variable is not set, or 0; *name gets
 * VAR (malloc'ed) when there is one. Text with comments blanked. Why:
 * libconfuse replaces an unset variable by "" without a word, so a typo or
 * an environment that lacks it would quietly give an empty value. The
 * scanner's rules: a reference is "${" up to the next '}', outside quotes
 * or inside double quotes (not single); "${VAR:-default}" may be unset.
 */
static int conf_unset_variable(const char *s, char **name)
{
    enum conf_quote q = Q_CODE;
    const char *end, *colon;
    int line = 1;

    while (*s != '\0') {
        if (q == Q_SQUOTE || (end = conf_reference_end(s)) == NULL) {
            s = conf_lex_step(s, &q, &line);
            continue;
        }
        colon = memchr(s + 2, ':', (size_t)(end - s - 2));
        if (colon == NULL || colon[1] != '-') {
            *name = xstrndup(s + 2, (size_t)(end - s - 2));
            if (getenv(*name) == NULL)
                return line;
            *name = xfree(*name);
        }
        s = conf_skip_reference(s, end, &line);
    }
    return 0;
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

/* "a FIFO", "a directory", ...: what a file that is not a regular one is. */
static const char *conf_file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    return "not a regular file";
}

/* A regular file, or the null device (/dev/null, read as an empty file:
 * "mailhookd -T -c /dev/null" prints the defaults). */
static bool conf_file_usable(const struct stat *sb)
{
    struct stat null;

    if (S_ISREG(sb->st_mode))
        return true;
    return S_ISCHR(sb->st_mode) && stat("/dev/null", &null) == 0 && S_ISCHR(null.st_mode) &&
           sb->st_rdev == null.st_rdev;
}

/*
 * path opened for reading, as a regular file (or /dev/null) only: NULL +
 * err otherwise. Why: reading a FIFO waits for a writer (mailhookd -n
 * hung), a terminal for a user, and other devices may never end. stat()
 * refuses before any open; the open does not block (O_NONBLOCK, cleared
 * after) and fstat() checks what was opened, in case the name changed in
 * between.
 */
static FILE *conf_open_regular(const char *path, mh_err_t *err)
{
    struct stat sb;
    FILE *fp;
    int fd;

    if (stat(path, &sb) < 0) {
        mh_err_set(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (!conf_file_usable(&sb)) {
        mh_err_set(err, "%s: is %s: the configuration must be a regular file", path,
                   conf_file_kind(sb.st_mode));
        return NULL;
    }
    if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
        mh_err_set(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &sb) == 0 && !conf_file_usable(&sb)) {
        mh_err_set(err, "%s: is %s now (replaced while opening): the configuration must be a "
                        "regular file", path, conf_file_kind(sb.st_mode));
        close(fd);
        return NULL;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
        (fp = fdopen(fd, "r")) == NULL) {
        mh_err_set(err, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    return fp;
}

/* The whole file as a NUL-terminated string (malloc'ed), at most
 * CONF_MAX_BYTES of text; NULL + err when it cannot be used. */
static char *conf_read(const char *path, mh_err_t *err)
{
    char *buf;
    size_t len;
    FILE *fp;
    int rc;

    if ((fp = conf_open_regular(path, err)) == NULL)
        return NULL;
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
    char *text, *name, shown[64];
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
    if ((line = conf_unset_variable(text, &name)) > 0) {
        mh_err_set(err, "%s:%d: ${%s} is not set in the environment (write ${%s:-default} for a "
                        "default)", path, line, printable(shown, sizeof(shown), name, strlen(name)),
                   shown);
        free(name);
        return xfree(text);
    }
    return text;
}
