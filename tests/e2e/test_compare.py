"""End-to-end tests of `sockreuse compare`: exit codes, the four output formats, bad input.

Reports are crafted as dicts (reportgen.py), so these run anywhere, without namespaces or root.
Set $SOCKREUSE to test a binary other than sockreuse.
"""
import json
import re
import subprocess

import pytest

from reportgen import REPO, binary_path, case, report, write

BIN = binary_path()
pytestmark = pytest.mark.skipif(
    not BIN.exists(), reason=f"{BIN} is not built (make sockreuse, or set $SOCKREUSE)")

etree = pytest.importorskip("lxml.etree")

OLD = "6.1.0-27-cloud-amd64"
NEW = "6.12.12-cloud-amd64"


def compare(*args, cwd=None):
    return subprocess.run([str(BIN), "compare", *map(str, args)], capture_output=True,
                          text=True, timeout=60, cwd=cwd)


def one_of_each():
    """Two runs with one case per class (ids name the class they should get)."""
    old = [
        case("0101/kind=same"),
        case("0102/kind=behaviour", observed="EADDRINUSE"),
        case("0103/kind=regression"),
        case("0104/kind=fix", observed="EINVAL", expected="ok", status="fail"),
        case("0105/kind=skipped_now", group="connect"),
        case("0106/kind=gone", group="connect"),
    ]
    new = [
        case("0101/kind=same"),
        case("0102/kind=behaviour", observed="ok"),
        case("0103/kind=regression", observed="EADDRINUSE", expected="ok", status="fail"),
        case("0104/kind=fix"),
        case("0105/kind=skipped_now", observed="", status="skip", group="connect"),
        case("0107/kind=added", group="connect"),
    ]
    return report(OLD, old, hostname="old-host"), report(NEW, new, hostname="new-host",
                                                          started="2026-11-22T08:00:00Z")


EXPECTED_CLASS = {
    "0101/kind=same": "same",
    "0102/kind=behaviour": "behaviour",
    "0103/kind=regression": "regression",
    "0104/kind=fix": "fix",
    "0105/kind=skipped_now": "coverage",
    "0106/kind=gone": "coverage",
    "0107/kind=added": "coverage",
}


@pytest.fixture
def pair(tmp_path):
    old, new = one_of_each()
    return write(tmp_path / "old.json", old), write(tmp_path / "new.json", new)


@pytest.fixture
def same_pair(tmp_path):
    old, _ = one_of_each()
    other = dict(old, hostname="elsewhere")
    return write(tmp_path / "a.json", old), write(tmp_path / "b.json", other)


# ---- exit codes ----

def test_identical_runs_exit_0(same_pair):
    r = compare(*same_pair)
    assert r.returncode == 0, r.stderr
    assert "no changes" in r.stdout
    assert r.stderr == ""


def test_changes_exit_1(pair):
    r = compare(*pair)
    assert r.returncode == 1, r.stderr
    assert r.stderr == ""


