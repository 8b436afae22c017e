"""make bench, `why` entries: builds a namespace's sockets the way a busy application does
and times one `sockreuse why` question about them. Run inside `unshare -n` (the namespace
is the bench's own): why-bench.py BIN port|connect."""
import os
import signal
import socket
import subprocess
import sys
import time

BIN, KIND = sys.argv[1], sys.argv[2]
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
keep = []


def timed(*args):
    start = time.monotonic()
    r = subprocess.run([BIN, "why", *args], capture_output=True, text=True)
    ms = (time.monotonic() - start) * 1000
    first = (r.stdout.splitlines() or [r.stderr.strip()])[0]
    return ms, first


if KIND == "port":
    # A server on port 8000 with 80 clients connected and 19 connections it closed first
    # (TIME_WAIT): 100 sockets hold the port.
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("0.0.0.0", 8000))
    l.listen(512)
    keep.append(l)
    for i in range(99):
        c = socket.create_connection(("127.0.0.1", 8000))
        a, _ = l.accept()
        if i < 19:
            a.close()
            c.close()
        else:
            keep.extend([a, c])
    ms, first = timed("bind", "0.0.0.0", "8000", "--reuseaddr")
    print(f"why bind, a port held by 100 sockets: {ms:.0f} ms (target < 1000): {first}")
else:
    # A client with 30,000 connections open to one remote. They wait in the listener's
    # accept queue (somaxconn raised in this namespace), so the server needs no descriptors;
    # the client's are spread over processes of 10,000 each (a process may have 20,000 here).
    n, per = 30000, 10000
    for name, value in (("net/ipv4/ip_local_port_range", "20000 60999"), ("net/core/somaxconn", "65535")):
        with open("/proc/sys/" + name, "w") as f:
            f.write(value)
    l = socket.socket()
    l.bind(("127.0.0.1", 9000))
    l.listen(65535)
    children = []
    for _ in range(n // per):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            # Each from a port of its own, bound first, so that building the scenario does
            # not walk the range for every connection.
            held = []
            for i in range(per):
                c = socket.socket()
                c.bind(("127.0.0.1", 20000 + len(children) * per + i))
                c.connect(("127.0.0.1", 9000))
                held.append(c)
            os.write(w, b"x")
            time.sleep(600)
            os._exit(0)
        os.close(w)
        children.append((pid, r))
    for pid, r in children:
        os.read(r, 1)
    ms, first = timed("connect", "127.0.0.1", "9000")
    print(f"why connect, {n} connections to one remote: {ms:.0f} ms (target < 5000): {first}")
    for pid, _ in children:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
