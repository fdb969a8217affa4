#!/bin/bash
# SPDX-License-Identifier: MIT
# t0430: the milter and the log reader race for the same message, in a
# fixed order every time. A real Postfix with mailhook-milter (unix socket)
# and mailhookd following its maillog. The milter runs with the test-only
# MAILHOOK_MILTER_TEST_GATE (milter_submit.h): its submitter holds what it
# takes until the gate file exists, so the test decides when mailhookd gets
# the milter's email.sent.
#   1) mailhookd stopped, mail accepted (the milter spools its events,
#      behind 2000 files other producers left), delivered, bounced and
#      expired; mailhookd started (milter_wait = 0: no holding): the spool
#      is drained before the reader emits, so every event is enriched and
#      each recipient has exactly one email.sent, the milter's.
#   2) the milter's submission held past the delivery (gate closed), with
#      milter_wait = 300: the reader holds the message's events, stores
#      none of them, not even after a kill -9 and a restart; gate opened:
#      they go out enriched, one email.sent each.
#   3) the same with milter_wait = 1: the events go out unenriched after
#      the wait and are counted; the milter's email.sent that arrives after
#      is dropped (still one per recipient), and its record enriches the
#      message's later events.
# In every phase no outcome is timestamped before its email.sent.
. "$(dirname "$0")/lib/tap.sh"
PF_QUEUE_LIFETIME=20 # phase 3 opens the gate well before the deferral expires
. "$(dirname "$0")/lib/postfix.sh"
. "$(dirname "$0")/lib/milter.sh"
plan 28
if ! why=$(mt_available); then
    skip_all "$why"
fi

SPEC=$(mt_socket_unix)
mapfile -t MCF < <(mt_main_cf "$SPEC")
pf_setup "${MCF[@]}"
GATE=$T_DIR/milter-gate
CONF=$T_DIR/mailhook.conf
# conf_with WAIT: mailhook.conf with maillog.milter_wait = WAIT
conf_with() {
    write_conf "$CONF" "maillog \"postfix\" {
    path = \"$PF_MAILLOG\"
    start_at = \"beginning\"
    milter_wait = $1
}
$(mt_conf_section "$SPEC" 'tenant = "sender_domain"' 'header_metadata = {"X-Campaign-ID=campaign_id"}')"
}
conf_with 300
check "postfix starts" pf_start
check "mailhookd starts" start_daemon "$CONF"
touch "$GATE"
export MAILHOOK_MILTER_TEST_GATE=$GATE
check "mailhook-milter starts (test gate $GATE)" mt_start "$CONF"
unset MAILHOOK_MILTER_TEST_GATE

S=sender@src.test
# send TAG RCPT...: one message over SMTP, tagged TAG, subject "race TAG";
# prints its queue id
send() {
    local tag=$1; shift
    pf_send -s "race $tag" -H "X-Mailhook-Tag: $tag" -H "X-Mailhook-Metadata: {\"phase\": \"$tag\"}" \
        -H "X-Campaign-ID: cmp-$tag" $S "$@"
}
events() { "$MAILHOOKCTL" -c "$CONF" --json events list --limit 100000; }
# stored_ge N ERE: at least N stored events whose JSON matches ERE
stored_ge() { [ "$(events | grep -cE -- "$2")" -ge "$1" ]; }
counter() { "$MAILHOOKCTL" -c "$CONF" --json status | python3 -c \
    "import json,sys; print(json.load(sys.stdin)['counters'].get('$1', -1))"; }
counter_ge() { [ "$(counter "$1")" -ge "$2" ]; }
removed() { grep -qE "postfix/qmgr\[[0-9]+\]: $1: removed" "$PF_MAILLOG"; }
spooled() { [ -n "$(find "$T_DIR/spool/new" -type f -print -quit 2>/dev/null)" ]; }
not_spooled() { ! spooled; }

