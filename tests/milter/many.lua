-- SPDX-License-Identifier: MIT
-- tests/milter/many.lua - many messages on one connection, many recipients,
-- an aborted message, too many and malformed headers.
dofile(LIB)

local conn = open_conn(true)
for i = 1, 20 do
    message(conn, { qid = string.format("QM%02d", i),
        rcpts = { "<a" .. i .. "@example.org>", "<b" .. i .. "@example.org>" },
        headers = { { "Subject", "message " .. i } } })
end

local rcpts = {}
for i = 1, 50 do rcpts[i] = "<r" .. i .. "@example.org>" end
message(conn, { qid = "QR50", rcpts = rcpts, headers = { { "Subject", "fifty" } } })

-- Aborted after the headers: no event; the next message is fine.
start_message(conn, { qid = "QABORT", headers = { { "Subject", "aborted" } } })
must(mt.abort(conn), "abort")
message(conn, { qid = "QAFTER", headers = { { "Subject", "after abort" } } })

-- More headers than max_headers; the control header at the end is beyond.
local hdrs = { { "Subject", "many headers" } }
for i = 1, 600 do hdrs[#hdrs + 1] = { "X-Filler-" .. i, "value " .. i } end
hdrs[#hdrs + 1] = { "X-Mailhook-Tag", "too-late" }
message(conn, { qid = "QHDRS", headers = hdrs })

-- Malformed headers: empty value, odd name, control and 8-bit bytes,
-- broken control headers.
message(conn, { qid = "QBAD", headers = {
    { "Subject", "" },
    { "Bad Name:", "x" },
    { "X-Binary", "\1\2\255\254 \27[0m" },
    { "From", "=?UTF-8?B?\255\255?= <x@y" },
    { "X-Mailhook-Tag", "ok, bad\1tag, \255\254" },
    { "X-Mailhook-Metadata", "{not json" },
    { "X-Mailhook-Metadata", "[1,2,3]" },
    { "To", "" },
} })
mt.disconnect(conn)
