# SPDX-License-Identifier: MIT
# paubox.jq - the "paubox" payload format: each event as a Paubox Email API
# webhook notification (Paubox's "Webhooks" document: {event_name, payload}
# with the API Mail Log payload), one event per request. The format's
# default types are the ones it maps. mailhook.conf(5), "Payload formats",
# has the table.
#
# Input: the stored event and $meta.seq. Mapping:
#   event_name   email.delivered: api_mail_log_delivered; email.deferred and
#                a soft email.bounced: api_mail_log_temporary_failure; a hard
#                email.bounced (bounce_type hard, or a 5.x.x DSN, or neither
#                known) and email.failed: api_mail_log_permanent_failure;
#                email.opened: api_mail_log_opened
#   payload.id                  $meta.seq, the store's sequence number (an
#                               integer, as Paubox's; unique per event)
#   payload.subject             subject
#   payload.header_message_id   message_id, with its <> as Paubox shows it
#   payload.source_tracking_id  metadata.source_tracking_id, else the event id
#   payload.outbound_queue_id   queue_id
#   payload.time                the event's timestamp
#   payload.from, payload.to    from, recipient
# Every other type is skipped (Paubox has no event for it). Members we do
# not know are left out (never null).

def nonnull: delpaths([path(.[] | select(. == null))]);
def obj: if type == "object" then . else {} end;

.type as $t
| (.data // {}) as $d
| ($d.bounce_type // (if ($d.dsn | type) == "string" and ($d.dsn | startswith("4")) then "soft" else "hard" end)) as $bt
| {
    "email.delivered": "api_mail_log_delivered",
    "email.deferred": "api_mail_log_temporary_failure",
    "email.bounced": (if $bt == "soft" then "api_mail_log_temporary_failure" else "api_mail_log_permanent_failure" end),
    "email.failed": "api_mail_log_permanent_failure",
    "email.opened": "api_mail_log_opened"
  }[$t] as $name
| if $name == null then empty
  else {
    event_name: $name,
    payload: ({
        id: $meta.seq,
        subject: $d.subject,
        header_message_id: $d.message_id,
        source_tracking_id: (($d.metadata | obj).source_tracking_id // .id),
        outbound_queue_id: $d.queue_id,
        time: .timestamp,
        from: $d.from,
        to: $d.recipient
    } | nonnull)
  }
  end
