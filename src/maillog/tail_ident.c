/* SPDX-License-Identifier: MIT */
/*
 * tail_ident.c - the identity of a followed file (tail_file.h, private
 * interface in tail_int.h): which file a source is, whether it is still
 * that file, how to find it again after a rotation or a copytruncate, and
 * the checkpoint that carries that identity across restarts.
 *
 * A file is its device + inode + an FNV-1a 64 checksum of its first
 * min(size, TAIL_HEAD_BYTES) bytes: inodes are reused, and a copy keeps the
 * head but not the inode. A source's head checksum grows with the file as
 * it is read, up to TAIL_HEAD_BYTES.
 *
 *   tail_open_file()         open a regular file without blocking
 *   tail_head_matches()      do a file's first bytes hash to a checksum
 *   tail_src_init/close()    take / release a source's fd, name, identity
 *   tail_src_same()          is a stat()ed file this source's file
 *   tail_src_head_ok()       is the head checksum still true of the file
 *   tail_src_head_extend()   grow the head checksum with bytes just read
 *   tail_find()              a rotated file or copy in the log's directory
 *   tail_src_init_gz()       a gzip'ed rotated file as a finite source (zlib)
 *   tail_src_read()          pread(), or the decompressed bytes of a .gz
 *   tail_siblings()          the log's rotated files (logrotate's names), oldest first
 *   tail_sib_open()          open one, checking it is the file of a position
 *   tail_pos_encode/decode() the checkpoint as a small JSON object
 *
 * A gzip'ed rotated file (logrotate "compress", mail.log.2.gz) is the same
 * file to us as before it was compressed: its identity is its decompressed
 * head, and positions in it are offsets in the decompressed bytes; it is
 * read with zlib from its start, skipping to the offset.
 *
 * Errors: tail_open_file() returns -1 with errno (EISDIR/EINVAL for what is
 * not a regular file); tail_find() returns -1 when nothing matches, warning
 * only when the directory cannot be read (so does tail_siblings(), with an
 * empty list); tail_src_init_gz() warns when zlib cannot open the file, a
 * read error of a .gz is EIO (or zlib's errno); tail_pos_decode() returns -1 with
 * err; tail_pos_encode() is fatal only when out of memory.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "msg.h"
#include "strutil.h"
#include "tail_file.h"
#include "tail_int.h"
#include "xalloc.h"

/* ------------------------------------------------------------ head checksum */

/* Hash the first len bytes of fd; the number of bytes hashed (fewer when the
 * file is shorter), or -1 on a read error. */
static ssize_t head_read(int fd, uint32_t len, uint64_t *hash)
{
    unsigned char b[TAIL_HEAD_BYTES];
    size_t got = 0;
    ssize_t n = 0;

    if (len > TAIL_HEAD_BYTES)
        len = TAIL_HEAD_BYTES;
    while (got < len) {
        n = pread(fd, b + got, len - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    *hash = fnv1a64(b, got);
    return n < 0 ? -1 : (ssize_t)got;
}

/* head_read() of the decompressed bytes of a gzip'ed fd (not moved). */
static ssize_t head_read_gz(int fd, uint32_t len, uint64_t *hash)
{
    unsigned char b[TAIL_HEAD_BYTES];
    int dfd = dup(fd);
    gzFile gz;
    int n;

    *hash = FNV1A64_BASIS;
    if (dfd < 0 || lseek(dfd, 0, SEEK_SET) < 0 || (gz = gzdopen(dfd, "rb")) == NULL) {
        if (dfd >= 0)
            close(dfd);
        return -1;
    }
    if (len > TAIL_HEAD_BYTES)
        len = TAIL_HEAD_BYTES;
    n = gzread(gz, b, len);
    gzclose(gz);
    if (n < 0)
        return -1;
    *hash = fnv1a64(b, (size_t)n);
    return n;
}

bool tail_head_matches(int fd, uint64_t hash, uint32_t len)
{
    uint64_t h;

    return head_read(fd, len, &h) == (ssize_t)len && h == hash;
}

/* Open a regular file without blocking (a FIFO in its place must not hang
 * us). The fd, st filled; -1 with errno on failure. */
int tail_open_file(int dirfd, const char *name, int flags, struct stat *st)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | flags);

    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    return fd;
}

