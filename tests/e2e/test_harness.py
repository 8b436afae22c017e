"""kernels/harness: choosing packages, resuming, compact baselines, and a compare that fails
loudly. No qemu: the runner is a stand-in where a real one is not needed."""
import gzip
import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KERNELS = os.path.join(ROOT, "kernels")
sys.path.insert(0, KERNELS)
from harness import Failure, cli, fetch, report, timeline  # noqa: E402
from harness.config import Config  # noqa: E402

P = fetch.Package
ARCHIVE = [P("linux-image-6.1.0-%d-cloud-amd64-unsigned" % abi, v) for abi, v in
           [(47, "6.1.170-3"), (50, "6.1.176-1"), (53, "6.1.187-1"), (56, "6.1.192-2"), (57, "6.1.192-3")]] + \
          [P("linux-image-6.12.%d+deb12-cloud-amd64-unsigned" % n, v) for n, v in
           [(107, "6.12.107-1~deb12u1"), (115, "6.12.115-2~deb12u1"), (117, "6.12.117-1~deb12u1")]]


def names(pkgs):
    return [p.abi for p in pkgs]


def test_package_versions():
    p = ARCHIVE[0]
    assert (p.abi, p.upstream, p.flavour) == ("6.1.0-47", "6.1.170", "6.1")
    assert ARCHIVE[-1].upstream == "6.12.117" and ARCHIVE[-1].abi == "6.12.117+deb12"


def test_select_series_abi_version_and_range():
    assert names(fetch.select(ARCHIVE, "6.1")) == ["6.1.0-57"]          # 6.1.192-3 > 6.1.192-2
    assert names(fetch.select(ARCHIVE, "6.12")) == ["6.12.117+deb12"]   # 117 > 115 numerically
    assert names(fetch.select(ARCHIVE, "6.1.0-50")) == ["6.1.0-50"]
    assert names(fetch.select(ARCHIVE, "6.1.192")) == ["6.1.0-56", "6.1.0-57"]
    assert names(fetch.select(ARCHIVE, "6.1.176..6.1.187")) == ["6.1.0-50", "6.1.0-53"]
    assert names(fetch.select(ARCHIVE, "6.12..")) == ["6.12.107+deb12", "6.12.115+deb12", "6.12.117+deb12"]
    assert len(fetch.select(ARCHIVE, "..")) == len(ARCHIVE)
    assert fetch.select(ARCHIVE, "5.10") == []
    with pytest.raises(ValueError):
        fetch.parse_range("6.1..x")


def test_version_order_is_apt_pkg():
    """The order is libapt's (dpkg's): ~ sorts before anything, 6.1.192-10 after -9."""
    assert fetch.version_compare("6.12.117-1~deb12u1", "6.12.117-1") < 0
    assert fetch.version_compare("6.1.192-10", "6.1.192-9") > 0
    shuffled = list(reversed(ARCHIVE))
    assert fetch.in_version_order(shuffled) == ARCHIVE


FULL = {
    "format": "sockreuse-report/1", "tool": {"name": "sockreuse", "version": "0.1.0"},
    "kernel": {"release": "6.1.0-57-cloud-amd64", "version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)",
               "machine": "x86_64"},
    "hostname": "h", "started": "2026-12-02T05:00:00Z", "duration_s": 1.5, "interrupted": False,
    "properties": {"sysctl.net.ipv4.tcp_tw_reuse": "2"},
    "summary": {"total": 2, "pass": 1, "fail": 1, "skip": 0, "error": 0},
    "cases": [
        {"id": "0101/a", "number": 101, "title": "T", "group": "bind", "params": {"op": "bind"},
         "expected": "ok", "observed": "ok", "status": "pass", "duration_ms": 1.0, "detail": "",
         "rationale": "R" * 500, "refs": ["bind(2)"], "facts": {}},
        {"id": "0101/b", "number": 101, "title": "T", "group": "bind", "params": {"op": "bind"},
         "expected": "ok", "observed": "EADDRINUSE", "status": "fail", "duration_ms": 1.0, "detail": "d",
         "rationale": "R", "refs": [], "facts": {"port": "4000", "new.remote_port": "48284",
                                                 "b.first_port": "40001", "new.waited_ms": "12"}},
    ],
}


def test_compact_baseline_keeps_only_what_compare_needs(tmp_path):
    cfg = Config(baselines=str(tmp_path))
    (tmp_path / "6.1.0-57-cloud-amd64.json").write_text("{}")   # an old uncompressed one goes
    path, written = report.write_baseline(cfg, FULL)
    assert written and path.endswith("6.1.0-57-cloud-amd64.json.gz")
    assert not (tmp_path / "6.1.0-57-cloud-amd64.json").exists()
    with gzip.open(path, "rt") as f:
        text = f.read()
    rep = json.loads(text)
    assert [set(c) for c in rep["cases"]] == [{"id", "observed", "status"}, {"id", "observed", "status", "facts"}]
    assert rep["kernel"] == FULL["kernel"] and rep["summary"] == FULL["summary"]
    assert "rationale" not in text and "title" not in text
    assert rep["cases"][1]["facts"] == {"port": "4000"}                # nothing that varies per run
    assert len(text.splitlines()) == len(FULL["cases"]) + 2          # one case per line
    os.unlink(path)
    again, _ = report.write_baseline(cfg, FULL)
    assert open(again, "rb").read() == open(path, "rb").read()        # no timestamp inside


