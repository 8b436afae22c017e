"""End-to-end tests of `sockreuse run`: the three reports (TAP read by prove, JUnit valid against
tests/xsd (Ant and Jenkins xunit), JSON valid against reports/schema.json) and how they agree, the statuses and
the exit code they lead to, --filter/--exclude and --repeat.

Real cases run on a small subset; scenarios about statuses use case files written here, so
that nothing depends on a real case's outcome beyond what its case file states.
"""
import fnmatch
import os
import re
import subprocess

import pytest

from helpers import (BIN, assert_reports_agree, by_id, case_files_by_number, case_text, check_params,
                     free_bind_case, load_json, load_junit, makefile_version, parse_tap, prove)

pytest.importorskip("jsonschema")
pytest.importorskip("lxml.etree")

SUBSET = ["0101/family=inet/state=TIME_WAIT/*", "0102/*state=LISTEN*"]
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) skipped, (\d+) errors$")


def run(*args, timeout=120):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout)


def filters(globs):
    return [a for g in globs for a in ("--filter", g)]


def summary_line(stderr):
    """The run's last stderr line, as (pass, fail, skip, error)."""
    last = stderr.rstrip("\n").split("\n")[-1]
    m = SUMMARY.match(last)
    assert m, f"last stderr line is not the summary: {last!r}"
    return tuple(int(x) for x in m.groups())


def counts(doc):
    s = doc["summary"]
    return (s["pass"], s["fail"], s["skip"], s["error"])


@pytest.fixture(scope="module")
def listed(binary):
    r = run("list", *filters(SUBSET))
    assert r.returncode == 0, r.stderr
    ids = [l.split("\t")[0] for l in r.stdout.splitlines()]
    assert ids, "the subset is empty: have the case files changed?"
    return ids


@pytest.fixture(scope="module")
def real_files(binary, tmp_path_factory):
    """The real subset, run once with every report written to a file."""
    d = tmp_path_factory.mktemp("real")
    paths = {"tap": d / "run.tap", "junit": d / "junit.xml", "json": d / "run.json"}
    r = run("run", "-j", "4", *filters(SUBSET), "--tap", paths["tap"], "--junit", paths["junit"],
            "--json", paths["json"])
    return r, paths


@pytest.fixture(scope="module")
def real_stdout(binary, tmp_path_factory):
    """The real subset, run once with TAP streamed on stdout."""
    return run("run", "-j", "4", *filters(SUBSET))


def test_real_subset_exit_code_agrees_with_reports(real_files):
    r, paths = real_files
    doc = load_json(paths["json"])
    assert r.stdout == "", "with --tap FILE nothing goes to stdout"
    assert summary_line(r.stderr) == counts(doc)
    want = 1 if doc["summary"]["fail"] or doc["summary"]["error"] else 0
    assert r.returncode == want, r.stderr


def test_tap_file_is_accepted_by_prove(real_files, listed):
    r, paths = real_files
    tap = parse_tap(paths["tap"].read_text())
    doc = load_json(paths["json"])
    assert [t["id"] for t in tap["tests"]] == [c["id"] for c in doc["cases"]]
    assert sorted(t["id"] for t in tap["tests"]) == sorted(listed)
    p = prove(paths["tap"])
    all_ok = all(t["ok"] for t in tap["tests"])
    assert (p.returncode == 0) == all_ok, p.stdout + p.stderr
    assert f"Tests={len(listed)}," in p.stdout, p.stdout
    if all_ok:
        assert "Result: PASS" in p.stdout


def test_tap_streams_on_stdout(real_stdout, listed, tmp_path):
    r = real_stdout
    assert r.returncode in (0, 1), r.stderr
    tap = parse_tap(r.stdout)
    assert r.stdout.startswith("TAP version 13\n")
    assert tap["plan"] == len(listed)
    assert sorted(t["id"] for t in tap["tests"]) == sorted(listed)
    # The summary comment after the plan and the summary on stderr tell the same counts.
    p, f, s, e = summary_line(r.stderr)
    assert f"# {p} passed, {f} failed, {s} skipped, {e} errors" in tap["comments"]
    assert p + f + s + e == len(listed)
    assert f + e == sum(not t["ok"] for t in tap["tests"])
    assert s == sum(t["directive"] == "SKIP" for t in tap["tests"])
    out = tmp_path / "stdout.tap"
    out.write_text(r.stdout)
    pr = prove(out)
    assert (pr.returncode == 0) == (f + e == 0), pr.stdout + pr.stderr


