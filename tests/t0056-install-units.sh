#!/bin/bash
# SPDX-License-Identifier: MIT
# t0056: make install DESTDIR=... installs the systemd units
# (--with-systemdsystemunitdir), sysusers.d/mailhook.conf and
# tmpfiles.d/mailhook.conf with the configured paths substituted; the
# units' directories agree with the daemons' built-in defaults; the
# snippets work with systemd-sysusers and systemd-tmpfiles (--root); the
# units pass systemd-analyze verify and keep their exposure score
# (systemd-analyze security) low; make uninstall removes them all.
. "$(dirname "$0")/lib/tap.sh"
plan 15
R=$T_DIR/root
# mkvar NAME: a variable of the build's Makefile, as make expands it.
mkvar() {
    printf 'mh-print-var:\n\t@echo $(%s)\n' "$1" |
        make -s --no-print-directory -C "$top_builddir" -f Makefile -f - mh-print-var
}
UNITDIR=$(mkvar systemdsystemunitdir)
SYSUSERSDIR=$(mkvar sysusersdir)
TMPFILESDIR=$(mkvar tmpfilesdir)
SBINDIR=$(mkvar sbindir)
MH_USER=$(mkvar MH_USER)
U=$R$UNITDIR

check "make install DESTDIR=\$T_DIR/root" \
    make -s --no-print-directory -C "$top_builddir" install DESTDIR="$R"
if [ -z "$UNITDIR" ] || [ -z "$SYSUSERSDIR" ] || [ -z "$TMPFILESDIR" ]; then
    skip_all "configured without a systemd unit, sysusers or tmpfiles directory (no systemd.pc?)"
fi
check "both units installed, every @placeholder@ substituted" bash -c "
    for u in mailhookd mailhook-milter; do
        [ -f '$U/'\$u.service ] && ! grep -n '@[A-Za-z_]*@' '$U/'\$u.service || exit 1
    done"
check "the units run the installed binaries" bash -c "
    grep -qx 'ExecStart=$SBINDIR/mailhookd -f -c .*' '$U/mailhookd.service' &&
    grep -qx 'ExecStart=$SBINDIR/mailhook-milter -f -c .*' '$U/mailhook-milter.service' &&
    [ -x '$R$SBINDIR/mailhookd' ] && [ -x '$R$SBINDIR/mailhook-milter' ]"
check "Type=notify with a watchdog, as the user, before Debian's postfix@-.service" bash -c "
    for u in mailhookd mailhook-milter; do f='$U/'\$u.service
        grep -qx Type=notify \$f && grep -q '^WatchdogSec=' \$f && grep -qx 'User=$MH_USER' \$f &&
        grep -q '^Before=.*postfix@-\.service' \$f && grep -q '^Before=.*sendmail\.service' \$f &&
        grep -qx RuntimeDirectory=mailhook \$f || exit 1
    done && grep -qx StateDirectory=mailhook '$U/mailhookd.service' &&
    grep -qx IPAddressDeny=any '$U/mailhook-milter.service' &&
    ! grep -q IPAddressDeny '$U/mailhookd.service'"
# The units make /var/lib/mailhook and /run/mailhook (systemd's fixed
# places): the daemons' built-in defaults must be those, and the spool the
# units open up must be the default spool.
printf 'user = ""\n' > "$T_DIR/empty.conf"
check "built-in defaults agree with the units: /var/lib/mailhook, /run/mailhook, the spool" bash -c "
    '$MAILHOOKD' -T -c '$T_DIR/empty.conf' > '$T_DIR/defaults' &&
    grep -q '^state_dir = \"/var/lib/mailhook\"' '$T_DIR/defaults' &&
    grep -q '^ingest_socket = \"/run/mailhook/ingest.sock\"' '$T_DIR/defaults' &&
    grep -q '^admin_socket = \"/run/mailhook/admin.sock\"' '$T_DIR/defaults' &&
    spool=\$(sed -n 's/^spool_dir = \"\\(.*\\)\"\$/\\1/p' '$T_DIR/defaults') &&
    grep -qx \"ReadWritePaths=\$spool\" '$U/mailhookd.service' &&
    grep -q \"^d \$spool/new 3733 \" '$R$TMPFILESDIR/mailhook.conf'"
