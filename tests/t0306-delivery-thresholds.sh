#!/bin/bash
# SPDX-License-Identifier: MIT
# t0306: per-endpoint health thresholds against a real HTTPS receiver on
# 127.0.0.1 that always answers 500 (retry schedules in milliseconds via
# delivery_time_scale). The daemon's own thresholds are
# endpoint_disable_failures = 6 and the built-in failing after 3:
#   own    declared in mailhook.conf with failing_after = 2 and
#          disable_after_failures = 4: failing at the 2nd failure, disabled
#          at the 4th, called 4 times
#   glob   added with mailhookctl, no thresholds of its own: failing at the
#          3rd, disabled at the 6th (the global option), called 6 times
#   never  --disable-after-failures 0 overrides the global 6: still failing
#          after its whole schedule (9 attempts), never disabled
#   hours  --disable-after 1 (one scaled hour, 3.6 s) with
#          --disable-after-failures 0: disabled for the time it failed
# The admin's mail (notify_email, through a sendmail stand-in that keeps
# it): one "failing" mail per endpoint when it becomes failing, saying at
# which failure, not one per failure; one "disabled" mail when disabled.
# shellcheck source=SCRIPTDIR/lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
# shellcheck source=SCRIPTDIR/lib/receiver.sh
. "$(dirname "$0")/lib/receiver.sh"