def test_a_baseline_is_rewritten_only_when_its_outcomes_change(tmp_path):
    cfg = Config(baselines=str(tmp_path))
    path, _ = report.write_baseline(cfg, FULL)
    first = open(path, "rb").read()
    rerun = json.loads(json.dumps(FULL))
    rerun["started"], rerun["duration_s"] = "2026-12-03T06:00:00Z", 2.5
    rerun["cases"][1]["facts"]["new.remote_port"] = "51234"          # another random pick
    assert report.write_baseline(cfg, rerun) == (path, False)
    assert open(path, "rb").read() == first
    rerun["cases"][1]["observed"], rerun["cases"][1]["status"] = "ok", "pass"
    assert report.write_baseline(cfg, rerun) == (path, True)
    with gzip.open(path, "rt") as f:
        assert json.load(f)["cases"][1]["status"] == "pass"


def test_the_same_build_under_another_release_name_is_one_baseline(tmp_path):
    """The host kernel is one build that each machine names with a suffix of its own."""
    cfg = Config(baselines=str(tmp_path))
    host = json.loads(json.dumps(FULL))
    host["kernel"] = {"release": "6.18.44-fc-v669", "version": "#1 SMP PREEMPT_DYNAMIC @0", "upstream": "6.18.44"}
    first, _ = report.write_baseline(cfg, host)
    other = json.loads(json.dumps(host))
    other["kernel"]["release"] = "6.18.44-fc-v1098"
    assert report.write_baseline(cfg, other) == (first, False)
    assert sorted(os.listdir(tmp_path)) == ["6.18.44-fc-v669.json.gz"]
    other["cases"][1]["observed"], other["cases"][1]["status"] = "ok", "pass"
    path, written = report.write_baseline(cfg, other)
    assert written and sorted(os.listdir(tmp_path)) == ["6.18.44-fc-v1098.json.gz"]
    another_build = json.loads(json.dumps(host))
    another_build["kernel"]["version"] = "#2 SMP PREEMPT_DYNAMIC @1"
    assert report.write_baseline(cfg, another_build)[1]
    assert len(os.listdir(tmp_path)) == 2


def stand_in(tmp_path, compare_script):
    """A runner whose `run` writes FULL and whose `compare` does what compare_script says."""
    exe = tmp_path / "runner"
    rep = tmp_path / "rep.json"
    rep.write_text(json.dumps(FULL))
    exe.write_text("#!/bin/sh\ncase \"$1\" in\nrun) while [ $# -gt 0 ]; do [ \"$1\" = --json ] && cp %s \"$2\"; "
                   "shift; done; exit 1;;\ncompare) %s;;\nesac\n" % (rep, compare_script))
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return exe


def run_kernels(tmp_path, exe, *args):
    env = dict(os.environ, SOCKREUSE_RUNNER=str(exe), SOCKREUSE_CASES=os.path.join(ROOT, "cases"))
    return subprocess.run([os.path.join(KERNELS, "run"), "--out", str(tmp_path / "k"), *args],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)


@pytest.mark.parametrize("script", ["echo 'sockreuse: unknown command compare; usage: ...' >&2; exit 2",
                                    "exit 0",                      # claims success, writes nothing
                                    "kill -SEGV $$"])
def test_broken_compare_fails_the_run(tmp_path, script):
    exe = stand_in(tmp_path, script)
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "6.12.0-old.json").write_text(json.dumps(FULL))
    r = run_kernels(tmp_path, exe, "host")
    assert r.returncode == 1, r.stdout
    assert "compare --format md failed" in r.stdout


def test_working_compare_passes_the_run(tmp_path):
    exe = stand_in(tmp_path, 'while [ $# -gt 0 ]; do [ "$1" = --output ] && echo x > "$2"; shift; done; exit 1')
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "6.12.0-old.json").write_text(json.dumps(FULL))
    r = run_kernels(tmp_path, exe, "host")
    assert r.returncode == 0, r.stdout
    assert (tmp_path / "k.html").exists() and (tmp_path / "k-timeline.md").exists()


