#!/usr/bin/python3
"""upstream_milter.py - a scripted upstream milter for the proxy-mode tests.

A real libmilter milter (Debian's python3-milter) whose answers are chosen by
the SMTP session, so one instance covers every case of the proxy tests
(tests/integration/t_proxy.sh, t_upstreams_direct.sh).  Run it with
/usr/bin/python3 (the module is Debian's, not in pyenv):

  upstream_milter.py --socket inet:PORT@127.0.0.1|unix:PATH --log FILE [--name NAME]

Behaviour ("bare" = without setting a reply text, so the MTA's vague default
applies: Postfix "550 5.7.1 Command rejected" / "451 4.7.1 Service
unavailable - try again later"):
  HELO reject.helo.test       reject at HELO, bare; temp.helo.test: tempfail
  MAIL FROM bare-mail@...     reject at MAIL, bare
  RCPT TO bare-rcpt@...       reject, bare;   temp-rcpt@: tempfail, bare
          mismatch-rcpt@...   "550 4.7.1 Mismatched class from upstream" + reject
          code-rcpt@...       "554 5.7.1 Custom upstream text" + reject
          accept-rcpt@...     ACCEPT (no more events for this message)
          discard-rcpt@...    DISCARD
  header X-Test-Action: VALUE
          reject-header | reject-eoh | reject-body   reject (bare) in that callback
          reject-eom | tempfail-eom | discard        at end of message (bare)
          modify      at EOM: add X-Upstream-Added: yes, Subject -> "Changed by
                      upstream", insert X-Upstream-First: 1 at the top, replace
                      the body, add added@<first recipient's domain>, change
                      the sender to changed-from@example.test, delete
                      remove-me@... recipients
          progress    3 x progress() 0.3 s apart, then continue
          slow [S]    sleep S seconds (default $UPSTREAM_SLOW of the milter's
                      environment, else 5) at EOM, then continue
          quarantine  quarantine ("held by the test upstream NAME")
          die         os._exit(1) at EOM: the upstream dies mid-session
          skip        SKIP from the first body callback (negotiated SMFIP_SKIP)
Otherwise it continues and adds "X-Upstream-Seen: NAME" at end of message.

The log gets one line per callback, flushed at once: the callback, its
arguments as key=value or <address>, then "NAME=VALUE" for every macro of
that stage that the MTA sent (sorted, empty values shown as NAME=), e.g.
  negotiate offered=0x1ff/0x1fffff actions=0x17f protocol=0x400
  connect host=localhost addr=127.0.0.1 j=test.example {client_addr}=127.0.0.1 ...
  envfrom <a@example.org> {mail_addr}=a@example.org {mail_host}=example.org i=
  eom action=modify i=4Xc9Qz1Fz2z9
Macros asked for with setsymlist (in negotiate(); python-milter allows 5
per stage): connect "j {daemon_name} {client_addr} {client_port} v" and MAIL
"{mail_addr} {mail_host} i {auth_type} {mail_mailer}"; {client_addr} and
{client_port} are not in Postfix's default lists, so seeing them proves the
request reached the MTA.
"""
import argparse
import os
import sys
import time

import Milter

LOG = None
NAME = "tm"
# Actions this milter uses; negotiate() asks for exactly these (those offered).
ACTIONS = (Milter.ADDHDRS | Milter.CHGHDRS | Milter.CHGBODY | Milter.ADDRCPT | Milter.DELRCPT |
           Milter.CHGFROM | Milter.QUARANTINE | Milter.SETSYMLIST)
# Macros asked for with setsymlist (at most 5 per stage, says python-milter).
SYMLISTS = {
    Milter.M_CONNECT: ["j", "{daemon_name}", "{client_addr}", "{client_port}", "v"],
    Milter.M_ENVFROM: ["{mail_addr}", "{mail_host}", "i", "{auth_type}", "{mail_mailer}"],
}
# Macros logged per callback: the connect and MAIL lists asked for below and
# Postfix's defaults (postconf milter_*_macros).
MACROS = {
    "connect": ["j", "{daemon_name}", "{daemon_addr}", "{client_addr}", "{client_port}", "v", "_"],
    "helo": ["{tls_version}", "{cipher}", "{cert_subject}"],
    "envfrom": ["{mail_addr}", "{mail_host}", "{mail_mailer}", "{auth_type}", "i"],
    "envrcpt": ["{rcpt_addr}", "{rcpt_host}", "{rcpt_mailer}", "i"],
    "data": ["i"], "eoh": ["i"], "eom": ["i"],
}


def log(*parts):
    LOG.write(" ".join(str(p) for p in parts if p != "") + "\n")
    LOG.flush()


