#!/bin/bash
# contrib/deps.sh - install the Debian 12 packages mailhook needs to build,
# test and demo, when they are missing. Needs root (or sudo) only when
# something must be installed.
#   deps.sh build   packages for ./configure && make
#   deps.sh test    build + what the test suite and benchmarks use
set -eu
BUILD_PKGS="build-essential autoconf automake libtool pkg-config libjansson-dev libconfuse-dev
  libssl-dev libcurl4-openssl-dev libpcre2-dev libdb5.3-dev libmilter-dev check libsystemd-dev"
TEST_PKGS="$BUILD_PKGS python3 nodejs db5.3-util groff-base procps clang libclang-rt-14-dev valgrind
  util-linux postfix pflogsumm time systemd-journal-remote"

case "${1:-build}" in
build) want=$BUILD_PKGS ;;
test) want=$TEST_PKGS ;;
*) echo "usage: deps.sh build|test" >&2; exit 64 ;;
esac

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps.sh: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Postfix for the tests only: no system mail setup, no service started here.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
