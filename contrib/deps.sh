#!/bin/bash
# SPDX-License-Identifier: MIT
# contrib/deps.sh - install the Debian 12 packages mailhook needs to build,
# test and demo, when they are missing. Needs root (or sudo) only when
# something must be installed.
#   deps.sh build   packages for ./configure && make
#   deps.sh demo    build + nodejs (the demo's webhook receiver)
#   deps.sh test    build + what the test suite and benchmarks use, and the
#                   npm packages of $NPM_PKGS (the tests' independent
#                   signature verifiers), pinned, installed with npm
#                   under $MAILHOOK_TEST_NODE_PREFIX (/opt/mailhook-test),
#                   outside the source tree; tests/lib/receiver.sh finds them;
#                   and Debian's Sendmail .debs, downloaded into
#                   $SM_DEB_CACHE (/var/cache/mailhook-test/debs), never
#                   installed (sendmail-bin conflicts with postfix):
#                   tests/lib/sendmail.sh unpacks them for t0260
set -eu
BUILD_PKGS="build-essential autoconf automake libtool pkg-config libjansson-dev libconfuse-dev
  libssl-dev libcurl4-openssl-dev libpcre2-dev libdb-dev libmilter-dev check libsystemd-dev
  libgmime-3.0-dev zlib1g-dev libjq-dev"
TEST_PKGS="$BUILD_PKGS python3 nodejs npm curl openssl db5.3-util groff-base procps clang libclang-rt-14-dev
  valgrind util-linux postfix pflogsumm time wrk systemd-journal-remote miltertest logrotate
  faketime universal-ctags systemd"
# t0500 builds, lints and installs the Debian packages (debian/).
TEST_PKGS="$TEST_PKGS debhelper lintian"
# The libraries Debian's sendmail-bin links (tests/lib/sendmail.sh runs it
# from its unpacked .debs, see below) and m4 for its .cf files.
TEST_PKGS="$TEST_PKGS m4 libnsl2 libldap-2.5-0 libsasl2-2"
NODE_PREFIX=${MAILHOOK_TEST_NODE_PREFIX:-/opt/mailhook-test}
# The tests' verifiers, each name@version pinned: standardwebhooks (Standard
# Webhooks), @sendgrid/eventwebhook (SendGrid's Signed Event Webhook) and the
# ECDSA code it loads, starkbank-ecdsa, pinned here too at what npm picks for
# its "^1.1.1" today, so that the code judging our signatures does not drift.
NPM_PKGS="standardwebhooks@1.1.1 @sendgrid/eventwebhook@8.0.0 starkbank-ecdsa@1.2.0"

profile=${1:-build}
case "$profile" in
build) want=$BUILD_PKGS ;;
demo) want="$BUILD_PKGS nodejs" ;;
test) want=$TEST_PKGS ;;
*) echo "usage: deps.sh build|demo|test" >&2; exit 64 ;;
esac

missing=""
for p in $want; do
    # A Node.js that bundles its own npm (NodeSource's nodejs provides and
    # conflicts with Debian's npm) needs no npm package.
    [ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ -n "$missing" ]; then
    echo "deps.sh: installing:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Postfix for the tests only: no system mail setup, no service started here.
    echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
[ "$profile" = test ] || exit 0

# Every package of $NPM_PKGS at its version and loadable with its
# dependencies, or install them all (one npm command; no lifecycle scripts
# run; bounded in time).
npm_ok() {
    # shellcheck disable=SC2086 # NPM_PKGS: words
    node -e 'const d = process.argv[1];
        for (const spec of process.argv.slice(2)) {
            const at = spec.lastIndexOf("@"), name = spec.slice(0, at);
            if (require(d + "/" + name + "/package.json").version !== spec.slice(at + 1))
                process.exit(1);
            require(d + "/" + name);
        }' "$NODE_PREFIX/node_modules" $NPM_PKGS >/dev/null 2>&1
}
if ! npm_ok; then
    echo "deps.sh: installing $NPM_PKGS under $NODE_PREFIX" >&2
    $SUDO mkdir -p "$NODE_PREFIX"
    # shellcheck disable=SC2086 # NPM_PKGS: words
    $SUDO timeout 600 npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --ignore-scripts --save-exact \
        --cache "$NODE_PREFIX/.npm-cache" --loglevel=error $NPM_PKGS >/dev/null
    npm_ok || { echo "deps.sh: $NPM_PKGS do not all load from $NODE_PREFIX" >&2; exit 1; }
fi

# Debian's Sendmail for t0260, as .debs only (no lifecycle scripts, nothing
# installed). Without them the test downloads them itself, or skips.
SM_DEB_CACHE=${SM_DEB_CACHE:-/var/cache/mailhook-test/debs}
SM_DEBS="sendmail-bin sendmail-base sendmail-cf libwrap0 liblockfile1"
sm_debs_ok() {
    local p
    for p in $SM_DEBS; do compgen -G "$SM_DEB_CACHE/${p}_*.deb" >/dev/null || return 1; done
}
if ! sm_debs_ok; then
    echo "deps.sh: downloading $SM_DEBS into $SM_DEB_CACHE (not installed)" >&2
    $SUDO mkdir -p "$SM_DEB_CACHE"
    # shellcheck disable=SC2086 # SM_DEBS: words
    dl() { (cd "$SM_DEB_CACHE" && $SUDO timeout 300 apt-get download -q $SM_DEBS) >/dev/null 2>&1; }
    dl || { $SUDO apt-get update -qq && dl; } ||
        echo "deps.sh: warning: could not download the Sendmail .debs; t0260 will try again or skip" >&2
fi
