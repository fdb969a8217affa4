-- SPDX-License-Identifier: MIT
-- tests/milter/basic.lua - macros present and absent, RFC 2047 subjects in
-- several charsets, control headers removed (REMOVE=1) or kept (REMOVE=0).
dofile(LIB)

local conn = open_conn(true)
message(conn, { qid = "QB1", sasl = "alice", from = "<Alice@Example.COM>",
    rcpts = { "<r1@example.org>", "<r2@example.org>" },
    headers = {
        { "Message-ID", "<b1@example.com>" },
        { "Subject", "=?UTF-8?B?w6lsw6h2ZSDwn5iA?=" },
        { "From", "=?UTF-8?Q?Jos=C3=A9?= <alice@example.com>" },
        { "To", "r1@example.org" },
        { "X-Mailhook-Tag", "vip, news" },
        { "X-Campaign", "spring" },
        { "X-Mailhook-Tag", "promo" },
        { "X-Mailhook-Metadata", '{"campaign_id":"c1","n":3}' },
    } })
local deleted = mt.eom_check(conn, MT_HDRDELETE, "X-Mailhook-Tag") and
                mt.eom_check(conn, MT_HDRDELETE, "X-Mailhook-Metadata")
if REMOVE == "1" and not deleted then error("control headers not deleted") end
if REMOVE == "0" and mt.eom_check(conn, MT_HDRDELETE) then error("a header was deleted") end

local subjects = {
    { "QCS-latin1", "=?ISO-8859-1?Q?caf=E9_cr=E8me?=" },
    { "QCS-koi8", "=?KOI8-R?B?8NLJ18XU?=" },
    { "QCS-jp", "=?ISO-2022-JP?B?GyRCJEskWyRzGyhC?=" },
    { "QCS-utf8q", "=?utf-8?q?na=C3=AFve?= text" },
    { "QCS-unknown", "=?X-NO-SUCH-CHARSET?Q?abc?=" },
    { "QCS-broken", "=?UTF-8?B?####?= tail" },
}
for _, s in ipairs(subjects) do
    message(conn, { qid = s[1], headers = { { "Subject", s[2] } } })
    if mt.eom_check(conn, MT_HDRDELETE) then error(s[1] .. ": nothing to delete") end
end
mt.disconnect(conn)

-- No macros at all: the connect facts are used, no queue id, a sender
-- without a domain (no tenant).
conn = open_conn(false, "nomacro.example.net", "198.51.100.7")
message(conn, { from = "<mailer>", headers = { { "Subject", "no macros" } } })
-- The null sender: a notice (DSN, bounce), never an email.sent.
message(conn, { from = "<>", headers = { { "Subject", "null sender" } } })
mt.disconnect(conn)
