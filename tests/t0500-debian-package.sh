#!/bin/bash
# SPDX-License-Identifier: MIT
# t0500: the Debian packages, built, linted, installed, run and purged on
# this machine, as an administrator would meet them.
#
# The release tarball is made from HEAD (git archive, bootstrap, make dist)
# and is the orig tarball of the 3.0 (quilt) source package, with debian/
# beside it; dpkg-buildpackage -us -uc builds the source and binary
# packages (the build takes about 2 minutes on 2 cores); lintian on the
# .changes (the .dsc and both .debs) reports no error and no warning that
# debian/ does not override. The .debs are installed with apt-get; mailhookd
# is started as its installed unit starts it, without systemd: the
# directories the unit has systemd make (RuntimeDirectory= ...) are made
# here, ExecStartPre= and ExecStart= run as the unit's User= (root when it
# names none; a "+" line as root). An event sent with the installed
# mailhookctl emit reaches a webhook receiver on 127.0.0.1. Postfix's
# main.cf is the same before and after. After apt-get purge, nothing with
# "mailhook" in its name is left under /etc /usr /lib /var /run that was not
# there before (the user mailhook stays, as policy has it).
#
# Needs root, dpkg-buildpackage, debhelper, lintian, apt-get, node and a git
# checkout (HEAD is what is built): skipped visibly otherwise. Leaves the
# packages purged even when it fails. Every step is bounded in time.
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"
plan 16
S=$top_srcdir
PKGS="mailhook mailhook-milter"

[ "$(id -u)" -eq 0 ] || skip_all "not root (installs packages)"
for c in dpkg-buildpackage dh lintian apt-get setpriv; do
    command -v "$c" >/dev/null || skip_all "no $c (bash contrib/deps.sh test installs it)"
done
git -C "$S" rev-parse --verify -q HEAD >/dev/null 2>&1 || skip_all "not a git checkout (HEAD is what is built)"
[ -f "$S/debian/control" ] || skip_all "no debian/ in $S"
why=$(have_node) || skip_all "$why"
if dpkg-query -W -f='${Status}' mailhook 2>/dev/null | grep -q 'ok installed'; then
    skip_all "a mailhook package is installed already: not touching it"
fi

[ ! -e /etc/mailhook.conf ] || skip_all "/etc/mailhook.conf exists (mailhook installed from source?): not touching it"

