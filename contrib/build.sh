#!/bin/bash
# SPDX-License-Identifier: MIT
# contrib/build.sh - bootstrap, configure and build in place when needed
# (used by the demo and the test runner; a plain ./configure && make works too).
set -eu
cd "$(dirname "$0")/.."
[ -x configure ] || ./bootstrap >/dev/null 2>&1 || ./bootstrap
[ -f Makefile ] || ./configure -q --enable-werror --prefix=/usr --sysconfdir=/etc --localstatedir=/var --runstatedir=/run
make -s -j"$(nproc)" "$@"
