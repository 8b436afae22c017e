"""The CI recipes in docs/ci/: the YAML parses, has the shape each CI system needs (a matrix
over kernels, artifacts, a merge job publishing JUnit and HTML), and every job's command is
a make target that runs here: one kernel job for the host, one for a Debian kernel under
qemu, then the merge."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

yaml = pytest.importorskip("yaml")
sys.path.insert(0, str(ROOT / "kernels"))
from harness import cli, fetch  # noqa: E402
from harness.config import Config  # noqa: E402

CI = ROOT / "docs" / "ci"


def load(name):
    with open(CI / name) as f:
        return yaml.safe_load(f)


def make_targets():
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z0-9-]*):", text, re.M))


def commands(lines):
    """The commands of run/script lines, split at &&; apt-get lines set up the image."""
    out = []
    for line in lines:
        for cmd in line.split("&&"):
            cmd = cmd.strip()
            if cmd and not cmd.startswith("apt-get "):
                out.append(re.sub(r"\$\{\{[^}]*\}\}", "EXPR", cmd))   # ${{ matrix.kernel }}
    return out


def check_make(cmd):
    words = cmd.split()
    assert words[0] == "make", "not a make target: %r" % cmd
    assert words[1] in make_targets(), "no such make target: %r" % cmd
    assert all("=" in w for w in words[2:]), cmd
    return words[1]


def check_kernels(kernels):
    assert "host" in kernels and len(kernels) >= 3
    pkgs = fetch.available(Config(apt_update=False))
    for k in kernels:
        assert cli.KERNEL_RE.match(k), k
        if k != "host":
            assert fetch.select(pkgs, k), "%s: no such package in the apt sources here" % k


def test_github_workflow_shape():
    wf = load("github-actions.yml")
    jobs = wf["jobs"]
    kernel, compare = jobs["kernel"], jobs["compare"]
    check_kernels(kernel["strategy"]["matrix"]["kernel"])
    assert "--privileged" in kernel["container"]["options"]
    runs = commands(s["run"] for s in kernel["steps"] if "run" in s)
    assert [check_make(c) for c in runs] == ["deps-qemu", "ci-kernel"]
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in kernel["steps"])
    assert compare["needs"] == "kernel"
    runs = commands(s["run"] for s in compare["steps"] if "run" in s)
    assert [check_make(c) for c in runs] == ["deps", "ci-merge"]
    uses = [s.get("uses", "") for s in compare["steps"]]
    assert any(u.startswith("actions/download-artifact") for u in uses)
    junit = [s for s in compare["steps"] if "junit" in s.get("uses", "")]
    assert junit and junit[0]["with"]["report_paths"] == "merged/junit.xml"
    html = [s for s in compare["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert html and html[0]["with"]["path"] == "merged/"


def test_gitlab_ci_shape():
    gl = load("gitlab-ci.yml")
    assert gl["stages"] == ["kernels", "compare"]
    kernel, compare = gl["kernel"], gl["compare"]
    check_kernels(kernel["parallel"]["matrix"][0]["KERNEL"])
    assert [check_make(c) for c in commands(kernel["script"])] == ["deps-qemu", "ci-kernel"]
    assert kernel["artifacts"]["paths"] == ["out/"]
    assert compare["needs"] == ["kernel"]
    assert [check_make(c) for c in commands(compare["script"])] == ["deps", "ci-merge"]
    assert compare["artifacts"]["reports"]["junit"] == "merged/junit.xml"


def make(*args, env=None):
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args], capture_output=True,
                          text=True, timeout=900, env=dict(os.environ, **(env or {})))


@pytest.mark.qemu
def test_the_jobs_run_here(tmp_path):
    """ci-kernel for the host and for a Debian kernel under qemu (a few cases each), then
    ci-merge: the files the recipes publish are there and well-formed."""
    if os.environ.get("SOCKREUSE_SKIP_QEMU") == "1":
        pytest.skip("SOCKREUSE_SKIP_QEMU=1")
    assert shutil.which("qemu-system-x86_64"), "qemu-system-x86_64 not found"
    env = {"FILTER": "0101/family=inet/state=LISTEN/*"}
    for i, kernel in enumerate(["host", "6.1"]):
        r = make("ci-kernel", "KERNEL=" + kernel, "CI_OUT=%s" % (tmp_path / "in" / str(i)), env=env)
        assert r.returncode == 0, r.stdout + r.stderr
    merged = tmp_path / "merged"
    r = make("ci-merge", "CI_IN=%s" % (tmp_path / "in"), "CI_OUT=%s" % merged)
    assert r.returncode == 0, r.stdout + r.stderr
    from lxml import etree
    junit = etree.parse(str(merged / "junit.xml")).getroot()
    # counts live on the suites: the Ant schema allows no attribute on <testsuites>
    assert junit.tag == "testsuites" and sum(int(s.get("tests")) for s in junit.iter("testsuite")) > 0
    html = (merged / "compare.html").read_text()
    assert "<h2 id=\"changed\">" in html and "6.1.0-" in html
    assert (merged / "compare.md").stat().st_size > 0 and (merged / "timeline.md").exists()
    r = make("ci-merge", "CI_IN=%s" % (tmp_path / "in" / "0"), "CI_OUT=%s" % (tmp_path / "m2"))
    assert r.returncode != 0 and "compare needs two or more" in r.stderr
