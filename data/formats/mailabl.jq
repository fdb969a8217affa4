# SPDX-License-Identifier: MIT
# mailabl.jq - the "mailabl" payload format: each event as a Mailabl event
# object (Mailabl's "Use incoming webhooks" document: {id, type, data:
# {object: {id, type}}, occurredAt}); the engine sends them as an array,
# always (one event is an array of one), signed by the format's defaults:
# X-Mailabl-Signature, the hex SHA-256 of the secret followed by the body.
# mailhook.conf(5), "Payload formats", has the table.
#
# Input: the stored event; $meta is not used. Mapping:
#   id                 the event's id (Mailabl's are UUIDs; ours evt_...)
#   type               ours (resource.action, as Mailabl's "task.updated")
#   occurredAt         the event's timestamp with microseconds, as Mailabl
#                      writes it ("2026-11-22T06:30:18.000000Z")
#   data.object.id     for email.*: the Message-ID without <>, else the
#                      queue id, else the event id; for other types the
#                      data's own "id" (as a string), else the event id
#   data.object.type   "email" for email.*; else the type's first part
#                      ("app" for app.signup)
#   data.object.*      the event's data members (recipient, subject,
#                      smtp_response, metadata, ...) as they are
# Every event passes; Mailabl's own resource types are not ours to make.

.type as $t
| (.data // {}) as $d
| ($t | split(".")[0]) as $kind
| {
    id,
    type,
    data: {
        object: ({
            id: (if $kind == "email" then
                     (($d.message_id // "" | ltrimstr("<") | rtrimstr(">") | if . == "" then null else . end)
                      // $d.queue_id // .id)
                 else (($d.id | if . == null then null else tostring end) // .id) end),
            type: $kind
        } + ($d | del(.id, .type)))
    },
    occurredAt: (.timestamp | if length == 24 and endswith("Z") then .[0:23] + "000Z" else . end)
  }
