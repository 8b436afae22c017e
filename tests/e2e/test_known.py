"""run --known FILE: kernel bugs waived as data. A failing listed case is xfail (TAP TODO,
JUnit skipped with the reason, JSON "xfail"); a listed case that passes is xpass and the run
says so; neither fails the run; compare classifies both as not failing."""
import json
import re
import shutil
import subprocess

import pytest

from conftest import BIN, run
from helpers import case_text

# A bind of a port nothing holds: expected to fail on purpose (0001), or rightly expected to
# succeed (0002).
BIND = ["socket s tcp", "bind s loopback 4000"]
WRONG = case_text(1, BIND, "EADDRINUSE", title="a bind that succeeds, expected to fail", group="knowntest",
                  head="matrix   n 1 2",
                  why="a test of known-issues files: nothing holds the port, so this expectation is wrong on purpose")
RIGHT = case_text(2, BIND, title="a bind that succeeds", group="knowntest", why="nothing holds the port")
KNOWN = "# known issues of this test\n\n0001/n=1   fixed by deadbeef0001 (\"tcp: x\")\n  0002*\tsee https://example.invalid/1\n"


@pytest.fixture
def suite(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "0001-wrong.case").write_text(WRONG)
    (cases / "0002-right.case").write_text(RIGHT)
    known = tmp_path / "known.txt"
    known.write_text(KNOWN)
    return cases, known


def run_known(tmp_path, cases, known, *extra):
    out = {k: tmp_path / f"r.{k}" for k in ("tap", "json", "xml")}
    r = run("run", "--cases", cases, "--known", known, "--tap", out["tap"], "--json", out["json"],
            "--junit", out["xml"], *extra)
    return r, out


def test_statuses_in_every_report(tmp_path, suite):
    cases, known = suite
    r, out = run_known(tmp_path, cases, known)
    assert r.returncode == 1, r.stderr          # 0001/n=2 is not listed: a real failure
    tap = out["tap"].read_text().splitlines()
    assert 'not ok 1 - 0001/n=1 # TODO fixed by deadbeef0001 ("tcp: x")' in tap
    assert "not ok 2 - 0001/n=2" in tap
    assert "ok 3 - 0002 # TODO see https://example.invalid/1" in tap
    doc = json.loads(out["json"].read_text())
    st = {c["id"]: (c["status"], c.get("known")) for c in doc["cases"]}
    assert st == {"0001/n=1": ("xfail", 'fixed by deadbeef0001 ("tcp: x")'), "0001/n=2": ("fail", None),
                  "0002": ("xpass", "see https://example.invalid/1")}
    assert doc["summary"] == {"total": 3, "pass": 0, "fail": 1, "skip": 0, "error": 0, "xfail": 1, "xpass": 1}
    from lxml import etree
    root = etree.parse(str(out["xml"])).getroot()
    tcs = {tc.get("name"): tc for tc in root.iter("testcase")}
    sk = tcs["0001/n=1"].find("skipped")
    assert sk is not None and sk.text == 'fixed by deadbeef0001 ("tcp: x")'
    assert tcs["0001/n=2"].find("failure") is not None
    assert tcs["0002"].find("failure") is None and tcs["0002"].find("skipped") is None
    # The Ant schema allows no <system-out> in a testcase: the remark is in the suite's.
    suite_out = "".join(x.text or "" for x in root.iter("system-out"))
    assert "0002: xpass" in suite_out
    assert "1 xfail, 1 xpass" in r.stderr
    assert "passed (xpass)" in r.stderr and "0002" in r.stderr
    jsonschema = pytest.importorskip("jsonschema")
    from conftest import ROOT
    jsonschema.validate(doc, json.loads((ROOT / "reports" / "schema.json").read_text()))


def test_known_issues_do_not_fail_the_run(tmp_path, suite):
    cases, known = suite
    r, out = run_known(tmp_path, cases, known, "--filter", "0001/n=1", "--filter", "0002")
    assert r.returncode == 0, r.stderr
    if shutil.which("prove"):
        p = subprocess.run(["prove", "-e", "cat", str(out["tap"])], capture_output=True, text=True)
        assert p.returncode == 0 and "Result: PASS" in p.stdout, p.stdout
    r, _ = run_known(tmp_path, cases, known, "--filter", "0001/n=*")
    assert r.returncode == 1


@pytest.mark.parametrize("text,where", [
    ("0001/n=1\n", "1:9"),                       # no reason
    ("# ok\n\n  0002   \n", "3:7"),
])
def test_bad_known_file_is_a_usage_error(tmp_path, suite, text, where):
    cases, _ = suite
    bad = tmp_path / "bad.txt"
    bad.write_text(text)
    r = run("run", "--cases", cases, "--known", bad)
    assert r.returncode == 2 and f"{bad}:{where}: expected a reason" in r.stderr, r.stderr
    r = run("run", "--cases", cases, "--known", tmp_path / "missing.txt")
    assert r.returncode == 2 and "missing.txt" in r.stderr


def test_compare_treats_xfail_and_xpass_as_not_failing(tmp_path, suite):
    cases, known = suite
    (tmp_path / "empty.txt").write_text("# nothing known\n")
    _, plain = run_known(tmp_path, cases, tmp_path / "empty.txt")
    a = tmp_path / "a.json"
    shutil.copy(plain["json"], a)
    _, waived = run_known(tmp_path, cases, known)
    r = subprocess.run([str(BIN), "compare", a, waived["json"], "--order", "args"], capture_output=True, text=True)
    assert r.returncode == 1                     # statuses changed: shown
    lines = r.stdout.splitlines()
    assert re.search(r"^behaviour\s+0001/n=1$", r.stdout, re.M)       # fail -> xfail
    assert re.search(r"^behaviour\s+0002$", r.stdout, re.M)           # pass -> xpass
    assert not any(line.startswith(("regression", "fix")) for line in lines)
    assert any(re.search(r"ok\s+xfail\s+<- behaviour", line) for line in lines)
    j = subprocess.run([str(BIN), "compare", a, waived["json"], "--format", "junit", "--order", "args"],
                       capture_output=True, text=True)
    from lxml import etree
    root = etree.fromstring(j.stdout.encode())
    for tc in root.iter("testcase"):
        f = tc.find("failure")
        assert f is None or f.get("type") not in ("regression",), etree.tostring(tc)