class Upstream(Milter.Base):
    def __init__(self):
        self.action = None
        self.rcpts = []
        self.skipped = False

    def macros(self, stage):
        out = []
        for n in MACROS[stage]:
            v = self.getsymval(n)
            if v is not None:
                out.append("%s=%s" % (n, v))
        return " ".join(out)

    def negotiate(self, opts):
        # Milter.Base.negotiate() would apply @Milter.symlist, but python3-milter
        # 1.0.5 passes the list to the C module as bytes, which raises TypeError
        # inside negotiate(); it then answers SMFIS_ALL_OPTS and no macro list
        # is sent.  So the lists are set here, as str.
        offered = "0x%x/0x%x" % (opts[0], opts[1])
        self._actions = opts[0] & ACTIONS
        if self._actions & Milter.SETSYMLIST:
            for stage, syms in SYMLISTS.items():
                self._ctx.setsymlist(stage, " ".join(syms))
        # protocol: every event with its reply (no SMFIP_NO*/NR_*), SKIP if offered
        self._protocol = opts[1] & ~self.protocol_mask()
        opts[:] = [self._actions, self._protocol, 0, 0]
        log("negotiate", "offered=" + offered, "actions=0x%x" % opts[0], "protocol=0x%x" % opts[1])
        return Milter.CONTINUE

    def connect(self, hostname, family, hostaddr):
        addr = hostaddr[0] if isinstance(hostaddr, tuple) else hostaddr
        log("connect", "host=%s" % hostname, "addr=%s" % addr, self.macros("connect"))
        return Milter.CONTINUE

    def hello(self, helo):
        log("helo", helo, self.macros("helo"))
        if helo == "reject.helo.test":
            return Milter.REJECT
        if helo == "temp.helo.test":
            return Milter.TEMPFAIL
        return Milter.CONTINUE

    def envfrom(self, mailfrom, *params):
        self.action, self.rcpts, self.skipped = None, [], False
        log("envfrom", mailfrom, " ".join(params), self.macros("envfrom"))
        if mailfrom.strip("<>").split("@")[0] == "bare-mail":
            return Milter.REJECT
        return Milter.CONTINUE

    def envrcpt(self, to, *params):
        log("envrcpt", to, " ".join(params), self.macros("envrcpt"))
        addr = to.strip("<>")
        local = addr.split("@")[0]
        if local == "bare-rcpt":
            return Milter.REJECT
        if local == "temp-rcpt":
            return Milter.TEMPFAIL
        if local == "mismatch-rcpt":
            self.setreply("550", "4.7.1", "Mismatched class from upstream")
            return Milter.REJECT
        if local == "code-rcpt":
            self.setreply("554", "5.7.1", "Custom upstream text")
            return Milter.REJECT
        if local == "accept-rcpt":
            return Milter.ACCEPT
        if local == "discard-rcpt":
            return Milter.DISCARD
        self.rcpts.append(addr)
        return Milter.CONTINUE

    def data(self):
        log("data", self.macros("data"))
        return Milter.CONTINUE

    def header(self, name, value):
        log("header", "%s: %s" % (name, value))
        if name.lower() == "x-test-action":
            self.action = value.strip()
            if self.action == "reject-header":
                return Milter.REJECT
        return Milter.CONTINUE

    def eoh(self):
        log("eoh", self.macros("eoh"))
        return Milter.REJECT if self.action == "reject-eoh" else Milter.CONTINUE

    def body(self, chunk):
        log("body", "len=%d" % len(chunk))
        if self.action == "reject-body":
            return Milter.REJECT
        if self.action == "skip" and self._protocol & Milter.P_SKIP:
            self.skipped = True
            return Milter.SKIP
        return Milter.CONTINUE

    def eom(self):
        a = (self.action or "-").split()
        log("eom", "action=%s" % " ".join(a), self.macros("eom"))
        if a[0] == "reject-eom":
            return Milter.REJECT
        if a[0] == "tempfail-eom":
            return Milter.TEMPFAIL
        if a[0] == "discard":
            return Milter.DISCARD
        if a[0] == "die":
            log("dying")
            os._exit(1)
        if a[0] == "slow":
            secs = float(a[1]) if len(a) > 1 else float(os.environ.get("UPSTREAM_SLOW", "5"))
            time.sleep(secs)
            log("slept", secs)
        if a[0] == "progress":
            for _ in range(3):
                self.progress()
                time.sleep(0.3)
        if a[0] == "quarantine":
            self.quarantine("held by the test upstream " + NAME)
        if a[0] == "modify":
            self.modify()
        self.addheader("X-Upstream-Seen", NAME)
        return Milter.CONTINUE

    def modify(self):
        self.addheader("X-Upstream-Added", "yes")
        self.chgheader("Subject", 1, "Changed by upstream")
        self.addheader("X-Upstream-First", "1", 0)     # insheader at index 0
        self.replacebody(b"Body replaced by upstream\r\n")
        dom = self.rcpts[0].split("@")[-1] if self.rcpts else "local.test"
        self.addrcpt("<added@%s>" % dom)
        if self._actions & Milter.CHGFROM:
            self.chgfrom("<changed-from@example.test>")
        for r in self.rcpts:
            if r.split("@")[0] == "remove-me":
                self.delrcpt("<%s>" % r)
        log("modified", "added=added@" + dom)

    def abort(self):
        log("abort")
        return Milter.CONTINUE

    def unknown(self, cmd):
        log("unknown", cmd)
        return Milter.CONTINUE

    def close(self):
        log("close")
        return Milter.CONTINUE


def main():
    global LOG, NAME
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", required=True, help="inet:PORT@127.0.0.1 or unix:PATH")
    ap.add_argument("--log", required=True, help="callback log file (appended)")
    ap.add_argument("--name", default="tm")
    a = ap.parse_args()
    NAME = a.name
    LOG = open(a.log, "a")
    Milter.factory = Upstream
    Milter.set_flags(ACTIONS)
    log("start", a.name, a.socket, "pid=%d" % os.getpid())
    Milter.runmilter(a.name, a.socket, 60)
    log("stop")


if __name__ == "__main__":
    sys.exit(main())
