#!/usr/bin/env python3
"""bad_upstream.py - upstream "milters" that break the protocol, for t_proxy.sh.

  bad_upstream.py PORT:MODE [PORT:MODE ...]

Each PORT on 127.0.0.1 speaks the start of the milter protocol and then
misbehaves in one way (MODE):
  oversize  answers the first event with a packet length of 2 GiB
  badcode   answers every event with a reply code "250 all fine" (not 4xx/5xx)
  garbage   answers every event with an unknown reply byte 'Z'
  overask   asks at negotiation for actions and steps nobody offered
The proxy must treat each as a failed upstream (on_failure), never trust
the length or pass the reply on.
"""
import socket
import struct
import sys
import threading


def read_packet(conn):
    head = b""
    while len(head) < 4:
        chunk = conn.recv(4 - len(head))
        if not chunk:
            return None, None
        head += chunk
    (n,) = struct.unpack("!I", head)
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None, None
        data += chunk
    return data[:1], data[1:]


def packet(cmd, data=b""):
    return struct.pack("!I", len(data) + 1) + cmd + data


def serve(conn, mode):
    with conn:
        while True:
            cmd, _ = read_packet(conn)
            if cmd is None or cmd == b"Q":
                return
            if cmd == b"O":
                if mode == "overask":
                    conn.sendall(packet(b"O", struct.pack("!III", 6, 0xFFFF, 0xFFFFFFF)))
                else:
                    conn.sendall(packet(b"O", struct.pack("!III", 6, 0, 0)))
            elif cmd in (b"D", b"A"):
                continue        # macros and abort have no reply
            elif mode == "oversize":
                conn.sendall(struct.pack("!I", 0x7FFFFFFF) + b"y")
            elif mode == "badcode":
                conn.sendall(packet(b"y", b"250 all fine\0"))
            else:
                conn.sendall(packet(b"Z"))


def listen(port, mode):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


def main():
    threads = []
    for spec in sys.argv[1:]:
        port, mode = spec.split(":")
        t = threading.Thread(target=listen, args=(int(port), mode), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
