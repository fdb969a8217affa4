#!/bin/bash
# SPDX-License-Identifier: MIT
# t0410: mailhook-milter in front of a real Postfix (smtpd_milters and
# non_smtpd_milters, on a unix socket), mailhookd following the same
# Postfix's maillog. Mail comes in over SMTP and through sendmail(1), with
# control headers (X-Mailhook-Tag, X-Mailhook-Metadata), a header mapped to
# metadata (X-Campaign-ID) and RFC 2047 subjects, to recipients the sink
# answers 250, 450 and 550. Per recipient: exactly one email.sent, the
# milter's (the reader's is superseded), then the outcome events carry the
# same subject, tags, metadata and tenant; the delivered message has lost the
# control headers - and keeps them with remove_control_headers = false.
# Postfix runs chrooted as Debian ships it (tests/lib/postfix.sh), the milter
# on the documented socket inside the chroot with the documented main.cf
# lines, which leave Postfix's milter macros alone; the milter warns at
# start only when its socket is one Postfix cannot reach.
. "$(dirname "$0")/lib/tap.sh"
. "$(dirname "$0")/lib/postfix.sh"
. "$(dirname "$0")/lib/milter.sh"
plan 27
if ! why=$(mt_available); then
    skip_all "$why"
fi

SPEC=$(mt_socket_unix)
mapfile -t MCF < <(mt_main_cf "$SPEC")
pf_setup "${MCF[@]}"
CONF=$T_DIR/mailhook.conf
MSEC_LINES=('tenant = "sender_domain"' 'header_metadata = {"X-Campaign-ID=campaign_id"}')
write_conf "$CONF" "maillog \"postfix\" {
    path = \"$PF_MAILLOG\"
    start_at = \"beginning\"
}
$(mt_conf_section "$SPEC" "${MSEC_LINES[@]}" 'remove_control_headers = true')"
check "mailhook-milter -n accepts the config" "$MILTER" -n -c "$CONF"
# The documented lines change no milter_*_macros: those apply to every
# milter on the host (OpenDKIM's {daemon_addr}, {rcpt_host}...).
macros_default() {
    local p
    for p in milter_connect_macros milter_helo_macros milter_mail_macros milter_rcpt_macros \
        milter_data_macros milter_end_of_header_macros milter_end_of_data_macros; do
        [ "$(postconf -c "$PF_CONF" -xh "$p")" = "$(postconf -dh "$p")" ] ||
            { echo "$p = $(postconf -c "$PF_CONF" -xh "$p")"; return 1; }
    done
}
check "the documented main.cf lines leave Postfix's default milter macros" macros_default
check "postfix starts" pf_start
check "mailhookd starts following the maillog" start_daemon "$CONF"
check "mailhook-milter starts on $SPEC" mt_start "$CONF"
check "... and does not warn that Postfix will not reach it" \
    bash -c "! grep -q 'does not reach this milter' '$T_DIR/milter.log'"

S=sender@src.test
SUBJ_A='=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4g4pyT?='   # "Grüße aus Köln ✓"
SUBJ_B='=?ISO-8859-1?Q?Caf=E9_cr=E8me?='           # "Café crème"
QID_A=$(pf_send -s "$SUBJ_A" \
    -H 'X-Mailhook-Tag: vip' -H 'X-Mailhook-Tag: welcome, spring' \
    -H 'X-Mailhook-Metadata: {"user_id": 42, "plan": "pro"}' \
    -H 'X-Campaign-ID: cmp-2026-11' \
    $S oka@r.test defera@r.test unknowna@r.test)
check "SMTP submission accepted (queue id $QID_A)" test -n "$QID_A"
check "sendmail(1) submission accepted" pf_sendmail -s "$SUBJ_B" \
    -H 'X-Mailhook-Tag: local' -H 'X-Mailhook-Metadata: {"src": "cli"}' -H 'X-Campaign-ID: cmp-local' \
    $S okb@r.test deferb@r.test unknownb@r.test
