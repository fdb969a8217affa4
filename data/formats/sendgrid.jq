# SPDX-License-Identifier: MIT
# sendgrid.jq - the "sendgrid" payload format: each event as a Twilio
# SendGrid Event Webhook event object (SendGrid's "Event Webhook
# Reference": {email, timestamp, event, sg_event_id, sg_message_id,
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
#   (unique args)  the members of metadata, beside the above (a member named
#                  like one of them is left out)
# An application's own types are skipped. Members we do not know are left
# out (never null).

def nonnull: with_entries(select(.value != null));
def unbracket: if type == "string" then ltrimstr("<") | rtrimstr(">") else . end;

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
        category: $d.tags,
        response: (if $ev == "delivered" or $ev == "deferred" then $d.smtp_response else null end),
        attempt: (if $ev == "deferred" and $d.attempt != null then ($d.attempt | tostring) else null end),
        reason: (if $ev == "bounce" or $ev == "dropped" then ($d.smtp_response // $d.reason) else null end),
        status: (if $ev == "bounce" then $d.dsn else null end),
        type: (if $ev != "bounce" then null
               elif ($d.bounce_class == "spam-block" or $d.bounce_class == "policy"
                     or $d.bounce_class == "relay-denied") then "blocked"
               else "bounce" end),
        bounce_classification: (if $ev != "bounce" then null else {
                "unknown-user": "Invalid Address", "inactive": "Mailbox Unavailable",
                "mailbox-full": "Mailbox Unavailable", "spam-block": "Reputation",
                "policy": "Content", "dns": "Technical", "relay-denied": "Technical"
            }[$d.bounce_class // ""] // "Unclassified" end),
        url: (if $ev == "click" then $d.url else null end),
        useragent: (if $ev == "open" or $ev == "click" then $d.user_agent else null end),
        ip: (if $ev == "open" or $ev == "click" then $d.ip else null end)
    } | nonnull) as $core
  | $core + (if ($d.metadata | type) == "object"
             then $d.metadata | with_entries(select(.key as $k | $core | has($k) | not))
             else {} end)
  end
