# SPDX-License-Identifier: MIT
# tests/lib/sendmail.sh - a private, real Sendmail (Debian's 8.17) for the
# tests, unpacked from its .debs, never installed.
#
# Debian's sendmail-bin conflicts with postfix as a package, so the .debs
# (sendmail-bin sendmail-base sendmail-cf libwrap0 liblockfile1) are fetched
# with `apt-get download` into a cache reused across runs
# ($SM_DEB_CACHE, default /var/cache/mailhook-test/debs, filled by
# `contrib/deps.sh test`; $T_DIR/debs when the cache cannot be written) and
# unpacked with dpkg -x under $T_DIR/sendmail/root. Its sendmail.cf (the
# MTA) and submit.cf (the MSP) are built with m4 from the unpacked
# sendmail-cf. Everything lives under $T_DIR/sendmail: the .cf files, the
# queues (mqueue, clientmqueue), the pid file, the maillog. Every address
# used is on 127.0.0.1; the daemon listens on a free high port.
#
# Each Sendmail process runs in its own UTS and mount namespace
# (unshare -u -m, see _sm_ns): the host name there is the dotted
# "sm.test.local" (an undotted one makes Sendmail sleep 60 s at start), and
# /dev is a small tmpfs with null, zero, random, urandom, tty and a /dev/log
# that leads to the test's syslog socket (tests/helpers/syslog_sink.py), which
# writes $SM_MAILLOG as rsyslog would. The host's /dev is not touched.
#
# Source it after tests/lib/tap.sh and tests/lib/postfix.sh (for its free
# ports, the SMTP sink and wait_for).
#
#   sm_available                 exit 0 when root, m4, unshare, mount,
#                                python3 and the unpacked Sendmail are here
#                                (downloading and unpacking the .debs if
#                                needed); otherwise prints the reason (SKIP)
#   sm_setup [-m MILTER_SPEC] [-p RELAY_PORT] [-r 'DOMAIN MAILER:HOST']...
#            [-L MAILLOG]        write the .cf files and the mailertable.
#                                -m: INPUT_MAIL_FILTER(`mailhook', S=SPEC)
#                                (libmilter's form, as in mailhook.conf).
#                                -p: the relay mailer's port (pf.test goes
#                                there: a local Postfix). -r: one more
#                                mailertable line. -L: the maillog file
#                                (default $T_DIR/sendmail/maillog).
#   sm_start / sm_stop           start (syslog socket and sink first) /
#                                stop the MTA (-bd, queue run every
#                                $SM_QUEUE_INTERVAL), bounded
#   sm_start_aux                 the syslog socket and the sink only (to
#                                submit through the MSP with the MTA down)
#   sm_msp_queue_run             one run of the MSP's queue (-q), bounded
#   sm_send [-s SUBJ] [-H 'Name: value']... [-n NOTIFY] FROM RCPT...
#                                one message over SMTP to the MTA; prints
#                                the queue id ("... Message accepted")
#   sm_msp_send [-s SUBJ] [-H HDR]... [-O SENDMAIL-OPTION]... FROM RCPT...
#                                through the unpacked sendmail(8) as MSP
#                                (submit.cf: its own queue, relay mailer
#                                to the MTA's port)
#   sm_direct_send [-s SUBJ] [-H HDR]... [-O SENDMAIL-OPTION]... FROM RCPT...
#                                sendmail -t with the MTA's own sendmail.cf:
#                                queued straight into the MTA's queue
#                                (-O -odq: queue only, the daemon's next
#                                queue run delivers). Both return
#                                sendmail's exit status (68: a recipient
#                                refused, e.g. by a mailertable error:)
#   sm_wait_for SECS CMD...      until CMD succeeds, SECS of wall time
#   sm_wait_queue_empty SECS     until neither queue holds a qf file
#   sm_wait_log SECS ERE         until the maillog has a line matching ERE
#
# After sm_setup: SM_DIR SM_ROOT (unpacked tree) SM_BIN SM_CF SM_SUBMIT_CF
# SM_PORT (the MTA) SM_SINK_PORT SM_DEAD_PORT SM_MAILLOG SM_SAVE (the
# sink's --save directory) SM_MQUEUE SM_CLIENTMQUEUE.
#
# Mail routing (mailertable; anything else goes to SMART_HOST, the sink;
# the MTA's aliases send root, postmaster and MAILER-DAEMON to
# $SM_ROOT_ALIAS, default okroot@a.test):
#   a.test, src.test  esmtp:[127.0.0.1] -> tests/helpers/smtp_sink.py on
#                     SM_SINK_PORT (answers by local part: ok* defer*
#                     unknown* full* spam* policy*)
#   dead.test         smtp8:[127.0.0.1] -> SM_DEAD_PORT, where nothing
#                     listens (deferred, then returned at expiry)
#   error.test        error:5.1.2:550 ...: refused at RCPT (SMTP, so also
#                     what the MSP hands over) or at submission
#                     (sendmail -t exits 68); no to= line at the MTA
#   pf.test           relay:[127.0.0.1] -> RELAY_PORT (with -p; without,
#                     the dead port)
# Each mailer's port is set by its *_MAILER_ARGS (TCP $h PORT): mailertable
# has no port of its own.
#
# Environment: SM_DEB_CACHE (see above); SM_LIFETIME (s, default
# PF_LIFETIME or 600) bounds the daemon, the sink and the syslog socket;
# SM_QUEUE_RETURN (default 1m: Timeout.queuereturn, the queue lifetime);
# SM_QUEUE_WARN (default 20s: Timeout.queuewarn, the delay DSN);
# SM_QUEUE_INTERVAL (default 5s: the daemon's -q); SM_MSP_USER (default
# nobody: the MSP's RunAsUser, which must not be root); SM_ROOT_ALIAS.
#
# Cleanup: tests call sm_stop; an EXIT trap chained in front of the one in
# force (tap.sh's cleanup, or postfix.sh's) stops what still runs, the pids
# are in T_PIDS as a last resort, and a watchdog stops the daemon when the
# test shell is gone or after SM_LIFETIME seconds.
: "${T_DIR:?sendmail.sh: set T_DIR (or source tests/lib/tap.sh first)}"
: "${T_PIDS:=}"
SM_DIR=$T_DIR/sendmail
SM_ROOT=$SM_DIR/root
SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
SM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SM_SYSLOG_PY=$SM_LIB_DIR/../helpers/syslog_sink.py
SM_SINK_PY=$SM_LIB_DIR/../helpers/smtp_sink.py
SM_DEB_CACHE=${SM_DEB_CACHE:-/var/cache/mailhook-test/debs}
SM_DEBS="sendmail-bin sendmail-base sendmail-cf libwrap0 liblockfile1"
SM_LIFETIME=${SM_LIFETIME:-${PF_LIFETIME:-600}}
SM_QUEUE_RETURN=${SM_QUEUE_RETURN:-1m}
SM_QUEUE_WARN=${SM_QUEUE_WARN:-20s}
SM_QUEUE_INTERVAL=${SM_QUEUE_INTERVAL:-5s}
SM_HOSTNAME=sm.test.local
SM_MSP_USER=${SM_MSP_USER:-nobody}
SM_ROOT_ALIAS=${SM_ROOT_ALIAS:-okroot@a.test}
SM_MAILLOG=$SM_DIR/maillog
SM_RUNNING=""

