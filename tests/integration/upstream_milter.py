#!/usr/bin/python3
"""upstream_milter.py - a scripted upstream milter for the proxy-mode tests.

A real libmilter milter (Debian's python3-milter) whose answers are chosen by
the SMTP session, so one instance covers every case of tests/integration/
t_proxy.sh.  Run it with /usr/bin/python3 (the module is Debian's).

  upstream_milter.py --socket inet:PORT@127.0.0.1 --log FILE [--name NAME]

Behaviour (bare = without setting a reply text, so the MTA's vague default
applies):
  HELO reject.helo.test       reject at HELO, bare; temp.helo.test: tempfail
  MAIL FROM bare-mail@...     reject at MAIL, bare
  RCPT TO bare-rcpt@...       reject, bare;   temp-rcpt@: tempfail, bare
          mismatch-rcpt@...   "550 4.7.1 Mismatched class from upstream" + reject
          code-rcpt@...       "554 5.7.1 Custom upstream text" + reject
          accept-rcpt@...     ACCEPT (no more events for this message)
          discard-rcpt@...    DISCARD
  header X-Test-Action: reject-header | reject-eoh | reject-body | reject-eom |
          tempfail-eom | discard | modify | progress | slow | quarantine |
          die | skip  (see eom() below)
Otherwise it continues and adds "X-Upstream-Seen: NAME" at end of message.
Every callback is logged as one line "callback args macros" to FILE.
"""
import argparse
import os
import sys
import time

import Milter

LOG = None
NAME = "tm"


def log(*parts):
    LOG.write(" ".join(str(p) for p in parts) + "\n")
    LOG.flush()


class Upstream(Milter.Base):
    def __init__(self):
        self.action = None
        self.rcpts = []

    def seen(self, *names):
        vals = []
        for n in names:
            v = self.getsymval(n)
            if v is not None:
                vals.append("%s=%s" % (n, v))
        return " ".join(vals)

    def connect(self, hostname, family, hostaddr):
        log("connect", hostname, hostaddr[0] if hostaddr else "-",
            self.seen("j", "{daemon_name}", "{client_addr}", "v"))
        return Milter.CONTINUE

    def hello(self, helo):
        log("helo", helo)
        if helo == "reject.helo.test":
            return Milter.REJECT
        if helo == "temp.helo.test":
            return Milter.TEMPFAIL
        return Milter.CONTINUE

    @Milter.symlist("{mail_addr}", "{mail_host}", "i", "{auth_type}", "{mail_mailer}")
    def envfrom(self, mailfrom, *args):
        self.action = None
        self.rcpts = []
        log("envfrom", mailfrom, self.seen("{mail_addr}", "{mail_host}", "i"))
        if mailfrom.strip("<>").startswith("bare-mail@"):
            return Milter.REJECT
        return Milter.CONTINUE

    def envrcpt(self, to, *args):
        log("envrcpt", to, self.seen("{rcpt_addr}", "{rcpt_mailer}"))
        local = to.strip("<>").split("@")[0]
        self.rcpts.append(to.strip("<>"))
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
        return Milter.CONTINUE

    def data(self):
        log("data")
        return Milter.CONTINUE

    def header(self, name, value):
        log("header", name, value)
        if name.lower() == "x-test-action":
            self.action = value.strip()
            if self.action == "reject-header":
                return Milter.REJECT
        return Milter.CONTINUE

    def eoh(self):
        log("eoh")
        return Milter.REJECT if self.action == "reject-eoh" else Milter.CONTINUE

    def body(self, chunk):
        log("body", len(chunk))
        if self.action == "reject-body":
            return Milter.REJECT
        if self.action == "skip":
            return Milter.SKIP
        return Milter.CONTINUE

    def eom(self):
        log("eom", self.action or "-", self.seen("i"))
        a = self.action
        if a == "reject-eom":
            return Milter.REJECT
        if a == "tempfail-eom":
            return Milter.TEMPFAIL
        if a == "discard":
            return Milter.DISCARD
        if a == "die":
            log("dying")
            os._exit(1)
        if a == "slow":
            time.sleep(float(os.environ.get("UPSTREAM_SLOW", "5")))
        if a == "progress":
            for _ in range(3):
                self.progress()
                time.sleep(0.3)
        if a == "quarantine":
            self.quarantine("held by the test upstream")
        if a == "modify":
            self.addheader("X-Upstream-Added", "yes")
            self.chgheader("Subject", 1, "Changed by upstream")
            self.addheader("X-Upstream-First", "1", 0)
            self.replacebody(b"Body replaced by upstream\r\n")
            dom = self.rcpts[0].split("@")[1] if self.rcpts else "local.test"
            self.addrcpt("<added@%s>" % dom)
            self.chgfrom("<changed-from@example.test>")
            for r in self.rcpts:
                if r.startswith("remove-me@"):
                    self.delrcpt("<%s>" % r)
        self.addheader("X-Upstream-Seen", NAME)
        return Milter.CONTINUE

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
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--name", default="tm")
    a = ap.parse_args()
    NAME = a.name
    LOG = open(a.log, "a")
    Milter.factory = Upstream
    Milter.set_flags(Milter.ADDHDRS | Milter.CHGHDRS | Milter.CHGBODY | Milter.ADDRCPT |
                     Milter.DELRCPT | Milter.CHGFROM | Milter.QUARANTINE | Milter.SETSYMLIST)
    log("start", a.name, a.socket)
    Milter.runmilter(a.name, a.socket, 60)
    log("stop")


if __name__ == "__main__":
    sys.exit(main())
