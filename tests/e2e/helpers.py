"""Helpers shared by the end-to-end tests of `sockreuse run`, `list` and `describe`:
report readers that validate as they read (TAP, JUnit, JSON), `prove`, a case-file writer,
and the params vocabulary (read from the binary).

Every reader asserts what holds for any well-formed report, so a test only adds what its
scenario is about.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = REPO / "sockreuse"
CASES = REPO / "cases"
SCHEMA = REPO / "reports" / "schema.json"
# The schemas CI servers validate JUnit with (tests/xsd/README): the Ant one and Jenkins xunit's.
ANT_XSD = REPO / "tests" / "xsd" / "JUnit.xsd"
JENKINS_XSD = REPO / "tests" / "xsd" / "junit-10.xsd"
RUN_XSDS = (ANT_XSD, JENKINS_XSD)

STATUSES = ("pass", "fail", "skip", "error")

# The params vocabulary, as the binary holds it (parse/vocab.c, printed by `sockreuse doc
# --vocabulary`; docs/DESIGN.md explains it): key -> the values it may carry.
STATES = ("CLOSED BOUND LISTEN SYN_SENT SYN_RECV ESTABLISHED FIN_WAIT1 FIN_WAIT2 CLOSE_WAIT "
          "CLOSING LAST_ACK TIME_WAIT").split()


class ValueKind:
    """The values of a key that is not a list of words: <address>, <count>, <name>."""

    def __init__(self, kind):
        self.kind = kind

    def __contains__(self, v):
        if self.kind == "<address>":
            import ipaddress
            try:
                ipaddress.ip_address(v)
                return True
            except ValueError:
                return False
        if self.kind == "<count>":
            return v.isdigit()
        return bool(v) and len(v) < 16 and "/" not in v and " " not in v

    def __iter__(self):
        return iter([self.kind])


def vocabulary():
    out = subprocess.run([str(BIN), "doc", "--vocabulary"], capture_output=True, text=True, check=True).stdout
    vocab = {}
    for line in out.splitlines():
        key, values, _about = line.split("\t", 2)
        vocab[key] = ValueKind(values) if values.startswith("<") else set(values.split("|"))
    return vocab


VOCAB = vocabulary() if BIN.exists() else {}


def makefile_version():
    m = re.search(r"^VERSION\s*:?=\s*(\S+)", (REPO / "Makefile").read_text(), re.M)
    assert m, "no VERSION in the Makefile"
    return m.group(1)


# ---------------------------------------------------------------------------------------------
# Case files

def case_text(number, test, expect="ok", *, title=None, group="e2e", head="", setup=(),
              why="Written by the end-to-end tests.", ref="bind(2)"):
    """The text of a well-formed case file. `head` holds extra directives (matrix, param,
    sysctl, timeout ...), one a line; `test` and `setup` are lists of steps."""
    lines = [f"case {number:04d}",
             f"title    {title or f'e2e case {number:04d}'}",
             f"group    {group}",
             "about    A case written by the end-to-end tests.",
             "         Its second line."]
    lines += [l.strip() for l in head.splitlines() if l.strip()]
    if setup:
        lines += ["setup:"] + [f"    {s}" for s in setup]
    lines += ["test:"] + [f"    {s}" for s in test]
    lines += [f"expect {expect}", f"    why  {why}", f"    ref  {ref}"]
    return "\n".join(lines) + "\n"


def write_case(folder, name, text):
    p = pathlib.Path(folder) / name
    p.write_text(text)
    return p


def free_bind_case(folder, number=901, name="free-bind", family_axis=True, expect="ok"):
    """A quick case that needs no TCP state: bind a free port (two instances, inet and inet6)."""
    head = "matrix   family  inet inet6\nparam    op      bind" if family_axis else "param    op      bind"
    fam = "{family}" if family_axis else "inet"
    return write_case(folder, f"{number:04d}-{name}.case",
                      case_text(number, [f"socket  s tcp {fam}", "bind    s host {PORT}"], expect, head=head))


def case_file_decls(path):
    """What a case file declares, read the simple way: matrix axes (in order), param names,
    sysctl names, and whether it sets a topology."""
    axes, params, sysctls = [], [], []
    for line in pathlib.Path(path).read_text().splitlines():
        if not line or line[0] in " \t#":
            continue
        tok = line.split()
        if tok[0] == "matrix":
            axes.append(tok[1])
        elif tok[0] == "param":
            params.append(tok[1])
        elif tok[0] == "sysctl":
            sysctls.append(tok[1])
    return axes, params, sysctls


def case_files_by_number(folder=CASES):
    out = {}
    for p in sorted(pathlib.Path(folder).glob("*.case")):
        if p.name[:4].isdigit():
            out[int(p.name[:4])] = p
    return out


def check_params(case, path):
    """A case's params are its matrix cell, its params, topology and sysctl.<name>, and every
    key belongs to the params vocabulary; its id is the number plus the cell in axis order."""
    axes, params, sysctls = case_file_decls(path)
    p = case["params"]
    want = set(axes) | set(params) | {"topology"} | {f"sysctl.{s}" for s in sysctls}
    assert set(p) == want, f"{case['id']}: params {sorted(p)} != declared {sorted(want)}"
    for k, v in p.items():
        if k.startswith("sysctl."):
            continue
        assert k in VOCAB, f"{case['id']}: param {k!r} is not in the params vocabulary"
        assert v in VOCAB[k], f"{case['id']}: param {k}={v!r} is not one of {sorted(VOCAB[k])}"
    want_id = f"{case['number']:04d}" + "".join(f"/{a}={p[a]}" for a in axes)
    assert case["id"] == want_id


# ---------------------------------------------------------------------------------------------
# TAP

TEST_LINE = re.compile(r"^(ok|not ok) (\d+)(?: - (.*?))?(?: # (SKIP|TODO)\b ?(.*))?$")


def parse_tap(text):
    """Parses TAP version 13 strictly enough for prove and kselftest: the version first, test
    lines numbered 1..N, YAML blocks only right after a test line, one plan `1..N` after the
    last test line. Returns {"tests": [...], "plan": N, "comments": [...]}."""
    lines = text.split("\n")
    assert text.endswith("\n"), "TAP does not end with a newline"
    lines.pop()
    assert lines and lines[0] == "TAP version 13", f"first line is {lines[:1]}"
    tests, comments, plan, bail = [], [], None, None
    i = 1
    while i < len(lines):
        line = lines[i]
        m = TEST_LINE.match(line)
        if m:
            assert plan is None, f"test line after the plan: {line!r}"
            t = {"ok": m.group(1) == "ok", "n": int(m.group(2)), "id": m.group(3) or "",
                 "directive": m.group(4), "reason": m.group(5), "yaml": None}
            assert t["n"] == len(tests) + 1, f"test {t['n']} out of sequence (expected {len(tests) + 1})"
            tests.append(t)
            if i + 1 < len(lines) and lines[i + 1] == "  ---":
                j = i + 2
                while j < len(lines) and lines[j] != "  ...":
                    assert lines[j].startswith("  "), f"YAML line not indented: {lines[j]!r}"
                    j += 1
                assert j < len(lines), "YAML block without its '  ...' end"
                t["yaml"] = load_yaml("\n".join(l[2:] for l in lines[i + 2:j]))
                i = j
        elif re.fullmatch(r"1\.\.\d+", line):
            assert plan is None, "two plans"
            plan = int(line[3:])
        elif line.startswith("#"):
            comments.append(line)
        elif line.startswith("Bail out!"):
            assert i == len(lines) - 1, "a bail-out is the last line"
            bail = line[len("Bail out!"):].strip()
            assert bail, "a bail-out without a reason"
        else:
            raise AssertionError(f"not a TAP line: {line!r}")
        i += 1
    assert plan is not None, "no plan"
    assert plan == len(tests), f"plan 1..{plan} but {len(tests)} test lines"
    return {"tests": tests, "plan": plan, "comments": comments, "bail_out": bail}


def load_yaml(text):
    try:
        import yaml
    except ImportError:  # keys only, enough for what the tests read
        out = {}
        for l in text.splitlines():
            if l and l[0] != " " and ":" in l:
                k, v = l.split(":", 1)
                out[k] = v.strip().strip('"')
        return out
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict), f"YAML block is not a mapping: {text!r}"
    return doc


def prove(path):
    """Runs Debian's prove on a TAP file (prove --exec cat FILE)."""
    assert shutil.which("prove"), "prove is not installed (perl)"
    return subprocess.run(["prove", "--exec", "cat", str(path)], capture_output=True, text=True, timeout=60)


