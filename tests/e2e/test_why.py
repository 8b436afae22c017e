"""`sockreuse why`: each scenario is built the way an application builds it, in a network
namespace of the test's own (unshare -n); `why` answers inside it, and the real call is made
right after, in the same namespace. The answer must be the kernel's."""
import json
import os
import pathlib
import subprocess

import pytest

from conftest import BIN

HERE = pathlib.Path(__file__).resolve().parent
PY = "/usr/bin/python3"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="scenarios need their own network namespace (root)")


def scenario(name):
    r = subprocess.run(["unshare", "-n", PY, str(HERE / "why_scenario.py"), str(BIN), name], capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["why"].get("outcome") is not None or d["rc"] == 3, d
    return d


def exit_for(outcome):
    return 0 if outcome == "ok" else 1


# scenario, the outcome the kernel's rule gives (checked against the real call too)
SCENARIOS = [
    # inet_bind_conflict(): a TIME_WAIT socket yields only when it and the new socket both
    # have SO_REUSEADDR (tw_reuse is the old socket's sk_reuse).
    ("restart_old_reuseaddr", "ok"),
    ("restart_old_plain", "EADDRINUSE"),
    ("restart_neither", "EADDRINUSE"),
    # A listener is never shared through SO_REUSEADDR (sk2->sk_state == TCP_LISTEN).
    ("listener_running", "EADDRINUSE"),
    ("outlives_listener", "ok"),
    ("outlives_listener_plain", "EADDRINUSE"),
    # A [::] socket without IPV6_V6ONLY also holds 0.0.0.0 (ipv6_rcv_saddr_equal()).
    ("dual_stack", "EADDRINUSE"),
    ("dual_stack_v6only", "ok"),
    # SO_REUSEPORT groups sockets of one uid that all set it (sk_reuseport_match()).
    ("reuseport_group", "ok"),
    ("reuseport_group_plain", "EADDRINUSE"),
    # connect() without bind(): __inet_hash_connect() finds no port with a free four-tuple.
    ("out_of_ports", "EADDRNOTAVAIL"),
    ("out_of_ports_tw", "EADDRNOTAVAIL"),
    # connect --from ADDR:PORT: bind() is judged first (EADDRINUSE without SO_REUSEADDR),
    # then the four-tuple (__inet_check_established(): EADDRNOTAVAIL).
    ("from_port", "EADDRINUSE"),
    ("from_port_reuseaddr", "EADDRNOTAVAIL"),
    ("udp_shared", "ok"),
    ("udp_plain", "EADDRINUSE"),
    ("nobody", "ok"),
]


@pytest.mark.parametrize("name,expected", SCENARIOS)
def test_why_matches_the_real_call(name, expected):
    d = scenario(name)
    w = d["why"]
    assert d["real"] == expected, f"the scenario itself did not do what the rule says: {d}"
    assert w["outcome"] == d["real"], w
    assert w["measured"] is True
    assert d["rc"] == exit_for(d["real"])


def test_json_fields_and_sockets():
    w = scenario("restart_neither")["why"]
    for key in ("op", "outcome", "measured", "sockets", "cases", "remedies"):
        assert key in w
    assert w["op"] == "bind"
    tw = [s for s in w["sockets"] if s["state"] == "TIME_WAIT"]
    assert tw, w["sockets"]
    s = tw[0]
    assert set(s) >= {"proto", "state", "local", "remote", "reuseaddr", "reuseport", "v6only", "uid", "pid",
                      "command", "timer_ms"}
    assert s["local"] == "127.0.0.1:8000" and s["proto"] == "tcp"
    # The old server had no SO_REUSEADDR: the BPF iterator read that off the timewait socket.
    assert s["reuseaddr"] is False
    assert 0 < s["timer_ms"] <= 60000
    assert s["pid"] is None  # a timewait socket has no file, so no owner
    assert any(c.startswith("0101/") and "state=TIME_WAIT" in c and "old_reuseaddr=0" in c for c in w["cases"])
    remedies = {r["change"]: r["outcome"] for r in w["remedies"]}
    assert remedies["SO_REUSEADDR on the new socket"] == "EADDRINUSE"
    wait = [o for c, o in remedies.items() if c.startswith("wait ")]
    assert wait == ["ok"]


def test_listener_owner_and_stop_remedy():
    d = scenario("stop_remedy")
    w = d["why"]
    listen = [s for s in w["sockets"] if s["state"] == "LISTEN"]
    assert listen and listen[0]["pid"] and listen[0]["command"] == "python3"
    assert listen[0]["reuseaddr"] is True
    stop = [r for r in w["remedies"] if r["change"].startswith("stop pid")]
    assert stop and stop[0]["outcome"] == "ok"
    assert d["real"] == "ok", "stopping the owner did not free the port as `why` said"


def test_dual_stack_v6only_read():
    w = scenario("dual_stack_v6only")["why"]
    assert [s["v6only"] for s in w["sockets"]] == [True]
    w = scenario("dual_stack")["why"]
    assert [s["v6only"] for s in w["sockets"]] == [False]


def test_tw_reuse_remedy_holds_for_real():
    d = scenario("tw_reuse_remedy")
    rem = {r["change"].split(" ")[0]: r["outcome"] for r in d["why"]["remedies"]}
    assert rem["net.ipv4.tcp_tw_reuse=1"] == "ok"
    assert d["real"] == "ok"


@pytest.mark.parametrize("name,expected", [("one_port_left", "ok"), ("none_left_scaled", "EADDRNOTAVAIL")])
def test_scaled_replay_predicts(name, expected):
    """1000 ports, 999 or 1000 of them connected to one remote: replayed scaled down to 40
    ports; the one free port must survive the scaling."""
    d = scenario(name)
    w = d["why"]
    assert "scaled down" in w["replay"]
    assert d["real"] == expected and w["outcome"] == expected


@pytest.mark.parametrize("args", [
    ["bind", "300.1.1.1", "80"], ["bind", "127.0.0.1", "65536"], ["bind", "127.0.0.1", "80", "--bogus"],
    ["connect", "127.0.0.1", "0"], ["bind", "127.0.0.1"], ["listen", "127.0.0.1", "80"],
    ["bind", "127.0.0.1", "80", "--v6only"], ["connect", "::1", "80", "--from", "127.0.0.1"],
    ["bind", "127.0.0.1", "80", "--uid", "x"],
])
def test_usage_errors_exit_2(args):
    r = subprocess.run([str(BIN), "why", *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r
    assert r.stderr.strip() and not r.stdout


HOST_VIEW = r"""
set -e
ip link set lo up
%(setup)s
snap() { ss -Htanu | awk '{print $1, $2, $5, $6}' | sort; find /proc/sys/net -type f -readable 2>/dev/null | sort | while read f; do echo "$f=$(cat "$f" 2>/dev/null | tr '\n\t' '  ')"; done; }
snap > "$1/before"
%(why)s > "$1/out" || echo "rc=$?" >> "$1/out"
snap > "$1/after"
"""


def until_ss(condition, deadline_s=10):
    """Shell that polls the kernel's socket table (ss) until condition holds, for at most
    deadline_s seconds: the scenario's sockets exist before `why` looks."""
    return (f"i=0; until {condition}; do i=$((i+1)); [ $i -gt {deadline_s * 100} ] && "
            f"{{ echo 'scenario sockets never appeared' >&2; exit 3; }}; sleep 0.01; done")


def test_changes_nothing_in_the_namespace_it_reads(tmp_path):
    """The socket table and every net sysctl of the namespace `why` reads are the same before
    and after, while its replays build sockets and write sysctls in their own namespaces."""
    setup = ("python3 -c 'import socket,time,os\n"
             "l=socket.socket(); l.bind((\"127.0.0.1\",8000)); l.listen()\n"
             "c=socket.create_connection((\"127.0.0.1\",8000)); a,_=l.accept(); a.close(); c.close()\n"
             "os.write(1,b\"x\"); time.sleep(60)' > /dev/null &\n"
             + until_ss("ss -Htan state time-wait | grep -q . && ss -Htln | grep -q :8000"))
    why = f"{BIN} why connect 127.0.0.1 8000 && {BIN} why bind 0.0.0.0 8000 --reuseaddr"
    script = HOST_VIEW % {"setup": setup.replace("python3", PY), "why": why}
    r = subprocess.run(["unshare", "-n", "sh", "-c", script, "sh", str(tmp_path)], capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0, r.stderr
    before, after = (tmp_path / "before").read_text(), (tmp_path / "after").read_text()
    assert "TIME-WAIT" in before and "LISTEN" in before
    assert "ip_local_port_range" in before
    assert before == after
    assert "would" in (tmp_path / "out").read_text()


def test_not_root_answers_from_sock_diag(tmp_path):
    """Without privilege the options cannot be read: `why` says so and answers for each
    possibility (here every one gives EADDRINUSE: a listener is never shared)."""
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "-Urn", "true"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("unprivileged user namespaces are not allowed here")
    script = (f"ip link set lo up; {PY} -c 'import socket,time; l=socket.socket(); l.bind((\"127.0.0.1\",8000)); "
              f"l.listen(); time.sleep(30)' & {until_ss('ss -Htln | grep -q :8000')}; "
              f"setpriv --reuid=65534 --regid=65534 --clear-groups {BIN} why bind 127.0.0.1 8000; echo rc=$?; kill %1")
    r = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    out = r.stdout
    assert "rc=1" in out, out + r.stderr
    assert "would fail: EADDRINUSE (measured)" in out
    assert "Not seen: SO_REUSEADDR and SO_REUSEPORT" in out
    assert "Not seen: owners" in out
