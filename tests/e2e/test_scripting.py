"""What scripts read and drive: `list --json` against reports/list-schema.json, `run --jsonl`
lines against the report schema's case object, --maxfail/-x stopping early with complete
reports, --filter-from and --param selections."""
import json
import re
import subprocess

import pytest

from helpers import (BIN, REPO, SCHEMA, assert_reports_agree, case_text, free_bind_case, load_json, load_junit,
                     parse_tap, write_case)

jsonschema = pytest.importorskip("jsonschema")
LIST_SCHEMA = REPO / "reports" / "list-schema.json"


def run(*args, timeout=300, **kw):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw)


def validator(schema, ref=None):
    if ref:
        schema = dict(schema, **{"$ref": ref})
        schema.pop("required", None)
        schema.pop("properties", None)
        schema.pop("additionalProperties", None)
        schema.pop("type", None)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def list_ids(*args):
    r = run("list", *args)
    assert r.returncode == 0, r.stderr
    return [l.split("\t")[0] for l in r.stdout.splitlines()]


# --- list --json -----------------------------------------------------------------------------

def test_list_json_matches_its_schema_and_the_text_list(binary):
    r = run("list", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    validator(json.loads(LIST_SCHEMA.read_text())).validate(doc)
    assert [c["id"] for c in doc["cases"]] == list_ids()
    text = {l.split("\t")[0]: l.split("\t", 1)[1] for l in run("list").stdout.splitlines()}
    for c in doc["cases"]:
        assert c["title"] == text[c["id"]]
        assert c["id"].startswith(f"{c['number']:04d}")
        lines = open(c["file"]).read().split("\n")
        assert lines[c["line"] - 1].split() == ["case", f"{c['number']:04d}"], (c["file"], c["line"])
        for k, v in c["params"].items():
            if f"/{k}=" in c["id"]:
                assert f"/{k}={v}" in c["id"]


def test_list_json_line_and_params_of_a_written_case(binary, cases_dir):
    write_case(cases_dir, "0901-free.case", "# a comment first\n\n" + case_text(
        901, ["socket  s tcp {family}", "bind    s host {PORT}"], head="matrix family inet inet6\nparam op bind"))
    doc = json.loads(run("list", "--json", "--cases", cases_dir).stdout)
    validator(json.loads(LIST_SCHEMA.read_text())).validate(doc)
    assert [(c["id"], c["line"], c["params"]["family"], c["params"]["op"]) for c in doc["cases"]] == [
        ("0901/family=inet", 3, "inet", "bind"), ("0901/family=inet6", 3, "inet6", "bind")]
    assert all(c["file"].endswith("/0901-free.case") for c in doc["cases"])


def test_the_schema_rejects_what_list_never_prints(binary):
    v = validator(json.loads(LIST_SCHEMA.read_text()))
    good = json.loads(run("list", "--json", "--filter", "0101/*").stdout)
    c = dict(good["cases"][0])
    for bad in ({**c, "line": 0}, {k: x for k, x in c.items() if k != "file"}, {**c, "extra": 1}):
        with pytest.raises(jsonschema.ValidationError):
            v.validate({"format": "sockreuse-list/1", "cases": [bad]})


# --- --jsonl ---------------------------------------------------------------------------------

def test_jsonl_one_case_object_a_line_as_in_the_report(binary, cases_dir, tmp_path):
    free_bind_case(cases_dir, number=901)
    write_case(cases_dir, "0902-wrong.case", case_text(
        902, ["socket  s tcp inet", "bind    s host {PORT}"], "EADDRINUSE"))
    events, rep = tmp_path / "e.jsonl", tmp_path / "r.json"
    r = run("run", "--cases", cases_dir, "--jsonl", events, "--json", rep, "--tap", tmp_path / "t.tap")
    assert r.returncode == 1
    doc = load_json(rep)
    case_schema = validator(json.loads(SCHEMA.read_text()), "#/$defs/case")
    text = events.read_text()
    assert text.endswith("\n")
    lines = [json.loads(l) for l in text.splitlines()]
    for l in lines:
        case_schema.validate(l)
    assert sorted(lines, key=lambda c: c["id"]) == sorted(doc["cases"], key=lambda c: c["id"])


def test_jsonl_stdout(binary, cases_dir, tmp_path):
    free_bind_case(cases_dir, number=901)
    r = run("run", "--cases", cases_dir, "--jsonl", "-", "--tap", tmp_path / "t.tap")
    assert r.returncode == 0, r.stderr
    assert sorted(json.loads(l)["id"] for l in r.stdout.splitlines()) == ["0901/family=inet", "0901/family=inet6"]
    r = run("run", "--cases", cases_dir, "--jsonl", "-")
    assert r.returncode == 2 and "--tap" in r.stderr, "TAP and the events cannot share stdout"


def test_jsonl_unwritable_is_a_usage_error(binary, cases_dir, tmp_path):
    free_bind_case(cases_dir, number=901)
    r = run("run", "--cases", cases_dir, "--jsonl", tmp_path / "no" / "such" / "dir.jsonl")
    assert r.returncode == 2 and "cannot write" in r.stderr


# --- --maxfail, -x ---------------------------------------------------------------------------

@pytest.fixture
def failing(cases_dir):
    """40 quick cases that all fail (a free bind expected to give EADDRINUSE), then 2 that pass."""
    write_case(cases_dir, "0902-wrong.case", case_text(
        902, ["socket  s tcp inet", "bind    s host {PORT}"], "EADDRINUSE",
        head="matrix n " + " ".join(str(i) for i in range(40))))
    free_bind_case(cases_dir, number=903)
    return cases_dir


@pytest.mark.parametrize("opt,n", [(["--maxfail", "3"], 3), (["-x"], 1), (["--exitfirst"], 1)])
def test_maxfail_stops_early_with_complete_reports(binary, failing, tmp_path, opt, n):
    paths = {k: tmp_path / f"r.{k}" for k in ("tap", "junit", "json", "jsonl")}
    r = run("run", "--cases", failing, "-j", "1", *opt, *[a for k, p in paths.items() for a in (f"--{k}", p)])
    assert r.returncode == 1, r.stderr
    doc = load_json(paths["json"])
    _, junit = load_junit(paths["junit"])
    tap = parse_tap(paths["tap"].read_text())
    assert_reports_agree(doc, junit, tap)
    # -j 1: one case at a time, so exactly n ran, all failures; the others are absent, never passes.
    assert (doc["summary"]["total"], doc["summary"]["fail"], doc["summary"]["pass"]) == (n, n, 0)
    assert doc["interrupted"] is True
    assert doc["properties"]["run.maxfail"] == str(n)
    assert doc["properties"]["run.not_run"] == str(42 - n)
    assert f"stopped after {n} failure" in doc["interruption"] and f"(--maxfail {n})" in doc["interruption"]
    assert re.search(rf"^Bail out! stopped after {n} failures? or errors? \(--maxfail {n}\)",
                     paths["tap"].read_text(), re.M), "a TAP consumer fails a run that stopped early"
    assert len(paths["jsonl"].read_text().splitlines()) == n
    assert f"(--maxfail {n}); {42 - n} cases not run" in r.stderr


def test_maxfail_not_reached_runs_everything(binary, failing, tmp_path):
    j = tmp_path / "r.json"
    r = run("run", "--cases", failing, "-j", "2", "--maxfail", "41", "--json", j, "--tap", tmp_path / "t")
    assert r.returncode == 1
    doc = load_json(j)
    assert (doc["summary"]["total"], doc["interrupted"]) == (42, False)
    assert "run.maxfail" not in doc["properties"]


def test_maxfail_kills_cases_in_flight(binary, cases_dir, tmp_path):
    """A slow case still running at the first failure is killed and absent, not waited for."""
    write_case(cases_dir, "0902-wrong.case", case_text(
        902, ["socket  s tcp inet", "bind    s host {PORT}"], "EADDRINUSE"))
    write_case(cases_dir, "0950-slow.case", case_text(950, ["socket  s tcp inet", "wait-ms 20000"]))
    j = tmp_path / "r.json"
    r = run("run", "--cases", cases_dir, "-j", "2", "-x", "--json", j, "--tap", tmp_path / "t", timeout=15)
    assert r.returncode == 1
    doc = load_json(j)
    assert [c["id"] for c in doc["cases"]] == ["0902"]
    assert doc["duration_s"] < 10


@pytest.mark.parametrize("bad", ["0", "-1", "x", ""])
def test_maxfail_bad_value(binary, failing, bad):
    r = run("run", "--cases", failing, "--maxfail", bad)
    assert r.returncode == 2 and "--maxfail" in r.stderr


# --- --filter-from, --param ------------------------------------------------------------------

def test_filter_from_file_is_the_same_as_filters(binary, tmp_path):
    globs = ["0301/*tuple_diff=src_port*", "0101/family=inet6/state=TIME_WAIT/*"]
    f = tmp_path / "globs"
    f.write_text("# cases for the nightly job\n\n  " + globs[0] + "  \n" + globs[1] + "\n")
    got = list_ids("--filter-from", f)
    assert got and got == list_ids("--filter", globs[0], "--filter", globs[1])
    r = run("list", "--filter-from", "-", input=globs[0] + "\n")
    assert r.stdout.splitlines() and [l.split("\t")[0] for l in r.stdout.splitlines()] == list_ids("--filter", globs[0])


@pytest.mark.parametrize("content", ["", "# only a comment\n\n"])
def test_filter_from_without_a_glob_is_a_usage_error(binary, tmp_path, content):
    f = tmp_path / "globs"
    f.write_text(content)
    for cmd in ("list", "run"):
        r = run(cmd, "--filter-from", f)
        assert r.returncode == 2 and "no glob" in r.stderr


def test_filter_from_missing_file(binary, tmp_path):
    r = run("run", "--filter-from", tmp_path / "nope")
    assert r.returncode == 2 and "nope" in r.stderr


def test_param_selects_by_params_anded(binary):
    every = json.loads(run("list", "--json").stdout)["cases"]
    want = [c["id"] for c in every if c["params"].get("state") in ("TIME_WAIT", "CLOSE_WAIT")
            and c["params"].get("family") == "inet6" and c["params"].get("op") == "bind"]
    assert want
    got = list_ids("--param", "state=TIME_WAIT|CLOSE_WAIT", "--param", "family=inet6", "--param", "op=bind")
    assert got == want
    assert list_ids("--param", "sysctl.net.ipv4.tcp_tw_reuse=*") == \
        [c["id"] for c in every if "sysctl.net.ipv4.tcp_tw_reuse" in c["params"]]


def test_param_on_run(binary, tmp_path):
    j = tmp_path / "r.json"
    r = run("run", "-j", "2", "--param", "state=LISTEN", "--param", "family=inet", "--filter", "0101/*",
            "--json", j, "--tap", tmp_path / "t")
    doc = load_json(j)
    assert doc["cases"] and all(c["params"]["state"] == "LISTEN" and c["params"]["family"] == "inet"
                                for c in doc["cases"])
    assert len(doc["cases"]) == len(list_ids("--param", "state=LISTEN", "--param", "family=inet", "--filter", "0101/*"))


@pytest.mark.parametrize("args,msg", [
    (["--param", "state"], "KEY=VALUE"),
    (["--param", "=x"], "KEY=VALUE"),
    (["--param", "op=bind", "--param", "op=listen"], "given twice"),
])
def test_param_bad(binary, args, msg):
    for cmd in ("list", "run"):
        r = run(cmd, *args)
        assert r.returncode == 2 and msg in r.stderr, (cmd, r.stderr)


def test_param_matching_nothing(binary):
    assert run("list", "--param", "no_such_param=1").stdout == ""
    r = run("run", "--param", "no_such_param=1")
    assert r.returncode == 2 and "no case matches" in r.stderr