# ---------------------------------------------------------------------------------------------
# JSON

def load_json(path):
    """Reads a JSON report, validates it against reports/schema.json and checks what holds for
    every report: summary = the per-case statuses, unique ids, and the status agrees with
    expected and observed."""
    import jsonschema
    doc = json.loads(pathlib.Path(path).read_text())
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
    cases = doc["cases"]
    s = doc["summary"]
    assert s["total"] == len(cases)
    for st in STATUSES:
        assert s[st] == sum(c["status"] == st for c in cases), f"summary.{st}"
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for c in cases:
        if c["status"] in ("pass", "fail"):
            # "EADDRINUSE at listen": the outcome, and the verb that failed (fact failed_at).
            outcome, _, at = c["expected"].partition(" at ")
            matches = outcome == "any" or (outcome == c["observed"] and
                                           (not at or c.get("facts", {}).get("failed_at") == at))
            assert (c["status"] == "pass") == matches, (
                f"{c['id']}: status {c['status']} with expected {c['expected']!r}, observed {c['observed']!r}")
            assert c["observed"] == "ok" or re.fullmatch(r"E[A-Z0-9]+", c["observed"]), c
        if c["status"] == "error":
            assert c["detail"], f"{c['id']}: an error without a detail"
    return doc


def by_id(doc):
    return {c["id"]: c for c in doc["cases"]}


