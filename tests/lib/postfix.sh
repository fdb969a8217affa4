# SPDX-License-Identifier: MIT
# tests/lib/postfix.sh - private, real Postfix instances for the tests.
#
# Source it after tests/lib/tap.sh (or, outside TAP, after setting T_DIR to a
# fresh directory of your own). Needs root, Postfix (/usr/sbin/postfix, 3.4+
# for maillog_file) and python3. Everything lives under $T_DIR/postfix:
# /etc/postfix and the system instance are never read for writing nor
# started. Every address used is on 127.0.0.1.
#
#   pf_available                 exit 0 when root + postfix + python3 are
#                                here; otherwise prints the reason (for SKIP)
#   pf_setup [-n NAME] [-t NEXTHOP] [-r 'DOMAIN NEXTHOP']... [-l MAILLOG] [-o]
#            [MAIN-CF-LINE...]
#                                create instance NAME (default "main") and
#                                make it the current one. Extra lines
#                                ("key = value") go last in main.cf.
#                                -t NEXTHOP: the default route instead of the
#                                sink, e.g. smtp:[127.0.0.1]:$PORT_OF_OTHER.
#                                -r: one more transport_maps entry, e.g.
#                                -r "relay.test smtp:[127.0.0.1]:$OTHER_PORT"
#                                to chain two instances for one domain.
#                                -l: maillog file (default: all instances
#                                share $T_DIR/postfix/maillog; instance NAME
#                                logs as syslog_name "postfix" for main,
#                                "postfix-NAME" otherwise).
#                                -o: long queue ids (enable_long_queue_ids).
#   pf_use NAME                  make NAME the current instance
#   pf_start / pf_stop           start (the sink first) / stop the current
#                                instance, bounded; pf_stop_all stops all
#   pf_send [-s SUBJ] [-H 'Name: value']... [-b BODY] FROM RCPT...
#                                one message over SMTP to the instance;
#                                prints the queue id ("queued as")
#   pf_send_batch [-c CONNS] [-m MAX] [-s SUBJ] [-H HDR]...
#                                messages from stdin, one per line
#                                "FROM RCPT [RCPT...]" ("<>" = null sender),
#                                over CONNS parallel clients (default 4),
#                                each reconnecting after 1..MAX messages
#                                (default 3); prints one queue id per
#                                message ("-" when refused)
#   pf_sendmail [-s SUBJ] [-H 'Name: value']... FROM RCPT...
#                                submit through sendmail(1)/postdrop/pickup
#   pf_flush                     postqueue -f
#   pf_wait_queue_empty SECS     until no queue file is left (bounded)
#   pf_wait_log SECS ERE         until the maillog has a line matching ERE
#   pf_log                       prints the maillog's path
#   pf_qids ERE                  queue ids of maillog lines matching ERE
#
# After pf_setup/pf_use these describe the current instance:
#   PF_NAME PF_DIR PF_CONF PF_QUEUE PF_PORT (its smtpd) PF_SINK_PORT
#   PF_DEAD_PORT (nothing listens there) PF_MAILLOG PF_SAVE (the sink's
#   --save directory: one .eml + .json per delivered message)
#
# Mail routing (transport_maps = texthash:$PF_CONF/transport):
#   error.test    -> error:5.1.2 ... (bounced by Postfix, relay=none)
#   discard.test  -> discard:  (status=sent, relay=none)
#   dead.test     -> smtp:[127.0.0.1]:$PF_DEAD_PORT (connection refused:
#                    deferred, then expired)
#   *             -> smtp:[127.0.0.1]:$PF_SINK_PORT (tests/helpers/smtp_sink.py:
#                    answers by the recipient's local part: ok* defer* unknown*
#                    full* spam* policy*)
# Mail to blocked.test is refused by smtpd (NOQUEUE: reject), a message with
# a header "X-Test-Action: reject" is refused by cleanup (header_checks).
# Queue times are shrunk so that a deferred message expires within seconds:
# see PF_QUEUE_LIFETIME below.
#
# Chroot: master.cf is Debian's with its chroot column kept, so smtpd,
# cleanup, pickup, smtp, bounce... run chrooted in PF_QUEUE, filled the way
# Debian fills /var/spool/postfix before each start (_pf_chroot_setup). A
# unix: milter socket must then be inside PF_QUEUE and named relative to it
# in main.cf (tests/lib/milter.sh does so), as on a Debian host.
#
# Environment: PF_LIFETIME (s, default 600) bounds every instance and sink;
# PF_CHROOT (y or n, default y) keeps or removes master.cf's chroot flags;
# PF_QUEUE_LIFETIME (s, default 6) is maximal_queue_lifetime and
# bounce_queue_lifetime; PF_SINK_OPTS replaces the sink's options (default
# "--save $PF_SAVE"; e.g. "--quiet" for a benchmark).
#
# Cleanup: tests call pf_stop; in addition an EXIT trap (chained in front of
# tap.sh's cleanup, so it runs before $T_DIR is removed) stops every instance
# still running, the master's pid is in T_PIDS as a last resort, and a
# watchdog per instance stops it when the test shell is gone or after
# PF_LIFETIME seconds. The sink exits by itself after PF_LIFETIME too.
: "${T_DIR:?postfix.sh: set T_DIR (or source tests/lib/tap.sh first)}"
: "${T_PIDS:=}"
PF_ROOT=$T_DIR/postfix
PF_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PF_SINK_PY=$PF_LIB_DIR/../helpers/smtp_sink.py
PF_LIFETIME=${PF_LIFETIME:-600}
# Queue timing (seconds). A deferred message is retried every ~1-2 s and is
# returned to the sender once it is older than PF_QUEUE_LIFETIME.
PF_QUEUE_LIFETIME=${PF_QUEUE_LIFETIME:-6}
PF_POSTFIX=${PF_POSTFIX:-/usr/sbin/postfix}
# y: master.cf's chroot flags as Debian ships them (default); n: none.
PF_CHROOT=${PF_CHROOT:-y}
PF_INSTANCES=""      # names set up
PF_RUNNING=""        # names started and not stopped

