-- SPDX-License-Identifier: MIT
-- tests/milter/lib.lua - helpers for the mailhook-milter miltertest scripts
-- (loaded with dofile(LIB); SOCKET is the milter's socket, given with -D).
-- Every step checks the filter's answer: mailhook must always continue.

local unpack = table.unpack or unpack

function must(err, what)
    if err ~= nil then error(what .. ": " .. tostring(err)) end
end

function expect(conn, want, what)
    local r = mt.getreply(conn)
    if r ~= want then error(what .. ": reply " .. tostring(r) .. ", want " .. tostring(want)) end
end

-- A connection; with_macros sends {client_addr} {client_name} {daemon_name}
-- (different from the connect facts, so a test can tell which was used).
function open_conn(with_macros, host, ip)
    local conn = mt.connect(SOCKET, 50, 0.1)
    if conn == nil then error("cannot connect to " .. SOCKET) end
    if with_macros then
        mt.macro(conn, SMFIC_CONNECT, "{client_addr}", "192.0.2.1",
                 "{client_name}", "mx.example.net", "{daemon_name}", "smtpd")
    end
    must(mt.conninfo(conn, host or "conn.example.net", ip or "198.51.100.1"), "conninfo")
    expect(conn, SMFIR_CONTINUE, "connect")
    return conn
end

-- Everything of one message up to the end of headers.
-- m = { qid=, sasl=, from=, rcpts={...}, headers={{name, value}, ...} }
function start_message(conn, m)
    local macros = {}
    if m.qid then macros[#macros + 1] = "i"; macros[#macros + 1] = m.qid end
    if m.sasl then macros[#macros + 1] = "{auth_authen}"; macros[#macros + 1] = m.sasl end
    if #macros > 0 then mt.macro(conn, SMFIC_MAIL, unpack(macros)) end
    must(mt.mailfrom(conn, m.from or "<sender@example.com>"), "mailfrom")
    expect(conn, SMFIR_CONTINUE, "mailfrom")
    for _, r in ipairs(m.rcpts or { "<rcpt@example.org>" }) do
        must(mt.rcptto(conn, r), "rcptto")
        expect(conn, SMFIR_CONTINUE, "rcptto " .. r)
    end
    for _, h in ipairs(m.headers or {}) do
        must(mt.header(conn, h[1], h[2]), "header " .. h[1])
        expect(conn, SMFIR_CONTINUE, "header " .. h[1])
    end
end

-- A whole message, ending with the end-of-message answer checked.
function message(conn, m)
    start_message(conn, m)
    must(mt.eoh(conn), "eoh")
    expect(conn, SMFIR_CONTINUE, "eoh")
    must(mt.bodystring(conn, m.body or "Hello.\r\n"), "body")
    expect(conn, SMFIR_CONTINUE, "body")
    must(mt.eom(conn), "eom")
    expect(conn, SMFIR_CONTINUE, "eom")
end
