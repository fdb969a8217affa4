# SPDX-License-Identifier: MIT
# sendgrid.jq - the "sendgrid" payload format: each event as a Twilio
# SendGrid Event Webhook event object (SendGrid's "Event Webhook
# Reference", twilio.com/docs/sendgrid/for-developers/tracking-events/event:
# {email, timestamp, event, sg_event_id, sg_message_id,
# smtp-id, ...}); the engine sends them as an array, always, signed as
# SendGrid's Signed Event Webhook is (the sendgrid scheme: ECDSA P-256 over
# the timestamp and the body, X-Twilio-Email-Event-Webhook-Signature and
# -Timestamp). mailhook.conf(5), "Payload formats", has the table.
#
# Input: the stored event and $meta.time. Mapping:
#   event          email.sent: processed; email.delivered: delivered;
#                  email.deferred: deferred; email.bounced: bounce;
#                  email.failed: dropped; email.opened: open; email.clicked:
#                  click; email.complained: spamreport; email.unsubscribed:
#                  unsubscribe
#   email          recipient
#   timestamp      $meta.time (unix seconds, an integer)
#   sg_event_id    the event's id
#   sg_message_id  the Message-ID without <>, else the queue id
#   smtp-id        message_id (with its <>)
#   category       tags (an array)
#   response       delivered, deferred: smtp_response
#   attempt        deferred: the attempt number, as a string ("2")
#   reason         bounce, dropped: smtp_response, else reason
#   status         bounce: the DSN ("5.1.1")
#   type           bounce: "blocked" for a bounce_class of spam-block,
#                  policy or relay-denied, else "bounce"
#   bounce_classification   bounce: from bounce_class (unknown-user:
#                  Invalid Address; inactive, mailbox-full: Mailbox
#                  Unavailable; spam-block: Reputation; policy: Content;
#                  dns, relay-denied: Technical; else Unclassified)
#   url, useragent, ip      click/open: url, user_agent, ip
#   (unique args)  the members of metadata, after the above (a member named
#                  like one of them, even one this event lacks, is left out)
# An application's own types are skipped. Members we do not know are left
# out (never null).

def nonnull: delpaths([path(.[] | select(. == null))]);
def unbracket: if type == "string" then ltrimstr("<") | rtrimstr(">") | (if . == "" then null else . end) else null end;

.type as $t
| (.data // {}) as $d
| {
    "email.sent": "processed", "email.delivered": "delivered", "email.deferred": "deferred",
    "email.bounced": "bounce", "email.failed": "dropped", "email.opened": "open",
    "email.clicked": "click", "email.complained": "spamreport", "email.unsubscribed": "unsubscribe"
  }[$t] as $ev
| if $ev == null then empty
  else ({
        email: $d.recipient,
        timestamp: $meta.time,
        event: $ev,
        sg_event_id: .id,
        sg_message_id: (($d.message_id | unbracket) // $d.queue_id),
        "smtp-id": $d.message_id,
        category: $d.tags
    } + (if $ev == "delivered" then {response: $d.smtp_response}
        elif $ev == "deferred" then
            {response: $d.smtp_response, attempt: ($d.attempt | if . == null then null else tostring end)}
        elif $ev == "bounce" then {
            reason: ($d.smtp_response // $d.reason),
            status: $d.dsn,
            type: ($d.bounce_class | if . == "spam-block" or . == "policy" or . == "relay-denied"
                                     then "blocked" else "bounce" end),
            bounce_classification: ({
                    "unknown-user": "Invalid Address", "inactive": "Mailbox Unavailable",
                    "mailbox-full": "Mailbox Unavailable", "spam-block": "Reputation",
                    "policy": "Content", "dns": "Technical", "relay-denied": "Technical"
                }[$d.bounce_class // ""] // "Unclassified")
        }
        elif $ev == "dropped" then {reason: ($d.smtp_response // $d.reason)}
        elif $ev == "open" then {useragent: $d.user_agent, ip: $d.ip}
        elif $ev == "click" then {url: $d.url, useragent: $d.user_agent, ip: $d.ip}
        else {} end)
    | nonnull)
    + (if ($d.metadata | type) == "object" then $d.metadata
           | reduce ("email", "timestamp", "event", "sg_event_id", "sg_message_id", "smtp-id", "category",
                     "response", "attempt", "reason", "status", "type", "bounce_classification", "url",
                     "useragent", "ip") as $k (.; if has($k) then del(.[$k]) else . end)
       else {} end)
  end
