/* SPDX-License-Identifier: MIT */
/*
 * ctl_parse.h - `mailhookctl parse [--include-bounces] [--no-sent] FILE...`:
 * run maillog files (plain or gzip, or "-" for standard input) through the
 * same parser and correlator as mailhookd, offline (no daemon, no store),
 * and print the events: NDJSON with --json, one readable line each
 * otherwise. For checking what mailhook would send (mailhookctl backfill
 * stores them). A summary goes to stderr.
 *
 *   ctl_parse(argc, argv, json)   argv[0] is "parse"; returns an exit code
 */
#ifndef MH_CTL_PARSE_H
#define MH_CTL_PARSE_H

#include <stdbool.h>

#define CTL_PARSE_SYNOPSIS                                                           \
    "parse [--json] [--include-bounces] [--no-sent] [--content-filter HOST:PORT]...\n" \
    "       [--filtered-event failed|none] [--discard-event failed|delivered|none] FILE..."

int ctl_parse(int argc, char **argv, bool json);

#endif
