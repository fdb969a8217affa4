-- SPDX-License-Identifier: MIT
-- tests/milter/spool.lua - one message while mailhookd is down.
dofile(LIB)
local conn = open_conn(true)
message(conn, { qid = "QSPOOL", headers = { { "Subject", "while down" } } })
mt.disconnect(conn)