if ! why=$(have_node); then echo "1..0 # SKIP $why"; exit 0; fi
plan 18
CONF=$T_DIR/mailhook.conf
start_receiver r --tls >/dev/null || { echo "Bail out! receiver"; exit 1; }
URL=$RECV_R_URL
cat > "$T_DIR/sendmail" <<EOF
#!/bin/sh
cat > "$T_DIR/mail.\$\$.tmp" && mv "$T_DIR/mail.\$\$.tmp" "$T_DIR/mail.\$\$"
EOF
chmod +x "$T_DIR/sendmail"
write_conf "$CONF" "delivery_ca_file = \"$T_DIR/ca/ca.pem\"
delivery_allow = {\"127.0.0.0/8\"}
delivery_time_scale = 1000
endpoint_disable_failures = 6
notify_email = \"hostmaster@example.org\"
sendmail_path = \"$T_DIR/sendmail\"
endpoint \"own\" {
    url = \"$URL/status/500/own\"
    types = {\"t.own\"}
    retry = {\"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\", \"1s\"}
    failing_after = 2
    disable_after_failures = 4
}"
ctl() { "$MAILHOOKCTL" -c "$CONF" "$@"; }
add() { local n=$1; shift; ctl endpoint add "$n" "$URL/status/500/$n" --type "t.$n" "$@" >/dev/null; }
# field NAME KEY: a key of endpoint show --json, "health.KEY" for its health
field() { ctl --json endpoint show "$1" | python3 -c 'import json,sys; e=json.load(sys.stdin); e=e.get("endpoint",e)
k=sys.argv[1]; v=e["health"][k[7:]] if k.startswith("health.") else e[k]; print(str(v).lower())' "$2"; }
state() { if [ "$(field "$1" enabled)" = false ]; then echo disabled; else field "$1" health.state; fi; }
# mails KIND NAME: the number of KIND ("failing", "disabled") mails about NAME
mails() { grep -l "^Subject: \[mailhook\] webhook endpoint $1\$" "$T_DIR"/mail.[0-9]* 2>/dev/null |
    xargs -r grep -l "endpoint \"$2\"" | wc -l; }
export CONF MAILHOOKCTL T_DIR
export -f ctl field state mails

check "daemon starts" start_daemon "$CONF"
SCHED=1s,1s,1s,1s,1s,1s,1s,1s
check "endpoints with and without thresholds of their own are added" bash -c "
    $(declare -f add); URL='$URL'
    add glob --retry $SCHED && add never --retry $SCHED --disable-after-failures 0 &&
    add hours --retry 600s,600s,600s,600s,600s,600s,600s,600s,600s,600s \
        --disable-after 1 --disable-after-failures 0"
check "show gives the thresholds: own 2/4, glob 3/-1, never 3/0" bash -c "
    [ \"\$(field own failing_after) \$(field own disable_after_failures)\" = '2 4' ] &&
    [ \"\$(field glob failing_after) \$(field glob disable_after_failures)\" = '3 -1' ] &&
    [ \"\$(field never disable_after_failures) \$(field hours disable_after)\" = '0 1' ]"

for n in own glob never hours; do ctl emit "t.$n" '{}' >/dev/null; done

wait_for 30 bash -c "[ \"\$(state own)\" = disabled ] && [ \"\$(state glob)\" = disabled ]"
check "own is disabled after its own 4 consecutive failures" bash -c "
    [ \"\$(state own)\" = disabled ] && [ \"\$(field own health.consecutive_failures)\" = 4 ] &&
    field own health.disabled_reason | grep -q '^4 consecutive failures'"
check "glob is disabled after the global 6" bash -c "
    [ \"\$(state glob)\" = disabled ] && [ \"\$(field glob health.consecutive_failures)\" = 6 ] &&
    field glob health.disabled_reason | grep -q '^6 consecutive failures'"
wait_for 30 bash -c "[ \$(receiver_count r /status/500/never) -ge 9 ]"
sleep 0.5 # any request a disabled endpoint would still make
check "the receiver was called 4 times for own, 6 for glob" bash -c "
    [ \$(receiver_count r /status/500/own) -eq 4 ] && [ \$(receiver_count r /status/500/glob) -eq 6 ]"
check "never: its whole schedule (9 attempts), still failing, not disabled" bash -c "
    [ \$(receiver_count r /status/500/never) -eq 9 ] && [ \"\$(state never)\" = failing ] &&
    [ \"\$(field never health.consecutive_failures)\" = 9 ]"
check "hours is disabled by its own disable_after (1 h, scaled)" wait_for 30 bash -c "
    [ \"\$(state hours)\" = disabled ] && field hours health.disabled_reason | grep -q '^failing for 1 hours'"
check "... after failing that long, not after a number of failures" bash -c "
    n=\$(field hours health.consecutive_failures); [ \"\$n\" -ge 2 ] && [ \"\$n\" -le 10 ]"

# The mails: once per transition, however many failures there were.
wait_for 10 bash -c "[ \$(mails disabled hours) -ge 1 ] && [ \$(mails failing hours) -ge 1 ]"
check "one failing mail for own, at its 2nd failure" bash -c "
    [ \$(mails failing own) -eq 1 ] &&
    grep -l 'endpoint \"own\"' \$T_DIR/mail.[0-9]* | xargs grep -l 'webhook endpoint failing' |
        xargs grep -q 'is failing: 2 consecutive failed attempts'"
check "one failing mail for glob, at the 3rd" bash -c "
    [ \$(mails failing glob) -eq 1 ] &&
    grep -l 'endpoint \"glob\"' \$T_DIR/mail.[0-9]* | xargs grep -l 'webhook endpoint failing' |
        xargs grep -q 'is failing: 3 consecutive failed attempts'"
check "one failing mail for never, after 9 failures" bash -c "[ \$(mails failing never) -eq 1 ]"
check "one disabled mail each for own, glob and hours, none for never" bash -c "
    [ \$(mails disabled own) -eq 1 ] && [ \$(mails disabled glob) -eq 1 ] &&
    [ \$(mails disabled hours) -eq 1 ] && [ \$(mails disabled never) -eq 0 ]"
check "the mails go to notify_email" bash -c "
    for f in \$T_DIR/mail.[0-9]*; do grep -q '^To: hostmaster@example.org$' \$f || exit 1; done"
check "the log says each became failing once" bash -c "
    for n in own glob never hours; do
        [ \$(grep -c \"endpoint \$n is failing\" \$T_DIR/daemon.log) -eq 1 ] || exit 1
    done"

# Recovering and failing again is a new transition: a new mail.
ctl endpoint update never --url "$URL/ok/never" >/dev/null
ctl emit t.never '{}' >/dev/null
check "a success: never is healthy again" wait_for 30 bash -c "[ \"\$(state never)\" = healthy ]"
ctl endpoint update never --url "$URL/status/500/again" --failing-after 2 >/dev/null
ctl emit t.never '{}' >/dev/null
wait_for 30 bash -c "[ \$(receiver_count r /status/500/again) -ge 9 ]"
check "failing again is mailed once more, once for the whole run" wait_for 10 bash -c "
    [ \$(mails failing never) -eq 2 ] && [ \"\$(state never)\" = failing ] &&
    grep -l 'endpoint \"never\"' \$T_DIR/mail.[0-9]* | xargs grep -l 'webhook endpoint failing' |
        xargs grep -q 'is failing: 2 consecutive failed attempts'"
check "daemon stops cleanly" stop_daemon
done_testing
