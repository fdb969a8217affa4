/* SPDX-License-Identifier: MIT */
/*
 * tail_int.h - private to tail_file.c, tail_ident.c and tail_resume.c,
 * the three parts of the log follower (tail_file.h). Nothing else
 * includes it.
 *
 *   struct tail              the follower: sources, line buffer, errors
 *   tail_buf_reset           empty the line buffer (tail_file.c)
 *   tail_resume              start at a saved position (tail_resume.c)
 *   struct tail_src          one source being read: fd, identity, offset, kind
 *   struct tail_want         what tail_find() looks for
 *   tail_open_file           open a regular file without blocking
 *   tail_head_matches        do a file's first bytes have a given checksum
 *   tail_src_init/close      take / release a source's fd and name
 *   tail_src_same            is a stat()ed file this source's file
 *   tail_src_head_ok         is the source's head checksum still true
 *   tail_src_head_extend     grow the head checksum with bytes just read
 *   tail_find                a rotated file or a copy in the log's directory
 *   tail_src_init_gz         take a gzip'ed rotated file as a (finite) source
 *   tail_src_read            pread, or read a gzip'ed source's decompressed bytes
 *   tail_siblings            the log's rotated files, oldest first
 *   tail_sibs_free           free what tail_siblings returned
 *   tail_sib_open            open one and check it is the file a position names
 *
 * The follower (struct tail, the reading model, rotation and truncation)
 * is described at the top of tail_file.c; file identity, the directory
 * search and the checkpoint format at the top of tail_ident.c; the resume
 * through rotated files at tail_resume() in tail_resume.c.
 */
#ifndef MH_TAIL_INT_H
#define MH_TAIL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "tail_file.h"

struct tail_src {
    int fd;             /* -1: none */
    char *name;         /* for messages */
    uint64_t dev, ino;
    uint64_t head_hash; /* FNV-1a 64 over the first head_len bytes */
    uint32_t head_len;  /* grows with the file up to TAIL_HEAD_BYTES */
    uint64_t read_off;  /* file offset of the next read (decompressed, for gz) */
    uint64_t mtime_ns;  /* the file's mtime when last fstat()ed (ns since the epoch) */
    int64_t idle_since; /* draining: monotonic ms of the move or of the last growth */
    void *gz;           /* gzFile of a .gz rotated file, or NULL */
    uint64_t gz_off;    /* where gz is in the decompressed stream */
    enum { SRC_LIVE, SRC_ROTATED, SRC_DRAINING, SRC_FINITE } kind; /* see tail_file.c */
};

/* One rotated file of the log (tail_siblings). */
struct tail_sib {
    char *name;      /* dir/name, malloc'ed */
    struct stat st;  /* lstat()ed when listed */
    bool gz;         /* name ends in ".gz" */
    long num;        /* N of base.N[.gz]; -1 for a date suffix */
    const char *sfx; /* into name: the suffix after the base name, without ".gz" */
    size_t sfx_len;
};

/* A candidate wanted by tail_find(). */
struct tail_want {
    bool by_inode; /* dev+ino must match */
    uint64_t dev, ino;
    bool exclude;  /* skip this dev+ino (the truncated file itself) */
    uint64_t xdev, xino;
    uint64_t head_hash;
    uint32_t head_len;
    uint64_t min_size;
};

/* Open a regular file without blocking (a FIFO in its place must not hang
 * us). The fd, st filled; -1 with errno on failure. */
int tail_open_file(int dirfd, const char *name, int flags, struct stat *st);

/* The first len bytes of fd (len <= TAIL_HEAD_BYTES) hash to hash. */
bool tail_head_matches(int fd, uint64_t hash, uint32_t len);

/* Make s read fd (already fstat()ed as st) from off, as a live source;
 * takes fd and name (malloc'ed), which tail_src_close() releases. */
void tail_src_init(struct tail_src *s, int fd, const struct stat *st, uint64_t off, char *name);
void tail_src_close(struct tail_src *s);

bool tail_src_same(const struct tail_src *s, const struct stat *st);

/* The head checksum still describes the file (not truncated and rewritten). */
bool tail_src_head_ok(const struct tail_src *s);

/* Extend the head checksum with n bytes just read at file offset off. */
void tail_src_head_extend(struct tail_src *s, const char *p, size_t n, uint64_t off);

/* The file w describes, among the rotated files and copies of the log at
 * path (in directory dir, base name base). Its fd, with *st and *name
 * (malloc'ed) filled for the caller to own; -1 when none. */
int tail_find(const char *path, const char *dir, const char *base, const struct tail_want *w,
              struct stat *st, char **name);

/* Make s read the decompressed bytes of the gzip'ed file fd from off (a
 * finite source; takes fd and name). -1 (fd closed, name freed) when zlib
 * cannot read it. */
int tail_src_init_gz(struct tail_src *s, int fd, const struct stat *st, uint64_t off, char *name);

/* Up to n bytes of s at offset off: pread(), or for a gz source the
 * decompressed stream (rewound or skipped forward as needed). The bytes,
 * 0 at the end, -1 with errno on an error. */
ssize_t tail_src_read(struct tail_src *s, char *buf, size_t n, uint64_t off);

/* The rotated files of the log base in dir: base.N, base.N.gz, and dateext
 * names base-DATE, base-DATE.gz (DATE: digits, '-' and '_'), regular files
 * only; oldest first (by N, by DATE, else by mtime). *n set; free the
 * array with tail_sibs_free(). NULL (and *n = 0) when there are none or
 * the directory cannot be read (warned). */
struct tail_sib *tail_siblings(const char *path, const char *dir, const char *base, size_t *n);
void tail_sibs_free(struct tail_sib *sibs, size_t n);

/* Open sib; when want is not NULL, only if it is the file want names (by
 * inode when by_inode, else by its head; for .gz the decompressed head;
 * min_size is checked for plain files only). A source from offset off, of
 * kind ROTATED (plain) or FINITE (gz): 0, or -1 when it is not (s
 * untouched). */
int tail_sib_open(const struct tail_sib *sib, const struct tail_want *want, uint64_t off,
                  struct tail_src *s);

/* The follower (described at the top of tail_file.c). */
struct tail {
    char *path, *dir, *base;
    size_t max_line;
    int64_t rotate_wait; /* ms a rotated file must be idle before it is finished */
    struct tail_src cur, next;
    struct tail_src *later; /* files to read after next, in order (a catch-up) */
    size_t nlater;
    struct { uint64_t dev, ino; } done[16]; /* files finished lately (a ring) */
    unsigned ndone;
    /* buf[start, end) holds cur's bytes from commit_off on; the bytes
     * buf[start, start + scan) are known to hold no newline. */
    char *buf;
    size_t cap, start, end, scan;
    uint64_t commit_off; /* offset just after the last line handed out */
    uint64_t skipped;    /* bytes of an overlong line dropped after its prefix */
    bool skipping;       /* dropping an overlong line's rest until its newline */
    int ifd;             /* inotify, or -1 */
    bool missing;        /* the path was missing at the last look (warned) */
    struct msg_once last_err; /* last error warned about */
};

/* Empty the line buffer: cur's bytes from commit_off on are read next. */
void tail_buf_reset(tail_t *t, uint64_t commit_off);

/* Resume at a saved position (tail_resume.c; see tail_file.h): fd/st is
 * the path, or -1 when it is missing. Queues what is to be read. */
void tail_resume(tail_t *t, const struct tail_pos *pos, int fd, const struct stat *st);

#endif
