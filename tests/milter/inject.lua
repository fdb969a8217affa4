-- SPDX-License-Identifier: MIT
-- tests/milter/inject.lua - control characters in the headers the milter
-- reads and quotes in its log (t0075): CR, LF, ESC, C1 controls and the
-- Unicode line separator in refused X-Mailhook-Metadata values, keys and
-- tags. Each carries FORGED after a line break, so a forged log line shows.
-- SPDX-License-Identifier: MIT
dofile(LIB)

local nel, csi, ls = "\194\133", "\194\155", "\226\128\168" -- U+0085, U+009B, U+2028
local conn = open_conn(true)
message(conn, { qid = "QINJ1", from = "<a@example.com>",
    headers = {
        { "Subject", "control characters" },
        { "X-Mailhook-Metadata", "not json\r\nFORGED cr-lf" },
        { "X-Mailhook-Metadata", "not json" .. nel .. "FORGED nel" .. ls .. "FORGED ls" },
        { "X-Mailhook-Metadata", "[\"not an object\", \"" .. csi .. "2J\"]" },
        { "X-Mailhook-Metadata", "{\"key\\nFORGED key\":1}" },
        { "X-Mailhook-Metadata", "{\"" .. nel .. "FORGED value key\":[1]}" },
        { "X-Mailhook-Tag", "good, bad\27[2J\nFORGED tag" },
    } })
mt.disconnect(conn)
