# SPDX-License-Identifier: MIT
# mailtura.jq - the "mailtura" payload format: each event as Mailtura's
# webhooks send it (the Mailtura webhook documentation, "Webhook Payload":
# {id, type, timestamp, data: {emailId, recipient, subject, ...}}), one
# event per request, signed by the format's defaults (hmac-sha256-hex in
# X-Mailtura-Signature). mailhook.conf(5), "Payload formats", has the table.
#
# Input: the stored event ({id, type, timestamp, data}); $meta is not used.
# Mapping:
#   id, type, timestamp      ours as they are (Mailtura's types are ours:
#                            email.sent, .delivered, .opened, .clicked,
#                            .bounced, .complained, .failed)
#   data.emailId             the Message-ID without <> (else the queue id)
#   data.recipient, subject  ours
#   data.deliveredAt / openedAt / clickedAt   the event's timestamp
#   data.url, userAgent, ipAddress            url, user_agent, ip
#   data.bounceType          bounce_type, else from the DSN class (5: hard)
#   data.reason              the text of the SMTP reply (its codes removed),
#                            else data.reason, else bounce_class
#   data.diagnosticCode      "550 5.1.1": the reply code and the enhanced
#                            status code of smtp_response (the code alone,
#                            or dsn alone, when only one is known)
# email.deferred and email.unsubscribed are not Mailtura events: skipped.
# An application's own types pass with their data as it is. Members we do
# not know are left out (never null).

def nonnull: delpaths([path(.[] | select(. == null))]);
def unbracket: if type == "string" then ltrimstr("<") | rtrimstr(">") | (if . == "" then null else . end) else null end;
def nonempty: if . == "" then null else . end;
# One decimal digit (a string of length 1); cheaper in jq 1.6 than explode.
def digit: length == 1 and . >= "0" and . <= "9";
# The 3-digit SMTP reply code a text starts with ("550 ..."), else null.
def reply_code: if type == "string" and (.[0:1] | . == "2" or . == "4" or . == "5")
        and (.[1:2] | digit) and (.[2:3] | digit) and (length == 3 or .[3:4] == " " or .[3:4] == "-")
    then .[0:3] else null end;
def is_dsn: type == "string" and test("^[245]\\.[0-9]{1,3}\\.[0-9]{1,3}$");
# An SMTP reply "550 5.1.1 text" as {code, dsn, text}; null when absent.
def smtp_parts:
    if type != "string" then {code: null, dsn: null, text: null}
    else reply_code as $code
        | (if $code then .[4:] else . end) as $rest
        | ($rest | split(" ")[0]) as $w
        | if ($w | is_dsn) then {code: $code, dsn: $w, text: ($rest[($w | length) + 1:] | nonempty)}
          else {code: $code, dsn: null, text: ($rest | nonempty)} end
    end;

.type as $t
| (.data // {}) as $d
| ($d.smtp_response | smtp_parts) as $r
| ($r.dsn // $d.dsn) as $dsn
| if $t == "email.deferred" or $t == "email.unsubscribed" then empty
  elif ($t | startswith("email.")) | not then {id, type, timestamp, data: $d}
  else {
    id, type, timestamp,
    data: ({
        emailId: (($d.message_id | unbracket) // $d.queue_id),
        recipient: $d.recipient,
        subject: $d.subject,
        deliveredAt: (if $t == "email.delivered" then .timestamp else null end),
        openedAt: (if $t == "email.opened" then .timestamp else null end),
        clickedAt: (if $t == "email.clicked" then .timestamp else null end),
        url: $d.url,
        userAgent: $d.user_agent,
        ipAddress: $d.ip
    } + (if $t == "email.bounced" or $t == "email.failed" then {
        bounceType: ($d.bounce_type
            // (if $t == "email.bounced" and $dsn then (if ($dsn | startswith("5")) then "hard" else "soft" end)
                else null end)),
        reason: ($r.text // $d.reason // $d.bounce_class),
        diagnosticCode: ([$r.code, $dsn] | map(select(. != null)) | join(" ") | nonempty)
    } else {} end) | nonnull)
  }
  end