# verify QID TAG SOURCE RCPT:TYPES...: the checker (below) on the stored
# events of queue id QID. SOURCE: whose email.sent must be the one stored
# (milter|reader); each TYPES is "+"-separated outcome types that
# recipient must have; ENRICHED: every event of the message carries the
# tag's subject, tags, metadata and tenant (else: the ones after the
# milter's record came, as the checker says).
verify() {
    events > "$T_DIR/events.json"
    python3 - "$T_DIR/events.json" "$@" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
qid, tag, source, mode = sys.argv[2:6]
want = {r.split(":")[0]: r.split(":")[1].split("+") for r in sys.argv[6:]}
mine = [e for e in ev if e["data"].get("queue_id") == qid]
errs = []
def enriched(e):
    d = e["data"]
    return (d.get("subject") == "race " + tag and d.get("tags") == [tag]
            and d.get("metadata") == {"phase": tag, "campaign_id": "cmp-" + tag}
            and d.get("tenant") == "src.test")
for r, types in want.items():
    es = [e for e in mine if e["data"].get("recipient") == r]
    sent = [e for e in es if e["type"] == "email.sent"]
    if len(sent) != 1:
        errs.append("%s: %d email.sent" % (r, len(sent))); continue
    s = sent[0]
    if (s["data"].get("milter") is True) != (source == "milter"):
        errs.append("%s: email.sent milter=%r, want %s's" % (r, s["data"].get("milter"), source))
    for t in types:
        got = [e for e in es if e["type"] == t]
        if not got: errs.append("%s: no %s" % (r, t))
    for e in es:
        if e["type"] != "email.sent" and e["timestamp"] < s["timestamp"]:
            errs.append("%s: %s at %s before email.sent at %s" % (r, e["type"], e["timestamp"], s["timestamp"]))
        if mode == "enriched" and not enriched(e):
            errs.append("%s: %s not enriched: %r" % (r, e["type"], {k: e["data"].get(k) for k in ("subject", "tags", "metadata", "tenant")}))
        if mode == "unenriched-then-enriched" and e["type"] == "email.failed" and not enriched(e):
            errs.append("%s: %s (after the milter's record) not enriched" % (r, e["type"]))
        if mode == "unenriched-then-enriched" and e["type"] in ("email.sent", "email.delivered") and e["data"].get("subject"):
            errs.append("%s: %s enriched, but it went out before the record" % (r, e["type"]))
print("\n".join(errs))
sys.exit(1 if errs else 0)
PY
}

# ---- 0) warm-up: the milter is seen (holding starts only then)
QW=$(send warm okw@r.test)
check "warm-up: the milter's email.sent is stored" wait_for 30 stored_ge 1 '"okw@r.test".*"milter":true'

# ---- 1) mailhookd stopped; the milter spools; mailhookd started, with
# milter_wait = 0: no holding, the order comes from the start alone
stop_daemon
conf_with 0
QA=$(send one oka@r.test unknowna@r.test defera@r.test)
check "1) mailhookd down: the milter spools the message's events" wait_for 20 spooled
# 2000 files of other producers, older by name (spool.h: sec.usec...), so
# the milter's file is not in the first drain jobs.
python3 - "$T_DIR/spool/new" <<'PY'
import os, random, sys
A = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
for i in range(2000):
    eid = "evt_01" + "".join(random.choice(A) for _ in range(24))
    name = "1000000000.%06d.1.%016x.filler" % (i, i)
    with open(os.path.join(sys.argv[1], name), "w") as f:
        f.write('{"id":"%s","type":"test.filler","timestamp":"2026-01-01T00:00:00.000Z","data":{"n":%d}}\n' % (eid, i))