# ---------------------------------------------------------------------------------------------
# JUnit

def schema_errors(path, xsd):
    """The messages of validating path against xsd (lxml); [] when valid."""
    from lxml import etree
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    schema.validate(etree.parse(str(path)))
    return [e.message for e in schema.error_log]


def load_junit(path, xmllint=True, schemas=RUN_XSDS):
    """Parses a JUnit report, validates it against each of schemas (lxml, and xmllint when
    installed) and checks that every count attribute agrees with the testcases under it.
    Returns (root, {testcase name: status}); the testcase of an interrupted run (classname
    sockreuse.run) is not a case and is left out of the statuses."""
    from lxml import etree
    tree = etree.parse(str(path))
    for xsd in schemas:
        errors = schema_errors(path, xsd)
        assert not errors, f"{path} under {xsd.name}: {errors[:5]}"
        if xmllint and shutil.which("xmllint"):
            r = subprocess.run(["xmllint", "--noout", "--schema", str(xsd), str(path)],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
    root = tree.getroot()
    statuses = {}

    def status_of(tc):
        kids = {k.tag for k in tc}
        found = [s for s, tag in (("fail", "failure"), ("error", "error"), ("skip", "skipped")) if tag in kids]
        assert len(found) <= 1, f"testcase {tc.get('name')} has {found}"
        return found[0] if found else "pass"

    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    for suite in suites:
        tcs = suite.findall("testcase")
        st = [status_of(tc) for tc in tcs]
        assert int(suite.get("tests")) == len(tcs)
        assert int(suite.get("failures")) == st.count("fail")
        assert int(suite.get("errors")) == st.count("error")
        if suite.get("skipped") is not None:
            assert int(suite.get("skipped")) == st.count("skip")
        for tc, s in zip(tcs, st):
            if tc.get("classname") == "sockreuse.run":
                continue
            assert tc.get("name") not in statuses, f"testcase {tc.get('name')} twice"
            statuses[tc.get("name")] = s
    if root.tag == "testsuites":
        for attr, st in (("tests", None), ("failures", "fail"), ("errors", "error"), ("skipped", "skip")):
            if root.get(attr) is not None:
                want = len(statuses) if st is None else sum(v == st for v in statuses.values())
                assert int(root.get(attr)) == want, f"testsuites/@{attr}"
    return root, statuses


def assert_reports_agree(doc, junit_statuses, tap=None):
    """The JSON, JUnit and TAP of one run hold the same cases with the same statuses."""
    want = {c["id"]: c["status"] for c in doc["cases"]}
    assert junit_statuses == want
    if tap is not None:
        got = {t["id"]: t for t in tap["tests"]}
        assert set(got) == set(want)
        for i, st in want.items():
            assert got[i]["ok"] == (st in ("pass", "skip")), i
            assert (got[i]["directive"] == "SKIP") == (st == "skip"), i
            if st in ("fail", "error"):
                assert got[i]["yaml"] and got[i]["yaml"].get("status") == st, i


# ---------------------------------------------------------------------------------------------
# Processes

def child_pids(pid):
    """Pids whose parent is pid (a scan of /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the ppid follows the last ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            out.append(int(d))
    return out


def is_sleeping(pid):
    """Whether pid sits in nanosleep (wait-ms), read from the kernel."""
    try:
        wchan = pathlib.Path(f"/proc/{pid}/wchan").read_text()
        if "nanosleep" in wchan:
            return True
        sc = pathlib.Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return bool(sc) and sc[0] in ("35", "230") and os.uname().machine == "x86_64"