if ! declare -F wait_for >/dev/null; then
    # wait_for SECONDS CMD...: as in tap.sh, for use outside TAP.
    wait_for() {
        local limit=$(( $1 * 10 )); shift
        local i=0
        while [ $i -lt $limit ]; do
            "$@" >/dev/null 2>&1 && return 0
            sleep 0.1; i=$((i + 1))
        done
        return 1
    }
fi

pf_available() {
    if [ "$(id -u)" != 0 ]; then echo "not root"; return 1; fi
    if [ ! -x "$PF_POSTFIX" ]; then echo "postfix is not installed ($PF_POSTFIX)"; return 1; fi
    if ! command -v python3 >/dev/null; then echo "python3 is missing"; return 1; fi
    local v
    v=$(postconf -d -h mail_version 2>/dev/null)
    case $v in
        [012].*|3.[0-3]|3.[0-3].*) echo "postfix $v is too old (need 3.4+ for maillog_file)"; return 1 ;;
    esac
    return 0
}

# _pf_free_ports N: N distinct free TCP ports on 127.0.0.1.
_pf_free_ports() {
    python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])' "$1"
}

# _pf_listening PORT: something listens on 127.0.0.1:PORT or 0.0.0.0:PORT
# (read from /proc: connecting would leave lines in the maillog).
_pf_listening() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" 'NR > 1 && $4 == "0A" && ($2 == "0100007F" p || $2 == "00000000" p) { f = 1 } END { exit !f }' /proc/net/tcp
}

_pf_master_pid() {
    [ -f "$PF_QUEUE/pid/master.pid" ] || return 1
    local p
    p=$(awk '{ print $1; exit }' "$PF_QUEUE/pid/master.pid")
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
}

# pf_use NAME: make NAME the current instance.
pf_use() {
    local f=$PF_ROOT/$1/instance.env
    [ -f "$f" ] || { echo "pf_use: no instance $1" >&2; return 1; }
    # shellcheck disable=SC1090
    . "$f"
}

