"""Scenarios for `sockreuse why`, built the way applications build their sockets. Run as
`unshare -n /usr/bin/python3 why_scenario.py BIN NAME` (in a network namespace of the
test's own): builds the scenario, asks `why --json` about the call, then makes the real
call right after, and prints {"why": ..., "rc": ..., "real": ...} as JSON."""
import errno
import json
import os
import socket
import subprocess
import sys
import time

BIN = sys.argv[1]
NAME = sys.argv[2]
EXTRA = sys.argv[3:]
keep = []          # sockets the scenario holds open while `why` looks


def lo_up():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


def sysctl(name, value):
    # Only ever in this scenario's own network namespace (the test unshared it).
    with open("/proc/sys/" + name.replace(".", "/"), "w") as f:
        f.write(value)


def sock(family=socket.AF_INET, reuseaddr=False, reuseport=False, v6only=None, kind=socket.SOCK_STREAM):
    s = socket.socket(family, kind)
    if reuseaddr:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
    return s


def tcp_state(port):
    """States of the TCP sockets on local port `port`, as the kernel reports them."""
    out = subprocess.run(["ss", "-Htan", f"sport = :{port}"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines()]


def wait_state(port, state, deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if state in tcp_state(port):
            return
        time.sleep(0.005)
    raise SystemExit(f"port {port} never reached {state}: {tcp_state(port)}")


def server_conn(reuseaddr, port=8000, server_closes_first=True, keep_listener=False):
    """A server accepts one connection on port; the one that closes first keeps TIME_WAIT."""
    l = sock(reuseaddr=reuseaddr)
    l.bind(("0.0.0.0", port))
    l.listen()
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = l.accept()
    return l, a, c


def errname(e):
    return errno.errorcode.get(e, str(e))


def real_bind(addr, port, family=socket.AF_INET, reuseaddr=False, reuseport=False, v6only=None, listen=False,
              udp=False):
    s = sock(family, reuseaddr, reuseport, v6only, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    try:
        s.bind((addr, port))
        if listen:
            s.listen()
        return "ok"
    except OSError as e:
        return errname(e.errno)
    finally:
        s.close()


def real_connect(addr, port):
    s = socket.socket()
    try:
        s.connect((addr, port))
        keep.append(s)
        return "ok"
    except OSError as e:
        s.close()
        return errname(e.errno)


def why(*args):
    r = subprocess.run([BIN, "why", *args, "--json"], capture_output=True, text=True, timeout=120)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = {"stdout": r.stdout}
    doc["stderr"] = r.stderr
    return doc, r.returncode


def restart(old_reuseaddr, new_reuseaddr):
    """A server restarted over its own TIME_WAIT: it closed its connections first, then exited."""
    l, a, c = server_conn(old_reuseaddr)
    a.close()
    c.close()
    l.close()
    wait_state(8000, "TIME-WAIT")
    args = ["bind", "0.0.0.0", "8000"] + (["--reuseaddr"] if new_reuseaddr else [])
    w = why(*args)
    return w, real_bind("0.0.0.0", 8000, reuseaddr=new_reuseaddr, listen=True)


def listener_running():
    l = sock(reuseaddr=True)
    l.bind(("0.0.0.0", 8000))
    l.listen()
    keep.append(l)
    return why("bind", "0.0.0.0", "8000", "--reuseaddr"), real_bind("0.0.0.0", 8000, reuseaddr=True)


def outlives_listener(reuseaddr):
    """An accepted connection still open after its listener closed (the server was restarted
    while a client stayed connected)."""
    l, a, c = server_conn(reuseaddr)
    l.close()
    keep.extend([a, c])
    args = ["bind", "0.0.0.0", "8000"] + (["--reuseaddr"] if reuseaddr else [])
    return why(*args), real_bind("0.0.0.0", 8000, reuseaddr=reuseaddr)


def dual_stack(v6only):
    l = sock(socket.AF_INET6, v6only=v6only)
    l.bind(("::", 8000))
    l.listen()
    keep.append(l)
    return why("bind", "0.0.0.0", "8000"), real_bind("0.0.0.0", 8000)


def reuseport_group(new_reuseport):
    for _ in range(2):
        l = sock(reuseport=True)
        l.bind(("0.0.0.0", 8000))
        l.listen()
        keep.append(l)
    args = ["bind", "0.0.0.0", "8000", "--listen"] + (["--reuseport"] if new_reuseport else [])
    return why(*args), real_bind("0.0.0.0", 8000, reuseport=new_reuseport, listen=True)


def out_of_ports(lo, hi, conns, time_wait=0):
    """A client that opened `conns` connections to one remote from a range of hi-lo+1 ports;
    `time_wait` of them closed first (TIME_WAIT)."""
    sysctl("net.ipv4.ip_local_port_range", f"{lo} {hi}")
    sysctl("net.ipv4.tcp_tw_reuse", "0")
    l = sock()
    l.bind(("127.0.0.1", 9000))
    l.listen(4096)
    keep.append(l)
    for i in range(conns):
        c = socket.create_connection(("127.0.0.1", 9000))
        a, _ = l.accept()
        if i < time_wait:
            c.close()
            a.close()
        else:
            keep.extend([c, a])
    return why("connect", "127.0.0.1", "9000"), real_connect("127.0.0.1", 9000)


def from_port(reuseaddr):
    """A client that binds its source port (SO_REUSEADDR) and connects; a second one asks for
    the same port toward the same server: with SO_REUSEADDR bind() passes, and connect()
    finds the four-tuple taken."""
    l = sock()
    l.bind(("127.0.0.1", 9000))
    l.listen()
    c = sock(reuseaddr=True)
    c.bind(("127.0.0.1", 5555))
    c.connect(("127.0.0.1", 9000))
    keep.extend([l, c, l.accept()[0]])
    w = why("connect", "127.0.0.1", "9000", "--from", "127.0.0.1:5555", *(["--reuseaddr"] if reuseaddr else []))
    s = sock(reuseaddr=reuseaddr)
    try:
        s.bind(("127.0.0.1", 5555))
        s.connect(("127.0.0.1", 9000))
        return w, "ok"
    except OSError as e:
        return w, errname(e.errno)


def tw_reuse_remedy():
    """out_of_ports_tw, then the remedy `why` named applied for real: tcp_tw_reuse=1 in this
    namespace and the TIME_WAIT sockets a second old."""
    w, real = out_of_ports(40000, 40009, 10, time_wait=4)
    sysctl("net.ipv4.tcp_tw_reuse", "1")
    time.sleep(1.1)  # the one-second rule of tcp_twsk_unique() is the scenario
    return w, real_connect("127.0.0.1", 9000)


def stop_remedy():
    """listener_running, then the remedy `why` named: the process closes its listener."""
    w, _ = listener_running()
    keep.pop().close()
    return w, real_bind("0.0.0.0", 8000, reuseaddr=True)


def udp_shared(reuseaddr):
    s = sock(reuseaddr=reuseaddr, kind=socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 5353))
    keep.append(s)
    args = ["bind", "0.0.0.0", "5353", "--udp"] + (["--reuseaddr"] if reuseaddr else [])
    return why(*args), real_bind("0.0.0.0", 5353, reuseaddr=reuseaddr, udp=True)


def nobody():
    return why("bind", "127.0.0.1", "8000"), real_bind("127.0.0.1", 8000)


SCENARIOS = {
    "restart_old_reuseaddr": lambda: restart(True, True),
    "restart_old_plain": lambda: restart(False, True),
    "restart_neither": lambda: restart(False, False),
    "listener_running": listener_running,
    "outlives_listener": lambda: outlives_listener(True),
    "outlives_listener_plain": lambda: outlives_listener(False),
    "dual_stack": lambda: dual_stack(False),
    "dual_stack_v6only": lambda: dual_stack(True),
    "reuseport_group": lambda: reuseport_group(True),
    "reuseport_group_plain": lambda: reuseport_group(False),
    "out_of_ports": lambda: out_of_ports(40000, 40009, 10),
    "out_of_ports_tw": lambda: out_of_ports(40000, 40009, 10, time_wait=4),
    "one_port_left": lambda: out_of_ports(40000, 40999, 999),
    "none_left_scaled": lambda: out_of_ports(40000, 40999, 1000),
    "from_port": lambda: from_port(False),
    "from_port_reuseaddr": lambda: from_port(True),
    "tw_reuse_remedy": tw_reuse_remedy,
    "stop_remedy": stop_remedy,
    "udp_shared": lambda: udp_shared(True),
    "udp_plain": lambda: udp_shared(False),
    "nobody": nobody,
}

if __name__ == "__main__":
    lo_up()
    (doc, rc), real = SCENARIOS[NAME]()
    print(json.dumps({"why": doc, "rc": rc, "real": real}))