# _sm_have_debs DIR: every one of $SM_DEBS has a .deb in DIR
_sm_have_debs() {
    local p
    for p in $SM_DEBS; do
        compgen -G "$1/${p}_*.deb" >/dev/null || return 1
    done
}

# _sm_fetch_debs: prints the directory holding the .debs, downloading them
# (bounded) into the cache, or into $T_DIR/debs when the cache cannot be
# written. Fails with the reason on stdout.
_sm_fetch_debs() {
    local d
    _sm_have_debs "$SM_DEB_CACHE" && { echo "$SM_DEB_CACHE"; return 0; }
    command -v apt-get >/dev/null || { echo "no apt-get to download the sendmail .debs"; return 1; }
    for d in "$SM_DEB_CACHE" "$T_DIR/debs"; do
        if ! mkdir -p "$d" 2>/dev/null || [ ! -w "$d" ]; then continue; fi
        # shellcheck disable=SC2086 # SM_DEBS: words
        (cd "$d" && timeout 180 apt-get download -q $SM_DEBS) > "$T_DIR/apt-download.out" 2>&1
        _sm_have_debs "$d" && { echo "$d"; return 0; }
    done
    echo "apt-get download $SM_DEBS failed: $(grep -m1 -E '^(E|W):' "$T_DIR/apt-download.out")"
    return 1
}

