# SPDX-License-Identifier: MIT
# mailgun.jq - the "mailgun" payload format: each event as a Mailgun
# webhook sends it (Mailgun's "Webhooks" user manual,
# documentation.mailgun.com/docs/mailgun/user-manual/webhooks/: {signature,
# event-data}), one event per request. This program makes {"event-data":
# ...}; the engine's mailgun scheme adds the "signature" member ({timestamp,
# token, signature}: the hex HMAC-SHA256 of timestamp + token under the
# endpoint's secret, the signing key). mailhook.conf(5), "Payload formats",
# has the table.
#
# Input: the stored event and $meta.time_ms. Mapping (event-data.*):
#   event          email.sent: accepted; email.delivered: delivered;
#                  email.deferred: failed, severity temporary; email.bounced
#                  and email.failed: failed, severity permanent (reason
#                  "bounce", "generic"); email.opened: opened;
#                  email.clicked: clicked; email.complained: complained;
#                  email.unsubscribed: unsubscribed
#   id             the event's id
#   timestamp      $meta.time_ms / 1000 (a number with a fraction, as Mailgun's)
#   log-level      info; warn for a temporary failure and a complaint; error
#                  for a permanent failure
#   recipient, recipient-domain    recipient, its domain
#   envelope       {sender: from, targets: recipient}
#   message        {headers: {message-id (without <>), from, to (the
#                  recipient), subject}, size}
#   delivery-status   delivered and failed: {code (the SMTP reply code, an
#                  integer), message (the reply without its code),
#                  description (data.reason), attempt-no (attempt), mx-host
#                  (the relay's host name)}
#   severity, reason   failed (above)
#   tags           tags ([] if none); user-variables: metadata ({} if none);
#                  campaigns: []
#   ip, url, client-info.user-agent   opened, clicked: ip, url, user_agent
# An application's own types are skipped. Members we do not know are left
# out (never null).

def nonnull: delpaths([path(.[] | select(. == null))]);
def unbracket: if type == "string" then ltrimstr("<") | rtrimstr(">") | (if . == "" then null else . end) else null end;
# One decimal digit (a string of length 1); cheaper in jq 1.6 than explode.
def digit: length == 1 and . >= "0" and . <= "9";
# The 3-digit SMTP reply code a text starts with ("550 ..."), else null.
def reply_code: if type == "string" and (.[0:1] | . == "2" or . == "4" or . == "5")
        and (.[1:2] | digit) and (.[2:3] | digit) and (length == 3 or .[3:4] == " " or .[3:4] == "-")
    then .[0:3] else null end;

.type as $t
| (.data // {}) as $d
| {
    "email.sent": "accepted", "email.delivered": "delivered", "email.deferred": "failed",
    "email.bounced": "failed", "email.failed": "failed", "email.opened": "opened",
    "email.clicked": "clicked", "email.complained": "complained",
    "email.unsubscribed": "unsubscribed"
  }[$t] as $ev
| if $ev == null then empty
  else ($d.smtp_response // null) as $sr
  | ($sr | reply_code) as $code
  | (if $code then {code: ($code | tonumber), message: $sr[4:]}
     else {code: null, message: $sr} end) as $reply
  | (if $t == "email.deferred" then "temporary" elif $ev == "failed" then "permanent" else null end) as $sev
  | {
    "event-data": ({
        event: $ev,
        id,
        timestamp: (if $meta.time_ms == null then null else $meta.time_ms / 1000 end),
        "log-level": (if $sev == "permanent" then "error"
                      elif $sev == "temporary" or $ev == "complained" then "warn"
                      else "info" end),
        severity: $sev,
        reason: (if $t == "email.bounced" then "bounce" elif $t == "email.failed" then "generic" else null end),
        recipient: $d.recipient,
        "recipient-domain": ($d.recipient | if type == "string" and index("@") then split("@")[-1] else null end),
        envelope: ({sender: $d.from, targets: $d.recipient} | nonnull),
        message: ({
            headers: ({
                "message-id": ($d.message_id | unbracket),
                from: $d.from,
                to: $d.recipient,
                subject: $d.subject
            } | nonnull),
            size: $d.size
        } | nonnull),
        "delivery-status": (if $ev == "delivered" or $ev == "failed" then ({
                code: $reply.code,
                message: $reply.message,
                description: $d.reason,
                "attempt-no": $d.attempt,
                "mx-host": ($d.relay | if type == "string" then split("[")[0] else null end)
            } | nonnull) else null end),
        tags: ($d.tags // []),
        "user-variables": ($d.metadata // {}),
        campaigns: [],
        ip: (if $ev == "opened" or $ev == "clicked" then $d.ip else null end),
        url: (if $ev == "clicked" then $d.url else null end),
        "client-info": (if ($ev == "opened" or $ev == "clicked") and $d.user_agent != null
                        then {"user-agent": $d.user_agent} else null end)
    } | nonnull)
  }
  end