/* ------------------------------------------------------------ sources */

bool tail_src_same(const struct tail_src *s, const struct stat *st)
{
    return s->fd >= 0 && (uint64_t)st->st_dev == s->dev && (uint64_t)st->st_ino == s->ino;
}

/* Make s read fd (already fstat()ed as st) from off; takes name. */
void tail_src_init(struct tail_src *s, int fd, const struct stat *st, uint64_t off, char *name)
{
    uint64_t size = (uint64_t)st->st_size;
    ssize_t n;

    s->fd = fd;
    s->name = name;
    s->dev = (uint64_t)st->st_dev;
    s->ino = (uint64_t)st->st_ino;
    n = head_read(fd, (uint32_t)(size < TAIL_HEAD_BYTES ? size : TAIL_HEAD_BYTES), &s->head_hash);
    if (n < 0) {
        n = 0;
        s->head_hash = FNV1A64_BASIS;
    }
    s->head_len = (uint32_t)n;
    s->read_off = off;
    s->mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
    s->idle_since = 0;
    s->gz = NULL;
    s->gz_off = 0;
    s->kind = SRC_LIVE;
}

int tail_src_init_gz(struct tail_src *s, int fd, const struct stat *st, uint64_t off, char *name)
{
    uint64_t hash;
    ssize_t n = head_read_gz(fd, TAIL_HEAD_BYTES, &hash);
    int dfd = n < 0 ? -1 : dup(fd);
    gzFile gz = NULL;

    /* dfd shares fd's file offset, which head_read_gz moved */
    if (dfd >= 0 && (lseek(dfd, 0, SEEK_SET) < 0 || (gz = gzdopen(dfd, "rb")) == NULL))
        close(dfd);
    if (gz == NULL) {
        msg_warn("cannot read %s as gzip", name);
        close(fd);
        xfree(name);
        return -1;
    }
    tail_src_init(s, fd, st, off, name);
    s->head_hash = hash;
    s->head_len = (uint32_t)n;
    s->gz = gz;
    s->kind = SRC_FINITE; /* nobody appends to a .gz */
    return 0;
}

ssize_t tail_src_read(struct tail_src *s, char *buf, size_t n, uint64_t off)
{
    ssize_t r;
    int got, errnum;

    if (s->gz == NULL) {
        do
            r = pread(s->fd, buf, n, (off_t)off);
        while (r < 0 && errno == EINTR);
        return r;
    }
    if (n > INT_MAX)
        n = INT_MAX;
    if (off < s->gz_off) {
        if (gzrewind(s->gz) < 0)
            goto fail;
        s->gz_off = 0;
    }
    while (s->gz_off < off) { /* skip to off */
        uint64_t want = off - s->gz_off;

        if ((got = gzread(s->gz, buf, (unsigned)(want < n ? want : n))) <= 0) {
            if (got == 0)
                return 0;
            goto fail;
        }
        s->gz_off += (uint64_t)got;
    }
    if ((got = gzread(s->gz, buf, (unsigned)n)) < 0)
        goto fail;
    s->gz_off += (uint64_t)got;
    return got;
fail:
    gzerror(s->gz, &errnum);
    errno = errnum == Z_ERRNO && errno != 0 ? errno : EIO;
    return -1;
}

void tail_src_close(struct tail_src *s)
{
    if (s->gz != NULL)
        gzclose(s->gz);
    s->gz = NULL;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->name = xfree(s->name);
}