sm_available() {
    if [ "$(id -u)" != 0 ]; then echo "not root"; return 1; fi
    local c
    for c in m4 unshare mount hostname dpkg python3 timeout; do
        command -v "$c" >/dev/null || { echo "$c is missing"; return 1; }
    done
    if ! unshare -u -m --propagation private true 2>/dev/null; then
        echo "unshare -u -m does not work here (no CAP_SYS_ADMIN?)"; return 1
    fi
    if [ ! -x "$SM_BIN" ]; then
        local debs f
        debs=$(_sm_fetch_debs) || { echo "$debs"; return 1; }
        mkdir -p "$SM_ROOT" || { echo "cannot create $SM_ROOT"; return 1; }
        for f in "$debs"/*.deb; do
            dpkg -x "$f" "$SM_ROOT" 2>> "$T_DIR/dpkg-x.out" || { echo "dpkg -x $f failed"; return 1; }
        done
        # setgid mail: the loader would ignore LD_LIBRARY_PATH (secure mode)
        chmod g-s "$SM_BIN" "$SM_ROOT"/usr/libexec/sendmail/* 2>/dev/null
    fi
    [ -x "$SM_BIN" ] || { echo "no sendmail binary in the unpacked .debs"; return 1; }
    local missing
    missing=$(LD_LIBRARY_PATH=$(_sm_libpath) ldd "$SM_BIN" 2>&1 | awk '/not found/ { print $1 }' | tr '\n' ' ')
    [ -z "$missing" ] || { echo "sendmail needs libraries not installed: $missing"; return 1; }
    [ -f "$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4" ] || { echo "no sendmail-cf m4 files"; return 1; }
    return 0
}

_sm_libpath() {
    local a
    a=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
    echo "$SM_ROOT/usr/lib/$a:$SM_ROOT/lib/$a"
}

# _sm_ns CMD...: CMD in its own UTS and mount namespace (see the top).
_sm_ns() {
    LD_LIBRARY_PATH=$(_sm_libpath) unshare -u -m --propagation private "$SM_DIR/ns.sh" "$@"
}

_sm_write_ns() {
    cat > "$SM_DIR/ns.sh" <<EOF
#!/bin/sh
# Runs inside unshare -u -m: a dotted host name and a /dev whose log is
# the test's syslog socket. Nothing here is seen outside the namespace.
set -e
hostname $SM_HOSTNAME
d=$SM_DIR/dev
mount -t tmpfs -o mode=755,size=64k none "\$d"
for n in null zero full random urandom tty; do
    : > "\$d/\$n"
    mount --bind "/dev/\$n" "\$d/\$n"
done
ln -s /proc/self/fd "\$d/fd"
ln -s /proc/self/fd/0 "\$d/stdin"; ln -s /proc/self/fd/1 "\$d/stdout"; ln -s /proc/self/fd/2 "\$d/stderr"
ln -s $SM_DIR/log.sock "\$d/log"
mount --bind "\$d" /dev
exec "\$@"
EOF
    chmod 755 "$SM_DIR/ns.sh"
}

# _sm_mc_common: the .mc lines the MTA and the MSP share: names from the
# test's hosts file only (no DNS), no load-average throttling on a busy
# machine, short SMTP timeouts, the test's queue lifetime and delay warning.
_sm_mc_common() {
    local cfd=$SM_ROOT/usr/share/sendmail/cf
    printf '%s\n' \
        "divert(-1)" \
        "include(\`$cfd/m4/cf.m4')" \
        "divert(0)dnl" \
        "define(\`confDOMAIN_NAME', \`$SM_HOSTNAME')dnl" \
        "define(\`confHOSTS_FILE', \`$SM_DIR/hosts')dnl" \
        "define(\`confSERVICE_SWITCH_FILE', \`$SM_DIR/service.switch')dnl" \
        "define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl" \
        "define(\`confDONT_PROBE_INTERFACES', \`True')dnl" \
        "define(\`confQUEUE_LA', \`1000')dnl" \
        "define(\`confREFUSE_LA', \`1000')dnl" \
        "define(\`confDELAY_LA', \`0')dnl" \
        "define(\`confLOG_LEVEL', \`9')dnl" \
        "define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl" \
        "define(\`confTO_CONNECT', \`5s')dnl" \
        "define(\`confTO_ICONNECT', \`5s')dnl" \
        "define(\`confTO_INITIAL', \`10s')dnl" \
        "define(\`confTO_HELO', \`10s')dnl" \
        "define(\`confTO_MAIL', \`10s')dnl" \
        "define(\`confTO_RCPT', \`10s')dnl" \
        "define(\`confTO_DATAINIT', \`10s')dnl" \
        "define(\`confTO_DATABLOCK', \`10s')dnl" \
        "define(\`confTO_DATAFINAL', \`10s')dnl" \
        "define(\`confTO_QUIT', \`5s')dnl" \
        "define(\`confTO_IDENT', \`0s')dnl" \
        "define(\`confTO_QUEUERETURN', \`$SM_QUEUE_RETURN')dnl" \
        "define(\`confTO_QUEUEWARN', \`$SM_QUEUE_WARN')dnl" \
        "define(\`confMIN_QUEUE_AGE', \`0s')dnl" \
        "define(\`confHELP_FILE', \`$SM_ROOT/etc/mail/helpfile')dnl" \
        "FEATURE(\`nocanonify')dnl"
}

sm_setup() {
    local milter="" relay_port="" routes="" opt OPTIND=1
    while getopts m:p:r:L: opt; do
        case $opt in
            m) milter=$OPTARG ;;
            p) relay_port=$OPTARG ;;
            r) routes="$routes${OPTARG/ /	}"$'\n' ;;
            L) SM_MAILLOG=$OPTARG ;;
            *) echo "sm_setup: bad option" >&2; return 2 ;;
        esac
    done
    [ -x "$SM_BIN" ] || { echo "sm_setup: run sm_available first" >&2; return 1; }
    local ports
    ports=$(_pf_free_ports 3) || return 1
    read -r SM_PORT SM_SINK_PORT SM_DEAD_PORT <<<"$ports"
    SM_CF=$SM_DIR/sendmail.cf
    SM_SUBMIT_CF=$SM_DIR/submit.cf
    SM_MQUEUE=$SM_DIR/mqueue
    SM_CLIENTMQUEUE=$SM_DIR/clientmqueue
    SM_SAVE=$SM_DIR/save
    mkdir -p "$SM_DIR/dev" "$SM_DIR/run" "$SM_MQUEUE" "$SM_CLIENTMQUEUE" "$SM_SAVE" \
        "$(dirname "$SM_MAILLOG")" || return 1
    # Sendmail refuses queue and .cf paths that others can write to.
    # The MSP must run as a user other than root (as smmsp on Debian).
    chmod 755 "$SM_DIR" && chmod 700 "$SM_MQUEUE" && chmod 770 "$SM_CLIENTMQUEUE" &&
        chown "$SM_MSP_USER:$(id -gn "$SM_MSP_USER")" "$SM_CLIENTMQUEUE" || return 1
    chmod go+x "$T_DIR" || return 1
    _sm_write_ns
    printf '127.0.0.1\tlocalhost %s sm\n' "$SM_HOSTNAME" > "$SM_DIR/hosts"
    printf 'hosts\tfiles\naliases\tfiles\n' > "$SM_DIR/service.switch"
    # root's mail goes to the sink, as on a host whose admin reads it
    # elsewhere (built into aliases.db after the .cf, below)
    printf 'postmaster: root\nMAILER-DAEMON: postmaster\nroot: %s\n' "$SM_ROOT_ALIAS" > "$SM_DIR/aliases"

    local mt=$SM_DIR/mailertable
    {
        printf 'a.test\tesmtp:[127.0.0.1]\n'
        printf 'src.test\tesmtp:[127.0.0.1]\n'
        printf 'dead.test\tsmtp8:[127.0.0.1]\n'
        printf 'error.test\terror:5.1.2:550 Host unknown (test: error.test)\n'
        [ -n "$relay_port" ] && printf 'pf.test\trelay:[127.0.0.1]\n'
        printf '%s' "$routes"
    } > "$mt"

    # The MTA: one daemon on 127.0.0.1:SM_PORT, mail routed by mailertable,
    # everything else to the sink.
    {
        _sm_mc_common
        printf '%s\n' \
            "VERSIONID(\`mailhook test MTA')dnl" \
            "OSTYPE(\`linux')dnl" \
            "define(\`QUEUE_DIR', \`$SM_MQUEUE')dnl" \
            "define(\`STATUS_FILE', \`$SM_DIR/sendmail.st')dnl" \
            "define(\`confPID_FILE', \`$SM_DIR/run/sendmail.pid')dnl" \
            "define(\`ALIAS_FILE', \`$SM_DIR/aliases')dnl" \
            "define(\`confDELIVERY_MODE', \`background')dnl" \
            "define(\`confPRIVACY_FLAGS', \`authwarnings')dnl" \
            "define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl" \
            "define(\`SMTP_MAILER_ARGS', \`TCP \$h $SM_SINK_PORT')dnl" \
            "define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SM_SINK_PORT')dnl" \
            "define(\`SMTP8_MAILER_ARGS', \`TCP \$h $SM_DEAD_PORT')dnl" \
            "define(\`DSMTP_MAILER_ARGS', \`TCP \$h $SM_SINK_PORT')dnl" \
            "define(\`RELAY_MAILER_ARGS', \`TCP \$h ${relay_port:-$SM_DEAD_PORT}')dnl" \
            "define(\`LOCAL_MAILER_PATH', \`/bin/false')dnl" \
            "FEATURE(\`no_default_msa')dnl" \
            "FEATURE(\`accept_unresolvable_domains')dnl" \
            "FEATURE(\`promiscuous_relay')dnl" \
            "FEATURE(\`mailertable', \`hash -o $SM_DIR/mailertable')dnl" \
            "DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl"
        if [ -n "$milter" ]; then
            printf '%s\n' "INPUT_MAIL_FILTER(\`mailhook', \`S=$milter, F=, T=C:10s;S:10s;R:10s;E:10s')dnl"
        fi
        printf '%s\n' "MAILER(\`local')dnl" "MAILER(\`smtp')dnl"
    } > "$SM_DIR/sendmail.mc"
    # The MSP: Debian's /usr/sbin/sendmail, submit.cf relaying to the MTA.
    {
        _sm_mc_common
        printf '%s\n' \
            "VERSIONID(\`mailhook test MSP')dnl" \
            "define(\`confCF_VERSION', \`Submit')dnl" \
            "define(\`__OSTYPE__',\`')dnl" \
            "define(\`confTIME_ZONE', \`USE_TZ')dnl" \
            "define(\`confDONT_INIT_GROUPS', \`True')dnl" \
            "define(\`confRUN_AS_USER', \`$SM_MSP_USER')dnl" \
            "define(\`MSP_QUEUE_DIR', \`$SM_CLIENTMQUEUE')dnl" \
            "define(\`STATUS_FILE', \`$SM_DIR/sm-client.st')dnl" \
            "define(\`confPID_FILE', \`$SM_DIR/run/sm-client.pid')dnl" \
            "define(\`RELAY_MAILER_ARGS', \`TCP \$h $SM_PORT')dnl" \
            "FEATURE(\`msp', \`[127.0.0.1]')dnl"
    } > "$SM_DIR/submit.mc"
    local m
    for m in sendmail submit; do
        m4 -D_CF_DIR_="$SM_ROOT/usr/share/sendmail/cf/" "$SM_DIR/$m.mc" > "$SM_DIR/$m.cf" 2> "$SM_DIR/$m.m4.err" ||
            { echo "sm_setup: m4 $m.mc failed:" >&2; cat "$SM_DIR/$m.m4.err" >&2; return 1; }
        chmod 644 "$SM_DIR/$m.cf"
    done
    # (makemap warns about /tmp, world-writable: the daemon trusts its
    # sticky bit, DontBlameSendmail=TrustStickyBit, makemap does not ask)
    # shellcheck disable=SC2094 # reads mailertable, writes mailertable.db
    LD_LIBRARY_PATH=$(_sm_libpath) "$SM_ROOT/usr/libexec/sendmail/makemap" -C "$SM_CF" hash "$mt" \
        < "$mt" > "$SM_DIR/makemap.out" 2>&1 ||
        { echo "sm_setup: makemap failed:" >&2; cat "$SM_DIR/makemap.out" >&2; return 1; }
    _sm_ns "$SM_BIN" -C "$SM_CF" -bi > "$SM_DIR/newaliases.out" 2>&1 ||
        { echo "sm_setup: newaliases failed:" >&2; cat "$SM_DIR/newaliases.out" >&2; return 1; }
    touch "$SM_DIR/sendmail.st" "$SM_DIR/sm-client.st"
    return 0
}

_sm_listening() { _pf_listening "$1"; }

_sm_pid() {
    local p
    [ -f "$SM_DIR/run/sendmail.pid" ] || return 1
    p=$(head -1 "$SM_DIR/run/sendmail.pid")
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
}

# Chain an EXIT trap in front of the one in force: stop what still runs.
# Once only (a flag, not the trap's text: postfix.sh chains its own in
# front of this one). The trap's text names the one it chains to, so
# postfix.sh's check ("is mine in there?") still sees its own and does not
# chain twice, which would make the two call each other forever.
# shellcheck disable=SC2120 # "set --" below parses the trap, no arguments
_sm_trap_install() {
    [ -z "${_SM_TRAP_DONE:-}" ] || return 0
    _SM_TRAP_DONE=yes
    local cur
    cur=$(trap -p EXIT)
    _SM_PREV_EXIT=""
    if [ -n "$cur" ]; then eval "set -- $cur"; _SM_PREV_EXIT=$3; fi
    # shellcheck disable=SC2064 # the text is fixed now, on purpose
    trap "_sm_atexit # then: ${_SM_PREV_EXIT//$'\n'/ }" EXIT
    [ -n "$(trap -p TERM)" ] || trap 'exit 143' TERM
    [ -n "$(trap -p INT)" ] || trap 'exit 130' INT
}

_sm_atexit() {
    local rc=$?
    [ -n "$SM_RUNNING" ] && sm_stop
    if [ -n "${_SM_PREV_EXIT:-}" ]; then eval "$_SM_PREV_EXIT"; fi
    return $rc
}

# _sm_bg NAME CMD...: CMD in the background, pid in $SM_DIR/NAME.pid and T_PIDS
_sm_bg() {
    local name=$1; shift
    "$@" >> "$SM_DIR/$name.log" 2>&1 < /dev/null &
    echo $! > "$SM_DIR/$name.pid"
    T_PIDS="$T_PIDS $!"
}

# sm_start_aux: the syslog socket and the sink alone (sm_start starts
# them too): a test can submit through the MSP while the MTA is down.
sm_start_aux() {
    _sm_trap_install
    SM_RUNNING=yes
    if [ ! -f "$SM_DIR/syslog.pid" ] || ! kill -0 "$(cat "$SM_DIR/syslog.pid")" 2>/dev/null; then
        _sm_bg syslog python3 "$SM_SYSLOG_PY" "$SM_DIR/log.sock" "$SM_MAILLOG" --lifetime "$SM_LIFETIME"
        wait_for 10 test -S "$SM_DIR/log.sock" ||
            { echo "sm_start: no syslog socket:" >&2; cat "$SM_DIR/syslog.log" >&2; return 1; }
    fi
    if [ ! -f "$SM_DIR/sink.pid" ] || ! kill -0 "$(cat "$SM_DIR/sink.pid")" 2>/dev/null; then
        _sm_bg sink python3 "$SM_SINK_PY" "$SM_SINK_PORT" --lifetime "$SM_LIFETIME" --save "$SM_SAVE"
        wait_for 10 _sm_listening "$SM_SINK_PORT" ||
            { echo "sm_start: the sink did not start:" >&2; cat "$SM_DIR/sink.log" >&2; return 1; }
    fi
}

sm_start() {
    if _sm_pid >/dev/null; then echo "sm_start: sendmail already runs" >&2; return 1; fi
    sm_start_aux || return 1
    # -bd forks the daemon into its own session (process group = its pid);
    # -L names its lines sm-mta, as Debian's init script does.
    _sm_ns "$SM_BIN" -C "$SM_CF" -bd -q"$SM_QUEUE_INTERVAL" -L sm-mta >> "$SM_DIR/start.out" 2>&1 < /dev/null ||
        { echo "sm_start: sendmail -bd failed:" >&2; cat "$SM_DIR/start.out" >&2; return 1; }
    if ! wait_for 20 _sm_listening "$SM_PORT"; then
        echo "sm_start: sendmail is not listening on $SM_PORT" >&2
        cat "$SM_DIR/start.out" >&2; tail -5 "$SM_MAILLOG" >&2
        return 1
    fi
    local pid
    pid=$(_sm_pid) || { echo "sm_start: no sendmail pid" >&2; return 1; }
    T_PIDS="$T_PIDS $pid"
    local shell_pid=$$
    (
        trap - EXIT TERM INT HUP
        end=$((SECONDS + SM_LIFETIME))
        while kill -0 "$shell_pid" 2>/dev/null && kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt "$end" ]; do
            sleep 1
        done
        kill -TERM "$pid" 2>/dev/null; sleep 2; kill -9 -- "-$pid" 2>/dev/null
    ) > /dev/null 2>&1 < /dev/null &
    echo $! > "$SM_DIR/watchdog.pid"
    T_PIDS="$T_PIDS $!"
    return 0
}

# sm_stop: SIGTERM to the daemon, bounded wait, then SIGKILL to its process
# group (queue runners and deliveries); then the watchdog, sink and syslog.
sm_stop() {
    local pid p i f
    if pid=$(_sm_pid); then
        kill -TERM "$pid" 2>/dev/null
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 -- "-$pid" 2>/dev/null
        kill -9 "$pid" 2>/dev/null
    fi
    for f in watchdog sink syslog; do
        [ -f "$SM_DIR/$f.pid" ] || continue
        p=$(cat "$SM_DIR/$f.pid")
        kill -TERM "$p" 2>/dev/null
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
        rm -f "$SM_DIR/$f.pid"
    done
    SM_RUNNING=""
    return 0
}

# The SMTP client behind sm_send: prints Sendmail's queue id from the DATA
# reply ("250 2.0.0 QID Message accepted for delivery").
_SM_SEND_PY='
import smtplib, sys, time, os
from email.utils import formatdate
port = int(sys.argv[1]); args = sys.argv[2:]
subject, headers, notify = "test message", [], None
while args and args[0] in ("-s", "-H", "-n"):
    f, v = args[0], args[1]; args = args[2:]
    if f == "-s": subject = v
    elif f == "-H": headers.append(v)
    else: notify = v
sender, rcpts = args[0], args[1:]
hdr = ["From: <%s>" % sender, "To: %s" % ", ".join("<%s>" % r for r in rcpts),
       "Subject: %s" % subject, "Date: %s" % formatdate(localtime=True),
       "Message-ID: <%d.%d@client.test>" % (time.time_ns(), os.getpid())] + headers
msg = ("\r\n".join(hdr) + "\r\n\r\nThis is a test message.\r\n").encode()
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60)
s.ehlo()
code, resp = s.mail(sender)
if code != 250: sys.exit("sm_send: MAIL: %d %s" % (code, resp.decode()))
for r in rcpts:
    opts = ["NOTIFY=" + notify] if notify else []
    code, resp = s.rcpt(r, opts)
    if code != 250: print("sm_send: RCPT %s: %d %s" % (r, code, resp.decode()), file=sys.stderr)
code, resp = s.data(msg)
s.quit()
resp = resp.decode()
if code != 250: sys.exit("sm_send: DATA: %d %s" % (code, resp))
w = resp.split()
print(w[1] if len(w) > 1 and w[0][:1] == "2" and "." in w[0] else w[0])
'
sm_send() { python3 -c "$_SM_SEND_PY" "$SM_PORT" "$@"; }

# _sm_submit CF HOW [-s SUBJ] [-H HDR]... [-O OPT]... FROM RCPT...: a message to sendmail(8) -t
_sm_submit() {
    local cf=$1 how=$2; shift 2
    local subject="test message (sendmail $how)" headers="" opts=() opt OPTIND=1
    while getopts s:H:O: opt; do
        case $opt in
            s) subject=$OPTARG ;;
            H) headers="$headers$OPTARG"$'\n' ;;
            O) opts+=("$OPTARG") ;;
            *) return 2 ;;
        esac
    done
    shift $((OPTIND - 1))
    local from=$1; shift
    local to
    to=$(printf '<%s>, ' "$@"); to=${to%, }
    printf 'From: <%s>\nTo: %s\nSubject: %s\nMessage-ID: <%s.%s@%s.client.test>\n%s\nThis is a test message.\n' \
        "$from" "$to" "$subject" "$(date +%s%N)" "$$" "$how" "$headers" |
        _sm_ns timeout 60 "$SM_BIN" -C "$cf" "${opts[@]}" -f "$from" -t
}
# sm_msp_send: Debian's /usr/sbin/sendmail (the MSP, submit.cf), which
# hands the message to the MTA over SMTP (mailer=relay)
sm_msp_send() { _sm_submit "$SM_SUBMIT_CF" msp "$@"; }
# sm_direct_send: sendmail -t with the MTA's sendmail.cf, queued straight
# into the MTA's queue (no SMTP, so no milter)
sm_direct_send() { _sm_submit "$SM_CF" direct "$@"; }

# sm_msp_queue_run: one run of the MSP's queue (sendmail -C submit.cf -q),
# in the foreground, bounded: what Debian's sm-msp-queue does every 20 min.
sm_msp_queue_run() { _sm_ns timeout 60 "$SM_BIN" -C "$SM_SUBMIT_CF" -q -L sm-msp-queue; }

# sm_wait_for SECS CMD...: poll CMD every 0.2 s until it succeeds or SECS
# seconds of wall time have passed (tap.sh's wait_for counts polls, which a
# slow CMD on a loaded machine stretches many times over).
sm_wait_for() {
    local end=$((SECONDS + $1)); shift
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ $SECONDS -lt $end ] || return 1
        sleep 0.2
    done
}

_sm_queue_empty() {
    [ -z "$(find "$SM_MQUEUE" "$SM_CLIENTMQUEUE" -name 'qf*' -print -quit 2>/dev/null)" ]
}
sm_wait_queue_empty() { sm_wait_for "$1" _sm_queue_empty; }
sm_wait_log() { sm_wait_for "$1" grep -Eq -- "$2" "$SM_MAILLOG"; }
