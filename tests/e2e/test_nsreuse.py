"""A namespace serves a later case only when the kernel shows it empty and the case changed
nothing but sockets (docs/DESIGN.md, Isolation). Each test runs a case that leaves something
behind and, right after it in plan order (-j 1, --repeat), a case that would see it: the
second must pass every time. SOCKREUSE_NS_STATS says how many namespaces were handed on, so
that the tests also show that reuse happened at all."""
import os
import re
import subprocess

from helpers import BIN, case_text, write_case

REPEAT = 6


def run_stats(cases_dir, *args):
    env = dict(os.environ, SOCKREUSE_NS_STATS="1")
    p = subprocess.run([str(BIN), "run", "--cases", str(cases_dir), "-j", "1", "--repeat", str(REPEAT), *args],
                       capture_output=True, text=True, timeout=120, env=env)
    m = re.search(r"namespaces: (\d+) reused, (\d+) handed back, (\d+) dropped", p.stderr)
    assert m, p.stderr
    return p, tuple(int(x) for x in m.groups())


def fresh_bind_case(number, steps=("socket s tcp", "bind   s host {PORT}")):
    return case_text(number, list(steps), head="param    op  bind")


def test_time_wait_left_behind_is_never_inherited(tmp_path):
    """0951 leaves a TIME_WAIT on PORT; 0952 binds PORT without SO_REUSEADDR, which a
    TIME_WAIT would refuse (EADDRINUSE): it passes only in a namespace without it."""
    d = tmp_path / "cases"
    d.mkdir()
    write_case(d, "0951-leaves-tw.case", case_text(
        951, ["socket t tcp", "bind   t host {PORT2}"], head="param    op  bind",
        setup=["occupy    old TIME_WAIT active host {PORT}", "wait-gone old.remote"]))
    write_case(d, "0952-binds.case", fresh_bind_case(952))
    p, (reused, kept, dropped) = run_stats(d, "--tap", tmp_path / "r.tap")
    assert p.returncode == 0, p.stdout + p.stderr
    tap = (tmp_path / "r.tap").read_text()
    # A case's repetitions fold into one line: any failing run makes it "not ok".
    assert tap.count("\nok ") == 2 and "not ok" not in tap, tap
    # 0952 hands its namespace back every time; 0951 takes it (from its second run on) and
    # never hands it back: the TIME_WAIT it leaves shows in the dump.
    assert (reused, kept, dropped) == (REPEAT - 1, REPEAT, 0), (reused, kept, dropped)


def test_sysctl_changing_cases_never_hand_their_namespace_on(tmp_path):
    """0953 sets ip_local_port_range to one port by its sysctl line, 0954 by the sysctl verb;
    0955 binds two sockets to port 0, which a one-port range would refuse."""
    d = tmp_path / "cases"
    d.mkdir()
    write_case(d, "0953-sysctl-line.case", case_text(
        953, ["socket t tcp", "bind   t host {PORT}"], head="sysctl   net.ipv4.ip_local_port_range 40000 40000"))
    write_case(d, "0954-sysctl-verb.case", case_text(
        954, ["sysctl net.ipv4.ip_local_port_range 40000 40000", "socket t tcp", "bind   t host 40000"]))
    write_case(d, "0955-two-ephemeral.case", fresh_bind_case(
        955, ["socket a tcp", "bind   a host 0", "socket b tcp", "bind   b host 0"]))
    p, (reused, kept, dropped) = run_stats(d, "--tap", tmp_path / "r.tap")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "not ok" not in (tmp_path / "r.tap").read_text()
    # Only 0955 hands its namespace back, and only 0955 takes one.
    assert (reused, kept, dropped) == (REPEAT - 1, REPEAT, 0), (reused, kept, dropped)