/* The head checksum still describes the file (not truncated and rewritten). */
bool tail_src_head_ok(const struct tail_src *s)
{
    return s->head_len == 0 || tail_head_matches(s->fd, s->head_hash, s->head_len);
}

/* Extend the head checksum with n bytes just read at file offset off. */
void tail_src_head_extend(struct tail_src *s, const char *p, size_t n, uint64_t off)
{
    uint64_t end = off + n, stop;

    if (s->head_len >= TAIL_HEAD_BYTES || off > s->head_len || end <= s->head_len)
        return;
    stop = end < TAIL_HEAD_BYTES ? end : TAIL_HEAD_BYTES;
    s->head_hash = fnv1a64_update(s->head_hash, p + (s->head_len - off),
                                  (size_t)(stop - s->head_len));
    s->head_len = (uint32_t)stop;
}

/* ------------------------------------------------------------ rotated files */

static bool newer(const struct stat *a, const struct stat *b)
{
    return a->st_mtim.tv_sec != b->st_mtim.tv_sec ? a->st_mtim.tv_sec > b->st_mtim.tv_sec
                                                  : a->st_mtim.tv_nsec > b->st_mtim.tv_nsec;
}

/*
 * Look in the log's directory dir for the file w describes: a regular file
 * (not a symlink) named after the log ("maillog.1", "maillog-20261122" for
 * base "maillog", not "maillog" itself), at least w->min_size long, whose
 * first w->head_len bytes hash to w->head_hash; the newest by mtime. path
 * names the log in the warning. Returns its fd (st and *name filled; the
 * caller owns both) or -1.
 */
int tail_find(const char *path, const char *dir, const char *base, const struct tail_want *w,
              struct stat *best_st, char **name)
{
    size_t blen = strlen(base);
    struct dirent *de;
    struct stat st, fst;
    int best = -1, fd;
    DIR *d;

    *name = NULL;
    if ((d = opendir(dir)) == NULL) {
        msg_warn("cannot look for the rotated %s: opendir %s: %s", path, dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, base, blen) != 0 || de->d_name[blen] == 0)
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if ((uint64_t)st.st_size < w->min_size || (uint64_t)st.st_size < w->head_len)
            continue;
        if (w->by_inode && ((uint64_t)st.st_dev != w->dev || (uint64_t)st.st_ino != w->ino))
            continue;
        if (w->exclude && (uint64_t)st.st_dev == w->xdev && (uint64_t)st.st_ino == w->xino)
            continue;
        if (best >= 0 && !newer(&st, best_st))
            continue;
        if ((fd = tail_open_file(dirfd(d), de->d_name, O_NOFOLLOW, &fst)) < 0)
            continue;
        if (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino ||
            !tail_head_matches(fd, w->head_hash, w->head_len)) {
            close(fd);
            continue;
        }
        if (best >= 0)
            close(best);
        best = fd;
        *best_st = fst;
        xfree(*name);
        *name = xasprintf("%s/%s", dir, de->d_name);
    }
    closedir(d);
    return best;
}

/* ------------------------------------------------------------ siblings */

/* Is name (in the log's directory) a rotated file of base, as logrotate
 * names them? Fills sib's gz, num and sfx. */
static bool sib_name(const char *name, const char *base, size_t blen, struct tail_sib *sib)
{
    const char *sfx = name + blen, *end;
    size_t len;
    bool digit = false;

    if (strncmp(name, base, blen) != 0 || (*sfx != '.' && *sfx != '-'))
        return false;
    len = strlen(sfx);
    sib->gz = len > 3 && strcmp(sfx + len - 3, ".gz") == 0;
    if (sib->gz)
        len -= 3;
    end = sfx + len;
    for (const char *p = sfx + 1; p < end; p++) {
        if (*p >= '0' && *p <= '9')
            digit = true;
        else if (*p != '-' && *p != '_')
            return false;
    }
    if (!digit)
        return false;
    sib->num = -1;
    if (*sfx == '.' && len <= 7 && /* base.20261201 is a date */ strspn(sfx + 1, "0123456789") == len - 1) {
        sib->num = 0;
        for (const char *p = sfx + 1; p < end; p++)
            sib->num = sib->num * 10 + (*p - '0');
    }
    sib->sfx_len = len;
    return true;
}