export DEBIAN_FRONTEND=noninteractive
DPID=""
pkg_cleanup() {
    [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
    if dpkg-query -W -f='${Status}' $PKGS 2>/dev/null | grep -qv 'not-installed'; then
        timeout 120 apt-get purge -y -q $PKGS >/dev/null 2>&1
    fi
    cleanup
}
trap pkg_cleanup EXIT

# What is there before: the paths named *mailhook*, Postfix's main.cf.
snapshot() {
    find /etc /usr /lib /var /run -xdev -name '*mailhook*' ! -path '/var/cache/mailhook-test*' \
        ! -path '/var/lib/dpkg/*' ! -path "$T_DIR*" 2>/dev/null | sort
}
snapshot > "$T_DIR/before"
MAINCF_SUM=$(md5sum /etc/postfix/main.cf 2>/dev/null)

# --- build: release tarball from HEAD, the orig of the source package
VERSION=$(dpkg-parsechangelog -l "$S/debian/changelog" -S Version)
UPSTREAM=${VERSION%-*}
B=$T_DIR/build
mkdir -p "$B/git" && git -C "$S" archive HEAD | tar -x -C "$B/git"
start=$(date +%s)
check "make dist makes mailhook-$UPSTREAM.tar.gz from HEAD" bash -c "
    cd '$B/git' && ./bootstrap && ./configure -q && make -s dist && test -s mailhook-$UPSTREAM.tar.gz"
mv "$B/git/mailhook-$UPSTREAM.tar.gz" "$B/mailhook_$UPSTREAM.orig.tar.gz" 2>/dev/null
tar -xzf "$B/mailhook_$UPSTREAM.orig.tar.gz" -C "$B" 2>/dev/null && cp -a "$B/git/debian" "$B/mailhook-$UPSTREAM/"
check "dpkg-buildpackage -us -uc builds the source and binary packages" bash -c "
    cd '$B/mailhook-$UPSTREAM' &&
    DEB_BUILD_OPTIONS='parallel=2' timeout 1200 dpkg-buildpackage -us -uc > '$T_DIR/build.log' 2>&1 ||
    { tail -40 '$T_DIR/build.log'; exit 1; }"
echo "# build: $(( $(date +%s) - start )) s"
CHANGES=$(ls "$B"/mailhook_"${VERSION}"_*.changes 2>/dev/null | head -1)
DEBS=$(ls "$B"/mailhook_"${VERSION}"_*.deb "$B"/mailhook-milter_"${VERSION}"_*.deb 2>/dev/null)
check "lintian: no error, no warning not overridden (.dsc, .debs)" bash -c "
    [ -n '$CHANGES' ] && timeout 600 lintian --fail-on error,warning '$CHANGES' > '$T_DIR/lintian.out' 2>&1
"
grep -v 'running with root privileges' "$T_DIR/lintian.out" 2>/dev/null | sed 's/^/# lintian: /'

# --- install
check "apt-get install ./mailhook*.deb" bash -c "
    [ -n '$DEBS' ] && cd '$B' && timeout 300 apt-get install -y -q --no-install-recommends \
        $(for d in $DEBS; do printf './%s ' "${d##*/}"; done) > '$T_DIR/install.log' 2>&1 ||
    { cat '$T_DIR/install.log'; exit 1; }"
# Nothing below can pass without the packages installed.
if ! dpkg-query -W -f='${Status}' mailhook 2>/dev/null | grep -q 'ok installed'; then
    while [ "$T_NUM" -lt "$T_PLAN" ]; do not_ok "not installed: no later step can run"; done
    exit 1
fi
check "the system user mailhook, home /var/lib/mailhook, in adm and systemd-journal" bash -c "
    [ \"\$(getent passwd mailhook | cut -d: -f6)\" = /var/lib/mailhook ] &&
    [ \"\$(id -gn mailhook)\" = mailhook ] && [ \"\$(id -u mailhook)\" -lt 1000 ] &&
    for g in adm systemd-journal; do
        getent group \$g >/dev/null || continue; id -nG mailhook | tr ' ' '\n' | grep -qx \$g || exit 1
    done"
check "/etc/mailhook.conf is a conffile, 0640 root:mailhook" bash -c "
    [ \"\$(stat -c '%a %U %G' /etc/mailhook.conf)\" = '640 root mailhook' ] &&
    dpkg-query -W -f='\${Conffiles}' mailhook | grep -q ' /etc/mailhook.conf '"
check "installing printed the main.cf lines and changed no Postfix setting" bash -c "
    grep -qF 'smtpd_milters = unix:mailhook/milter.sock' '$T_DIR/install.log' &&
    grep -qF 'non_smtpd_milters = \$smtpd_milters' '$T_DIR/install.log' &&
    [ \"\$(md5sum /etc/postfix/main.cf 2>/dev/null)\" = '$MAINCF_SUM' ]"

# --- run mailhookd as its installed unit does
UNIT=/lib/systemd/system/mailhookd.service
[ -f "$UNIT" ] || UNIT=/usr/lib/systemd/system/mailhookd.service
# unit_get KEY: the values of KEY= in [Service], one per line.
unit_get() { sed -n '/^\[Service\]/,/^\[/p' "$UNIT" | sed -n "s/^$1=//p"; }
U_USER=$(unit_get User | tail -1)
U_GROUP=$(unit_get Group | tail -1)
[ -n "$U_GROUP" ] || { [ -n "$U_USER" ] && U_GROUP=$(id -gn "$U_USER" 2>/dev/null); }
# The directories systemd makes before the start, owned by User:Group.
make_unit_dirs() {
    local key base mode d
    for key in Runtime:/run State:/var/lib Logs:/var/log Cache:/var/cache; do
        base=${key#*:}; key=${key%%:*}
        mode=$(unit_get "${key}DirectoryMode" | tail -1)
        for d in $(unit_get "${key}Directory"); do
            install -d -m "${mode:-0755}" "$base/$d" || return 1
            [ -z "$U_USER" ] || chown "$U_USER:$U_GROUP" "$base/$d" || return 1
        done
    done
}
# as_unit LINE [exec]: an Exec line run as the unit runs it (prefixes: +
# as root, - failure ignored, @ : ! dropped); with "exec" the shell becomes
# the process (its PID is the daemon's, as systemd's MAINPID).
as_unit() {
    local line=$1 how=${2:-} root="" ignore=""
    while :; do
        case $line in
        +*) root=1; line=${line#+} ;;
        -*) ignore=1; line=${line#-} ;;
        [@:!]*) line=${line#?} ;;
        *) break ;;
        esac
    done
    if [ -n "$U_USER" ] && [ -z "$root" ]; then
        line="setpriv --reuid=$U_USER --regid=$U_GROUP --init-groups -- $line"
    fi
    [ "$how" = exec ] && eval "exec $line"
    eval "$line" || [ -n "$ignore" ]
}
start_receiver r >/dev/null || { echo "Bail out! receiver"; exit 1; }
# The endpoint and test settings, appended (the last value wins).
cat >> /etc/mailhook.conf <<CONF
log = "stderr"
delivery_allow = {"127.0.0.0/8"}
endpoint "t0500" {
    url = "$RECV_R_URL/ok/pkg"
    allow_http = true
    types = {"app.*"}
}
CONF
pre_ok() {
    local l
    while IFS= read -r l; do as_unit "$l" || return 1; done < <(unit_get ExecStartPre)
}
if make_unit_dirs >> "$T_DIR/daemon.log" 2>&1 && pre_ok >> "$T_DIR/daemon.log" 2>&1; then
    ok "the unit's directories made, its ExecStartPre= pass (as ${U_USER:-root})"
else
    not_ok "the unit's directories made, its ExecStartPre= pass (as ${U_USER:-root})"; diag < "$T_DIR/daemon.log"
fi
EXEC=$(unit_get ExecStart | tail -1)
as_unit "$EXEC" exec >> "$T_DIR/daemon.log" 2>&1 &
DPID=$!
check "mailhookd from the installed unit's ExecStart answers the installed mailhookctl" \
    wait_for 30 mailhookctl status
ID=$(mailhookctl emit app.pkgtest '{"from":"t0500"}' 2>>"$T_DIR/daemon.log" | awk '{print $1}')
wait_receiver_count 20 r 1 /ok/pkg
check "mailhookctl emit: the event is delivered to the receiver" bash -c "
    [ -n '$ID' ] && receiver_events r /ok/pkg | grep -qx '$ID'" 
check "mailhookd stops on SIGTERM, exit 0" bash -c "
    kill -TERM $DPID; i=0; while kill -0 $DPID 2>/dev/null && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done
    ! kill -0 $DPID 2>/dev/null"
wait "$DPID" 2>/dev/null; rc=$?
DPID=""
check "mailhookd's exit status was 0" test "$rc" -eq 0
[ "$T_FAILED" -eq 0 ] || diag < "$T_DIR/daemon.log"

# --- purge
check "apt-get purge removes both packages" bash -c "
    timeout 120 apt-get purge -y -q $PKGS > '$T_DIR/purge.log' 2>&1 &&
    ! dpkg-query -W -f='\${Status}\n' $PKGS 2>/dev/null | grep -q 'ok installed' || { cat '$T_DIR/purge.log'; exit 1; }"
check "/etc/mailhook.conf, the store, the spool and the override are gone" bash -c "
    [ ! -e /etc/mailhook.conf ] && [ ! -e /var/lib/mailhook ] && [ ! -e /var/spool/mailhook ] &&
    ! dpkg-statoverride --list /etc/mailhook.conf >/dev/null"
snapshot > "$T_DIR/after"
check "nothing named *mailhook* left that was not there before" bash -c "
    comm -13 '$T_DIR/before' '$T_DIR/after' > '$T_DIR/left'; cat '$T_DIR/left'; [ ! -s '$T_DIR/left' ]"
check "Postfix's main.cf is as it was" bash -c "[ \"\$(md5sum /etc/postfix/main.cf 2>/dev/null)\" = '$MAINCF_SUM' ]"
done_testing
