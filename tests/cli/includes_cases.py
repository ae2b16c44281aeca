#!/usr/bin/env python3
"""CLI tests of rule files on disk: unreadable, missing, odd and unsafe (see includes.sh)."""
import os
import shutil
import sys
import tempfile

from clitest import check, finish
import clitest

REWORD, SRCDIR = sys.argv[1], sys.argv[2]
DAEMON = os.path.join(os.path.dirname(REWORD), "milter-reword")


def run(*args, prog=REWORD):
    """(exit status, stdout and stderr together)"""
    rc, out, err = clitest.run(prog, *args)
    return rc, out + err


# a base every user may enter, so that "only root can read X" is about X
base = tempfile.mkdtemp()
os.chmod(base, 0o755)


def lab(name):
    """A fresh config dir: main.conf includes rules.d/*.conf, one rule there."""
    d = os.path.join(base, name)
    os.makedirs(os.path.join(d, "rules.d"))
    os.chmod(d, 0o755)
    os.chmod(os.path.join(d, "rules.d"), 0o755)
    main = os.path.join(d, "main.conf")
    with open(main, "w") as f:
        f.write('include = [ "rules.d/*.conf" ];\nrules = ( { name = "own"; when = { code = 550; }; } );\n')
    with open(os.path.join(d, "rules.d", "a.conf"), "w") as f:
        f.write('rules = ( { name = "a"; when = { code = 551; }; } );\n')
    os.chmod(main, 0o644)
    os.chmod(os.path.join(d, "rules.d", "a.conf"), 0o644)
    return d, main


def has(out, *words):
    return any(all(w in l for w in words) for l in out.splitlines())


# --- baseline: all readable, a glob in an empty readable dir is fine ---
d, main = lab("ok")
rc, out = run("check", "-c", main, "--strict")
check("readable files: clean", rc == 0 and "error:" not in out and "warning:" not in out, out)
os.unlink(os.path.join(d, "rules.d", "a.conf"))
rc, out = run("check", "-c", main, "--strict")
check("a glob matching nothing in a readable directory is fine", rc == 0, out)

# --- the glob's directory is missing / a file / a symlink loop ---
d, main = lab("missing-dir")
shutil.rmtree(os.path.join(d, "rules.d"))
rc, out = run("check", "-c", main)
check("a glob directory that does not exist matches nothing (no rules to lose)",
      rc == 0 and "error:" not in out, out)
with open(os.path.join(d, "rules.d"), "w") as f:
    f.write("")
rc, out = run("check", "-c", main)
check("glob directory that is a file: include-failed, Not a directory",
      rc == 1 and has(out, "[include-failed]", d + "/rules.d", "Not a directory"), out)
os.unlink(os.path.join(d, "rules.d"))
os.symlink("rules.d", os.path.join(d, "rules.d"))
rc, out = run("check", "-c", main)
check("glob directory that is a symlink loop: include-failed, symbolic links",
      rc == 1 and has(out, "[include-failed]", d + "/rules.d", "symbolic links"), out)

# --- odd entries a glob matches ---
d, main = lab("dangling")
os.symlink("/nonexistent/x.conf", os.path.join(d, "rules.d", "b.conf"))
rc, out = run("check", "-c", main)
check("dangling symlink: include-failed naming it",
      rc == 1 and has(out, "[include-failed]", d + "/rules.d/b.conf", "symbolic link"), out)
d, main = lab("dir-as-file")
os.mkdir(os.path.join(d, "rules.d", "b.conf"))
rc, out = run("check", "-c", main)
check("a directory where a file is named: include-failed",
      rc == 1 and has(out, "[include-failed]", d + "/rules.d/b.conf", "a directory, not a file"), out)
d, main = lab("named-dir")
with open(main, "w") as f:
    f.write('include = [ "rules.d" ];\n')
rc, out = run("check", "-c", main)
check("a named include that is a directory: include-failed",
      rc == 1 and has(out, main + ":1:", "[include-failed]", "a directory, not a file"), out)
rc, out = run("check", "-c", os.path.join(d, "rules.d"))
check("the main file is a directory: include-failed", rc == 1 and has(out, "[include-failed]", "a directory"), out)
rc, out = run("check", "-c", os.path.join(d, "nonexistent.conf"))
check("the main file is missing: include-failed with the reason",
      rc == 1 and has(out, "[include-failed]", "nonexistent.conf", "No such file"), out)

# --- unsafe permissions ---
d, main = lab("world-writable")
a = os.path.join(d, "rules.d", "a.conf")
os.chmod(a, 0o666)
rc, out = run("check", "-c", main)
check("world-writable rule file: unsafe-permissions warning naming it",
      rc == 0 and has(out, "warning:", "[unsafe-permissions]", a, "every user"), out)
rc, out = run("check", "-c", main, "--strict")
check("... which --strict refuses", rc == 1, out)
os.chmod(a, 0o644)
os.chmod(os.path.join(d, "rules.d"), 0o777)
rc, out = run("check", "-c", main)
check("world-writable include directory: unsafe-permissions",
      has(out, "[unsafe-permissions]", "directory " + d + "/rules.d "), out)
os.chmod(os.path.join(d, "rules.d"), 0o1777)
rc, out = run("check", "-c", main)
check("... also with the sticky bit (anyone could add a matching file)",
      has(out, "[unsafe-permissions]", "directory " + d + "/rules.d "), out)
