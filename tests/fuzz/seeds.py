#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/
from the project's own test fixtures (run from anywhere; `make fuzz-seeds`).

  reply     reply strings from tests/unit/test_reply.c, test_validate.c,
            test_sanitize.c, test_engine.c and tests/cli/explain_cases.py
            (every string literal that holds a basic or enhanced code)
  template  templates ("%{...}" texts) from conf/rules.d/*.conf and
            tests/unit/test_template.c, each with ordinary and with hostile
            session values (NUL-separated fields, see fuzz_template.c)
  config    tests/data/rules/**/*.conf, tests/data/milter/*.conf,
            conf/rules.d/*.conf, conf/milter-reword.conf and the rule
            files written inline in tests/unit/test_config.c and
            test_engine.c; each alone and with two sets of session facts
            appended (NUL-separated fields, see fuzz_config.c)
  proxy     milter protocol packets written here (encoded as in
            milter/core/proto/milter_codec.c): an MTA's side of a whole session, a
            milter's replies and modification requests, each connect family,
            and a few broken streams (truncated, length 0, over the limit);
            each behind the 3-byte prefix of fuzz_proxy.c (max, split point)

`seeds.py TARGET...` writes only those targets' corpora.

File names are the SHA-1 of the content, so running it again adds nothing
twice; files it no longer produces are removed.
"""
import glob
import ast
import hashlib
import os
import re
import struct
import sys

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(SRC, "tests", "fuzz", "corpus")


def c_strings(path):
    """Every C string literal of a file as bytes, adjacent literals joined."""
    text = open(path, "rb").read()
    out, i, n = [], 0, len(text)
    cur = None                      # the literal being joined, or None
    while i < n:
        c = text[i:i + 1]
        if text.startswith(b"/*", i):
            e = text.find(b"*/", i + 2)
            i = n if e < 0 else e + 2
        elif text.startswith(b"//", i):
            e = text.find(b"\n", i)
            i = n if e < 0 else e
        elif c == b"'":             # character literal
            i += 1
            while i < n and text[i:i + 1] != b"'":
                i += 2 if text[i:i + 1] == b"\\" else 1
            i += 1
        elif c == b'"':
            s, i = c_literal(text, i + 1)
            cur = s if cur is None else cur + s
        elif c in b" \t\r\n":
            i += 1
        else:
            if cur is not None:
                out.append(cur)
                cur = None
            i += 1
    if cur is not None:
        out.append(cur)
    return out


def c_literal(text, i):
    """Decodes the C string literal starting after its opening quote."""
    b = bytearray()
    n = len(text)
    simple = {b"n": 10, b"r": 13, b"t": 9, b"v": 11, b"f": 12, b"a": 7, b"b": 8,
              b"\\": 92, b'"': 34, b"'": 39, b"?": 63, b"e": 27}
    while i < n and text[i:i + 1] != b'"':
        c = text[i:i + 1]
        if c != b"\\":
            b += c
            i += 1
            continue
        e = text[i + 1:i + 2]
        i += 2
        if e in simple:
            b.append(simple[e])
        elif e == b"x":
            j = i
            while j < n and text[j:j + 1] in b"0123456789abcdefABCDEF" and text[j:j + 1]:
                j += 1
            b.append(int(text[i:j] or b"0", 16) & 0xFF)
            i = j
        elif e.isdigit():
            j = i - 1
            while j < i + 2 and j < n and text[j:j + 1] in b"01234567" and text[j:j + 1]:
                j += 1
            b.append(int(text[i - 1:j], 8) & 0xFF)
            i = j
        elif e == b"\n":
            pass
        else:
            b += e
    return bytes(b), i + 1


def py_strings(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    return [n.value.encode("utf-8") for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)]


REPLY_RE = re.compile(rb"(^|[\s;:'\"(<#=,`])([2-5]\d\d([\s-]|$)|#?[245]\.\d{1,4}\.\d{1,4})")


def looks_like_reply(s):
    return 0 < len(s) <= 8192 and REPLY_RE.search(s) is not None and b"%s" not in s \
        and b"%d" not in s and b"%zu" not in s


def write(target, seeds):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    names = set()
    for s in seeds:
        name = hashlib.sha1(s).hexdigest()
        names.add(name)
        p = os.path.join(d, name)
        if not os.path.exists(p):
            with open(p, "wb") as f:
                f.write(s)
    for old in os.listdir(d):
        if old not in names:
            os.remove(os.path.join(d, old))
    print(f"{target}: {len(names)} seeds in {os.path.relpath(d, SRC)}")


def unit(name):
    return os.path.join(SRC, "tests", "unit", name)


def reply_seeds():
    seeds = set()
    for f in ("test_reply.c", "test_validate.c", "test_sanitize.c", "test_engine.c"):
        seeds.update(s for s in c_strings(unit(f)) if looks_like_reply(s))
    seeds.update(s for s in py_strings(os.path.join(SRC, "tests", "cli", "explain_cases.py"))
                 if looks_like_reply(s))
    return seeds


