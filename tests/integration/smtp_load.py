#!/usr/bin/env python3
"""smtp_load.py HOST PORT SESSIONS MESSAGES_PER_SESSION CONCURRENCY

A load client for the integration tests: runs SESSIONS SMTP sessions,
CONCURRENCY at a time, each sending MESSAGES_PER_SESSION messages with a mix
of recipients (accepted, refused by milter-reword at RCPT, refused by
Postfix, tempfailed) and subjects (clean, refused at end of message).
Every reply line is checked for well-formedness: a 3-digit code, the same
code on every line of a multi-line reply, an enhanced code (when present)
whose class equals the code's first digit, no stray control characters.
Prints one JSON object with the counts; exit 1 on any protocol error or
malformed reply."""
import asyncio
import json
import re
import sys

HOST, PORT = sys.argv[1], int(sys.argv[2])
SESSIONS, PER, CONC = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
LINE = re.compile(r"^([2-5][0-9][0-9])([ -])(?:([245])\.[0-9]{1,3}\.[0-9]{1,3} )?[\x20-\x7e]*$")
stats = {"sessions": 0, "messages": 0, "accepted": 0, "rejected": 0, "deferred": 0,
         "rcpt_refused": 0, "rcpt_tempfail": 0, "malformed": 0, "protocol_errors": 0, "errors": []}


def bad(msg):
    stats["malformed"] += 1
    if len(stats["errors"]) < 10:
        stats["errors"].append(msg)


async def reply(r):
    lines = []
    while True:
        raw = await asyncio.wait_for(r.readline(), 60)
        if not raw:
            raise ConnectionError("connection closed")
        line = raw.decode("latin-1").rstrip("\r\n")
        m = LINE.match(line)
        if not m:
            bad(line)
        elif m.group(3) and m.group(3) != m.group(1)[0]:
            bad("class mismatch: " + line)
        elif lines and line[:3] != lines[0][:3]:
            bad("multi-line code changed: " + line)
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return int(line[:3]) if line[:3].isdigit() else 0, lines


async def cmd(r, w, text):
    w.write(text.encode() + b"\r\n")
    await w.drain()
    return await reply(r)


async def session(n, sem):
    async with sem:
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(HOST, PORT), 30)
            await reply(r)
            await cmd(r, w, "EHLO load.example")
            for k in range(PER):
                i = n * PER + k
                stats["messages"] += 1
                code, _ = await cmd(r, w, f"MAIL FROM:<sender{i}@example.org>")
                if code >= 400:
                    stats["deferred" if code < 500 else "rejected"] += 1
                    continue
                ok_rcpts = 0
                for rcpt in ("alice@local.test", f"blocked{i % 3}@local.test" if i % 4 == 0 else None,
                             "nobody@local.test" if i % 5 == 0 else None,
                             "later@local.test" if i % 7 == 0 else None):
                    if rcpt is None:
                        continue
                    code, _ = await cmd(r, w, f"RCPT TO:<{rcpt}>")
                    if code == 250:
                        ok_rcpts += 1
                    elif code >= 500:
                        stats["rcpt_refused"] += 1
                    else:
                        stats["rcpt_tempfail"] += 1
                if ok_rcpts == 0:
                    await cmd(r, w, "RSET")
                    stats["deferred"] += 1
                    continue
                code, _ = await cmd(r, w, "DATA")
                if code != 354:
                    stats["deferred" if code < 500 else "rejected"] += 1
                    await cmd(r, w, "RSET")
                    continue
                subject = "cheap pills" if i % 6 == 0 else f"hello {i}"
                w.write(f"Subject: {subject}\r\nFrom: <sender{i}@example.org>\r\n\r\nbody {i}\r\n.\r\n".encode())
                await w.drain()
                code, _ = await reply(r)
                if code == 250:
                    stats["accepted"] += 1
                elif code >= 500:
                    stats["rejected"] += 1
                else:
                    stats["deferred"] += 1
            await cmd(r, w, "QUIT")
            w.close()
            stats["sessions"] += 1
        except Exception as e:
            stats["protocol_errors"] += 1
            if len(stats["errors"]) < 10:
                stats["errors"].append(f"session {n}: {e!r}")


async def main():
    sem = asyncio.Semaphore(CONC)
    await asyncio.gather(*(session(n, sem) for n in range(SESSIONS)))


asyncio.run(main())
print(json.dumps(stats))
sys.exit(1 if stats["malformed"] or stats["protocol_errors"] else 0)
