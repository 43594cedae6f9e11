-- Drives postern-testmilter through one connection with miltertest, an
-- MTA-side milter client independent of Postfix. Variables from -D:
--   SOCKET  the milter's socket spec
-- Any failed check raises an error, so miltertest exits non-zero.

local conn = mt.connect(SOCKET, 20, 0.25)
if conn == nil then
    error("cannot connect to " .. SOCKET)
end

local function expect(what, want)
    local got = mt.getreply(conn)
    if got ~= want then
        error(what .. ": reply " .. tostring(got) .. ", want " .. tostring(want))
    end
end

if mt.negotiate(conn, nil, nil, nil) ~= nil then
    error("negotiate failed")
end
if mt.conninfo(conn, "client.example.net", "192.0.2.55") ~= nil then
    error("conninfo failed")
end
expect("connect", SMFIR_CONTINUE)
mt.helo(conn, "client.example.net")
expect("helo", SMFIR_CONTINUE)

-- 1: accepted message, header added with what the milter saw
mt.macro(conn, SMFIC_MAIL, "i", "MT0001")
mt.mailfrom(conn, "<alice@example.net>")
expect("mail", SMFIR_CONTINUE)
mt.rcptto(conn, "<bob@example.org>")
expect("rcpt bob", SMFIR_CONTINUE)
mt.rcptto(conn, "<carol@example.org>")
expect("rcpt carol", SMFIR_CONTINUE)
-- The milter negotiated away DATA, headers, EOH and body: straight to EOM.
mt.eom(conn)
expect("eom", SMFIR_CONTINUE)
if not mt.eom_check(conn, MT_HDRADD, "X-Postern-Test") then
    error("no X-Postern-Test header added")
end
local want = "queue-id=MT0001; client=192.0.2.55; helo=client.example.net; " ..
             "from=alice@example.net; rcpts=2"
local got = mt.getheader(conn, "X-Postern-Test", 0)
if got ~= want then
    error("X-Postern-Test is '" .. tostring(got) .. "', want '" .. want .. "'")
end

-- 2: a second message on the same connection: rejected and tempfailed rcpts
mt.macro(conn, SMFIC_MAIL, "i", "MT0002")
mt.mailfrom(conn, "<alice@example.net>")
expect("mail 2", SMFIR_CONTINUE)
mt.rcptto(conn, "<reject@example.org>")
expect("rcpt reject", SMFIR_REPLYCODE)
mt.rcptto(conn, "<tempfail@example.org>")
expect("rcpt tempfail", SMFIR_REPLYCODE)
mt.abort(conn)

mt.disconnect(conn)
mt.echo("testmilter.lua: ok")