check "sysusers.d/mailhook.conf: user $MH_USER, home /var/lib/mailhook, groups adm and systemd-journal" bash -c "
    f='$R$SYSUSERSDIR/mailhook.conf' &&
    grep -qE '^u $MH_USER - \"[^\"]+\" /var/lib/mailhook\$' \$f &&
    grep -qx 'm $MH_USER adm' \$f && grep -qx 'm $MH_USER systemd-journal' \$f"
check "tmpfiles.d/mailhook.conf: /run/mailhook, the state and the spool with their modes" bash -c "
    f='$R$TMPFILESDIR/mailhook.conf' &&
    grep -qx 'd /run/mailhook 0755 $MH_USER $MH_USER -' \$f &&
    grep -qx 'd /var/lib/mailhook 0700 $MH_USER $MH_USER -' \$f &&
    grep -qE '^d /[^ ]*/spool/mailhook 0750 ' \$f && grep -qE '^d /[^ ]*/spool/mailhook/tmp 3733 ' \$f &&
    grep -qE '^d /[^ ]*/spool/mailhook/bad 0750 ' \$f"

if ! command -v systemd-sysusers >/dev/null || ! command -v systemd-tmpfiles >/dev/null ||
        [ "$(id -u)" -ne 0 ]; then
    skip "systemd-sysusers/systemd-tmpfiles missing or not root (Debian: systemd)"
    skip "systemd-sysusers/systemd-tmpfiles missing or not root (Debian: systemd)"
