"""End-to-end tests of what the runner promises about isolation and robustness: a hanging case
is killed at its timeout and reported `error` while the others pass; SIGINT and SIGTERM end a run
with every report complete and well-formed (exit 130); the host namespace's sysctls, links,
addresses, routes, namespaces and sockets are the same after a run as before, while the sysctls
a case sets did take effect inside its own namespace.
"""
import os
import pathlib
import re
import select
import signal
import subprocess
import time

import pytest

from helpers import (BIN, CASES, by_id, case_text, free_bind_case, child_pids, is_sleeping, load_json,
                     load_junit, assert_reports_agree, parse_tap, prove)

pytest.importorskip("jsonschema")
pytest.importorskip("lxml.etree")

HANG_MS = 60000


def run(*args, timeout=120):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def report_args(reports, kinds=("tap", "junit", "json")):
    return [a for k in kinds for a in (f"--{k}", reports[k])]


def hang_case(folder, number=950, head=""):
    """A case whose step under test waits far longer than any timeout used here."""
    return folder / f"{number:04d}-hang.case", case_text(
        number, ["socket  s tcp inet", f"wait-ms {HANG_MS}"], head=head)


# --- timeouts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["--timeout", "timeout directive"])
def test_hanging_case_is_an_error_after_its_timeout(binary, cases_dir, reports, how):
    free_bind_case(cases_dir, number=901)
    free_bind_case(cases_dir, number=999, name="zz-last")
    path, text = hang_case(cases_dir, head="timeout  1" if how != "--timeout" else "")
    path.write_text(text)
    extra = ["--timeout", "1"] if how == "--timeout" else ["--timeout", "30"]
    t0 = time.monotonic()
    r = run("run", "--cases", cases_dir, "-j", "2", *extra, *report_args(reports))
    elapsed = time.monotonic() - t0
    assert elapsed < 10, f"the run took {elapsed:.1f} s: the hanging case was not cut at 1 s"
    assert r.returncode == 1, r.stderr
    doc = load_json(reports["json"])
    _, junit = load_junit(reports["junit"])
    tap = parse_tap(reports["tap"].read_text())
    assert_reports_agree(doc, junit, tap)
    cases = by_id(doc)
    hang = cases["0950"]
    assert hang["status"] == "error"
    assert "timed out" in hang["detail"], hang["detail"]
    assert 900 <= hang["duration_ms"] < 10000, hang["duration_ms"]
    others = [c for i, c in cases.items() if i != "0950"]
    assert len(others) == 4 and all(c["status"] == "pass" for c in others)
    assert r.stderr.rstrip().endswith("4 passed, 0 failed, 0 skipped, 1 errors")


def test_case_timeout_directive_wins_over_the_run_default(binary, cases_dir, reports):
    """A case that says `timeout 1` is cut at 1 s even when the run's --timeout is longer, and a
    case that needs longer than --timeout may say so."""
    path, text = hang_case(cases_dir, head="timeout  1")
    path.write_text(text)
    (cases_dir / "0951-slow.case").write_text(case_text(
        951, ["socket  s tcp inet", "wait-ms 1500"], head="timeout  5"))
    t0 = time.monotonic()
    r = run("run", "--cases", cases_dir, "-j", "2", "--timeout", "1", "--json", reports["json"])
    assert time.monotonic() - t0 < 10
    cases = by_id(load_json(reports["json"]))
    assert cases["0950"]["status"] == "error" and "timed out" in cases["0950"]["detail"]
    assert cases["0951"]["status"] == "pass", cases["0951"]["detail"]
    assert r.returncode == 1


# --- interruption ------------------------------------------------------------------------------

def read_until(proc, pred, deadline_s=30):
    """Reads proc's stdout until pred(text so far) holds or the deadline passes."""
    buf = b""
    end = time.monotonic() + deadline_s
    fd = proc.stdout.fileno()
    while not pred(buf.decode(errors="replace")) and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
    return buf


def n_results(text):
    return len(re.findall(r"^(?:not )?ok \d+", text, re.M))


