"""Where reports go and what they say: report paths (devices, FIFOs, links, '-'), reports in
plan order, JUnit under the CI schemas, a schema and a reader that refuse wrong reports, reports
kept through signals and broken pipes, and losses that are refused up front.

Anything that touches /dev runs in a private mount namespace over a scratch /dev (tmpfs with
its own null and full), never on the machine's own."""
import copy
import json
import os
import pathlib
import re
import signal
import subprocess
import threading
import time

import pytest

from helpers import (BIN, JENKINS_XSD, ANT_XSD, SCHEMA, case_text, free_bind_case, load_json, load_junit,
                     parse_tap, schema_errors)
from conftest import run

SCRATCH_DEV = ("mount -t tmpfs -o mode=755 scratch-dev /dev && mknod -m 666 /dev/null c 1 3 && "
               "mknod -m 666 /dev/full c 1 7 && ln -s /proc/self/fd/1 /dev/stdout && ")


def in_scratch_dev(script, **kw):
    """Runs a shell script in a private mount namespace whose /dev is a scratch tmpfs."""
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", SCRATCH_DEV + script],
                          capture_output=True, text=True, timeout=120, **kw)


def quick_cases(d):
    free_bind_case(d)
    return d


# --- item 1: report paths -----------------------------------------------------------------------

def test_devices_stay_devices(binary, cases_dir):
    """--tap/--json/--junit /dev/null write through: /dev/null is still the character device."""
    quick_cases(cases_dir)
    r = in_scratch_dev(f"{BIN} run --cases {cases_dir} --tap /dev/null --json /dev/null --junit /dev/null && "
                       "stat -c '%F %t,%T' /dev/null && ls /dev")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert lines[0] == "character special file 1,3", r.stdout
    assert not any(".tmp." in n for n in lines[1:]), r.stdout


def test_symlink_to_stdout_reaches_stdout(binary, cases_dir, tmp_path):
    quick_cases(cases_dir)
    tap = tmp_path / "run.tap"
    r = in_scratch_dev(f"{BIN} run --cases {cases_dir} --tap {tap} --json /dev/stdout && test -L /dev/stdout")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [c["id"] for c in doc["cases"]] == ["0901/family=inet", "0901/family=inet6"]


def test_dash_is_stdout_for_every_report(binary, cases_dir, tmp_path):
    quick_cases(cases_dir)
    os.chdir(tmp_path)
    for opt in ("--json", "--junit", "--junit-annotated"):
        r = run("run", "--cases", cases_dir, "--tap", tmp_path / "t.tap", opt, "-")
        assert r.returncode == 0, r.stderr
        assert not (tmp_path / "-").exists(), f"{opt} - made a file named '-'"
        assert r.stdout.startswith("{" if opt == "--json" else "<?xml"), r.stdout[:80]
    r = run("run", "--cases", cases_dir, "--tap", "-")
    assert r.returncode == 0 and parse_tap(r.stdout)["plan"] == 2
    # compare --output - as well
    a = tmp_path / "a.json"
    run("run", "--cases", cases_dir, "--json", a, "--tap", tmp_path / "t.tap")
    r = run("compare", a, a, "--output", "-")
    assert r.returncode == 0 and "2 cases" in r.stdout and not (tmp_path / "-").exists()


def test_fifo_and_symlinked_file_are_written_through(binary, cases_dir, tmp_path):
    quick_cases(cases_dir)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = {}
    reader = threading.Thread(target=lambda: got.setdefault("text", fifo.read_text()))
    reader.start()
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    r = run("run", "--cases", cases_dir, "--tap", tmp_path / "t.tap", "--junit", fifo, "--json", link)
    reader.join(30)
    assert r.returncode == 0, r.stderr
    assert fifo.is_fifo() and link.is_symlink(), "a FIFO or a link was replaced"
    assert json.loads(target.read_text())["summary"]["total"] == 2
    assert got["text"].startswith("<?xml") and got["text"].rstrip().endswith("</testsuites>")
    # compare --output through a link too
    r = run("compare", target, target, "--format", "md", "--output", link)
    assert r.returncode == 0 and link.is_symlink() and target.read_text().startswith("# sockreuse compare")