/* Older first: base.N by N (higher is older), base-DATE by DATE, a mix of
 * the two by mtime (then by name). */
static int sib_cmp(const void *pa, const void *pb)
{
    const struct tail_sib *a = pa, *b = pb;
    int c;

    if (a->num >= 0 && b->num >= 0 && a->num != b->num)
        return a->num > b->num ? -1 : 1;
    if (a->num < 0 && b->num < 0) {
        size_t n = a->sfx_len < b->sfx_len ? a->sfx_len : b->sfx_len;

        if ((c = memcmp(a->sfx, b->sfx, n)) != 0)
            return c;
        if (a->sfx_len != b->sfx_len)
            return a->sfx_len < b->sfx_len ? -1 : 1;
    }
    if (a->num >= 0 && b->num >= 0) /* base.N and base.N.gz: the plain one is newer */
        return a->gz == b->gz ? 0 : a->gz ? -1 : 1;
    if (newer(&a->st, &b->st) || newer(&b->st, &a->st))
        return newer(&a->st, &b->st) ? 1 : -1;
    return strcmp(a->name, b->name);
}

struct tail_sib *tail_siblings(const char *path, const char *dir, const char *base, size_t *n)
{
    size_t blen = strlen(base), cap = 0;
    struct tail_sib *sibs = NULL, sib;
    struct dirent *de;
    DIR *d;

    *n = 0;
    if ((d = opendir(dir)) == NULL) {
        msg_warn("cannot look for the rotated %s: opendir %s: %s", path, dir, strerror(errno));
        return NULL;
    }
    while ((de = readdir(d)) != NULL) {
        memset(&sib, 0, sizeof(sib));
        if (!sib_name(de->d_name, base, blen, &sib))
            continue;
        if (fstatat(dirfd(d), de->d_name, &sib.st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(sib.st.st_mode))
            continue;
        if (*n == cap)
            sibs = xreallocarray(sibs, cap = cap ? 2 * cap : 8, sizeof(*sibs));
        sib.name = xasprintf("%s/%s", dir, de->d_name);
        sib.sfx = sib.name + strlen(dir) + 1 + blen;
        sibs[(*n)++] = sib;
    }
    closedir(d);
    if (*n > 1)
        qsort(sibs, *n, sizeof(*sibs), sib_cmp);
    return sibs;
}

void tail_sibs_free(struct tail_sib *sibs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xfree(sibs[i].name);
    xfree(sibs);
}

int tail_sib_open(const struct tail_sib *sib, const struct tail_want *w, uint64_t off,
                  struct tail_src *s)
{
    struct stat st;
    uint64_t hash;
    int fd = tail_open_file(AT_FDCWD, sib->name, O_NOFOLLOW, &st);
    bool ok;