def test_json_report(real_files, listed):
    _, paths = real_files
    doc = load_json(paths["json"])
    assert doc["tool"] == {"name": "sockreuse", "version": makefile_version()}
    u = os.uname()
    # Debian's release hides the upstream version; its version string ("Debian 6.1.192-3") has it.
    m = re.search(r"Debian ([0-9]+)\.([0-9]+)(?:\.([0-9]+))?", u.version) or \
        re.match(r"([0-9]+)\.([0-9]+)(?:\.([0-9]+))?", u.release)
    upstream = "%s.%s.%s" % (m.group(1), m.group(2), m.group(3) or "0")
    assert doc["kernel"] == {"release": u.release, "version": u.version, "machine": u.machine,
                             "upstream": upstream}
    assert doc["interrupted"] is False
    assert doc["summary"]["total"] == len(listed)
    assert all(any(fnmatch.fnmatchcase(c["id"], g) for g in SUBSET) for c in doc["cases"])
    files = case_files_by_number()
    for c in doc["cases"]:
        path = files[c["number"]]
        check_params(c, path)
        group = re.search(r"^group\s+(\S+)", path.read_text(), re.M).group(1)
        assert c["group"] == group
        assert c["title"] and "{" not in c["title"], c["title"]
        assert c["rationale"] and c["refs"], f"{c['id']}: every expectation has a why and refs"
        assert c["expected"] == "ok" or re.fullmatch(r"E[A-Z0-9]+", c["expected"])
        if c["status"] == "pass":
            assert c["expected"] == c["observed"]
        else:
            assert c["detail"], c


def test_json_expected_is_what_the_case_file_says(real_files):
    """For one instance, the expectation in the report is the one `describe` documents."""
    _, paths = real_files
    doc = load_json(paths["json"])
    c = doc["cases"][0]
    r = run("describe", c["id"])
    assert r.returncode == 0, r.stderr
    outcomes = re.findall(r"^  (\S+) ", r.stdout.split("Expected outcome", 1)[1], re.M)
    assert outcomes and outcomes[0] == c["expected"], r.stdout
    assert c["rationale"].split()[0] in r.stdout


def test_junit_valid_and_matches_json(real_files):
    _, paths = real_files
    doc = load_json(paths["json"])
    root, statuses = load_junit(paths["junit"])
    assert_reports_agree(doc, statuses, parse_tap(paths["tap"].read_text()))
    # One testsuite per group, named with the kernel it ran on; a testcase sits in its case's
    # group; the Ant schema's package and id are there; nothing on <testsuites>.
    groups = {c["id"]: c["group"] for c in doc["cases"]}
    release = os.uname().release
    assert root.tag == "testsuites" and dict(root.attrib) == {}
    for i, suite in enumerate(root.iter("testsuite")):
        assert suite.get("id") == str(i)
        for tc in suite.findall("testcase"):
            assert groups[tc.get("name")] == suite.get("package")[len("sockreuse."):]
            assert suite.get("name") == f"{groups[tc.get('name')]} on {release}"
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props.get("kernel.release") == release
    assert sum(int(s.get("tests")) for s in root.iter("testsuite")) == doc["summary"]["total"]


# --- statuses and exit codes, with case files written here --------------------------------------

def run_all(cases_dir, reports, *extra):
    r = run("run", "--cases", cases_dir, "--tap", reports["tap"], "--junit", reports["junit"],
            "--json", reports["json"], *extra)
    doc = load_json(reports["json"])
    _, statuses = load_junit(reports["junit"])
    tap = parse_tap(reports["tap"].read_text())
    assert_reports_agree(doc, statuses, tap)
    assert summary_line(r.stderr) == counts(doc)
    return r, doc, tap


def test_exit_0_when_every_case_passes(binary, cases_dir, reports):
    free_bind_case(cases_dir)
    r, doc, _ = run_all(cases_dir, reports)
    assert r.returncode == 0, r.stderr
    assert [c["status"] for c in doc["cases"]] == ["pass", "pass"]
    assert {c["params"]["family"] for c in doc["cases"]} == {"inet", "inet6"}
    for c in doc["cases"]:
        assert c["observed"] == "ok" and c["expected"] == "ok"
        assert c["facts"]["s.local_port"] == "4000"
    assert prove(reports["tap"]).returncode == 0


