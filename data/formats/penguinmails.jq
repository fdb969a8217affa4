# SPDX-License-Identifier: MIT
# penguinmails.jq - the "penguinmails" payload format: each event as
# PenguinMails' webhook system sends it (its "Webhook System" document:
# {id, type, created_at, data: {email_id, campaign_id, contact: {id, email,
# first_name, last_name}, opened_at, user_agent, ip_address, ...}}), one
# event per request, with the format's defaults: "sha256=" + hex
# HMAC-SHA256 in X-PenguinMails-Signature, X-PenguinMails-Event,
# X-PenguinMails-Delivery-ID (a UUID), User-Agent PenguinMails-Webhooks/1.0.
# mailhook.conf(5), "Payload formats", has the table.
#
# Input: the stored event; $meta is not used. Mapping:
#   id, created_at           the event's id and timestamp
#   type                     ours, but email.complained is email.spam_reported
#                            and email.failed is email.bounced (PenguinMails
#                            has no failure event; the mail is not delivered)
#   data.email_id            metadata.email_id, else the Message-ID without
#                            <>, else the queue id
#   data.campaign_id         metadata.campaign_id
#   data.contact             metadata.contact's id, email, first_name,
#                            last_name; email defaults to the recipient
#   data.contact_id          metadata.contact.id (the unsubscribed payload)
#   data.delivered_at / opened_at / clicked_at / reported_at /
#        unsubscribed_at     the event's timestamp, by type
#   data.smtp_response       ours (delivered and bounced)
#   data.user_agent, ip_address, url   user_agent, ip, url
#   data.bounce_type         bounce_type, else from the DSN class (5: hard)
#   data.bounce_reason       the text of the SMTP reply, else reason, else
#                            bounce_class
#   data.location            not known to us: left out
# email.deferred is not a PenguinMails event: skipped. An application's own
# types (campaign.launched, contact.created, ...) pass with their data as it
# is. Members we do not know are left out (never null).

def nonnull: delpaths([path(.[] | select(. == null))]);
def obj: if type == "object" then . else {} end;
def unbracket: if type == "string" then ltrimstr("<") | rtrimstr(">") | (if . == "" then null else . end) else null end;
def nonempty: if . == "" then null else . end;
# One decimal digit (a string of length 1); cheaper in jq 1.6 than explode.
def digit: length == 1 and . >= "0" and . <= "9";
# The 3-digit SMTP reply code a text starts with ("550 ..."), else null.
def reply_code: if type == "string" and (.[0:1] | . == "2" or . == "4" or . == "5")
        and (.[1:2] | digit) and (.[2:3] | digit) and (length == 3 or .[3:4] == " " or .[3:4] == "-")
    then .[0:3] else null end;
def is_dsn: type == "string" and test("^[245]\\.[0-9]{1,3}\\.[0-9]{1,3}$");
# The text of an SMTP reply "550 5.1.1 text" without its codes.
def smtp_text:
    if type != "string" then null
    else (if reply_code then .[4:] else . end) as $rest
        | ($rest | split(" ")[0]) as $w
        | (if ($w | is_dsn) then $rest[($w | length) + 1:] else $rest end) | nonempty
    end;

.type as $t
| (.data // {}) as $d
| ($d.metadata | obj) as $m
| (if ($m.contact | type) == "object" then $m.contact else {} end) as $c
| .timestamp as $ts
| def at($name): if $t == $name then $ts else null end;
  if $t == "email.deferred" then empty
  elif ($t | startswith("email.")) | not then {id, type, created_at: $ts, data: $d}
  else ({
        "email.complained": "email.spam_reported",
        "email.failed": "email.bounced"
    }[$t] // $t) as $type
  | ($d.dsn // ($d.smtp_response | if type == "string" then split(" ")[1] else null end)) as $dsn
  | {
    id,
    type: $type,
    created_at: $ts,
    data: ({
        email_id: ($m.email_id // ($d.message_id | unbracket) // $d.queue_id),
        campaign_id: $m.campaign_id,
        contact: ({
            id: $c.id,
            email: ($c.email // $d.recipient),
            first_name: $c.first_name,
            last_name: $c.last_name
        } | nonnull),
        contact_id: (if $t == "email.unsubscribed" then $c.id else null end),
        delivered_at: at("email.delivered"),
        opened_at: at("email.opened"),
        clicked_at: at("email.clicked"),
        reported_at: at("email.complained"),
        unsubscribed_at: at("email.unsubscribed"),
        smtp_response: (if $t == "email.sent" then null else $d.smtp_response end),
        user_agent: $d.user_agent,
        ip_address: $d.ip,
        url: $d.url
    } + (if $type == "email.bounced" then {
        bounce_type: ($d.bounce_type
            // (if ($dsn | is_dsn) then (if ($dsn | startswith("5")) then "hard" else "soft" end)
                else null end)),
        bounce_reason: (($d.smtp_response | smtp_text) // $d.reason // $d.bounce_class)
    } else {} end) | nonnull)
  }
  end
