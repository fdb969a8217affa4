/* SPDX-License-Identifier: MIT */
/*
 * check_seqset.c - unit tests of seqset.h: add/has/del answers, 0 never a
 * member, growth past the initial size, and a long mixed run checked
 * against a plain array (backward-shift deletion must keep every other
 * member findable, also for dense and for colliding numbers).
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "seqset.h"

/* ---- one operation per row, in order, on one set */
enum op { ADD, DEL, HAS };
static const struct {
    enum op op;
    uint64_t seq;
    bool want;
} steps[] = {
    { HAS, 1, false }, { ADD, 1, true },   { ADD, 1, false }, { HAS, 1, true },
    { ADD, 0, false }, { HAS, 0, false },  { DEL, 0, false }, { ADD, 2, true },
    { DEL, 3, false }, { DEL, 1, true },   { DEL, 1, false }, { HAS, 1, false },
    { HAS, 2, true },  { ADD, UINT64_MAX, true }, { HAS, UINT64_MAX, true },
    { DEL, UINT64_MAX, true }, { HAS, 2, true },
};

START_TEST(test_steps)
{
    seqset_t s;
    size_t count = 0;

    seqset_init(&s);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        bool got = false;

        switch (steps[i].op) {
        case ADD: got = seqset_add(&s, steps[i].seq); count += got; break;
        case DEL: got = seqset_del(&s, steps[i].seq); count -= got; break;
        case HAS: got = seqset_has(&s, steps[i].seq); break;
        }
        ck_assert_msg(got == steps[i].want, "step %zu", i);
        ck_assert_uint_eq(seqset_count(&s), count);
    }
    seqset_free(&s);
}
END_TEST

/* ---- a mixed run against a reference: numbers from base + k * stride */
static const struct {
    uint64_t base, stride;
} runs[] = {
    { 1, 1 },                          /* dense, as the store hands them out */
    { 1000000, 1 },
    { 1, UINT64_C(1) << 47 },          /* multiples that stress the hash's top bits */
    { 7, 65536 },
};

#define RUN_SPAN 3000

START_TEST(test_reference)
{
    static bool member[RUN_SPAN];
    seqset_t s;
    uint32_t rnd = 12345;
    size_t count = 0;

    seqset_init(&s);
    for (size_t k = 0; k < RUN_SPAN; k++)
        member[k] = false;
    for (int step = 0; step < 40000; step++) {
        size_t k;
        uint64_t seq;
        bool add;

        rnd = rnd * 1103515245u + 12345u; /* a fixed sequence: reproducible */
        k = (rnd >> 8) % RUN_SPAN;
        add = step < 4000 || ((rnd >> 4) & 3) != 0; /* grow first, then mix */
        seq = runs[_i].base + k * runs[_i].stride;
        if (add) {
            ck_assert_int_eq(seqset_add(&s, seq), !member[k]);
            count += !member[k];
            member[k] = true;
        } else {
            ck_assert_int_eq(seqset_del(&s, seq), member[k]);
            count -= member[k];
            member[k] = false;
        }
        ck_assert_uint_eq(seqset_count(&s), count);
    }
    for (size_t k = 0; k < RUN_SPAN; k++)
        ck_assert_int_eq(seqset_has(&s, runs[_i].base + k * runs[_i].stride), member[k]);
    seqset_free(&s);
}
END_TEST

/* Growth keeps everything; deleting all empties it; it still works after. */
START_TEST(test_grow_and_empty)
{
    seqset_t s;

    seqset_init(&s);
    for (uint64_t q = 1; q <= 10000; q++)
        ck_assert(seqset_add(&s, q));
    ck_assert_uint_eq(seqset_count(&s), 10000);
    for (uint64_t q = 1; q <= 10000; q++)
        ck_assert(seqset_has(&s, q));
    ck_assert(!seqset_has(&s, 10001));
    for (uint64_t q = 2; q <= 10000; q += 2)
        ck_assert(seqset_del(&s, q));
    for (uint64_t q = 1; q <= 10000; q++)
        ck_assert_int_eq(seqset_has(&s, q), q % 2 == 1);
    for (uint64_t q = 1; q <= 10000; q += 2)
        ck_assert(seqset_del(&s, q));
    ck_assert_uint_eq(seqset_count(&s), 0);
    ck_assert(seqset_add(&s, 42));
    ck_assert(seqset_has(&s, 42));
    seqset_free(&s);
}
END_TEST

static Suite *seqset_suite(void)
{
    Suite *s = suite_create("seqset");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_steps);
    tcase_add_loop_test(tc, test_reference, 0, (int)(sizeof(runs) / sizeof(runs[0])));
    tcase_add_test(tc, test_grow_and_empty);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(seqset_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