@pytest.mark.parametrize("args", [
    [],
    ["one.json"],
    ["a.json", "b.json", "--format", "pdf"],
    ["a.json", "b.json", "--bogus"],
    ["a.json", "b.json", "--output"],
])
def test_usage_errors_exit_2(tmp_path, args):
    old, new = one_of_each()
    write(tmp_path / "a.json", old)
    write(tmp_path / "b.json", new)
    write(tmp_path / "one.json", old)
    r = compare(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("sockreuse compare: ")
    assert "usage:" in r.stderr
    assert r.stdout == ""


def test_help_exits_0():
    r = compare("--help")
    assert r.returncode == 0
    assert "usage:" in r.stdout


def test_only_changes_does_not_change_the_exit_code(pair, same_pair):
    assert compare(*pair, "--only-changes").returncode == 1
    assert compare(*same_pair, "--only-changes", "--format", "html").returncode == 0


# ---- text ----

def test_text_shows_each_class_changed_first(pair):
    out = compare(*pair, "--only-changes").stdout
    for id, cls in EXPECTED_CLASS.items():
        if cls == "same":
            assert id not in out
        else:
            assert re.search(rf"^{cls}\s+{re.escape(id)}$", out, re.M), (id, cls, out)
    assert "1 unchanged case not shown" in out
    assert "1 regression, 1 fix, 1 behaviour, 3 coverage; 1 same" in out


@pytest.mark.parametrize("args", [(), ("--all",)])
def test_text_default_and_all_show_unchanged_after_the_changes(pair, args):
    out = compare(*pair, *args).stdout
    assert re.search(r"^same\s+0101/kind=same\s+ok \(pass\)$", out, re.M)
    assert "not shown" not in out
    assert out.index("0101/kind=same") > max(out.index(i) for i, c in EXPECTED_CLASS.items() if c != "same")


@pytest.mark.parametrize("fmt", ["text", "md", "html", "junit"])
def test_default_scope_is_the_same_in_every_format(pair, fmt):
    """Every case by default, in every format; --only-changes leaves the unchanged out."""
    assert "0101/kind=same" in compare(*pair, "--format", fmt).stdout
    assert "0101/kind=same" not in compare(*pair, "--format", fmt, "--only-changes").stdout


def test_only_changes_with_all_is_a_usage_error(pair):
    r = compare(*pair, "--only-changes", "--all")
    assert r.returncode == 2 and "contradict" in r.stderr and r.stdout == ""


def test_runs_are_ordered_by_upstream_version(tmp_path):
    """6.6 after 6.1 and before 6.18 whatever the argument order (a shell glob puts 6.18
    first); Debian's release hides the upstream version, its version string has it."""
    runs = {
        "a": report("6.18.4-amd64", [case("0001/a")]),
        "b": report("6.1.0-57-cloud-amd64", [case("0001/a")],
                    version="#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)"),
        "c": report("6.6.9", [case("0001/a", observed="EADDRINUSE", expected="ok", status="fail")]),
        "d": report("6.1.0-47-cloud-amd64", [case("0001/a")],
                    version="#1 SMP PREEMPT_DYNAMIC Debian 6.1.170-3 (2026-01-01)"),
    }
    paths = [write(tmp_path / f"{k}.json", r) for k, r in runs.items()]
    out = compare(*paths).stdout
    order = [m.group(1) for m in re.finditer(r"^run \d+\s+(\S+)", out, re.M)]
    assert order == ["6.1.0-47-cloud-amd64", "6.1.0-57-cloud-amd64", "6.6.9", "6.18.4-amd64"]
    assert re.search(r"6\.6\.9\s+EADDRINUSE\s+fail\s+<- regression$", out, re.M)
    out = compare(*paths, "--order", "args").stdout
    order = [m.group(1) for m in re.finditer(r"^run \d+\s+(\S+)", out, re.M)]
    assert order == ["6.18.4-amd64", "6.1.0-57-cloud-amd64", "6.6.9", "6.1.0-47-cloud-amd64"]
    assert compare(*paths, "--order", "banana").returncode == 2


def test_kernel_upstream_field_wins(tmp_path):
    a = report("custom-a", [case("0001/a")])
    a["kernel"]["upstream"] = "6.12.3"
    b = report("custom-b", [case("0001/a")])
    b["kernel"]["upstream"] = "6.1.9"
    paths = [write(tmp_path / "a.json", a), write(tmp_path / "b.json", b)]
    order = [m.group(1) for m in re.finditer(r"^run \d+\s+(\S+)", compare(*paths).stdout, re.M)]
    assert order == ["custom-b", "custom-a"]


def test_gzip_reports_are_read(tmp_path, pair):
    import gzip
    gz = tmp_path / "old.json.gz"
    gz.write_bytes(gzip.compress(open(pair[0], "rb").read()))
    assert compare(gz, pair[1]).stdout == compare(*pair).stdout.replace(pair[0], str(gz))
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(gz.read_bytes()[:len(gz.read_bytes()) // 2])
    r = compare(cut, pair[1])
    assert r.returncode == 2 and "bad gzip stream" in r.stderr and len(r.stderr.splitlines()) == 1
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(b" " * (300 << 20), compresslevel=1))
    r = compare(bomb, pair[1])
    assert r.returncode == 2 and "once decompressed" in r.stderr


def test_text_starts_with_run_identity(pair):
    out = compare(*pair).stdout
    head = out.split("changes:")[0]
    for s in (OLD, NEW, "#1 SMP PREEMPT_DYNAMIC Debian " + OLD, "x86_64", "sockreuse 0.1.0",
              "2026-11-21T10:11:39Z", "2026-11-22T08:00:00Z", "old-host", "new-host",
              "6: 5 pass, 1 fail, 0 skip, 0 error", "6: 4 pass, 1 fail, 1 skip, 0 error"):
        assert s in head, s


def test_text_marks_the_changed_run(pair):
    out = compare(*pair).stdout
    block = out.split("regression  0103/kind=regression")[1].split("\n\n")[0]
    assert re.search(rf"{re.escape(OLD)}\s+ok\s+pass$", block, re.M)
    assert re.search(rf"{re.escape(NEW)}\s+EADDRINUSE\s+fail\s+<- regression$", block, re.M)
    assert "params: kind=regression" in block


def test_three_runs(tmp_path):
    runs = [
        report("6.1.0", [case("0001/a"), case("0002/b")]),
        report("6.6.0", [case("0001/a", observed="EADDRINUSE", expected="ok", status="fail"),
                         case("0002/b")]),
        report("6.12.0", [case("0001/a"), case("0002/b")]),
    ]
    paths = [write(tmp_path / f"r{i}.json", r) for i, r in enumerate(runs)]
    r = compare(*paths, "--only-changes")
    assert r.returncode == 1
    assert re.search(r"^regression\s+0001/a$", r.stdout, re.M)
    assert re.search(r"6\.6\.0\s+EADDRINUSE\s+fail\s+<- regression$", r.stdout, re.M)
    assert re.search(r"6\.12\.0\s+ok\s+pass\s+<- fix$", r.stdout, re.M)
    assert "0002/b" not in r.stdout


def test_same_release_twice_is_told_apart(tmp_path):
    a = write(tmp_path / "a.json", report(OLD, [case("0001/a")]))
    b = write(tmp_path / "b.json", report(OLD, [case("0001/a", observed="EPERM", expected="ok",
                                                     status="fail")]))
    out = compare(a, b).stdout
    assert f"{OLD} (run 1)" in out and f"{OLD} (run 2)" in out


# ---- markdown ----

def md_cells(line):
    """The cells of a Markdown table row; a backslash-escaped pipe is text, not a border."""
    assert line.startswith("|") and line.endswith("|"), line
    return re.split(r"(?<!\\)\|", line)[1:-1]


def md_tables(text):
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def test_md_tables_are_well_shaped(pair):
    r = compare(*pair, "--format", "md")
    assert r.returncode == 1
    tables = md_tables(r.stdout)
    assert len(tables) >= 4  # runs, changes, and one per group
    for t in tables:
        width = len(md_cells(t[0]))
        assert all(len(md_cells(line)) == width for line in t), t
        assert all(re.fullmatch(r"\s*-{3,}:?\s*", c) for c in md_cells(t[1])), t[1]


def test_md_lists_all_cases_with_class_and_bold_changes(pair):
    out = compare(*pair, "--format", "md").stdout
    rows = {md_cells(l)[0].strip().replace("\\", ""): md_cells(l)
            for t in md_tables(out) if md_cells(t[0])[0].strip() == "case" for l in t[2:]}
    assert set(rows) == set(EXPECTED_CLASS)
    for id, cells in rows.items():
        assert cells[-1].strip() == EXPECTED_CLASS[id]
    assert rows["0103/kind=regression"][3].strip() == "**EADDRINUSE (fail)**"
    assert rows["0103/kind=regression"][2].strip() == "ok (pass)"
    assert rows["0106/kind=gone"][3].strip() == "**absent**"
    header = next(t[0] for t in md_tables(out) if md_cells(t[0])[0].strip() == "case")
    assert [c.strip() for c in md_cells(header)] == ["case", "params", OLD, NEW, "change"]
    assert "### bind" in out and "### connect" in out


def test_md_only_changes(pair):
    out = compare(*pair, "--format", "md", "--only-changes").stdout
    assert "0101/kind=same" not in out
    assert "0103/kind=regression" in out
    assert "1 unchanged cases not shown" in out


# ---- html ----

def html_of(*args):
    r = compare(*args, "--format", "html")
    assert r.returncode in (0, 1), r.stderr
    return r.stdout, etree.fromstring(r.stdout.encode())


def test_html_is_well_formed_and_self_contained(pair):
    text, root = html_of(*pair)
    assert root.tag == "html"
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        assert el.tag not in ("script", "link", "img", "iframe", "object", "embed"), el.tag
        for attr in ("src", "srcset", "action", "style"):
            assert attr not in el.attrib, (el.tag, attr)
        assert el.get("href", "#").startswith("#"), el.get("href")   # in-page anchors only
    lowered = text.lower()
    for ref in ("http:", "https:", "url(", "@import", "//"):
        assert ref not in lowered, ref
    assert root.find("head/style") is not None


def case_id(tr):
    a = tr.find("td[@class='case']/a")
    return "".join(a.itertext())


def cells_by_case(root, table="changed"):
    """{case id: [td of each run]} from the changed (or unchanged) cases' table."""
    out = {}
    for tr in root.iterfind(f".//table[@class='matrix {table}']/tbody/tr"):
        out[case_id(tr)] = [td for td in tr.findall("td") if "cell" in (td.get("class") or "").split()]
    return out


def test_html_highlights_changed_cells(pair):
    _, root = html_of(*pair)
    cells = cells_by_case(root)
    assert set(cells) == {i for i, c in EXPECTED_CLASS.items() if c != "same"}
    assert set(cells_by_case(root, "same")) == {"0101/kind=same"}
    for id, cls in EXPECTED_CLASS.items():
        if cls == "same":
            continue
        old, new = cells[id]
        assert "chg" not in old.get("class").split()
        classes = new.get("class").split()
        assert "chg" in classes and f"chg-{cls}" in classes, (id, classes)
    assert cells["0103/kind=regression"][1].find("span[@class='out']").text == "EADDRINUSE"
    assert "expected ok" in cells["0103/kind=regression"][1].get("title")


def test_html_changed_rows_come_first_with_each_kernels_why(pair):
    text, root = html_of(*pair)
    assert text.index('id="changed"') < text.index('id="unchanged"')
    assert text.index("0103/kind=regression") < text.index("0101/kind=same")
    cells = cells_by_case(root)
    old, new = cells["0102/kind=behaviour"]
    assert old.find("span[@class='why']").text == "expects EADDRINUSE: Because of 0102/kind=behaviour."
    assert new.find("span[@class='why']").text == "expects ok: Because of 0102/kind=behaviour."
    # unchanged cases fold per family, each family an anchor of the index
    fams = root.findall(".//details[@class='family']")
    assert [f.find("summary").text.split(" ")[0] for f in fams] == ["bind"]
    links = {a.get("href") for a in root.iterfind(".//nav/a")}
    assert {"#changed", "#unchanged", "#" + fams[0].get("id")} <= links
    for tr in root.iterfind(".//table[@class='matrix changed']/tbody/tr"):
        assert tr.find("td[@class='case']/a").get("href") == "#" + tr.get("id")


def test_html_summary_legend_and_columns(pair):
    _, root = html_of(*pair)
    counts = {tr[0].text: int(tr[1].text) for tr in root.iterfind(".//table[@class='summary']/tbody/tr")}
    assert counts == {"regression": 1, "fix": 1, "behaviour": 1, "coverage": 3, "same": 1}
    legend = {tr[0].text: tr[0].get("class") for tr in root.iterfind(".//table[@class='summary']/tbody/tr")}
    assert legend["regression"] == "chg-regression"
    style = root.find("head/style").text
    colours = {c: re.search(rf"\.chg-{c}\{{background:(#[0-9a-f]+)", style).group(1)
               for c in ("regression", "fix", "behaviour", "coverage")}
    assert len(set(colours.values())) == 4
    heads = [th.text for th in root.iterfind(".//table[@class='matrix changed']/thead/tr/th")]
    assert heads == ["case", "change", OLD, NEW, "params"]
    runs = root.find(".//table[@class='runs']")
    text = etree.tostring(runs, encoding="unicode")
    for s in (OLD, NEW, "old-host", "new-host", "0.1.0", "2026-11-22T08:00:00Z", "x86_64"):
        assert s in text


def test_html_case_title_and_what_changed(pair):
    _, root = html_of(*pair)
    for tr in root.iterfind(".//table[@class='matrix changed']/tbody/tr"):
        if case_id(tr) == "0102/kind=behaviour":
            notes = [s.text for s in tr.findall("td[@class='case']/span")]
            assert notes[0] == "Case 0102/kind=behaviour"
            assert notes[1].startswith("behaviour: EADDRINUSE (pass)")
            break
    else:
        pytest.fail("no row for 0102/kind=behaviour")


def test_html_only_changes(pair):
    text, root = html_of(*pair, "--only-changes")
    cells = cells_by_case(root)
    assert "0101/kind=same" not in text
    assert "0103/kind=regression" in cells


def test_html_escapes_hostile_strings(tmp_path):
    evil = '<script>alert("x")</script> & \' ]]> \u0001 \u00e9'
    old = report(evil, [case("0001/a", title=evil, rationale=evil, group=evil, detail=evil,
                             params={"k": evil}, refs=[evil])], hostname=evil)
    new = report(NEW, [case("0001/a", observed=evil, expected="ok", status="fail", group=evil)])
    a, b = write(tmp_path / "a.json", old), write(tmp_path / "b.json", new)
    text, root = html_of(a, b)
    assert root.find(".//script") is None
    assert "<script>" not in text
    assert any(evil.split(" ")[0] in (el.text or "") for el in root.iter("summary", "td", "dd", "th"))


# ---- junit ----

def junit_of(*args):
    r = compare(*args, "--format", "junit")
    assert r.returncode in (0, 1), r.stderr
    return etree.fromstring(r.stdout.encode())


def test_junit_shape(pair):
    root = junit_of(*pair)
    assert root.tag == "testsuites"
    cases = {tc.get("name"): tc for tc in root.iter("testcase")}
    assert set(cases) == set(EXPECTED_CLASS)
    for id, cls in EXPECTED_CLASS.items():
        failure = cases[id].find("failure")
        if cls in ("regression", "behaviour", "coverage"):
            assert failure is not None and failure.get("type") == cls, id
            assert failure.get("message").startswith(cls + ":")
        else:
            assert failure is None, id
    msg = cases["0103/kind=regression"].find("failure").get("message")
    assert msg == f"regression: ok (pass) on {OLD} -> EADDRINUSE (fail) on {NEW}"
    assert dict(root.attrib) == {}, "the Ant schema allows no attribute on <testsuites>"
    suites = list(root.iter("testsuite"))
    assert sum(int(s.get("tests")) for s in suites) == 7 and sum(int(s.get("failures")) for s in suites) == 5
    assert [s.get("id") for s in suites] == [str(i) for i in range(len(suites))]
    for suite in suites:
        for attr in ("name", "package", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname"):
            assert suite.get(attr), attr
        assert suite.get("timestamp") == "2026-11-22T08:00:00"
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert props["run.1.kernel.release"] == OLD and props["run.2.kernel.release"] == NEW
        for tc in suite.iter("testcase"):
            assert tc.get("classname") and tc.get("time")
    fix_suite = cases["0104/kind=fix"].getparent()
    assert "0104/kind=fix: fix:" in fix_suite.find("system-out").text


@pytest.mark.parametrize("xsd", ["xsd/JUnit.xsd", "xsd/junit-10.xsd"])
def test_junit_validates_against_schema(pair, same_pair, tmp_path, xsd):
    """The Ant schema and Jenkins xunit's (tests/xsd/README)."""
    schema = etree.XMLSchema(etree.parse(str(REPO / "tests" / xsd)))
    skipped = write(tmp_path / "s.json", report(OLD, [case("0001/s", observed="", status="skip")]))
    for args in (pair, (*pair, "--only-changes"), same_pair, (*same_pair, "--only-changes"),
                 (skipped, skipped)):
        doc = junit_of(*args)
        assert schema.validate(doc), (args, schema.error_log)


# ---- bad input ----

BAD = {
    "empty": "",
    "not_json": "this is not json\n",
    "truncated": json.dumps(report(OLD, [case("0001/a")]))[:-20],
    "array": "[]",
    "other_object": '{"a": 1}',
    "no_cases": '{"format": "sockreuse-report/1"}',
    "case_without_id": json.dumps(report(OLD, [{"status": "pass"}])),
    "duplicate_ids": json.dumps(report(OLD, [case("0001/a"), case("0001/a")])),
    "wrong_format": json.dumps(dict(report(OLD, []), format="something-else/1")),
}


@pytest.mark.parametrize("kind", sorted(BAD) + ["missing"])
@pytest.mark.parametrize("position", [0, 1])
def test_bad_input_exits_2_with_one_line(tmp_path, kind, position):
    good = write(tmp_path / "good.json", report(OLD, [case("0001/a")]))
    bad = str(tmp_path / f"{kind}.json")
    if kind != "missing":
        write(bad, BAD[kind])
    args = [bad, good] if position == 0 else [good, bad]
    r = compare(*args)
    assert r.returncode == 2, (kind, r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"sockreuse compare: {bad}: "), lines[0]


def test_bad_input_messages_say_what_is_wrong(tmp_path):
    def message(name, content):
        p = write(tmp_path / name, content)
        return compare(p, p).stderr.strip().split(": ", 2)[2]

    assert compare(tmp_path / "nope.json", tmp_path / "nope.json").stderr.strip().endswith(
        "nope.json: No such file or directory")
    assert message("e.json", "").startswith("empty file")
    assert message("n.json", "nope").startswith("not JSON: ")
    assert message("t.json", BAD["truncated"]).startswith("not JSON (truncated): ")
    assert message("a.json", "[]").startswith("not a sockreuse report")
    assert message("o.json", '{"a": 1}') == 'not a sockreuse report: no "format"'
    assert message("c.json", BAD["no_cases"]) == 'not a sockreuse report: no "cases" array'
    assert message("i.json", BAD["case_without_id"]) == 'case 1 has no "id"'
    assert message("d.json", BAD["duplicate_ids"]).startswith('duplicate case id "0001/a"')


def test_tolerates_older_and_newer_reports(tmp_path):
    minimal = {"format": "sockreuse-report/1",
               "cases": [{"id": "0001/a", "status": "pass", "observed": "ok"}]}
    newer = report(NEW, [dict(case("0001/a"), future_field={"x": [1]})])
    newer["format"] = "sockreuse-report/2"
    newer["something_new"] = True
    a, b = write(tmp_path / "old.json", minimal), write(tmp_path / "new.json", newer)
    r = compare(a, b)
    assert r.returncode == 0, r.stderr


def test_never_crashes_on_mangled_reports(tmp_path):
    """Truncations and type swaps of a valid report: always exit 0, 1 or 2, never a signal."""
    old, new = one_of_each()
    good = write(tmp_path / "good.json", old)
    text = json.dumps(new)
    variants = [text[:n] for n in range(0, len(text), max(1, len(text) // 60))]
    for key in ("cases", "kernel", "tool", "hostname", "started", "duration_s", "interrupted",
                "properties", "format"):
        for value in (None, 1, "x", [], {}, [1], {"a": None}, True):
            variants.append(json.dumps(dict(new, **{key: value})))
    for field in ("id", "status", "observed", "params", "refs", "facts", "number", "duration_ms",
                  "title", "group"):
        for value in (None, 1, -1, 1e300, "x", [], {}, [None], {"k": 1}, True):
            c = dict(new["cases"][0], **{field: value})
            variants.append(json.dumps(dict(new, cases=[c] + new["cases"][1:])))
    for i, v in enumerate(variants):
        p = write(tmp_path / f"v{i}.json", v)
        r = compare(good, p, "--format", ("text", "md", "html", "junit")[i % 4])
        assert r.returncode in (0, 1, 2), (v, r.returncode, r.stderr)
        if r.returncode == 2:
            assert len(r.stderr.splitlines()) == 1, r.stderr


# ---- --output ----

def test_output_file_is_written_whole(pair, tmp_path):
    out = tmp_path / "out" / "cmp.html"
    out.parent.mkdir()
    r = compare(*pair, "--format", "html", "--output", out)
    assert r.returncode == 1 and r.stdout == ""
    etree.fromstring(out.read_bytes())
    assert [p.name for p in out.parent.iterdir()] == ["cmp.html"]  # no temp file left behind
    assert (out.stat().st_mode & 0o777) != 0o600  # an ordinary file, not mkstemp's mode


def test_bad_input_leaves_output_untouched(pair, tmp_path):
    out = tmp_path / "cmp.md"
    out.write_text("previous\n")
    r = compare(pair[0], tmp_path / "missing.json", "--format", "md", "-o", out)
    assert r.returncode == 2
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp.md", "new.json", "old.json"]


def test_unwritable_output_exits_2(pair, tmp_path):
    r = compare(*pair, "--output", tmp_path / "no" / "such" / "dir" / "x.txt")
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1
    assert re.search(r"cannot write \S*/x\.txt: No such file or directory", r.stderr), r.stderr
