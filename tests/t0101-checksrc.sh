#!/bin/bash
# SPDX-License-Identifier: MIT
# t0101: no banned function (STYLE: sprintf, strcpy, sscanf, atoi, ...) in
# src/, the grep of "make checksrc" run by "make check" too.
. "$(dirname "$0")/lib/tap.sh"
plan 1
check "make checksrc: no banned function in src/" make -s -C "$top_builddir" checksrc