def test_an_interrupted_run_resumes(tmp_path, monkeypatch):
    """Interrupted after the first kernel: the next run does only the others; a complete run
    leaves nothing to resume."""
    cfg_out = tmp_path / "k"
    jobs = [cli.Job("host"), cli.Job("6.1.0-47", ARCHIVE[0]), cli.Job("6.1.0-50", ARCHIVE[1])]
    ran = []

    def fake_run_job(cfg, children, job, baselines):
        if job.label == "6.1.0-47" and "interrupt" in ran:
            os.kill(os.getpid(), signal.SIGINT)   # lands in the main thread, as Ctrl-C does
            deadline = time.monotonic() + 10
            while not children.stopping and time.monotonic() < deadline:
                time.sleep(0.01)                  # until the main thread has stopped the run
            raise Failure("killed")
        if children.stopping:
            raise Failure("interrupted")
        ran.append(job.label)
        path = os.path.join(cfg.out, job.label + ".json")
        open(path, "w").write("{}")
        return path

    monkeypatch.setattr(cli, "plan", lambda cfg, specs, everything: jobs)
    monkeypatch.setattr(cli, "run_job", fake_run_job)
    exe = stand_in(tmp_path, "exit 0")
    env = {"SOCKREUSE_RUNNER": str(exe)}
    ran.append("interrupt")
    with pytest.raises(KeyboardInterrupt):
        cli.main(["--out", str(cfg_out), "-j", "1", "--no-compare"], env)
    assert ran == ["interrupt", "host"]
    ran.clear()
    assert cli.main(["--out", str(cfg_out), "-j", "1", "--no-compare"], env) == 0
    assert ran == ["6.1.0-47", "6.1.0-50"]
    ran.clear()
    assert cli.main(["--out", str(cfg_out), "-j", "1", "--no-compare"], env) == 0
    assert ran == ["host", "6.1.0-47", "6.1.0-50"]


def rep_of(release, deb, outcomes):
    return {"kernel": {"release": release, "version": "#1 SMP Debian %s (x)" % deb},
            "cases": [{"id": i, "observed": o, "status": s} for i, (o, s) in outcomes.items()]}


def test_timeline_ignores_undetermined_cases():
    a = rep_of("6.1.0-47-cloud-amd64", "6.1.170-3", {"r": ("ok", "pass")})
    b = rep_of("6.1.0-50-cloud-amd64", "6.1.176-1", {"r": ("EADDRNOTAVAIL", "pass")})
    a["cases"][0]["expected"] = b["cases"][0]["expected"] = "any"
    assert "No case changes along this series." in timeline.render([a, b], "/nonexistent")


def test_timeline_names_the_two_releases_and_the_changelog(tmp_path):
    reps = [rep_of("6.1.0-50-cloud-amd64", "6.1.176-1", {"a": ("ok", "pass"), "b": ("ok", "pass")}),
            rep_of("6.1.0-47-cloud-amd64", "6.1.170-3", {"a": ("ok", "pass"), "b": ("ok", "pass")}),
            rep_of("6.1.0-53-cloud-amd64", "6.1.187-1", {"a": ("EADDRINUSE", "fail"), "b": ("ok", "pass")})]
    tree = tmp_path / "linux-image-6.1.0-53-cloud-amd64-unsigned_6.1.187-1_amd64"
    (tree / "lib" / "modules" / "6.1.0-53-cloud-amd64").mkdir(parents=True)
    doc = tree / "usr" / "share" / "doc" / "linux-image-6.1.0-53-cloud-amd64-unsigned"
    doc.mkdir(parents=True)
    with gzip.open(doc / "changelog.Debian.gz", "wt") as f:
        f.write("linux (6.1.187-1) bookworm; urgency=high\n\n  * New upstream stable update:\n"
                "    https://www.kernel.org/pub/linux/kernel/v6.x/ChangeLog-6.1.187\n"
                "    - tcp: fix bind conflict check\n    - drm: unrelated\n\n -- x\n\n"
                "linux (6.1.176-1) bookworm; urgency=high\n\n  * tcp: older fix, already in 176\n\n -- x\n")
    text = timeline.render(reps, str(tmp_path))
    assert "between 6.1.0-50-cloud-amd64 (6.1.176) and 6.1.0-53-cloud-amd64 (6.1.187): 1 case" in text
    assert "`a`: ok (pass) → EADDRINUSE (fail)" in text and "`b`" not in text
    assert "ChangeLog-6.1.187" in text and "tcp: fix bind conflict check" in text
    assert "drm" not in text and "older fix" not in text
    assert text.index("6.1.0-47-cloud-amd64 (6.1.170) →") < text.index("6.1.0-50-cloud-amd64 (6.1.176) →")


def test_bad_kernel_argument_is_a_usage_error(tmp_path):
    r = run_kernels(tmp_path, stand_in(tmp_path, "exit 0"), "6.1;rm")
    assert r.returncode == 2 and "bad KERNEL" in r.stdout


def test_all_is_host_and_every_package_apt_serves():
    """--all plans the host and every linux-image-*-cloud-amd64-unsigned with a candidate,
    oldest first (read from this machine's apt lists through python3-apt)."""
    served = fetch.from_apt()
    if not served:
        pytest.skip("apt lists no linux-image-*-cloud-amd64-unsigned here (apt-get update)")
    jobs = cli.plan(Config(apt_update=False), [], True)
    assert jobs[0].label == "host" and jobs[0].pkg is None
    assert sorted(j.pkg.name for j in jobs[1:]) == sorted(p.name for p in served)
    ups = [j.pkg.upstream for j in jobs[1:]]
    assert all(fetch.version_compare(a, b) <= 0 for a, b in zip(ups, ups[1:])), ups
    # a range picks the releases between its ends, whatever apt serves today
    some = cli.plan(Config(apt_update=False), ["6.1.0..6.1.999"], False)
    assert some and all(j.pkg.flavour == "6.1" for j in some)