VALUES_PLAIN = [b"bob@example.net", b"alice@example.org", b"mail.example.org", b"192.0.2.1",
                b"mail.example.org", b"550", b"5.1.1", b"User unknown in local recipient table",
                b"The recipient's mailbox does not exist.", b"4XyZ1", b"unknown-user",
                b"alice", b"mx.example.net"]
VALUES_HOSTILE = [b"a\r\n250 2.0.0 ok\"@x.example", b"%s%n%%%{rcpt}@\xff\xfe",
                  b"A" * 1200, b"2001:db8::1\x00", b"h\xc2\x85\x1b[31m", b"599",
                  b"5.01.1", b"x" * 300 + b"\r\n550 5.7.1 injected", b"\xe2\x82\xac" * 100,
                  b"Q%", b"r\tu\vl\fe", b"\xed\xa0\x80\xf4\x90\x80\x80", b"%%%%"]


def template_seeds():
    temps = set()
    for line in b"".join(open(p, "rb").read() for p in sorted(glob.glob(os.path.join(SRC, "conf", "rules.d", "*.conf")))).splitlines(True):
        for m in re.finditer(rb'(?:text|footer)\s*=\s*"((?:[^"\\]|\\.)*)"', line):
            temps.add(m.group(1).replace(b'\\"', b'"').replace(b"\\\\", b"\\"))
    temps.update(s for s in c_strings(unit("test_template.c")) if b"%" in s and len(s) < 4096)
    seeds = set()
    for t in sorted(temps):
        seeds.add(b"\x00".join([t] + VALUES_PLAIN))
    for t in sorted(temps)[:20]:
        seeds.add(b"\x00".join([t] + [v.replace(b"\x00", b"") for v in VALUES_HOSTILE]))
    return seeds


FACTS = [
    # reply, stage (chr(stage)), source, client_addr, client_name, helo, sender, rcpt,
    # queue_id, auth_login, macro value, header name, header value
    [b"550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown", b"\x03",
     b"mta", b"192.0.2.1", b"mail.example.org", b"mail.example.org", b"alice@example.org",
     b"bob@blocked.example", b"4XyZ1", b"", b"", b"Subject", b"hello"],
    [b"451 4.7.1 Service unavailable - try again later", b"\x01", b"self",
     b"2001:db8::25", b"unknown", b"x\r\n250 ok", b"a%n@example.org", b"a@example.net",
     b"Q%", b"alice", b"\xff\xfe", b"X-Spam-Flag", b"YES"],
]


def config_texts():
    texts = set()
    for root, _dirs, files in os.walk(os.path.join(SRC, "tests", "data")):
        for f in files:
            if f.endswith(".conf"):
                texts.add(open(os.path.join(root, f), "rb").read())
    for p in sorted(glob.glob(os.path.join(SRC, "conf", "rules.d", "*.conf"))):
        texts.add(open(p, "rb").read())
    main = open(os.path.join(SRC, "conf", "milter-reword.conf"), "rb").read()
    # resolved in the fuzzer's sandbox (see fuzz_config.c), not in /etc
    texts.add(main.replace(b'"rules.d/*.conf"', b'"*.conf"'))
    for f in ("test_config.c", "test_engine.c", "test_defaults.c", "test_footer.c"):
        if os.path.exists(unit(f)):
            texts.update(s for s in c_strings(unit(f))
                         if re.search(rb"\b(rules|milter|audit|include|upstreams)\s*[=:]", s))
    # absolute or parent-directory includes are skipped by the fuzzer anyway
    return {t for t in texts if b"\x00" not in t}


def config_seeds():
    seeds = set()
    for t in config_texts():
        seeds.add(t)
        for facts in FACTS:
            seeds.add(b"\x00".join([t] + facts))
    return seeds


def pkt(cmd, data=b""):
    """One milter packet: uint32 length (1 + data), command byte, data."""
    return struct.pack(">I", len(data) + 1) + cmd + data


def strings(*v):
    return b"".join(s + b"\x00" for s in v)


def connect(host, family, port=0, addr=None):
    d = host + b"\x00" + family
    if family != b"U":
        d += struct.pack(">H", port) + addr + b"\x00"
    return pkt(b"C", d)


def optneg(version, actions, proto, macros=()):
    d = struct.pack(">III", version, actions, proto)
    for stage, names in macros:
        d += struct.pack(">I", stage) + names + b"\x00"
    return pkt(b"O", d)


def macros(stage, *pairs):
    return pkt(b"D", stage + strings(*pairs))


def indexed(cmd, index, name, value):
    return pkt(cmd, struct.pack(">I", index) + strings(name, value))