def test_sigint_leaves_complete_reports(binary, reports, tmp_path):
    """Like Ctrl-C: SIGINT to the runner's process group once a few results have streamed."""
    subset = "0101/family=inet/*"
    total = len(run("list", "--filter", subset).stdout.splitlines())
    assert total > 100, "the subset should be far longer than the time to interrupt it"
    p = subprocess.Popen([str(BIN), "run", "-j", "2", "--filter", subset, "--json", reports["json"],
                          "--junit", reports["junit"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    try:
        head = read_until(p, lambda t: n_results(t) >= 3)
        assert n_results(head.decode()) >= 3, "no results streamed"
        os.killpg(p.pid, signal.SIGINT)
        t0 = time.monotonic()
        rest, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert time.monotonic() - t0 < 10, "the run did not stop promptly"
    assert p.returncode == 130, err.decode()
    out = (head + rest).decode()
    tap = parse_tap(out)
    assert 3 <= tap["plan"] < total, "the run stopped early and the plan counts what was emitted"
    doc = load_json(reports["json"])
    assert doc["interrupted"] is True
    assert doc["summary"]["total"] == tap["plan"]
    junit_root, junit = load_junit(reports["junit"])
    assert_reports_agree(doc, junit, tap)
    killed = [c["id"] for c in doc["cases"]
              if re.search(r"signal|without a result|timed out|killed", c["detail"])]
    assert killed == [], "a case killed by the interrupt is left out, not reported as an error"
    # Every consumer fails an interrupted run: TAP bails out with the reason, JUnit has an
    # <error> testcase, the JSON says why.
    assert re.fullmatch(rf"interrupted by SIGINT: {tap['plan']} of {total} cases finished", tap["bail_out"] or "")
    assert doc["interruption"] == tap["bail_out"]
    stop = [tc for tc in junit_root.iter("testcase") if tc.get("classname") == "sockreuse.run"]
    assert len(stop) == 1 and stop[0].find("error").get("message") == tap["bail_out"]
    f = tmp_path / "stdout.tap"
    f.write_text(out)
    pr = prove(f)
    assert pr.returncode != 0 and "Bailout called" in pr.stdout + pr.stderr, pr.stdout
    assert re.search(r"^\d+ passed, \d+ failed, \d+ skipped, \d+ errors$", err.decode(), re.M)


def test_sigterm_with_report_files(binary, cases_dir, reports):
    """SIGTERM while a case hangs: the finished cases are in all three files, the one killed is
    not. -j 1, so once the hanging case sleeps the two before it have finished."""
    free_bind_case(cases_dir, number=901)
    path, text = hang_case(cases_dir)
    path.write_text(text)
    t0 = time.monotonic()
    p = subprocess.Popen([str(BIN), "run", "--cases", str(cases_dir), "-j", "1", *map(str, report_args(reports))],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        sleeping = False
        while not sleeping and time.monotonic() - t0 < 20 and p.poll() is None:
            sleeping = any(is_sleeping(k) for k in child_pids(p.pid))
            if not sleeping:
                time.sleep(0.02)
        assert sleeping, "the hanging case never started"
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert time.monotonic() - t0 < 20
    assert p.returncode == 130, err.decode()
    assert out == b"", "with --tap FILE nothing goes to stdout"
    doc = load_json(reports["json"])
    _, junit = load_junit(reports["junit"])
    tap = parse_tap(reports["tap"].read_text())
    assert_reports_agree(doc, junit, tap)
    assert doc["interrupted"] is True
    assert sorted(c["id"] for c in doc["cases"]) == ["0901/family=inet", "0901/family=inet6"]
    assert all(c["status"] == "pass" for c in doc["cases"])
    assert tap["bail_out"] == "interrupted by SIGTERM: 2 of 3 cases finished" == doc["interruption"]
    assert prove(reports["tap"]).returncode != 0, "an interrupted run must not read as a pass"


# --- the host is left alone --------------------------------------------------------------------

SYSCTL_ROOTS = ("/proc/sys/net/ipv4", "/proc/sys/net/ipv6", "/proc/sys/net/core")
TEST_PORTS = {4000, 4001, 5000, 5001}


def sysctl_snapshot():
    out = {}
    for root in SYSCTL_ROOTS:
        for dirpath, _, files in os.walk(root):
            for f in files:
                p = os.path.join(dirpath, f)
                try:
                    with open(p) as fh:
                        out[p] = fh.read()
                except OSError:  # write-only (route/flush) or not readable
                    pass
    return out


def cmd(*args):
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def host_snapshot():
    socks = cmd("ss", "-Htanu")
    ours = sorted(l for l in socks.splitlines()
                  if any(re.search(rf"[:\]]{p}\s", l) for p in TEST_PORTS))
    return {
        "sysctl": sysctl_snapshot(),
        "link": cmd("ip", "-o", "link", "show"),
        "addr": cmd("ip", "-o", "addr", "show"),
        "route": cmd("ip", "route", "show", "table", "all"),
        "route6": cmd("ip", "-6", "route", "show", "table", "all"),
        "netns": cmd("ip", "netns", "list"),
        "sockets": ours,
    }


def host_sysctl(name):
    return pathlib.Path("/proc/sys/" + name.replace(".", "/")).read_text().strip()


def other(v, a, b):
    return a if v != a else b


def sysctl_case(folder, number=931):
    """A case that sets sysctls by directive and by step, on both topologies, and reads them back
    (facts); every value differs from the host's. Returns {name: value in the case}."""
    want = {
        "net.ipv4.tcp_tw_reuse": other(host_sysctl("net.ipv4.tcp_tw_reuse"), "0", "1"),
        "net.ipv4.tcp_fin_timeout": str(int(host_sysctl("net.ipv4.tcp_fin_timeout")) + 7),
        "net.ipv4.ip_local_reserved_ports": other(host_sysctl("net.ipv4.ip_local_reserved_ports"),
                                                  "40000-40010", "40020-40030"),
        "net.ipv4.ip_unprivileged_port_start": other(host_sysctl("net.ipv4.ip_unprivileged_port_start"),
                                                     "0", "1000"),
        # A value of two words.
        "net.ipv4.ip_local_port_range": other(" ".join(host_sysctl("net.ipv4.ip_local_port_range").split()),
                                              "40000 40010", "40020 40030"),
    }
    step_name = "net.ipv4.tcp_timestamps"
    step_val = other(host_sysctl(step_name), "0", "1")
    head = "matrix   topo  loopback pair\ntopology {topo}\n" + "".join(
        f"sysctl   {k} {v}\n" for k, v in want.items()) + "sysctl   net.ipv4.ip_nonlocal_bind 1"
    steps = [f"sysctl       {step_name} {step_val}"] + [f"read-sysctl  {k}" for k in [*want, step_name]] + [
        "socket       s tcp inet",
        "bind         s unassigned {PORT}",   # needs ip_nonlocal_bind=1 in the case's namespace
        "link         a down  when topo=pair",
    ]
    (folder / f"{number:04d}-sysctls.case").write_text(case_text(number, steps, head=head))
    want[step_name] = step_val
    return want


def real_ids(cases):
    """Ids of real cases: the first of each file that sets sysctls, and some that use the pair
    topology (veth links, namespaces for two hosts)."""
    ids = []
    for p in sorted(cases.glob("*.case")):
        if re.search(r"^sysctl\s", p.read_text(), re.M):
            listed = run("list", "--filter", f"{p.name[:4]}/*").stdout.splitlines()
            ids += [l.split("\t")[0] for l in listed[:1]]
    listed = run("list", "--filter", "0101/family=inet*/state=SYN_SENT/*/old_reuseaddr=0/new_reuseaddr=0/*",
                 "--filter", "0101/family=inet/state=FIN_WAIT1/*/old_reuseaddr=1/new_reuseaddr=1/*").stdout
    ids += [l.split("\t")[0] for l in listed.splitlines()]
    return ids


def glob_escape(s):
    return re.sub(r"([*?\[])", r"[\1]", s)


def test_host_namespace_is_unchanged(binary, cases_dir, reports, tmp_path):
    """Snapshots of the host before and after two runs: a case written here that sets sysctls
    (by directive and by step, both topologies) and real cases that set sysctls or build two
    hosts. Sockets are compared on the ports cases use (a leaked TIME_WAIT would show)."""
    before = host_snapshot()
    again = sysctl_snapshot()
    moving = {k for k in before["sysctl"] if again.get(k) != before["sysctl"][k]}
    want = sysctl_case(cases_dir)

    r = run("run", "--cases", cases_dir, "-j", "2", "--json", reports["json"])
    assert r.returncode == 0, r.stdout + r.stderr
    doc = load_json(reports["json"])
    assert sorted(c["id"] for c in doc["cases"]) == ["0931/topo=loopback", "0931/topo=pair"]
    for c in doc["cases"]:
        assert c["status"] == "pass", c
        for k, v in want.items():
            inside = " ".join(c["facts"][k].split())  # the kernel separates words with a tab
            assert inside == v, f"{c['id']}: {k} inside the case is {inside!r}, not {v!r}"
            assert " ".join(host_sysctl(k).split()) != v, f"{k}: the host has the case's value"
        assert c["params"]["sysctl.net.ipv4.ip_local_port_range"] == want["net.ipv4.ip_local_port_range"]

    ids = real_ids(CASES)
    assert ids, "no real pair cases found"
    real_json = tmp_path / "real.json"
    r = run("run", "-j", "4", *(a for i in ids for a in ("--filter", glob_escape(i))), "--json", real_json)
    assert r.returncode in (0, 1), r.stderr
    assert load_json(real_json)["summary"]["total"] == len(ids)

    after = host_snapshot()
    changed = sorted(k for k in before["sysctl"].keys() | after["sysctl"].keys()
                     if k not in moving and before["sysctl"].get(k) != after["sysctl"].get(k))
    assert changed == [], f"host sysctls changed: {changed}"
    for key in ("link", "addr", "route", "route6", "netns", "sockets"):
        assert after[key] == before[key], f"host {key} changed"