def test_fifo_nobody_reads_is_an_error_not_a_hang(binary, cases_dir, tmp_path):
    quick_cases(cases_dir)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    r = run("run", "--cases", cases_dir, "--tap", tmp_path / "t.tap", "--json", fifo, timeout=30)
    assert time.monotonic() - t0 < 20
    assert r.returncode == 1 and "FIFO" in r.stderr, r.stderr


# --- item 7: plan order ------------------------------------------------------------------------

def test_reports_in_plan_order_whatever_finished_first(binary, cases_dir, tmp_path):
    """The first cases take longest, so with -j they finish last; every report still lists them
    in plan order (file, then matrix order), as `list` does."""
    (cases_dir / "0901-slow-first.case").write_text(case_text(
        901, ["socket  s tcp inet", "wait-ms {ms}"], head="matrix   ms 600 400 200 1"))
    free_bind_case(cases_dir, number=902, name="quick")
    ids = [l.split("\t")[0] for l in run("list", "--cases", cases_dir).stdout.splitlines()]
    d = tmp_path
    r = run("run", "--cases", cases_dir, "-j", "4", "--json", d / "r.json", "--junit", d / "j.xml",
            "--junit-annotated", d / "a.xml", "--tap", d / "t.tap")
    assert r.returncode == 0, r.stderr
    assert [c["id"] for c in load_json(d / "r.json")["cases"]] == ids
    assert [t["id"] for t in parse_tap((d / "t.tap").read_text())["tests"]] == ids
    for x in ("j.xml", "a.xml"):
        root, _ = load_junit(d / x, schemas=(JENKINS_XSD,))
        assert [tc.get("name") for tc in root.iter("testcase")] == ids
    # and the TAP stream on stdout
    r = run("run", "--cases", cases_dir, "-j", "4")
    assert [t["id"] for t in parse_tap(r.stdout)["tests"]] == ids


# --- item 8: JUnit for CI ------------------------------------------------------------------------

def test_annotated_junit_points_at_the_expect_line(binary, cases_dir, tmp_path):
    free_bind_case(cases_dir, number=902, name="wrong", family_axis=False, expect="EADDRINUSE")
    out = tmp_path / "a.xml"
    r = run("run", "--cases", cases_dir, "--tap", tmp_path / "t.tap", "--junit-annotated", out, "--junit",
            tmp_path / "j.xml")
    assert r.returncode == 1
    root, st = load_junit(out, schemas=(JENKINS_XSD,))
    assert st == {"0902": "fail"}
    # The Ant schema has no file or line on a testcase: those are its only complaints.
    errs = schema_errors(out, ANT_XSD)
    assert errs and all(re.search(r"attribute '(file|line)'", e) for e in errs), errs
    load_junit(tmp_path / "j.xml")  # the plain one is valid under both
    tc = next(root.iter("testcase"))
    lines = pathlib.Path(tc.get("file")).read_text().split("\n")
    assert lines[int(tc.get("line")) - 1].startswith("expect EADDRINUSE"), tc.attrib
    failure = tc.find("failure")
    assert failure.text.startswith(f"kernel: {os.uname().release}\n")
    suite = next(root.iter("testsuite"))
    assert suite.get("name") == f"e2e on {os.uname().release}"


# --- item 9: schema and reader ------------------------------------------------------------------

@pytest.fixture(scope="module")
def good_report(tmp_path_factory):
    d = tmp_path_factory.mktemp("good")
    (d / "cases").mkdir()
    free_bind_case(d / "cases")
    free_bind_case(d / "cases", number=902, name="wrong", family_axis=False, expect="EADDRINUSE")
    run("run", "--cases", d / "cases", "--json", d / "r.json", "--tap", d / "t.tap")
    return load_json(d / "r.json")


def set_case(doc, key, value, i=0):
    doc["cases"][i][key] = value
    return doc