def test_exit_1_when_a_case_fails(binary, cases_dir, reports):
    free_bind_case(cases_dir)
    # Nothing holds the port: the bind succeeds, so expecting EADDRINUSE is wrong.
    free_bind_case(cases_dir, number=902, name="wrong", family_axis=False, expect="EADDRINUSE")
    r, doc, tap = run_all(cases_dir, reports)
    assert r.returncode == 1, r.stderr
    c = by_id(doc)["0902"]
    assert (c["status"], c["expected"], c["observed"]) == ("fail", "EADDRINUSE", "ok")
    t = {t["id"]: t for t in tap["tests"]}["0902"]
    assert not t["ok"]
    assert t["yaml"]["expected"] == "EADDRINUSE" and t["yaml"]["observed"] == "ok"
    assert t["yaml"]["rationale"] == "Written by the end-to-end tests."
    assert t["yaml"]["params"]["topology"] == "loopback"
    assert [x["status"] for x in doc["cases"] if x["id"] != "0902"] == ["pass", "pass"]
    p = prove(reports["tap"])
    assert p.returncode != 0 and "Result: FAIL" in p.stdout, p.stdout


def test_errno_outcome_and_failed_at(binary, cases_dir, reports, write):
    write(cases_dir, "0903-conflict.case", case_text(
        903, ["socket  s tcp inet", "bind    s host {PORT}", "listen  s"], "EADDRINUSE",
        setup=["socket  a tcp inet", "bind    a host {PORT}"]))
    r, doc, _ = run_all(cases_dir, reports)
    assert r.returncode == 0, r.stderr
    c = doc["cases"][0]
    assert (c["status"], c["observed"]) == ("pass", "EADDRINUSE")
    assert c["facts"]["failed_at"] == "bind"


def test_setup_failure_is_an_error_not_a_result(binary, cases_dir, reports, write):
    # 192.0.2.99 is assigned to nobody and ip_nonlocal_bind is 0: the setup cannot bind it.
    text = case_text(904, ["socket  s tcp inet"], setup=["socket  a tcp inet", "bind    a unassigned {PORT}"])
    line = text.splitlines().index("    bind    a unassigned {PORT}") + 1
    write(cases_dir, "0904-setup.case", text)
    r, doc, tap = run_all(cases_dir, reports)
    assert r.returncode == 1
    c = doc["cases"][0]
    assert c["status"] == "error" and c["observed"] == ""
    assert "EADDRNOTAVAIL" in c["detail"] and f"line {line} " in c["detail"], c["detail"]
    assert tap["tests"][0]["yaml"]["status"] == "error"


def test_exit_4_when_everything_is_skipped(binary, cases_dir, reports, write):
    write(cases_dir, "0905-skip.case", case_text(
        905, ["socket  s tcp inet"], head="sysctl   net.ipv4.no_such_sysctl 1"))
    r, doc, tap = run_all(cases_dir, reports)
    assert r.returncode == 4, r.stderr
    c = doc["cases"][0]
    assert c["status"] == "skip"
    assert "no_such_sysctl" in c["detail"]
    assert c["params"]["sysctl.net.ipv4.no_such_sysctl"] == "1"
    assert tap["tests"][0]["directive"] == "SKIP" and "no_such_sysctl" in tap["tests"][0]["reason"]
    assert prove(reports["tap"]).returncode == 0, "skips are not failures for prove"
    # JUnit: <skipped> carries its reason as text, which CI pages show.
    root, _ = load_junit(reports["junit"])
    sk = next(root.iter("skipped"))
    assert sk.text == c["detail"] == sk.get("message")


def test_skips_next_to_passes_exit_0(binary, cases_dir, reports, write):
    free_bind_case(cases_dir)
    write(cases_dir, "0905-skip.case", case_text(
        905, ["socket  s tcp inet"], head="sysctl   net.ipv4.no_such_sysctl 1"))
    r, doc, _ = run_all(cases_dir, reports)
    assert r.returncode == 0, r.stderr
    assert counts(doc) == (2, 0, 1, 0)


def test_expect_any_is_refused(binary, cases_dir, reports, write):
    """Every outcome is asserted: 'expect any' is an input error at its line and column."""
    write(cases_dir, "0906-any.case", case_text(
        906, ["socket  s tcp inet", "bind    s host {PORT}", "listen  s"], "any",
        setup=["socket  a tcp inet", "bind    a host {PORT}"]))
    r = run("run", "--cases", cases_dir, "--json", reports["json"])
    assert r.returncode == 2, r.stderr
    assert re.search(r"0906-any\.case:\d+:8: 'expect any' asserts nothing", r.stderr), r.stderr


def test_state_moved_before_the_test_is_an_error(binary, cases_dir, reports, write):
    """occupy declares ESTABLISHED; a later setup step closes the socket: the state is read
    again before the test, so the case is error, saying what the state became, not pass."""
    write(cases_dir, "0909-moved.case", case_text(
        909, ["socket  new tcp inet", "bind    new host {PORT}"], "EADDRINUSE",
        setup=["occupy  old ESTABLISHED active host {PORT}", "close   old.remote", "close   old"]))
    r, doc, _ = run_all(cases_dir, reports)
    assert r.returncode == 1, r.stderr
    c = doc["cases"][0]
    assert c["status"] == "error", c
    assert "before the test: old is" in c["detail"] and "not ESTABLISHED as occupy left it" in c["detail"], c


