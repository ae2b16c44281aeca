#!/usr/bin/env python3
"""hold_sessions.py HOST PORT N - open N SMTP sessions at once, bring each
through EHLO, MAIL FROM and RCPT TO (so each has a milter connection that
has seen those events), hold them all for a few seconds, then QUIT.  Prints
held=<sessions whose RCPT got 250>.  Bounded: 60 s overall."""
import asyncio
import sys


async def session(host, port, ready, release):
    try:
        r, w = await asyncio.open_connection(host, port)

        async def reply():
            while True:
                line = await r.readline()
                if not line or line[3:4] != b"-":
                    return line

        await reply()
        for cmd in (b"EHLO bench.example", b"MAIL FROM:<sender@example.org>", b"RCPT TO:<alice@local.test>"):
            w.write(cmd + b"\r\n")
            await w.drain()
            last = await reply()
        ok = last.startswith(b"250")
        ready.append(ok)
        await release.wait()
        w.write(b"QUIT\r\n")
        await w.drain()
        await reply()
        w.close()
        return ok
    except Exception:
        ready.append(False)
        return False


async def main():
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ready, release = [], asyncio.Event()
    tasks = [asyncio.create_task(session(host, port, ready, release)) for _ in range(n)]
    for _ in range(400):
        if len(ready) >= n:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)
    release.set()
    results = await asyncio.wait_for(asyncio.gather(*tasks), 30)
    print("held=%d" % sum(1 for x in results if x))


asyncio.run(main())