# The deferred recipients expire after PF_QUEUE_LIFETIME s, then every
# outcome is in the log; let the reader catch up (bounded).
check "postfix finishes (deliveries, deferrals, expiry)" pf_wait_queue_empty 90
# ev_count_ge TYPE N [GREP]: at least N stored events of TYPE (matching GREP)
ev_count_ge() {
    [ "$("$MAILHOOKCTL" -c "$CONF" --json events list --type "$1" --limit 1000 | grep -c -- "${3:-\"recipient\"}")" -ge "$2" ]
}
check "the reader catches up (2 expired deferrals stored)" wait_for 20 ev_count_ge email.failed 2
# The milter's events are submitted asynchronously: all six in the store.
check "the milter's six email.sent are stored" wait_for 20 ev_count_ge email.sent 6 '"milter":true'

"$MAILHOOKCTL" -c "$CONF" --json events list --limit 100000 > "$T_DIR/events.json"
"$MAILHOOKCTL" -c "$CONF" --json status > "$T_DIR/status.json"
# Every delivered message as saved by the sink: recipient -> .eml path
python3 - "$PF_SAVE" > "$T_DIR/eml.map" <<'PY'
import json, os, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    if f.endswith(".json"):
        env = json.load(open(os.path.join(d, f)))
        for r in env.get("rcpt_to", []):
            print(r, os.path.join(d, f[:-5] + ".eml"))
PY

# The checker: one line per test point, "PASS<tab>name" or
# "FAIL<tab>name<tab>why",
# always the same names in the same order (the plan is fixed).
python3 - "$T_DIR/events.json" "$T_DIR/status.json" "$T_DIR/eml.map" "$QID_A" > "$T_DIR/verdicts" <<'PY'
import json, sys, email
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
status = json.load(open(sys.argv[2]))
eml = dict(l.split(None, 1) for l in open(sys.argv[3]).read().splitlines() if l.strip())
qid_a = sys.argv[4]
A = dict(subject="Grüße aus Köln ✓", tags={"vip", "welcome", "spring"},
         metadata={"user_id": 42, "plan": "pro", "campaign_id": "cmp-2026-11"}, tenant="src.test")
B = dict(subject="Café crème", tags={"local"},
         metadata={"src": "cli", "campaign_id": "cmp-local"}, tenant="src.test")
RCPT = {"oka@r.test": (A, "smtp"), "defera@r.test": (A, "smtp"), "unknowna@r.test": (A, "smtp"),
        "okb@r.test": (B, "sendmail"), "deferb@r.test": (B, "sendmail"), "unknownb@r.test": (B, "sendmail")}
by = {}
for e in ev:
    r = e["data"].get("recipient")
    if r in RCPT:
        by.setdefault(r, []).append(e)

def out(name, errs):
    print(("PASS\t%s" % name) if not errs else ("FAIL\t%s\t%s" % (name, "; ".join(map(str, errs[:6])))))

def meta_errs(e, want):
    d, errs = e["data"], []
    if d.get("subject") != want["subject"]: errs.append("%s subject %r" % (e["type"], d.get("subject")))
    if set(d.get("tags") or []) != want["tags"] or len(d.get("tags") or []) != len(want["tags"]):
        errs.append("%s tags %r" % (e["type"], d.get("tags")))
    if d.get("metadata") != want["metadata"]: errs.append("%s metadata %r" % (e["type"], d.get("metadata")))
    if d.get("tenant") != want["tenant"]: errs.append("%s tenant %r" % (e["type"], d.get("tenant")))
    return errs

# 1. exactly one email.sent per recipient, the milter's
errs = []
for r in RCPT:
    sent = [e for e in by.get(r, []) if e["type"] == "email.sent"]
    if len(sent) != 1 or sent[0]["data"].get("milter") is not True:
        errs.append("%s: %d email.sent, milter=%r" % (r, len(sent), [s["data"].get("milter") for s in sent]))
out("exactly one email.sent per recipient, the milter's (6)", errs)

# 2. the milter's email.sent carries what the milter saw
errs = []
for r, (want, how) in RCPT.items():
    sent = [e for e in by.get(r, []) if e["type"] == "email.sent" and e["data"].get("milter") is True]
    if not sent: errs.append(r + ": none"); continue
    d = sent[0]["data"]
    errs += [r + ": " + x for x in meta_errs(sent[0], want)]
    if d.get("from") != "sender@src.test": errs.append("%s from %r" % (r, d.get("from")))
    if not d.get("queue_id"): errs.append(r + ": no queue_id")
    if not str(d.get("message_id", "")).startswith("<"): errs.append("%s message_id %r" % (r, d.get("message_id")))
    if not isinstance(d.get("size"), int) or d["size"] <= 0: errs.append("%s size %r" % (r, d.get("size")))
    if "sender@src.test" not in str(d.get("header_from")): errs.append("%s header_from %r" % (r, d.get("header_from")))
    if r not in str(d.get("header_to")): errs.append("%s header_to %r" % (r, d.get("header_to")))
out("email.sent: subject decoded, tags, metadata, tenant, from, queue_id, message_id, size, header_from/to", errs)

errs = []
for r in ("oka@r.test", "defera@r.test", "unknowna@r.test"):
    for e in by.get(r, []):
        if e["type"] == "email.sent":
            if e["data"].get("queue_id") != qid_a: errs.append("%s queue_id %r != %s" % (r, e["data"].get("queue_id"), qid_a))
            if e["data"].get("client_addr") != "127.0.0.1": errs.append("%s client_addr %r" % (r, e["data"].get("client_addr")))
out("SMTP: the queue id is Postfix's, client_addr 127.0.0.1", errs)

errs = []
qb = {e["data"].get("queue_id") for r in ("okb@r.test", "deferb@r.test", "unknownb@r.test") for e in by.get(r, [])}
if len(qb) != 1: errs.append("queue ids of the sendmail message: %r" % qb)
out("sendmail(1): milter and reader agree on one queue id", errs)

# 3. outcomes carry the record
FATE = {"ok": ["email.delivered"], "defer": ["email.deferred", "email.failed"], "unknown": ["email.bounced"]}
for kind, types in FATE.items():
    errs = []
    for r, (want, how) in RCPT.items():
        if not r.startswith(kind): continue
        sent = [e for e in by.get(r, []) if e["type"] == "email.sent"]
        for t in types:
            got = [e for e in by.get(r, []) if e["type"] == t]
            if not got: errs.append("%s: no %s" % (r, t)); continue
            for e in got:
                errs += [r + ": " + x for x in meta_errs(e, want)]
                if sent and e["data"].get("queue_id") != sent[0]["data"].get("queue_id"):
                    errs.append("%s: %s queue_id differs" % (r, t))
                # the maillog's times have whole seconds (traditional
                # syslog format); the milter's email.sent has milliseconds
                if sent and e["timestamp"][:19] < sent[0]["timestamp"][:19]:
                    errs.append("%s: %s before email.sent" % (r, t))
    out("%s recipients: %s enriched with subject, tags, metadata, tenant" % (kind, " + ".join(types)), errs)

# 4. the reader's email.sent were superseded, not stored
# (When Postfix logged a message before the milter's record was stored, the
# reader held that message's events and the milter's record released them:
# its email.sent is then dropped from the hold and counted as held, not
# superseded. Which path each message takes depends on the load.)
c = status.get("counters", {})
sup, held = c.get("superseded", 0), c.get("held", 0)
out("status: the reader's 6 email.sent counted as superseded (or held, then dropped)",
    [] if sup == 6 or (sup < 6 and held >= 6 - sup) else ["superseded = %r, held = %r" % (sup, held)])

# 5. control headers removed from what was delivered
for r in ("oka@r.test", "okb@r.test"):
    errs = []
    if r not in eml:
        errs.append("no saved message")
    else:
        m = email.message_from_binary_file(open(eml[r], "rb"))
        for h in ("X-Mailhook-Tag", "X-Mailhook-Metadata"):
            if m.get_all(h): errs.append("%s still there: %r" % (h, m.get_all(h)))
        if not m.get("X-Campaign-ID"): errs.append("X-Campaign-ID was removed")
        if not m.get("Subject"): errs.append("Subject was removed")
    out("%s: delivered without X-Mailhook-Tag/-Metadata, other headers kept" % r, errs)
PY
while IFS=$'\t' read -r verdict name why; do
    if [ "$verdict" = PASS ]; then ok "$name"; else not_ok "$name"; echo "$why" | diag; fi
done < "$T_DIR/verdicts"
# 10 verdict lines expected; a checker crash would leave fewer
check "the checker gave all its verdicts" test "$(wc -l < "$T_DIR/verdicts")" -eq 10

# remove_control_headers = false: the milter again, headers kept.
mt_stop
write_conf "$CONF.keep" "maillog \"postfix\" {
    path = \"$PF_MAILLOG\"
    start_at = \"beginning\"
}
$(mt_conf_section "$SPEC" "${MSEC_LINES[@]}" 'remove_control_headers = false')"
mt_start "$CONF.keep" || echo "# the milter did not start again"
pf_send -s "keep" -H 'X-Mailhook-Tag: kept' -H 'X-Mailhook-Metadata: {"k": 1}' $S okkeep@r.test > /dev/null
saved_keep() { grep -l '"okkeep@r.test"' "$PF_SAVE"/*.json 2>/dev/null | head -1; }
check "remove_control_headers = false: the message is delivered" wait_for 30 saved_keep
f=$(saved_keep); f=${f%.json}.eml
check "remove_control_headers = false: X-Mailhook-Tag and -Metadata kept" \
    bash -c "grep -qi '^X-Mailhook-Tag: kept' '$f' && grep -qi '^X-Mailhook-Metadata: {\"k\": 1}' '$f'"
check "... and the events still carry the tags" wait_for 20 bash -c \
    "'$MAILHOOKCTL' -c '$CONF' --json events list --type email.delivered --limit 1000 | grep okkeep@r.test | grep -q '\"tags\":\\[\"kept\"\\]'"

mt_stop
# The old default: a socket outside the chroot (/run/mailhook/...), named so
# in main.cf: Postfix's chrooted smtpd and cleanup look for it inside the
# queue directory. The milter says so at start.
OUT=$(mt_socket_outside)
postconf -c "$PF_CONF" -e "smtpd_milters = $OUT"
write_conf "$CONF.out" "$(mt_conf_section "$OUT")"
mt_start "$CONF.out" || echo "# the milter did not start on $OUT"
warned_outside() {
    grep "smtpd runs chrooted in $PF_QUEUE" "$T_DIR/milter.log" | grep -q 'does not reach this milter' &&
        grep "cleanup runs chrooted in $PF_QUEUE" "$T_DIR/milter.log" | grep -q 'does not reach this milter'
}
# The check runs after the socket listens: wait for it (bounded).
check "a socket outside the chroot: the milter warns at start that smtpd and cleanup do not reach it" \
    wait_for 20 warned_outside
mt_stop
stop_daemon
pf_stop
check "no sanitizer report in the milter's log" bash -c \
    "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$T_DIR/milter.log'"
[ "$T_FAILED" -eq 0 ] || { echo "# milter log:"; tail -30 "$T_DIR/milter.log" | diag; }
done_testing