else
    S=$T_DIR/sysroot; mkdir -p "$S/etc"
    check "systemd-sysusers --root makes the user, its home and its groups" bash -c "
        systemd-sysusers --root='$S' '$R$SYSUSERSDIR/mailhook.conf' &&
        grep -q '^$MH_USER:x:[0-9]*:[0-9]*:[^:]*:/var/lib/mailhook:' '$S/etc/passwd' &&
        grep -q '^adm:.*[:,]$MH_USER\\(,\\|\$\\)' '$S/etc/group' &&
        grep -q '^systemd-journal:.*[:,]$MH_USER\\(,\\|\$\\)' '$S/etc/group'"
    # The host has no such user: the same lines as root's.
    sed "s/ $MH_USER $MH_USER / root root /" "$R$TMPFILESDIR/mailhook.conf" > "$T_DIR/tmpfiles.conf"
    check "systemd-tmpfiles --root makes the directories with the daemon's modes" bash -c "
        systemd-tmpfiles --root='$S' --create '$T_DIR/tmpfiles.conf' &&
        spool=\$(awk '/\\/spool\\/mailhook / {print \$2}' '$T_DIR/tmpfiles.conf') &&
        [ \"\$(stat -c %a '$S/run/mailhook' '$S/var/lib/mailhook' '$S'\$spool '$S'\$spool/tmp '$S'\$spool/new '$S'\$spool/bad | tr '\n' ' ')\" = '755 700 750 3733 3733 750 ' ]"
fi

# As the units run it: User= from the start, never root, in the
# directories systemd-tmpfiles made from the snippet (nobody's here).
if ! command -v systemd-tmpfiles >/dev/null || ! command -v setpriv >/dev/null ||
        [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
    skip "systemd-tmpfiles or setpriv missing, or not root (Debian: systemd, util-linux)"
    skip "systemd-tmpfiles or setpriv missing, or not root (Debian: systemd, util-linux)"
else
    chmod 755 "$T_DIR"
    N=$T_DIR/nobody; NG=$(id -gn nobody)
    # Numeric: with --root, tmpfiles looks names up in that root's /etc.
    sed "s/ $MH_USER $MH_USER / $(id -u nobody) $(id -g nobody) /" "$R$TMPFILESDIR/mailhook.conf" \
        > "$T_DIR/tmpfiles-nobody.conf"
    spool=$(awk '/\/spool\/mailhook / {print $2}' "$T_DIR/tmpfiles-nobody.conf")
    cat > "$T_DIR/nobody.conf" <<CONF
user = ""
log = "stderr"
state_dir = "$N/var/lib/mailhook"
spool_dir = "$N$spool"
ingest_socket = "$N/run/mailhook/ingest.sock"
admin_socket = "$N/run/mailhook/admin.sock"
CONF
    systemd-tmpfiles --root="$N" --create "$T_DIR/tmpfiles-nobody.conf" &&
        chmod 755 "$N" "$N/run" "$N/var" "$N/var/lib" "$N${spool%/mailhook}"
    setpriv --reuid=nobody --regid="$NG" --init-groups "$MAILHOOKD" -f -c "$T_DIR/nobody.conf" \
        >> "$T_DIR/daemon.log" 2>&1 &
    DAEMON_PID=$!
    T_PIDS="$T_PIDS $DAEMON_PID"
    check "unprivileged from the start: mailhookd runs as nobody in the snippet's directories" \
        bash -c "wait_for() { for i in \$(seq 100); do \"\$@\" && return 0; sleep 0.1; done; return 1; }
            wait_for '$MAILHOOKCTL' -c '$T_DIR/nobody.conf' status >/dev/null 2>&1 &&
            [ \$(awk '/^Uid:/{print \$2}' /proc/$DAEMON_PID/status) -eq \$(id -u nobody) ]"
    ID=$("$MAILHOOKCTL" -c "$T_DIR/nobody.conf" emit app.units '{"n":1}' 2>&1 | awk '{print $1}')
    check "unprivileged from the start: an event is stored" bash -c "
        '$MAILHOOKCTL' -c '$T_DIR/nobody.conf' --json events list | grep -q '\"id\":\"$ID\"'"
    stop_daemon
fi

if ! command -v systemd-analyze >/dev/null; then
    skip "systemd-analyze not installed (Debian: systemd)"
    skip "systemd-analyze not installed (Debian: systemd)"
else
    # verify checks that every command exists: point ExecStart= at the
    # binaries under DESTDIR; the rest (/bin/kill, systemd-tmpfiles) is the host's.
    mkdir -p "$T_DIR/verify"
    for u in mailhookd mailhook-milter; do
        sed "s|$SBINDIR/|$R$SBINDIR/|g" "$U/$u.service" > "$T_DIR/verify/$u.service"
    done
    check "systemd-analyze verify: both units, no complaint" bash -c "
        systemd-analyze verify --man=no '$T_DIR/verify/mailhookd.service' \
            '$T_DIR/verify/mailhook-milter.service' > '$T_DIR/verify.out' 2>&1; rc=\$?
        cat '$T_DIR/verify.out'; [ \$rc -eq 0 ] && [ ! -s '$T_DIR/verify.out' ]"
    for u in mailhookd mailhook-milter; do
        systemd-analyze security --offline=true "$T_DIR/verify/$u.service" 2>&1 |
            sed -n 's/^.*Overall exposure level for \([^:]*\): \([0-9.]*\).*/\1 \2/p'
    done > "$T_DIR/scores"
    diag < "$T_DIR/scores"
    check "systemd-analyze security: exposure below 2.0 for both (4.7 before the hardening)" \
        awk 'NF == 2 && $2 < 2.0 { n++ } END { exit n != 2 }' "$T_DIR/scores"
fi

check "make uninstall removes the units and snippets" bash -c "
    make -s --no-print-directory -C '$top_builddir' uninstall DESTDIR='$R' &&
    [ ! -e '$U/mailhookd.service' ] && [ ! -e '$U/mailhook-milter.service' ] &&
    [ ! -e '$R$SYSUSERSDIR/mailhook.conf' ] && [ ! -e '$R$TMPFILESDIR/mailhook.conf' ]"
check "nothing but directories left after uninstall" bash -c "[ -z \"\$(find '$R' ! -type d)\" ]"
done_testing
