"""clitest.py - what the CLI test scripts (*_cases.py) share: one "ok -" or
"not ok -" line per check, the summary line with the exit status, and
running a program with its output captured."""
import subprocess

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name} {detail}")


def run(prog, *args, stdin=None, timeout=60):
    """(exit status, stdout, stderr) of prog; undecodable bytes replaced."""
    p = subprocess.run([prog, *args], input=stdin, capture_output=True, text=True,
                       errors="replace", timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def finish(label):
    """Prints the summary line; the exit status for sys.exit."""
    print(f"{label}: {passed} passed, {failed} failed")
    return 1 if failed else 0
