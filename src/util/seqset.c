/* SPDX-License-Identifier: MIT */
/*
 * seqset.c - a set of sequence numbers (see seqset.h).
 */
#include "config.h"

#include <stdlib.h>

#include "seqset.h"
#include "xalloc.h"

#define SEQSET_INITIAL 64

/* Fibonacci hashing: sequence numbers are dense, spread them out. */
static size_t seqset_slot(const seqset_t *s, uint64_t seq)
{
    return (size_t)((seq * 0x9E3779B97F4A7C15ULL) >> 17) & (s->size - 1);
}

void seqset_init(seqset_t *s)
{
    s->size = SEQSET_INITIAL;
    s->count = 0;
    s->slots = xcalloc(s->size, sizeof(*s->slots));
}

void seqset_free(seqset_t *s)
{
    xfree(s->slots);
    s->size = s->count = 0;
}

static void seqset_put(seqset_t *s, uint64_t seq)
{
    size_t i = seqset_slot(s, seq);

    while (s->slots[i] != 0)
        i = (i + 1) & (s->size - 1);
    s->slots[i] = seq;
    s->count++;
}

static void seqset_grow(seqset_t *s)
{
    uint64_t *old = s->slots;
    size_t n = s->size;

    s->size *= 2;
    s->count = 0;
    s->slots = xcalloc(s->size, sizeof(*s->slots));
    for (size_t i = 0; i < n; i++)
        if (old[i])
            seqset_put(s, old[i]);
    free(old);
}

bool seqset_has(const seqset_t *s, uint64_t seq)
{
    size_t i = seqset_slot(s, seq);

    for (; s->slots[i] != 0; i = (i + 1) & (s->size - 1))
        if (s->slots[i] == seq)
            return true;
    return false;
}

bool seqset_add(seqset_t *s, uint64_t seq)
{
    if (seq == 0 || seqset_has(s, seq))
        return false;
    if ((s->count + 1) * 2 > s->size)
        seqset_grow(s);
    seqset_put(s, seq);
    return true;
}

/* Backward-shift deletion: no tombstones, probes stay short. */
bool seqset_del(seqset_t *s, uint64_t seq)
{
    size_t mask = s->size - 1, i = seqset_slot(s, seq), j, home;

    if (seq == 0) /* 0 marks an empty slot: never a member */
        return false;
    while (s->slots[i] != seq) {
        if (s->slots[i] == 0)
            return false;
        i = (i + 1) & mask;
    }
    for (j = (i + 1) & mask; s->slots[j] != 0; j = (j + 1) & mask) {
        home = seqset_slot(s, s->slots[j]);
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i] = 0;
    s->count--;
    return true;
}
