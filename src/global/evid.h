/* SPDX-License-Identifier: MIT */
/*
 * evid.h - event identifiers: "evt_" followed by a 26-character ULID
 * (48-bit millisecond timestamp + 80 random bits, Crockford base32), so ids
 * sort by creation time as plain strings. Ids made in one process within the
 * same millisecond are strictly increasing (monotonic ULID).
 *
 *   evid_generate(out, now_ms)  fill out with a new id; thread-safe
 *   evid_derive(out, ts_ms, parts, n)
 *                               a deterministic id: the same 10 time digits
 *                               (ts_ms), then 16 digits (80 bits) of the
 *                               SHA-256 of the n strings in parts (each
 *                               length-prefixed, so ("ab","c") differs from
 *                               ("a","bc"); a NULL part differs from "").
 *                               Same inputs, same id: a log line read twice
 *                               makes the same event, which the store's id
 *                               check then drops. Valid per evid_valid().
 *   evid_valid(s)               true when s has the exact form of an id
 *   evid_time_ms(s)             the creation time encoded in a valid id
 *   evid_time_prefix(out, ms)   the 10 time digits of ms (clamped to 0 ..
 *                               2^48 - 1) and a NUL: every id made at ms
 *                               or later sorts at or after it, every id
 *                               made before sorts before. Pure: the bound
 *                               of a time range, where evid_generate (which
 *                               never goes back) would answer "now"
 */
#ifndef MH_EVID_H
#define MH_EVID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVID_PREFIX "evt_"
#define EVID_LEN 30 /* "evt_" + 26 */
#define EVID_SIZE (EVID_LEN + 1)
#define EVID_TIME_DIGITS 10 /* the first 10 digits: 48 bits of milliseconds */
#define EVID_TIME_SIZE (EVID_TIME_DIGITS + 1)

void evid_generate(char out[EVID_SIZE], int64_t now_ms);
void evid_derive(char out[EVID_SIZE], int64_t ts_ms, const char *const *parts, size_t n);
bool evid_valid(const char *s);
int64_t evid_time_ms(const char *s);
void evid_time_prefix(char out[EVID_TIME_SIZE], int64_t ms);

#endif