os.chmod(os.path.join(d, "rules.d"), 0o755)
os.chmod(main, 0o664)
os.chown(main, 0, 0)
rc, out = run("check", "-c", main, "--strict")
check("group-writable by root's group is fine", rc == 0, out)
if os.geteuid() == 0:
    import grp
    gid = grp.getgrnam("mail").gr_gid
    os.chown(main, 0, gid)
    rc, out = run("check", "-c", main)
    check("group-writable by group mail: unsafe-permissions naming the group",
          has(out, "[unsafe-permissions]", main, "group mail"), out)
    os.chown(main, 0, 0)
    os.chmod(main, 0o644)
    os.chown(a, 65534, 0)   # nobody
    rc, out = run("check", "-c", main)
    check("rule file owned by another user: unsafe-permissions",
          has(out, "[unsafe-permissions]", a, "belongs to user"), out)
    os.chown(a, 0, 0)

# --- readable by root only: the run-as user's view ---
if os.geteuid() == 0 and os.path.exists(DAEMON):
    d, main = lab("root-only-dir")
    os.chmod(os.path.join(d, "rules.d"), 0o700)
    rc, out = run("check", "-c", main)
    check("root can read a 0700 rules.d: check is clean", rc == 0, out)
    rc, out = run("-n", "-c", main, prog=DAEMON)
    check("milter-reword -n as root: OK", rc == 0 and "OK" in out, out)
    rc, out = run("-n", "-c", main, "-u", "nobody", prog=DAEMON)
    check("milter-reword -n -u nobody: fails, names the directory and the user",
          rc == 1 and has(out, "[include-failed]", d + "/rules.d", "Permission denied")
          and has(out, "NOT usable as user nobody"), out)
    sock = os.path.join(d, "s.sock")
    rc, out = run("-f", "-c", main, "-u", "nobody", "-p", "unix:" + sock, prog=DAEMON)
    check("daemon start as nobody: exits non-zero before the socket exists, naming dir and user",
          rc == 1 and not os.path.exists(sock) and has(out, d + "/rules.d", "Permission denied")
          and has(out, "user nobody cannot load"), out)
    with open(main, "a") as f:
        f.write('milter: { user = "nobody"; };\n')
    rc, out = run("-n", "-c", main, prog=DAEMON)
    check("milter-reword -n checks as the configured milter.user", rc == 1 and has(out, "as user nobody"), out)
    os.chmod(os.path.join(d, "rules.d"), 0o755)
    os.chmod(os.path.join(d, "rules.d", "a.conf"), 0o600)
    rc, out = run("-n", "-c", main, "-u", "nobody", prog=DAEMON)
    check("a rule file only root may read: -n -u nobody names it",
          rc == 1 and has(out, "[include-failed]", d + "/rules.d/a.conf", "Permission denied"), out)
    os.chmod(os.path.join(d, "rules.d", "a.conf"), 0o644)
    rc, out = run("-n", "-c", main, "-u", "nobody", prog=DAEMON)
    check("readable by nobody: -n -u nobody says OK as that user",
          rc == 0 and has(out, "OK as user nobody"), out)
else:
    print("# skipped: the run-as user checks need root and a built milter-reword")

# --- exclude and check -v: which packs are read, in what order ---
d, main = lab("exclude")
with open(os.path.join(d, "rules.d", "b.conf"), "w") as f:
    f.write('rules = ( { name = "b"; when = { code = 552; }; } );\n')
rc, out = run("check", "-v", "-c", main)
la, lb = out.find("rules.d/a.conf: 1 rule"), out.find("rules.d/b.conf: 1 rule")
check("check -v lists every file with its rule count, in evaluation order",
      rc == 0 and out.find("main.conf: 1 rule") < la < lb and la > 0, out)
check("check -v lists the rules", has(out, "1 own (line 2)") and has(out, "3 b (line 1)"), out)
with open(main, "a") as f:
    f.write('exclude = [ "b.conf" ];\n')
rc, out = run("check", "-v", "-c", main)
check("exclude leaves a pack out, and -v says so",
      rc == 0 and has(out, "rules.d/b.conf: left out (exclude \"b.conf\")") and not has(out, " b (line"), out)
with open(os.path.join(d, "bad-exclude.conf"), "w") as f:
    f.write('include = [ "rules.d/*.conf" ];\nexclude = 5;\n')
rc, out = run("check", "-c", os.path.join(d, "bad-exclude.conf"))
check("exclude of the wrong type: bad-type error at its line",
      rc == 1 and has(out, "bad-exclude.conf:2:", "error:", "[bad-type]", "exclude"), out)
rc, out = run("explain", "--json", "-c", main, "552 5.2.2 mailbox full")
check("an excluded pack's rules do not fire", rc == 0 and '"rule":null' in out, out)
with open(os.path.join(d, "rules.d", "a.conf"), "a") as f:
    f.write('exclude = [ "x" ];\n')
rc, out = run("check", "-c", main)
check("exclude in an included file: unknown-key warning", has(out, "[unknown-key]", "exclude"), out)

shutil.rmtree(base, ignore_errors=True)
sys.exit(finish("includes_cases"))
