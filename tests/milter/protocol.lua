-- protocol.lua - milter protocol behaviour of milter-reword under miltertest:
-- negotiation (RCPT_REJ asked for, unused events negotiated away), replies
-- per stage, a connect decision applied at MAIL, per-recipient rejects,
-- the end-of-message reply text, and an MTA-rejected recipient that is
-- only observed.  Globals from the runner: BINARY, CONF, SOCKET.

local function fail(msg)
    error("FAIL: " .. msg)
end

local function expect(conn, want, what)
    local got = mt.getreply(conn)
    if got ~= want then
        fail(what .. ": expected reply " .. tostring(want) .. ", got " .. tostring(got))
    end
    mt.echo("ok - " .. what)
end

mt.set_timeout(10)
mt.startfilter(BINARY, "-f", "-c", CONF, "-p", "unix:" .. SOCKET)

-- session 1: ordinary client
local conn = mt.connect("unix:" .. SOCKET, 50, 0.1)
if conn == nil then fail("cannot connect to the filter") end
if mt.negotiate(conn, nil, nil, nil) ~= nil then fail("negotiate") end
if not mt.test_option(conn, SMFIP_RCPT_REJ) then fail("SMFIP_RCPT_REJ not requested") end
mt.echo("ok - RCPT_REJ requested")
if not mt.test_option(conn, SMFIP_NOBODY) then fail("body events not negotiated away") end
mt.echo("ok - NOBODY requested (no body rules)")
if not mt.test_option(conn, SMFIP_NR_CONN) then fail("connect without reply not requested") end
mt.echo("ok - NR_CONN requested")
if mt.test_option(conn, SMFIP_NOHDRS) then fail("headers negotiated away although a rule needs them") end
mt.echo("ok - headers kept (a rule matches Subject)")

if mt.conninfo(conn, "client.example", "198.51.100.7") ~= nil then fail("conninfo") end
if mt.helo(conn, "client.example") ~= nil then fail("helo") end
if mt.mailfrom(conn, "<sender@example.org>") ~= nil then fail("mailfrom") end
expect(conn, SMFIR_CONTINUE, "MAIL from an ordinary sender continues")
if mt.rcptto(conn, "<x@blocked.example>") ~= nil then fail("rcptto") end
expect(conn, SMFIR_REPLYCODE, "RCPT to a blocked domain is rejected with a reply")
if mt.rcptto(conn, "<ok@example.net>") ~= nil then fail("rcptto 2") end
expect(conn, SMFIR_CONTINUE, "the next recipient is unaffected")
if mt.rcptto(conn, "<multi@example.net>") ~= nil then fail("rcptto 3") end
expect(conn, SMFIR_REPLYCODE, "multi-line reject at RCPT")

-- a recipient Postfix rejected itself: observed, never answered with a verdict
mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", "error", "{rcpt_host}", "5.1.1",
         "{rcpt_addr}", "Recipient address rejected: User unknown in local recipient table")
if mt.rcptto(conn, "<nobody@blocked.example>") ~= nil then fail("rcptto rejected") end
expect(conn, SMFIR_CONTINUE, "MTA-rejected recipient is only observed")
mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", "local")

if mt.header(conn, "Subject", "Cheap pills today") ~= nil then fail("header") end
if mt.eom(conn) ~= nil then fail("eom") end
if not mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1", "This message looks like spam and was refused.") then
    fail("end-of-message reply text")
end
mt.echo("ok - end-of-message reject with the rule's exact text")
mt.disconnect(conn)

-- session 2: tempfail at MAIL with a sender-derived text
conn = mt.connect("unix:" .. SOCKET, 50, 0.1)
if conn == nil then fail("reconnect") end
mt.negotiate(conn, nil, nil, nil)
mt.conninfo(conn, "client.example", "198.51.100.8")
mt.mailfrom(conn, "<slow@example.org>")
expect(conn, SMFIR_REPLYCODE, "MAIL from slow@ gets a tempfail reply")
mt.disconnect(conn)

-- session 3: connect-stage decision is applied at MAIL (not at connect)
conn = mt.connect("unix:" .. SOCKET, 50, 0.1)
if conn == nil then fail("reconnect 3") end
mt.negotiate(conn, nil, nil, nil)
mt.conninfo(conn, "bad.example", "192.0.2.55")
mt.helo(conn, "bad.example")
mt.mailfrom(conn, "<sender@example.org>")
expect(conn, SMFIR_REPLYCODE, "connect-stage reject applied at MAIL")
mt.disconnect(conn)

-- session 4: a clean message goes through
conn = mt.connect("unix:" .. SOCKET, 50, 0.1)
mt.negotiate(conn, nil, nil, nil)
mt.conninfo(conn, "client.example", "198.51.100.9")
mt.mailfrom(conn, "<sender@example.org>")
mt.rcptto(conn, "<ok@example.net>")
mt.header(conn, "Subject", "Hello")
mt.eom(conn)
expect(conn, SMFIR_CONTINUE, "a clean message is accepted")
mt.disconnect(conn)
mt.echo("protocol.lua: all checks passed")