    if (fd < 0)
        return -1;
    ok = st.st_dev == sib->st.st_dev && st.st_ino == sib->st.st_ino;
    if (ok && w != NULL) {
        if (w->by_inode)
            ok = (uint64_t)st.st_dev == w->dev && (uint64_t)st.st_ino == w->ino;
        if (ok && w->exclude)
            ok = !((uint64_t)st.st_dev == w->xdev && (uint64_t)st.st_ino == w->xino);
        if (ok && !sib->gz)
            ok = (uint64_t)st.st_size >= w->min_size && tail_head_matches(fd, w->head_hash, w->head_len);
        else if (ok)
            ok = head_read_gz(fd, w->head_len, &hash) == (ssize_t)w->head_len &&
                 hash == w->head_hash;
    }
    if (!ok) {
        close(fd);
        return -1;
    }
    if (sib->gz)
        return tail_src_init_gz(s, fd, &st, off, xstrdup(sib->name));
    tail_src_init(s, fd, &st, off, xstrdup(sib->name));
    s->kind = SRC_ROTATED;
    return 0;
}

/* ------------------------------------------------------------ checkpoint */

/* 64-bit values travel as decimal strings: JSON readers that use doubles
 * would round them. */
char *tail_pos_encode(const struct tail_pos *pos)
{
    char dev[24], ino[24], hash[24], off[24], mtime[24], out[320];
    json_t *o;
    size_t n;

    snprintf(dev, sizeof(dev), "%" PRIu64, pos->dev);
    snprintf(ino, sizeof(ino), "%" PRIu64, pos->ino);
    snprintf(hash, sizeof(hash), "%" PRIu64, pos->head_hash);
    snprintf(off, sizeof(off), "%" PRIu64, pos->offset);
    snprintf(mtime, sizeof(mtime), "%" PRIu64, pos->mtime_ns);
    o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "dev", dev, "ino", ino, "head_hash", hash,
                  "head_len", (json_int_t)pos->head_len, "offset", off, "mtime_ns", mtime);
    if (o == NULL)
        msg_fatal(EX_OSERR, "tail_pos_encode: out of memory");
    n = json_dumpb(o, out, sizeof(out), JSON_COMPACT);
    json_decref(o);
    if (n == 0 || n >= sizeof(out))
        msg_panic_f("encoded position does not fit (%zu bytes)", n);
    return xstrndup(out, n);
}

/* An unsigned decimal (string, or JSON integer) no larger than max. */
static int pos_u64(const json_t *o, const char *key, uint64_t max, uint64_t *out, mh_err_t *err)
{
    const json_t *v = json_object_get(o, key);
    const char *s;
    uint64_t n = 0;

    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);

        if (i < 0 || (uint64_t)i > max)
            return mh_err_set(err, "tail position: \"%s\" out of range", key);
        *out = (uint64_t)i;
        return 0;
    }
    if (!json_is_string(v))
        return mh_err_set(err, "tail position: \"%s\" %s", key,
                          v ? "is not a decimal string or integer" : "is missing");
    s = json_string_value(v);
    if (*s == 0)
        return mh_err_set(err, "tail position: \"%s\" is empty", key);
    for (; *s; s++) {
        unsigned d = (unsigned)(*s - '0');

        if (d > 9)
            return mh_err_set(err, "tail position: \"%s\" is not a decimal number", key);
        if (n > (max - d) / 10)
            return mh_err_set(err, "tail position: \"%s\" out of range", key);
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

int tail_pos_decode(const char *json, struct tail_pos *pos, mh_err_t *err)
{
    struct tail_pos p;
    json_error_t jerr;
    uint64_t head_len = 0;
    json_t *o;
    int rc;

    if ((o = json_loads(json, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
        return mh_err_set(err, "tail position: %s", jerr.text);
    if (!json_is_object(o)) {
        json_decref(o);
        return mh_err_set(err, "tail position: not a JSON object");
    }
    rc = pos_u64(o, "dev", UINT64_MAX, &p.dev, err) || pos_u64(o, "ino", UINT64_MAX, &p.ino, err) ||
         pos_u64(o, "head_hash", UINT64_MAX, &p.head_hash, err) ||
         pos_u64(o, "head_len", TAIL_HEAD_BYTES, &head_len, err) ||
         pos_u64(o, "offset", INT64_MAX, &p.offset, err);
    p.mtime_ns = 0; /* optional: checkpoints before it have none */
    if (rc == 0 && json_object_get(o, "mtime_ns") != NULL)
        rc = pos_u64(o, "mtime_ns", UINT64_MAX, &p.mtime_ns, err);
    json_decref(o);
    if (rc)
        return -1;
    p.head_len = (uint32_t)head_len;
    *pos = p;
    return 0;
}