pf_setup() {
    local name=main nexthop="" routes="" maillog=$PF_ROOT/maillog longids=no opt OPTIND=1
    while getopts n:t:r:l:o opt; do
        case $opt in
            n) name=$OPTARG ;;
            t) nexthop=$OPTARG ;;
            r) routes="$routes${OPTARG/ /	}"$'\n' ;;
            l) maillog=$OPTARG ;;
            o) longids=yes ;;
            *) echo "pf_setup: bad option" >&2; return 2 ;;
        esac
    done
    shift $((OPTIND - 1))
    local dir=$PF_ROOT/$name
    local conf=$dir/etc ports smtpd_port sink_port dead_port syslog=postfix host=test.local
    if [ -e "$dir" ]; then echo "pf_setup: $dir exists" >&2; return 1; fi
    if [ "$name" != main ]; then syslog=postfix-$name; host=$name.test.local; fi
    mkdir -p "$conf" "$dir/queue" "$dir/save" "$(dirname "$maillog")" || return 1
    # Daemons run as "postfix" and need to reach the queue and data
    # directories: mktemp's 0700 on $T_DIR would stop them (search only).
    chmod go+x "$T_DIR" && chmod 755 "$PF_ROOT" "$dir" "$dir/queue" || return 1
    ports=$(_pf_free_ports 3) || return 1
    read -r smtpd_port sink_port dead_port <<<"$ports"
    [ -n "$nexthop" ] || nexthop="smtp:[127.0.0.1]:$sink_port"

    local src
    for src in /usr/share/postfix/master.cf.dist /etc/postfix/master.cf.proto /etc/postfix/master.cf; do
        [ -f "$src" ] && break
    done
    # master.cf: Debian's, chroot flags kept (smtpd, cleanup, pickup and
    # most other daemons run chrooted in the instance's queue directory, as
    # on a stock Debian host: a milter socket outside it is not reached;
    # PF_CHROOT=n turns chroot off everywhere), smtpd on our port only,
    # per-service syslog names follow this instance's name, and
    # qmgr woken every second instead of every 300 s: a deferral can leave a
    # message's file in the incoming queue while qmgr still holds it ("skipped,
    # still being delivered"), and qmgr looks at the incoming queue again only
    # on new mail or a wakeup (seen: t0200 and t0210 waiting 90 s in vain).
    awk -v listen="127.0.0.1:$smtpd_port" -v sys="$syslog" -v chroot="$PF_CHROOT" '
        /^[^#[:space:]]/ && NF >= 8 {
            if ($1 == "smtp" && $2 == "inet") $1 = listen
            if ($1 == "qmgr" && $2 == "unix") $6 = "1"
            if (chroot == "n") $5 = "n"
        }
        { gsub(/syslog_name=postfix\//, "syslog_name=" sys "/"); print }' "$src" > "$conf/master.cf" || return 1
    for src in /usr/share/postfix/main.cf.dist /etc/postfix/main.cf.proto; do
        [ -f "$src" ] && break
    done
    cp "$src" "$conf/main.cf" || return 1

    cat > "$conf/transport" <<EOF
error.test	error:5.1.2 Host or domain name not found (test: error.test)
discard.test	discard:test discard.test
dead.test	smtp:[127.0.0.1]:$dead_port
$routes*	$nexthop
EOF
    cat > "$conf/recipient_access" <<EOF
blocked.test	REJECT Access denied
EOF
    cat > "$conf/header_checks" <<EOF
/^X-Test-Action: *reject/	REJECT message content rejected
EOF
    # The built-in notices speak of hours and days, which the short queue
    # times here round to zero (bounce warns in the maillog): plain ones.
    cat > "$conf/bounce.cf" <<'EOF'
failure_template = <<EOT
Charset: us-ascii
From: MAILER-DAEMON (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
Postmaster-Subject: Postmaster Copy: Undelivered Mail

This is the mail system at host $myhostname.

Your message could not be delivered to one or more recipients.
EOT

delay_template = <<EOT
Charset: us-ascii
From: MAILER-DAEMON (Mail Delivery System)
Subject: Delayed Mail (still being retried)
Postmaster-Subject: Postmaster Warning: Delayed Mail

This is the mail system at host $myhostname.

Your message could not be delivered yet; it is still being retried.
EOT
EOF
    local lt=$PF_QUEUE_LIFETIME
    # The smtp client's reply timeouts are 10 s, not Postfix's 2 to 10
    # minutes: a sink that stops answering must not hold a message in the
    # active queue for longer than a test waits.
    postconf -c "$conf" -e \
        "compatibility_level = 3.6" \
        "queue_directory = $dir/queue" \
        "data_directory = $dir/data" \
        "command_directory = /usr/sbin" \
        "daemon_directory = /usr/lib/postfix/sbin" \
        "shlib_directory = /usr/lib/postfix" \
        "meta_directory = /etc/postfix" \
        "mail_owner = postfix" \
        "setgid_group = postdrop" \
        "sendmail_path = /usr/sbin/sendmail" \
        "newaliases_path = /usr/bin/newaliases" "mailq_path = /usr/bin/mailq" \
        "html_directory = no" "manpage_directory = /usr/share/man" \
        "sample_directory = /etc/postfix" "readme_directory = no" \
        "syslog_name = $syslog" \
        "maillog_file = $maillog" \
        "maillog_file_prefixes = $(dirname "$maillog")" \
        "inet_interfaces = 127.0.0.1" \
        "inet_protocols = ipv4" \
        "myhostname = $host" \
        "mydomain = test.local" \
        "myorigin = \$myhostname" \
        "mydestination =" \
        "relayhost =" \
        "relay_domains =" \
        "mynetworks = 127.0.0.0/8" \
        "local_recipient_maps =" \
        "alias_maps =" "alias_database =" \
        "biff = no" \
        "append_dot_mydomain = no" \
        "smtputf8_enable = no" \
        "smtpd_banner = \$myhostname ESMTP" \
        "smtpd_peername_lookup = no" \
        "smtpd_error_sleep_time = 0" \
        "smtpd_reject_unlisted_recipient = no" \
        "smtpd_recipient_restrictions = check_recipient_access texthash:$conf/recipient_access, permit_mynetworks, reject_unauth_destination" \
        "header_checks = regexp:$conf/header_checks" \
        "bounce_template_file = $conf/bounce.cf" \
        "default_transport = smtp" \
        "relay_transport = smtp" \
        "transport_maps = texthash:$conf/transport" \
        "smtp_tls_security_level = none" \
        "smtpd_tls_security_level = none" \
        "smtp_connect_timeout = 2s" \
        "smtp_helo_timeout = 10s" \
        "smtp_mail_timeout = 10s" "smtp_rcpt_timeout = 10s" "smtp_rset_timeout = 10s" \
        "smtp_quit_timeout = 10s" "smtp_data_init_timeout = 10s" \
        "smtp_data_xfer_timeout = 10s" "smtp_data_done_timeout = 10s" \
        "in_flow_delay = 0" \
        "queue_run_delay = 1s" \
        "minimal_backoff_time = 1s" \
        "maximal_backoff_time = 2s" \
        "maximal_queue_lifetime = ${lt}s" \
        "bounce_queue_lifetime = ${lt}s" \
        "enable_long_queue_ids = $longids" \
        || return 1
    if [ $# -gt 0 ]; then printf '%s\n' "$@" >> "$conf/main.cf"; fi
    # Postfix waits (in 0.3 s steps, ~2 s) for a config file or table
    # modified in the last seconds to settle: date them back a minute.
    touch -d "@$(( $(date +%s) - 60 ))" "$conf"/*

    cat > "$dir/instance.env" <<EOF
PF_NAME=$name
PF_DIR=$dir
PF_CONF=$conf
PF_QUEUE=$dir/queue
PF_PORT=$smtpd_port
PF_SINK_PORT=$sink_port
PF_DEAD_PORT=$dead_port
PF_MAILLOG=$maillog
PF_SAVE=$dir/save
EOF
    pf_use "$name" || return 1
    PF_INSTANCES="$PF_INSTANCES $name"
    # Creates the queue and data directories with their owners and modes.
    "$PF_POSTFIX" -c "$conf" check > "$dir/check.out" 2>&1 ||
        { cat "$dir/check.out" >&2; return 1; }
    _pf_chroot_setup "$conf" "$dir/queue" >> "$dir/check.out" 2>&1 ||
        { cat "$dir/check.out" >&2; return 1; }
}

# _pf_chroot_setup CONF QUEUE: fill the chroot (the queue directory) with
# what chrooted daemons read after chroot(2): the files Debian copies before
# every start (/etc/localtime, services, resolv.conf, hosts, nsswitch.conf,
# the NSS and resolver libraries). Debian's own script when it is there, run
# on this instance (MAIL_CONFIG: its postconf calls read CONF), else the same
# copy by hand.
_pf_chroot_setup() {
    [ "$PF_CHROOT" = n ] && return 0
    if [ -f /usr/lib/postfix/configure-instance.sh ]; then
        MAIL_CONFIG=$1 sh /usr/lib/postfix/configure-instance.sh - && return 0
        echo "pf_setup: configure-instance.sh failed" >&2
        return 1
    fi
    local f
    for f in etc/localtime etc/services etc/resolv.conf etc/hosts etc/host.conf etc/nsswitch.conf; do
        [ -f "/$f" ] || continue
        mkdir -p "$2/${f%/*}" && cp "/$f" "$2/$f" && chmod a+rX "$2/$f" || return 1
    done
}

# Chain an EXIT trap in front of the one in force (tap.sh's cleanup, which
# removes $T_DIR): stop whatever is still running first.
# shellcheck disable=SC2120 # "set --" below parses the trap, no arguments
_pf_trap_install() {
    local cur
    cur=$(trap -p EXIT)
    case $cur in *_pf_atexit*) return 0 ;; esac
    _PF_PREV_EXIT=""
    if [ -n "$cur" ]; then eval "set -- $cur"; _PF_PREV_EXIT=$3; fi
    trap _pf_atexit EXIT
    # A signal must run the EXIT trap too.
    [ -n "$(trap -p TERM)" ] || trap 'exit 143' TERM
    [ -n "$(trap -p INT)" ] || trap 'exit 130' INT
    [ -n "$(trap -p HUP)" ] || trap 'exit 129' HUP
}

_pf_atexit() {
    local rc=$?
    local n
    for n in $PF_INSTANCES; do pf_use "$n" && pf_stop quick; done
    if [ -n "${_PF_PREV_EXIT:-}" ]; then eval "$_PF_PREV_EXIT"; fi
    return $rc
}

_pf_drop_pid() {
    local p out=""
    for p in $T_PIDS; do [ "$p" = "$1" ] || out="$out $p"; done
    T_PIDS=$out
}

pf_start() {
    _pf_trap_install
    local mpid
    if mpid=$(_pf_master_pid); then echo "pf_start: $PF_NAME already runs ($mpid)" >&2; return 1; fi
    if [ ! -f "$PF_DIR/sink.pid" ] || ! kill -0 "$(cat "$PF_DIR/sink.pid")" 2>/dev/null; then
        # shellcheck disable=SC2086 # PF_SINK_OPTS: words
        python3 "$PF_SINK_PY" "$PF_SINK_PORT" --lifetime "$PF_LIFETIME" ${PF_SINK_OPTS---save "$PF_SAVE"} \
            >> "$PF_DIR/sink.log" 2>&1 < /dev/null &
        echo $! > "$PF_DIR/sink.pid"
        T_PIDS="$T_PIDS $!"
        wait_for 10 _pf_listening "$PF_SINK_PORT" ||
            { echo "pf_start: the sink did not start:" >&2; cat "$PF_DIR/sink.log" >&2; return 1; }
    fi
    "$PF_POSTFIX" -c "$PF_CONF" start > "$PF_DIR/start.out" 2>&1 < /dev/null ||
        { echo "pf_start: postfix start failed:" >&2; cat "$PF_DIR/start.out" >&2; return 1; }
    PF_RUNNING="$PF_RUNNING $PF_NAME"
    if ! wait_for 20 _pf_listening "$PF_PORT"; then
        echo "pf_start: smtpd is not listening on $PF_PORT" >&2; cat "$PF_DIR/start.out" >&2; return 1
    fi
    mpid=$(_pf_master_pid) || { echo "pf_start: no master pid" >&2; return 1; }
    echo "$mpid" > "$PF_DIR/master.pid"
    T_PIDS="$T_PIDS $mpid"
    # Watchdog: stops this instance once the test shell is gone or after
    # PF_LIFETIME seconds, whichever comes first.
    local shell_pid=$$ sink_pid
    sink_pid=$(cat "$PF_DIR/sink.pid")
    (
        trap - EXIT TERM INT HUP
        end=$((SECONDS + PF_LIFETIME))
        while kill -0 "$shell_pid" 2>/dev/null && kill -0 "$mpid" 2>/dev/null && [ $SECONDS -lt "$end" ]; do
            sleep 1
        done
        kill -TERM "$sink_pid" 2>/dev/null
        if kill -0 "$mpid" 2>/dev/null; then
            kill -TERM "$mpid" 2>/dev/null; sleep 2; kill -9 -- "-$mpid" 2>/dev/null
        fi
    ) > /dev/null 2>&1 < /dev/null &
    echo $! > "$PF_DIR/watchdog.pid"
    T_PIDS="$T_PIDS $!"
    return 0
}

# pf_stop [quick]: stop the current instance (postfix stop, bounded; then
# kill its process group), its watchdog and its sink.
pf_stop() {
    local mpid="" p i f
    [ -f "$PF_DIR/master.pid" ] && mpid=$(cat "$PF_DIR/master.pid")
    if [ -n "$mpid" ] && kill -0 "$mpid" 2>/dev/null; then
        if [ "${1:-}" = quick ]; then
            kill -TERM "$mpid" 2>/dev/null
        else
            timeout 15 "$PF_POSTFIX" -c "$PF_CONF" stop >> "$PF_DIR/start.out" 2>&1 < /dev/null
        fi
        i=0
        while kill -0 "$mpid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 -- "-$mpid" 2>/dev/null
        kill -9 "$mpid" 2>/dev/null
    fi
    [ -n "$mpid" ] && _pf_drop_pid "$mpid"
    rm -f "$PF_DIR/master.pid"
    for f in watchdog sink; do
        [ -f "$PF_DIR/$f.pid" ] || continue
        p=$(cat "$PF_DIR/$f.pid")
        kill -TERM "$p" 2>/dev/null
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
        _pf_drop_pid "$p"
        rm -f "$PF_DIR/$f.pid"
    done
    local out=""
    for p in $PF_RUNNING; do [ "$p" = "$PF_NAME" ] || out="$out $p"; done
    PF_RUNNING=$out
    return 0
}

pf_stop_all() {
    local cur=${PF_NAME:-} n
    for n in $PF_RUNNING; do pf_use "$n" && pf_stop "${1:-}"; done
    PF_RUNNING=""
    [ -n "$cur" ] && pf_use "$cur"
    return 0
}

# The SMTP client behind pf_send and pf_send_batch.
_PF_SEND_PY='
import smtplib, sys, time, os, threading, itertools, random
from email.utils import formatdate

def parse(argv):
    o = {"subject": "test message", "headers": [], "body": "This is a test message.\n",
         "batch": False, "conns": 4, "max": 3}
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "--":
        f, v = argv[i], argv[i + 1] if i + 1 < len(argv) else None
        if f == "-s": o["subject"] = v
        elif f == "-H": o["headers"].append(v)
        elif f == "-b": o["body"] = v
        elif f == "-c": o["conns"] = int(v)
        elif f == "-m": o["max"] = max(1, int(v))
        elif f == "--batch": o["batch"] = True; i -= 1
        else: sys.exit("pf_send: bad option %s" % f)
        i += 2
    if i < len(argv) and argv[i] == "--": i += 1
    return o, argv[i:]

seq = itertools.count(1)

def message(o, sender, rcpts):
    n = next(seq)
    hdr = ["From: <%s>" % (sender or "MAILER-DAEMON"), "To: %s" % ", ".join("<%s>" % r for r in rcpts),
           "Subject: %s" % o["subject"], "Date: %s" % formatdate(localtime=True),
           "Message-ID: <%d.%d.%d@client.test>" % (time.time_ns(), os.getpid(), n)]
    hdr += o["headers"]
    return ("\r\n".join(hdr) + "\r\n\r\n" + o["body"].replace("\n", "\r\n")).encode()

def send_one(s, o, sender, rcpts):
    if sender == "<>": sender = ""
    code, resp = s.mail(sender)
    if code != 250:
        s.rset(); return None, "MAIL: %d %s" % (code, resp.decode())
    ok, errs = [], []
    for r in rcpts:
        code, resp = s.rcpt(r)
        (ok if code == 250 else errs).append(r if code == 250 else "%s: %d %s" % (r, code, resp.decode()))
    if not ok:
        s.rset(); return None, "; ".join(errs)
    code, resp = s.data(message(o, sender, rcpts))
    resp = resp.decode()
    if code != 250:
        return None, "DATA: %d %s" % (code, resp)
    return resp.rsplit(" ", 1)[-1], "; ".join(errs)

def session(port):
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60)
    s.ehlo()
    return s

def main():
    port = int(sys.argv[1])
    o, args = parse(sys.argv[2:])
    if not o["batch"]:
        if len(args) < 2: sys.exit("usage: pf_send [-s SUBJ] [-H HDR]... [-b BODY] FROM RCPT...")
        s = session(port)
        qid, err = send_one(s, o, args[0], args[1:])
        s.quit()
        if err: print("pf_send: refused: %s" % err, file=sys.stderr)
        if not qid: sys.exit(1)
        print(qid); return
    jobs = [l.split() for l in sys.stdin if l.strip() and not l.startswith("#")]
    out = [None] * len(jobs)
    nxt = itertools.count()
    fails = []
    def worker():
        rnd = random.Random(threading.get_ident())
        s, left = None, 0
        while True:
            i = next(nxt)
            if i >= len(jobs): break
            if left == 0:
                if s: s.quit()
                s, left = session(port), rnd.randint(1, o["max"])
            left -= 1
            try:
                out[i], err = send_one(s, o, jobs[i][0], jobs[i][1:])
            except smtplib.SMTPServerDisconnected:
                s = session(port); out[i], err = send_one(s, o, jobs[i][0], jobs[i][1:])
            if not out[i]: fails.append(err)
        if s: s.quit()
    ts = [threading.Thread(target=worker) for _ in range(max(1, o["conns"]))]
    for t in ts: t.start()
    for t in ts: t.join()
    print("\n".join(q or "-" for q in out))
    if fails: print("pf_send_batch: %d refused, first: %s" % (len(fails), fails[0]), file=sys.stderr)
main()
'

pf_send() { python3 -c "$_PF_SEND_PY" "$PF_PORT" "$@"; }
pf_send_batch() { python3 -c "$_PF_SEND_PY" "$PF_PORT" --batch "$@"; }

# pf_sendmail [-s SUBJ] [-H HDR]... FROM RCPT...: the non-SMTP path
# (sendmail -> postdrop -> maildrop -> pickup).
pf_sendmail() {
    local subject="test message (sendmail)" headers="" opt OPTIND=1
    while getopts s:H: opt; do
        case $opt in
            s) subject=$OPTARG ;;
            H) headers="$headers$OPTARG"$'\n' ;;
            *) return 2 ;;
        esac
    done
    shift $((OPTIND - 1))
    local from=$1; shift
    printf 'From: <%s>\nTo: %s\nSubject: %s\n%s\nThis is a test message.\n' \
        "$from" "$*" "$subject" "$headers" |
        /usr/sbin/sendmail -C "$PF_CONF" -f "$from" -- "$@"
}

pf_flush() { postqueue -c "$PF_CONF" -f; }

_pf_queue_empty() {
    [ -z "$(find "$PF_QUEUE/maildrop" "$PF_QUEUE/incoming" "$PF_QUEUE/active" \
        "$PF_QUEUE/deferred" "$PF_QUEUE/hold" -type f -print -quit 2>/dev/null)" ]
}
pf_wait_queue_empty() { wait_for "$1" _pf_queue_empty; }
pf_wait_log() { wait_for "$1" grep -Eq -- "$2" "$PF_MAILLOG"; }
pf_log() { echo "$PF_MAILLOG"; }
# pf_qids ERE: queue ids (the "ID:" after the program name) of matching lines.
pf_qids() {
    grep -E -- "$1" "$PF_MAILLOG" | sed -nE 's/^.* [^ ]+\[[0-9]+\]: ([0-9A-Za-z]+): .*/\1/p' | awk '!s[$0]++'
}
