#!/usr/bin/env python3
"""subreaper.py CMD [ARGS...] - run CMD as a child and reap every orphan of it.

Used by tests/sendmail/lib.sh to start the private sendmail daemon. sendmail
delivers in a grandchild that outlives the SMTP session process which forked
it; the orphan is re-parented to the nearest "child subreaper", by default
pid 1, which on some machines reaps late, so finished deliveries showed up as
"[sendmail] <defunct>" for a while after the tests. Marked as subreaper
(prctl PR_SET_CHILD_SUBREAPER), this process adopts and reaps them at once.

It exits when no child is left (after sendmail stopped and every delivery it
started has finished), with CMD's exit status. It forwards nothing: signal
the daemon itself (its pid file).
"""
import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: subreaper.py CMD [ARGS...]\n")
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.stderr.write("subreaper.py: prctl failed (errno %d); orphans go to pid 1\n"
                         % ctypes.get_errno())
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(sys.argv[1], sys.argv[1:])
        finally:
            os._exit(127)
    status = 0
    while True:
        try:
            child, st = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if child == pid:
            status = os.waitstatus_to_exitcode(st)
            if status < 0:
                status = 128 - status
    return status


if __name__ == "__main__":
    sys.exit(main())
