"""The suite itself on this kernel: a real subset of every case file must pass, and where the
host kernel has a committed baseline (reports/baselines/<uname -r>.json.gz, or one of the same
kernel build under another release name) the outcomes must match it. A runner or kernel that turned cases into fail or error fails here.

test_a_broken_bind_fails_this_test proves it: under an LD_PRELOAD shim that makes every
bind() of a SO_REUSEADDR socket fail, the subset test fails."""
import gzip
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import BIN, CASES, ROOT, run

sys.path.insert(0, str(ROOT / "kernels"))
from harness import report  # noqa: E402
from harness.config import Config  # noqa: E402

BASELINES = ROOT / "reports" / "baselines"
PER_FILE = 12


def subset():
    """Up to PER_FILE ids of each case file, spread over its matrix (first, last and evenly
    between), so every file and both ends of every matrix run."""
    r = run("list", "--cases", CASES)
    assert r.returncode == 0, r.stderr
    by_file = {}
    for line in r.stdout.splitlines():
        cid = line.split("\t", 1)[0]
        by_file.setdefault(cid.split("/", 1)[0], []).append(cid)
    assert len(by_file) == len(list(CASES.glob("*.case"))), "a case file lists no case"
    chosen = []
    for ids in by_file.values():
        if len(ids) <= PER_FILE:
            chosen += ids
        else:
            step = (len(ids) - 1) / (PER_FILE - 1)
            chosen += sorted({ids[round(i * step)] for i in range(PER_FILE)}, key=ids.index)
    return chosen


def glob_escape(cid):
    return re.sub(r"([*?[])", r"[\1]", cid)


def run_subset(tmp_path, ids, env=None):
    out = tmp_path / "subset.json"
    args = ["run", "--cases", CASES, "-j", "2", "--json", out, "--tap", tmp_path / "subset.tap"]
    for cid in ids:
        args += ["--filter", glob_escape(cid)]
    r = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, **(env or {})))
    assert out.exists(), r.stderr
    return r, json.loads(out.read_text())


def baseline_for(kernel, folder=BASELINES):
    """The baseline of this kernel: the one named after its release, else the one of the same
    build under another release name (report.same_build: upstream version and uname -v), as
    the same host kernel gets on two machines of one kind."""
    path = folder / (kernel["release"] + ".json.gz")
    if not path.exists():
        path = report.same_build(Config(baselines=str(folder)), {"kernel": kernel})
    return report.read_baseline(path) if path else None


def mismatches(rep, base):
    """Cases whose observed outcome or status differs from the baseline's. A case that asserts
    no single outcome (expect any) may differ from run to run and is left out."""
    known = {c["id"]: c for c in base["cases"]}
    out = []
    for c in rep["cases"]:
        b = known.get(c["id"])
        if b is None or c.get("expected") == "any":
            continue
        if (c["observed"], c["status"]) != (b.get("observed", ""), b["status"]):
            out.append("%s: %s (%s), baseline %s (%s)" % (c["id"], c["observed"], c["status"],
                                                           b.get("observed", ""), b["status"]))
    return out


def test_real_subset_passes_and_matches_the_baseline(tmp_path):
    ids = subset()
    r, rep = run_subset(tmp_path, ids)
    assert len(rep["cases"]) == len(ids)
    bad = ["%s: %s (%s) %s" % (c["id"], c["status"], c["observed"], c["detail"][:200])
           for c in rep["cases"] if c["status"] not in ("pass", "skip")]
    assert not bad, "%d of %d cases did not pass:\n%s" % (len(bad), len(ids), "\n".join(bad[:40]))
    files = {c["id"].split("/", 1)[0] for c in rep["cases"] if c["status"] == "pass"}
    assert len(files) == len(list(CASES.glob("*.case"))), "some case file had no passing case"
    assert r.returncode == 0, r.stderr
    base = baseline_for(rep["kernel"])
    if base is not None:
        diff = mismatches(rep, base)
        assert not diff, "outcomes differ from the baseline of %s:\n%s" % (rep["kernel"]["release"],
                                                                           "\n".join(diff[:40]))


def test_the_baseline_of_the_same_build_under_another_release_name_is_found(tmp_path):
    kernel = {"release": "6.18.44-fc-v1098", "upstream": "6.18.44", "version": "#1 SMP @0"}
    other = dict(kernel, release="6.18.44-fc-v669")
    with gzip.open(tmp_path / "6.18.44-fc-v669.json.gz", "wt") as f:
        json.dump({"kernel": other, "cases": []}, f)
    assert baseline_for(kernel, tmp_path)["kernel"] == other
    assert baseline_for(dict(kernel, version="#2 SMP @1"), tmp_path) is None
    assert baseline_for(dict(kernel, upstream="6.18.45", release="6.18.45-x"), tmp_path) is None


def test_baseline_mismatch_is_found():
    rep = {"cases": [{"id": "a", "observed": "ok", "status": "pass", "expected": "ok"},
                     {"id": "b", "observed": "ok", "status": "pass", "expected": "any"},
                     {"id": "c", "observed": "EADDRINUSE", "status": "pass", "expected": "EADDRINUSE"}]}
    base = {"cases": [{"id": "a", "observed": "EADDRINUSE", "status": "pass"},
                      {"id": "b", "observed": "EADDRNOTAVAIL", "status": "pass"},
                      {"id": "c", "observed": "EADDRINUSE", "status": "pass"}]}
    assert mismatches(rep, base) == ["a: ok (pass), baseline EADDRINUSE (pass)"]


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    so = tmp_path_factory.mktemp("shim") / "bind_reuseaddr_fails.so"
    src = ROOT / "tests" / "e2e" / "shim" / "bind_reuseaddr_fails.c"
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", str(so), str(src), "-ldl"],
                   check=True)
    return so


def test_a_broken_bind_fails_this_test(tmp_path, shim):
    """The subset test itself, run under the shim, must fail (and for the right reason)."""
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "%s::test_real_subset_passes_and_matches_the_baseline" % __file__],
                       capture_output=True, text=True, timeout=900, cwd=str(ROOT / "tests" / "e2e"),
                       env=dict(os.environ, LD_PRELOAD=str(shim)))
    assert r.returncode != 0, r.stdout[-3000:]
    assert "did not pass" in r.stdout and "reuseaddr=1" in r.stdout, r.stdout[-3000:]
