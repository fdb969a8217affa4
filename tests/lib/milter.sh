# SPDX-License-Identifier: MIT
# tests/lib/milter.sh - mailhook-milter in front of a private Postfix
# (tests/lib/postfix.sh) for the scenario tests and the milter bench.
#
# Source it after tests/lib/tap.sh and tests/lib/postfix.sh (outside TAP:
# set T_DIR, T_PIDS and MILTER first).
#
#   mt_available                 exit 0 when Postfix (pf_available) and the
#                                built milter are here; otherwise prints
#                                the reason (for SKIP)
#   mt_socket_unix [NAME]        prints the unix socket spec of the
#                                documented setup for instance NAME (default
#                                main; set up or not yet): inside its queue
#                                directory, Postfix's chroot
#                                ("unix:$PF_ROOT/main/queue/mailhook/milter.sock";
#                                the milter makes the directory)
#   mt_socket_outside            prints a unix socket spec outside every
#                                chroot ("unix:$T_DIR/msock/milter.sock"):
#                                chrooted daemons never reach it
#   mt_socket_inet               prints "inet:PORT@127.0.0.1" on a free port
#   mt_main_cf SPEC [TIMEOUT]    prints the main.cf lines (for pf_setup) that
#                                put the milter at SPEC (libmilter's form,
#                                as in mailhook.conf; written in Postfix's
#                                form, a socket in the queue directory
#                                relative to it: unix:mailhook/milter.sock)
#                                in front of smtpd and
#                                of sendmail(1)/pickup and accept mail when it
#                                fails, exactly as mailhook-milter(8) says
#                                (its POSTFIX section: no milter_*_macros,
#                                Postfix's defaults and the milter's own
#                                macro requests suffice), and bound the
#                                milter timeouts to TIMEOUT (default 10s)
#   mt_conf_section SPEC [LINE]...  prints a milter { } section for
#                                mailhook.conf: socket SPEC plus LINEs
#   mt_start CONF                start mailhook-milter -f -c CONF (log in
#                                $T_DIR/milter.log, pid in MILTER_PID;
#                                MAIL_CONFIG=$PF_CONF, so that its start-up
#                                check reads the current instance); waits
#                                (bounded) until its socket listens and lets
#                                Postfix's daemons (user postfix) reach it
#   mt_stop                      SIGTERM, bounded wait, then SIGKILL
#
# Every milter started is in T_PIDS, so tap.sh's cleanup kills it if the
# test dies; it is also bounded by a watchdog (PF_LIFETIME seconds or the
# test shell gone).
: "${T_DIR:?milter.sh: set T_DIR (or source tests/lib/tap.sh first)}"
: "${MILTER:=${top_builddir:-.}/src/milter/mailhook-milter}"
MILTER_PID=""
MT_WATCHDOG=""
MT_SPEC=""

mt_available() {
    pf_available || return 1
    [ -x "$MILTER" ] || { echo "no $MILTER (built without libmilter?)"; return 1; }
}

mt_socket_unix() { echo "unix:$PF_ROOT/${1:-main}/queue/mailhook/milter.sock"; }
mt_socket_outside() {
    mkdir -p "$T_DIR/msock" && chmod 755 "$T_DIR/msock" && echo "unix:$T_DIR/msock/milter.sock"
}
mt_socket_inet() { echo "inet:$(_pf_free_ports 1)@127.0.0.1"; }

# _mt_postfix_spec SPEC: libmilter's "inet:PORT@HOST" is Postfix's
# "inet:HOST:PORT" (Postfix reads the former as a bad port); a unix socket
# in an instance's queue directory is named relative to it, as the
# documentation says (chrooted or not, Postfix's daemons work in the queue
# directory); other unix: as is.
_mt_postfix_spec() {
    case $1 in
        inet:*@*) local p=${1#inet:}; echo "inet:${p#*@}:${p%@*}" ;;
        unix:"$PF_ROOT"/*/queue/*) local p=${1#unix:"$PF_ROOT"/}; echo "unix:${p#*/queue/}" ;;
        *) echo "$1" ;;
    esac
}

mt_main_cf() {
    local spec t=${2:-10s}
    spec=$(_mt_postfix_spec "$1")
    printf '%s\n' \
        "smtpd_milters = $spec" \
        "non_smtpd_milters = \$smtpd_milters" \
        "milter_default_action = accept" \
        "milter_protocol = 6" \
        "milter_connect_timeout = $t" \
        "milter_command_timeout = $t" \
        "milter_content_timeout = $t"
}

mt_conf_section() {
    local spec=$1; shift
    printf 'milter {\n    socket = "%s"\n' "$spec"
    local l
    for l in "$@"; do printf '    %s\n' "$l"; done
    printf '}\n'
}

# _mt_spec_of CONF: the socket spec of CONF's milter section
_mt_spec_of() { sed -n 's/^[[:space:]]*socket[[:space:]]*=[[:space:]]*"\(\(unix\|inet\|local\):[^"]*\)".*/\1/p' "$1" | tail -1; }

_mt_ready() {
    case $MT_SPEC in
        unix:*|local:*) [ -S "${MT_SPEC#*:}" ] ;;
        inet:*) local p=${MT_SPEC#inet:}; _pf_listening "${p%@*}" ;;
        *) return 1 ;;
    esac
}

mt_start() {
    MT_SPEC=$(_mt_spec_of "$1")
    [ -n "$MT_SPEC" ] || { echo "mt_start: no milter socket in $1" >&2; return 1; }
    case $MT_SPEC in unix:*|local:*) rm -f "${MT_SPEC#*:}" ;; esac
    MAIL_CONFIG=${PF_CONF:-/etc/postfix} "$MILTER" -f -c "$1" >> "$T_DIR/milter.log" 2>&1 < /dev/null &
    MILTER_PID=$!
    T_PIDS="$T_PIDS $MILTER_PID"
    local shell_pid=$$ mpid=$MILTER_PID
    (
        trap - EXIT TERM INT HUP
        end=$((SECONDS + ${PF_LIFETIME:-600}))
        while kill -0 "$shell_pid" 2>/dev/null && kill -0 "$mpid" 2>/dev/null && [ $SECONDS -lt "$end" ]; do
            sleep 1
        done
        kill -CONT "$mpid" 2>/dev/null; kill -9 "$mpid" 2>/dev/null
    ) > /dev/null 2>&1 < /dev/null &
    MT_WATCHDOG=$!
    T_PIDS="$T_PIDS $!"
    if ! wait_for 20 _mt_ready; then
        echo "mt_start: the milter does not listen on $MT_SPEC:" >&2
        tail -20 "$T_DIR/milter.log" >&2
        return 1
    fi
    # Postfix's smtpd and cleanup run as "postfix": let them connect.
    case $MT_SPEC in unix:*|local:*) chmod 666 "${MT_SPEC#*:}" ;; esac
    kill -0 "$MILTER_PID"
}

mt_stop() {
    [ -n "$MILTER_PID" ] || return 0
    kill -CONT "$MILTER_PID" 2>/dev/null
    kill -TERM "$MILTER_PID" 2>/dev/null
    local i=0
    while kill -0 "$MILTER_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$MILTER_PID" 2>/dev/null
    wait "$MILTER_PID" 2>/dev/null
    local rc=$?
    MILTER_PID=""
    if [ -n "${MT_WATCHDOG:-}" ]; then
        { kill "$MT_WATCHDOG"; wait "$MT_WATCHDOG"; } 2>/dev/null
        MT_WATCHDOG=""
    fi
    return $rc
}
