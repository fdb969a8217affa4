/* SPDX-License-Identifier: MIT */
/*
 * fuzz_tail_pos.c - libFuzzer entry point for the log follower's
 * checkpoint decoder (tail_pos_decode, of what the store holds for a
 * maillog source): any text must be refused or decoded without crashing
 * or leaking, and a decoded position must survive its own encoding
 * (tail_pos_encode, then tail_pos_decode again: the same fields).
 *
 * Build and run: make fuzz (needs clang), or see tests/t0095-fuzz-tail-pos.sh.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tail_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const struct tail_pos *a, const struct tail_pos *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->head_hash == b->head_hash &&
           a->head_len == b->head_len && a->offset == b->offset && a->mtime_ns == b->mtime_ns;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *again;
    struct tail_pos pos, pos2;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    if (tail_pos_decode(text, &pos, NULL) == 0) {
        again = tail_pos_encode(&pos);
        if (tail_pos_decode(again, &pos2, NULL) != 0 || !same(&pos, &pos2))
            abort(); /* our own checkpoint does not read back */
        free(again);
    }
    free(text);
    return 0;
}
