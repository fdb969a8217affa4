# SPDX-License-Identifier: MIT
# listmonk.jq - the "listmonk" payload format: bounces and complaints as
# listmonk's bounce webhook takes them (listmonk's "Bounce processing"
# document, listmonk.app/docs/bounces/, POST /webhooks/bounce: {email, campaign_uuid, source, type,
# meta}), one event per request, with HTTP basic auth (the endpoint's
# basic_auth: a listmonk API user with the webhooks:post_bounce
# permission). The format's default types are email.bounced and
# email.complained. mailhook.conf(5), "Payload formats", has the table.
#
# Input: the stored event; $meta is not used. Mapping:
#   email            recipient
#   subscriber_uuid  metadata.subscriber_uuid, when it is a UUID
#   campaign_uuid    metadata.campaign_uuid, else metadata.campaign_id, when
#                    it is a UUID (listmonk refuses anything else)
#   source           "mailhook"
#   type             email.bounced (and email.failed, when an endpoint
#                    subscribes to it): bounce_type (hard or soft), else
#                    hard for email.bounced, soft for email.failed;
#                    email.complained: complaint
#   created_at       the event's timestamp
#   meta             {event_id, event, queue_id, message_id, dsn,
#                    smtp_response, bounce_class, reason}, the members known
# Every other type is skipped: a deferral is not a bounce. An event without
# a recipient is skipped too (listmonk needs the address).

def nonnull: delpaths([path(.[] | select(. == null))]);
def obj: if type == "object" then . else {} end;
def is_uuid: type == "string" and length == 36
    and test("^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$");
def uuid_or_null: if is_uuid then . else null end;

.type as $t
| (.data // {}) as $d
| ($d.metadata | obj) as $m
| (if $t == "email.complained" then "complaint"
   elif $t == "email.bounced" then (if $d.bounce_type == "soft" then "soft" else "hard" end)
   elif $t == "email.failed" then (if $d.bounce_type == "hard" then "hard" else "soft" end)
   else null end) as $type
| if $type == null or ($d.recipient | type) != "string" or $d.recipient == "" then empty
  else ({
    email: $d.recipient,
    subscriber_uuid: ($m.subscriber_uuid | uuid_or_null),
    campaign_uuid: (($m.campaign_uuid | uuid_or_null) // ($m.campaign_id | uuid_or_null)),
    source: "mailhook",
    type: $type,
    created_at: .timestamp,
    meta: ({
        event_id: .id,
        event: $t,
        queue_id: $d.queue_id,
        message_id: $d.message_id,
        dsn: $d.dsn,
        smtp_response: $d.smtp_response,
        bounce_class: $d.bounce_class,
        reason: $d.reason
    } | nonnull)
  } | nonnull)
  end