PY
check "1) Postfix delivers, bounces and expires it (queue id $QA)" wait_for 90 removed "$QA"
check "1) mailhookd starts again" start_daemon "$CONF"
check "1) the outcomes are stored" wait_for 30 stored_ge 1 "\"queue_id\":\"$QA\".*\"type\":\"email.failed\"|\"type\":\"email.failed\".*\"queue_id\":\"$QA\""
check "1) the spool is drained" wait_for 20 not_spooled
check "1) one email.sent per recipient (the milter's), every event enriched, none before it" \
    verify "$QA" one milter enriched oka@r.test:email.delivered unknowna@r.test:email.bounced \
    defera@r.test:email.deferred+email.failed

# ---- 2) the milter's submission held past the delivery, milter_wait = 300
stop_daemon
conf_with 300
check "2) mailhookd starts with milter_wait = 300" start_daemon "$CONF"
rm -f "$GATE"
held0=$(counter held)
QB=$(send two okb@r.test unknownb@r.test)
check "2) Postfix delivers and bounces it (queue id $QB)" wait_for 60 removed "$QB"
# reader's email.sent x2, delivered, bounced
check "2) the reader holds its 4 events" wait_for 30 counter_ge held $((held0 + 4))
check "2) ... and stores none of them" bash -c "! '$MAILHOOKCTL' -c '$CONF' --json events list --limit 100000 | grep -q '\"queue_id\":\"$QB\"'"
# a crash while they are held loses and repeats nothing
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
check "2) kill -9 while they are held; mailhookd starts again" start_daemon "$CONF"
check "2) ... still none of them stored" bash -c "! '$MAILHOOKCTL' -c '$CONF' --json events list --limit 100000 | grep -q '\"queue_id\":\"$QB\"'"
touch "$GATE"
check "2) gate opened: the milter's email.sent are stored" wait_for 30 stored_ge 2 "\"queue_id\":\"$QB\".*\"milter\":true|\"milter\":true.*\"queue_id\":\"$QB\""
check "2) the held events follow" wait_for 30 stored_ge 1 "\"queue_id\":\"$QB\".*\"type\":\"email.bounced\"|\"type\":\"email.bounced\".*\"queue_id\":\"$QB\""
check "2) one email.sent per recipient (the milter's), every event enriched, none before it" \
    verify "$QB" two milter enriched okb@r.test:email.delivered unknownb@r.test:email.bounced
check "2) nothing went out unenriched" test "$(counter unenriched)" -eq 0

# ---- 3) the same with milter_wait = 1: the wait is exceeded
stop_daemon
conf_with 1
check "3) mailhookd starts with milter_wait = 1" start_daemon "$CONF"
rm -f "$GATE"
sup0=$(counter superseded)
QC=$(send three okc@r.test deferc@r.test)
check "3) after the wait, the reader's events go out unenriched (counted)" \
    wait_for 30 counter_ge unenriched 2
# the reader's email.sent of both recipients stored before the milter's come
check "3) ... its email.sent of both recipients among them" wait_for 30 bash -c \
    "[ \$('$MAILHOOKCTL' -c '$CONF' --json events list --type email.sent --limit 100000 | grep '\"queue_id\":\"$QC\"' | grep -vc '\"milter\":true') -eq 2 ]"
touch "$GATE"
check "3) gate opened: the milter's 2 late email.sent are dropped" wait_for 30 counter_ge superseded $((sup0 + 2))
check "3) the deferral expires (queue id $QC)" wait_for 60 removed "$QC"
check "3) its email.failed is stored" wait_for 30 stored_ge 1 "\"queue_id\":\"$QC\".*\"type\":\"email.failed\"|\"type\":\"email.failed\".*\"queue_id\":\"$QC\""
check "3) one email.sent per recipient (the reader's); the expiry, after the record, enriched" \
    verify "$QC" three reader unenriched-then-enriched okc@r.test:email.delivered \
    deferc@r.test:email.deferred+email.failed

mt_stop
stop_daemon
pf_stop
check "no sanitizer report in the milter's log" bash -c \
    "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$T_DIR/milter.log'"
[ "$T_FAILED" -eq 0 ] || { echo "# daemon log:"; tail -30 "$T_DIR/daemon.log" | diag; }
done_testing