def proxy_seeds():
    mta = [
        optneg(6, 0x1FF, 0x1FFFFF),
        macros(b"C", b"j", b"mx.example.org", b"{daemon_name}", b"smtpd", b"v",
               b"Postfix 3.7.11", b"_", b"client.example [192.0.2.1]"),
        connect(b"client.example", b"4", 49152, b"192.0.2.1"),
        macros(b"H", b"{tls_version}", b"TLSv1.3", b"{cipher}", b"TLS_AES_256_GCM_SHA384"),
        pkt(b"H", strings(b"client.example")),
        macros(b"M", b"i", b"4XyZ1", b"{auth_type}", b"", b"{mail_addr}", b"alice@example.org"),
        pkt(b"M", strings(b"<alice@example.org>", b"SIZE=1024", b"BODY=8BITMIME")),
        macros(b"R", b"i", b"4XyZ1", b"{rcpt_addr}", b"bob@example.net"),
        pkt(b"R", strings(b"<bob@example.net>")),
        pkt(b"T"),
        pkt(b"L", strings(b"Subject", b" hello")),
        pkt(b"L", strings(b"From", b" Alice <alice@example.org>")),
        pkt(b"N"),
        pkt(b"B", b"Hello Bob,\r\n\r\nsee you.\r\n"),
        macros(b"E", b"i", b"4XyZ1"),
        pkt(b"E"),
        pkt(b"A"),
        pkt(b"U", strings(b"XYZZY plugh")),
        pkt(b"K"),
        pkt(b"Q"),
    ]
    milter = [
        optneg(6, 0x1FF, 0x1FFFFF & ~0x3F, [(0, b"j {daemon_name} _"), (2, b"i {auth_type}"),
                                             (3, b"{rcpt_addr}"), (5, b"i"), (6, b"")]),
        pkt(b"c"),
        pkt(b"p"),
        pkt(b"h", strings(b"X-Spam-Flag", b"YES")),
        indexed(b"m", 1, b"Subject", b" [SPAM] hello"),
        indexed(b"m", 2, b"X-Old", b""),
        indexed(b"i", 0, b"Received", b" by filter"),
        pkt(b"+", strings(b"<archive@example.org>")),
        pkt(b"2", strings(b"<archive@example.org>", b"NOTIFY=NEVER")),
        pkt(b"-", strings(b"<bob@example.net>")),
        pkt(b"e", strings(b"<bounce@example.org>", b"SIZE=100")),
        pkt(b"q", strings(b"held for review")),
        pkt(b"b", b"replaced body\r\n"),
        pkt(b"l", struct.pack(">I", 3) + strings(b"{rcpt_addr} i")),
        pkt(b"y", strings(b"550 5.7.1 Spam refused")),
        pkt(b"y", strings(b"451-4.7.1 Try later\r\n451 4.7.1 Greylisted")),
        pkt(b"a"), pkt(b"r"), pkt(b"t"), pkt(b"s"), pkt(b"d"), pkt(b"f"), pkt(b"4"),
    ]
    connects = [
        connect(b"[2001:db8::25]", b"6", 25, b"2001:db8::25"),
        connect(b"localhost", b"L", 0, b"/var/run/smtp.sock"),
        connect(b"unknown", b"U"),
        connect(b"bad", b"4", 25, b"192.0.2.256"),
        connect(b"bad", b"6", 25, b"IPv6:2001:db8::1"),
        pkt(b"C", b"h\x00X\x00\x19192.0.2.1\x00"),
    ]
    broken = [
        b"".join(mta[:3])[:-4],                          # cut inside the connect
        struct.pack(">I", 0) + b"O",                     # length 0
        struct.pack(">I", 1024 * 1024 + 2) + b"B",       # data over MP_MAX_DATA
        struct.pack(">I", 0xFFFFFFFF) + b"B",
        pkt(b"m", struct.pack(">I", 1) + b"Subject\x00x"),   # value without NUL
        pkt(b"O", struct.pack(">III", 6, 0, 0) + struct.pack(">I", 7) + b"i\x00"),
        pkt(b"O", struct.pack(">III", 6, 0, 0) + struct.pack(">I", 1) + b"i\x00"
            + struct.pack(">I", 1) + b"j\x00"),
    ]
    seeds = set()

    def add(stream, max_sel=0, split=None):
        if split is None:
            split = len(stream) // 2
        seeds.add(bytes([max_sel]) + struct.pack(">H", split & 0xFFFF) + stream)

    session = b"".join(mta)
    add(session)
    add(session, 255, 7)
    add(b"".join(milter))
    add(b"".join(milter), 0, 3)
    add(b"".join(connects))
    for p in mta + milter + connects + broken:
        add(p)
    add(b"".join(mta[:6]), 3)                              # max 16: optneg ok, macros bad
    add(b"".join(milter[:4]), 1, 5)                        # max 0: only empty packets
    return seeds


TARGETS = {"reply": reply_seeds, "template": template_seeds, "config": config_seeds,
           "proxy": proxy_seeds}


def main():
    names = sys.argv[1:] or list(TARGETS)
    for name in names:
        if name not in TARGETS:
            print(f"seeds.py: unknown target {name}; targets: {' '.join(TARGETS)}",
                  file=sys.stderr)
            return 2
        write(name, TARGETS[name]())
    return 0


if __name__ == "__main__":
    sys.exit(main())
