/* SPDX-License-Identifier: MIT */
/*
 * seqset.h - a set of store sequence numbers (uint64_t, never 0): which
 * events of one endpoint the delivery engine holds in memory, so that an
 * event reaching it twice (fan-out, backlog scan, replay) is held once.
 *
 * Open addressing with linear probing and backward-shift deletion; grows
 * at 50% load, never shrinks below its initial size.
 *
 *   seqset_init(s) / seqset_free(s)
 *   seqset_add(s, seq)     true when added, false when already there
 *   seqset_del(s, seq)     true when removed, false when absent
 *   seqset_has(s, seq)
 *   seqset_count(s)
 */
#ifndef MH_SEQSET_H
#define MH_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct seqset {
    uint64_t *slots; /* 0 = empty */
    size_t size;     /* a power of two */
    size_t count;
} seqset_t;

void seqset_init(seqset_t *s);
void seqset_free(seqset_t *s);
bool seqset_add(seqset_t *s, uint64_t seq);
bool seqset_del(seqset_t *s, uint64_t seq);
bool seqset_has(const seqset_t *s, uint64_t seq);
static inline size_t seqset_count(const seqset_t *s) { return s->count; }

#endif