BAD = {
    "empty id": (lambda d: set_case(d, "id", ""), r'"id" is empty'),
    "blank id": (lambda d: set_case(d, "id", " 0901"), r"white space"),
    "bad expected": (lambda d: set_case(d, "expected", "banana"), r'"expected" is "banana"'),
    "bad expected step": (lambda d: set_case(d, "expected", "EADDRINUSE at Listen!"), r'"expected" is "EADDRINUSE at'),
    "bad started": (lambda d: d.update(started="yesterday") or d, r'"started" is "yesterday"'),
    "negative number": (lambda d: set_case(d, "number", -1), r'"number" is -1'),
    "negative duration": (lambda d: set_case(d, "duration_ms", -5), r'"duration_ms" is -5'),
    "bad status": (lambda d: set_case(d, "status", "fine"), r'unknown status "fine"'),
}
# What a schema cannot see, the reader must.
BAD_BEYOND_SCHEMA = {
    "duplicate ids": (lambda d: set_case(d, "id", d["cases"][1]["id"]), r"duplicate case id"),
    "summary contradicts": (lambda d: d["summary"].update({"pass": 0}) or d,
                            r'summary: "pass" is 0, but the cases say 2'),
    # the schema's pattern has the shape; the day of the month is the reader's (Debian's
    # jsonschema has no date-time format checker)
    "bad date": (lambda d: d.update(started="2026-02-30T10:00:00Z") or d, r'"started" is "2026-02-30'),
}


def schema_validator():
    import jsonschema
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()),
                                           format_checker=jsonschema.FormatChecker())


def check_refused(doc, tmp_path, good_path, want):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    r = run("compare", good_path, bad)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.startswith(f"sockreuse compare: {bad}: "), r.stderr
    assert re.search(want, r.stderr), r.stderr


@pytest.mark.parametrize("what", sorted(BAD))
def test_schema_and_compare_refuse(good_report, tmp_path, what):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(good_report))
    v = schema_validator()
    assert not list(v.iter_errors(good_report))
    change, want = BAD[what]
    doc = change(copy.deepcopy(good_report))
    assert list(v.iter_errors(doc)), f"the schema accepts a report with {what}"
    check_refused(doc, tmp_path, good, want)


@pytest.mark.parametrize("what", sorted(BAD_BEYOND_SCHEMA))
def test_reader_refuses_what_no_schema_can_see(good_report, tmp_path, what):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(good_report))
    change, want = BAD_BEYOND_SCHEMA[what]
    check_refused(change(copy.deepcopy(good_report)), tmp_path, good, want)


def test_schema_describes_expected_as_it_is():
    desc = json.loads(SCHEMA.read_text())["$defs"]["case"]["properties"]["expected"]["description"]
    assert "errno" in desc and "any" in desc


# --- item 13: signals and pipes ----------------------------------------------------------------

def test_broken_pipe_keeps_the_report_files(binary, tmp_path):
    """`run ... | head -1`: the TAP reader goes away; the files are still written, said on stderr."""
    j, x = tmp_path / "r.json", tmp_path / "j.xml"
    p = subprocess.Popen([str(BIN), "run", "--filter", "0101/family=inet/state=LISTEN/*", "-j", "2",
                          "--json", str(j), "--junit", str(x)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert p.returncode == 1, (p.returncode, err)
    assert "cannot write standard output" in err and "still written" in err, err
    doc = load_json(j)
    assert doc["summary"]["total"] > 10
    load_junit(x)


def status_mask(pid, field):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1], 16)
    return 0


