# SPDX-License-Identifier: MIT
# postmark.jq - the "postmark" payload format: each event as Postmark's
# webhooks send it (Postmark's webhook documentation,
# postmarkapp.com/developer/webhooks/webhooks-overview: one JSON object with
# a RecordType: Delivery, Bounce, Open, Click, SpamComplaint,
# SubscriptionChange), one event per request. Postmark authenticates its
# webhooks with HTTP basic auth (the endpoint's basic_auth), not a
# signature. mailhook.conf(5), "Payload formats", has the table.
#
# Input: the stored event and $meta.seq. Mapping:
#   RecordType     email.delivered: Delivery; email.deferred, email.bounced,
#                  email.failed: Bounce; email.opened: Open; email.clicked:
#                  Click; email.complained: SpamComplaint;
#                  email.unsubscribed: SubscriptionChange
#   MessageID      the Message-ID without <>, else the queue id
#   Recipient (Delivery, Open, Click, SubscriptionChange), Email (Bounce,
#                  SpamComplaint)   recipient
#   MessageStream  "outbound"; Tag: the first of tags; Metadata: metadata
#   DeliveredAt, BouncedAt, ReceivedAt, ChangedAt   the event's timestamp
#   Details        smtp_response (else reason)
#   ID             Bounce, SpamComplaint: $meta.seq (an integer)
#   Type, TypeCode, Name, Description   email.deferred: Transient (2);
#                  bounce_class dns: DnsError (256); bounce_type soft:
#                  SoftBounce (4096); else email.bounced: HardBounce (1),
#                  email.failed: SoftBounce (4096); email.complained:
#                  SpamComplaint (100001)
#   Inactive       true for HardBounce and SpamComplaint (Postmark stops
#                  sending to the address); CanActivate true; DumpAvailable
#                  false
#   From, Subject  from, subject
#   UserAgent, OriginalLink   user_agent, url
#   SubscriptionChange   Origin "Recipient", SuppressSending true,
#                  SuppressionReason "ManualSuppression"
# Not known to us, left out: ServerID, Client, OS, Platform, Geo,
# ReadSeconds, FirstOpen, ClickLocation, Content. email.sent and an
# application's own types are skipped (Postmark has no such webhook).

def nonnull: delpaths([path(.[] | select(. == null))]);
def unbracket: if type == "string" then ltrimstr("<") | rtrimstr(">") | (if . == "" then null else . end) else null end;

.type as $t
| (.data // {}) as $d
| .timestamp as $ts
| ({
    MessageID: (($d.message_id | unbracket) // $d.queue_id),
    MessageStream: "outbound",
    Tag: ($d.tags | if type == "array" then .[0] else null end),
    Metadata: ($d.metadata // {})
  } | nonnull) as $common
| if $t == "email.delivered" then
    {RecordType: "Delivery"} + $common
    + ({Recipient: $d.recipient, DeliveredAt: $ts, Details: ($d.smtp_response // $d.reason)} | nonnull)
  elif $t == "email.deferred" or $t == "email.bounced" or $t == "email.failed" or $t == "email.complained" then
    (if $t == "email.complained" then ["SpamComplaint", 100001, "Spam complaint",
            "The recipient marked the message as spam."]
     elif $t == "email.deferred" then ["Transient", 2, "Message delayed",
            "The receiving server could not take the message for now; it will be retried."]
     elif $d.bounce_class == "dns" then ["DnsError", 256, "DNS error",
            "The recipient's domain could not be resolved."]
     elif $d.bounce_type == "soft" or ($t == "email.failed" and $d.bounce_type != "hard") then
            ["SoftBounce", 4096, "Soft bounce",
            "The message could not be delivered (mailbox full, expired in the queue, ...)."]
     else ["HardBounce", 1, "Hard bounce",
            "The receiving server refused the message for good (unknown user, no such mailbox, ...)."]
     end) as [$type, $code, $name, $desc]
    | {RecordType: (if $t == "email.complained" then "SpamComplaint" else "Bounce" end),
       ID: $meta.seq, Type: $type, TypeCode: $code, Name: $name} + $common
    + ({Description: $desc, Details: ($d.smtp_response // $d.reason), Email: $d.recipient,
        From: $d.from, BouncedAt: $ts, DumpAvailable: false,
        Inactive: ($type == "HardBounce" or $type == "SpamComplaint"), CanActivate: true,
        Subject: $d.subject} | nonnull)
  elif $t == "email.opened" then
    {RecordType: "Open"} + $common
    + ({Recipient: $d.recipient, ReceivedAt: $ts, UserAgent: $d.user_agent} | nonnull)
  elif $t == "email.clicked" then
    {RecordType: "Click"} + $common
    + ({Recipient: $d.recipient, ReceivedAt: $ts, OriginalLink: $d.url, UserAgent: $d.user_agent} | nonnull)
  elif $t == "email.unsubscribed" then
    {RecordType: "SubscriptionChange"} + $common
    + ({Recipient: $d.recipient, ChangedAt: $ts, Origin: "Recipient", SuppressSending: true,
        SuppressionReason: "ManualSuppression"} | nonnull)
  else empty
  end
