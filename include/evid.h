/*
 * evid.h - event identifiers: "evt_" followed by a 26-character ULID
 * (48-bit millisecond timestamp + 80 random bits, Crockford base32), so ids
 * sort by creation time as plain strings. Ids made in one process within the
 * same millisecond are strictly increasing (monotonic ULID).
 *
 *   evid_generate(out, now_ms)  fill out with a new id; thread-safe
 *   evid_valid(s)               true when s has the exact form of an id
 *   evid_time_ms(s)             the creation time encoded in a valid id
 */
#ifndef MH_EVID_H
#define MH_EVID_H

#include <stdbool.h>
#include <stdint.h>

#define EVID_PREFIX "evt_"
#define EVID_LEN 30 /* "evt_" + 26 */
#define EVID_SIZE (EVID_LEN + 1)

void evid_generate(char out[EVID_SIZE], int64_t now_ms);
bool evid_valid(const char *s);
int64_t evid_time_ms(const char *s);

#endif