def test_planted_wrong_expectation_fails(binary, cases_dir, reports, write):
    """A FIN_WAIT2 whose owner still has it keeps its four-tuple (0206): a case that expects
    connect() to take it over, as it would a timewait socket's, fails."""
    write(cases_dir, "0910-planted.case", case_text(
        910, ["socket  new tcp inet", "setsockopt new SO_REUSEADDR 1", "bind    new host {PORT}",
              "connect-peer-nowait new old"], "ok",
        setup=["occupy  old ESTABLISHED active host {PORT} reuseaddr=1", "shutdown old wr",
               "wait-state old FIN_WAIT2"]))
    r, doc, _ = run_all(cases_dir, reports)
    assert r.returncode == 1, r.stderr
    c = doc["cases"][0]
    assert (c["status"], c["expected"], c["observed"]) == ("fail", "ok", "EADDRNOTAVAIL"), c


def test_expectation_by_kernel_version(binary, cases_dir, reports, write):
    major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", os.uname().release).groups())
    text = case_text(907, ["socket  s tcp inet", "bind    s host {PORT}"], "EADDRINUSE")
    # Rules for kernels this one is not, then one that holds for it, before the default.
    text = text.replace("expect EADDRINUSE", f"""expect EPERM when kernel>={major + 1}.0
    why  Not this kernel.
    ref  none
expect EACCES when kernel<{major}.{minor}
    why  Not this kernel either.
    ref  none
expect ok when kernel>={major}.{minor}
    why  This kernel.
    ref  bind(2)
expect EADDRINUSE""")
    write(cases_dir, "0907-kernel.case", text)
    r, doc, _ = run_all(cases_dir, reports)
    assert r.returncode == 0, r.stderr
    c = doc["cases"][0]
    assert (c["status"], c["expected"], c["rationale"]) == ("pass", "ok", "This kernel.")


def test_filter_and_exclude(binary, cases_dir, reports, write):
    write(cases_dir, "0908-matrix.case", case_text(
        908, ["socket  s tcp {family}", "bind    s {where} {PORT}"],
        head="""matrix  family  inet inet6
                matrix  where   host any
                param   op      bind"""))
    free_bind_case(cases_dir)
    r, doc, _ = run_all(cases_dir, reports, "--filter", "0908/*", "--exclude", "*/where=any")
    assert r.returncode == 0, r.stderr
    assert sorted(c["id"] for c in doc["cases"]) == ["0908/family=inet/where=host", "0908/family=inet6/where=host"]
    r, doc, _ = run_all(cases_dir, reports, "--filter", "*family=inet6*", "--filter", "0901/family=inet")
    assert sorted(c["id"] for c in doc["cases"]) == [
        "0901/family=inet", "0901/family=inet6", "0908/family=inet6/where=any", "0908/family=inet6/where=host"]


def test_repeat_runs_each_case_n_times(binary, cases_dir, reports):
    free_bind_case(cases_dir)
    r, doc, tap = run_all(cases_dir, reports, "--repeat", "3", "-j", "2")
    assert r.returncode == 0, r.stderr
    assert tap["plan"] == 2, "one result per case, not per run"
    for c in doc["cases"]:
        assert c["status"] == "pass"
        assert c["facts"]["runs"] == "3"


def test_repeat_on_a_real_case(binary, reports):
    """A real TIME_WAIT case, repeated: deterministic, so the same outcome three times."""
    r = run("list", "--filter", SUBSET[0])
    one = r.stdout.splitlines()[0].split("\t")[0]
    r = run("run", "--filter", one, "--repeat", "3", "--json", reports["json"], "--tap", reports["tap"])
    doc = load_json(reports["json"])
    assert [c["id"] for c in doc["cases"]] == [one]
    c = doc["cases"][0]
    assert c["facts"]["runs"] == "3"
    assert "differs between" not in c["detail"], c["detail"]
    assert r.returncode == (0 if c["status"] == "pass" else 1)
    assert parse_tap(reports["tap"].read_text())["plan"] == 1


def test_without_repeat_there_is_no_runs_fact(binary, cases_dir, reports):
    free_bind_case(cases_dir)
    _, doc, _ = run_all(cases_dir, reports)
    assert all("runs" not in c["facts"] for c in doc["cases"])