def test_signals_while_reports_are_written_do_not_kill(binary, tmp_path):
    """SIGINT to end the run, then SIGTERM after SIGTERM until it exits: the reports are whole,
    no temporary is left, the exit says interrupted."""
    d = tmp_path / "out"
    d.mkdir()
    p = subprocess.Popen([str(BIN), "run", "--filter", "0101/*", "-j", "2", "--tap", str(d / "t.tap"),
                          "--json", str(d / "r.json"), "--junit", str(d / "j.xml")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (status_mask(p.pid, "SigBlk") & (1 << (signal.SIGINT - 1))) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    while p.poll() is None and time.monotonic() < deadline:
        try:
            p.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            break
        time.sleep(0.002)
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert p.returncode == 130, (p.returncode, err)
    assert sorted(x.name for x in d.iterdir()) == ["j.xml", "r.json", "t.tap"]
    doc = load_json(d / "r.json")
    assert doc["interrupted"] is True
    assert parse_tap((d / "t.tap").read_text())["bail_out"] == doc["interruption"]
    load_junit(d / "j.xml")


def test_signal_while_cases_load_still_reports(binary, tmp_path):
    """A signal while a big case folder loads: the run ends before any case, with complete,
    interrupted reports and exit 130 (not a death by SIGTERM with nothing written)."""
    cases = tmp_path / "cases"
    cases.mkdir()
    values = " ".join(str(i) for i in range(100000))
    (cases / "0901-big.case").write_text(case_text(901, ["socket  s tcp inet"], head=f"matrix   n {values}"))
    d = tmp_path / "out"
    d.mkdir()
    p = subprocess.Popen([str(BIN), "run", "--cases", str(cases), "--tap", str(d / "t.tap"),
                          "--json", str(d / "r.json"), "--junit", str(d / "j.xml")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert p.returncode == 130, (p.returncode, err)
    doc = load_json(d / "r.json")
    assert doc["interrupted"] is True and doc["interruption"].startswith("interrupted by SIGTERM")
    assert doc["summary"]["total"] < 100000
    assert sorted(x.name for x in d.iterdir()) == ["j.xml", "r.json", "t.tap"]


# --- item 14: silent losses ---------------------------------------------------------------------

def test_equal_report_paths_are_refused(binary, cases_dir, tmp_path):
    quick_cases(cases_dir)
    f = tmp_path / "r.out"
    same = [
        ("--tap", f, "--json", f),
        ("--tap", f, "--json", tmp_path / "." / "r.out"),
        ("--junit", f, "--json", "-", "--tap", tmp_path / "t.tap", "--junit-annotated", "-"),
    ]
    f.write_text("x")
    (tmp_path / "hard").unlink(missing_ok=True)
    os.link(f, tmp_path / "hard")
    same.append(("--tap", f, "--junit", tmp_path / "hard"))
    (tmp_path / "sym").symlink_to(f)
    same.append(("--json", tmp_path / "sym", "--tap", f))
    for args in same:
        t0 = time.monotonic()
        r = run("run", "--cases", cases_dir, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert "are the same file" in r.stderr, r.stderr
        assert r.stdout == "" and time.monotonic() - t0 < 5
    assert f.read_text() == "x"
    r = run("run", "--cases", cases_dir, "--json", "-")
    assert r.returncode == 2 and "standard output carries the TAP stream" in r.stderr


def test_empty_report_path_is_a_usage_error(binary, cases_dir):
    quick_cases(cases_dir)
    for opt in ("--tap", "--junit", "--junit-annotated", "--json"):
        r = run("run", "--cases", cases_dir, opt, "")
        assert r.returncode == 2 and "empty path" in r.stderr, (opt, r.stderr)
        assert r.stdout == "", "nothing ran"


@pytest.mark.parametrize("cmd", ["run --cases {cases}", "list --cases {cases}", "describe 0901/family=inet --cases {cases}",
                                 "doc --cases {cases}"])
def test_failed_stdout_is_an_error(binary, cases_dir, tmp_path, cmd):
    quick_cases(cases_dir)
    r = in_scratch_dev(f"{BIN} {cmd.format(cases=cases_dir)} --json {tmp_path}/r.json > /dev/full"
                       if cmd.startswith("run") else f"{BIN} {cmd.format(cases=cases_dir)} > /dev/full")
    assert r.returncode != 0, r.stderr
    assert re.search(r"cannot write (to )?st(andar)?d(ard)? ?out", r.stderr), r.stderr
    if cmd.startswith("run"):
        assert load_json(tmp_path / "r.json")["summary"]["total"] == 2
