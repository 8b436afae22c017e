"""End-to-end tests of the command line: usage errors (exit 2, before any case runs),
--help and --version, `list`, `describe`, and malformed case files (file:line:col, exit 2,
nothing run and no report written; with --keep-going one `error` entry per bad file).
"""
import concurrent.futures
import fnmatch
import re
import subprocess

import pytest

from helpers import (BIN, CASES, by_id, case_file_decls, case_files_by_number, case_text,
                     free_bind_case, load_json, load_junit, makefile_version, parse_tap, VOCAB)

SUBSET = "0101/family=inet/state=TIME_WAIT/*"


def run(*args, timeout=60):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout)


# --- usage errors ------------------------------------------------------------------------------

USAGE_ERRORS = {
    "unknown option": (["run", "--no-such-option"], r"no-such-option"),
    "unknown command": (["frobnicate"], r"unknown command 'frobnicate'"),
    "no command": ([], r"usage: sockreuse COMMAND"),
    "stray argument": (["run", "stray"], r"stray"),
    "-j 0": (["run", "-j", "0"], r"-j .*'0'"),
    "-j abc": (["run", "-j", "abc"], r"-j .*'abc'"),
    "--timeout abc": (["run", "--timeout", "abc"], r"--timeout .*'abc'"),
    "--timeout 0": (["run", "--timeout", "0"], r"--timeout .*'0'"),
    "--timeout -1": (["run", "--timeout", "-1"], r"--timeout .*'-1'"),
    "--repeat 0": (["run", "--repeat", "0"], r"--repeat .*'0'"),
    "--repeat x": (["run", "--repeat", "x"], r"--repeat .*'x'"),
    "json in /proc": (["run", "--json", "/proc/nonexistent/x.json"], r"/proc/nonexistent/x\.json"),
    "junit in missing dir": (["run", "--junit", "{tmp}/missing/junit.xml"], r"missing/junit\.xml"),
    "tap in missing dir": (["run", "--tap", "{tmp}/missing/run.tap"], r"missing/run\.tap"),
    "no case matches": (["run", "--filter", "9999/no-such-case*"], r"no case matches"),
    "everything excluded": (["run", "--filter", SUBSET, "--exclude", "*"], r"no case matches"),
    "missing cases dir": (["run", "--cases", "{tmp}/missing"], r"missing"),
    "empty cases dir": (["run", "--cases", "{tmp}/empty"], r"no \*\.case files"),
    "list unknown option": (["list", "--bogus"], r"bogus"),
    "describe without id": (["describe"], r"usage: sockreuse describe"),
    "describe unknown id": (["describe", "9999/no=such"], r"no case '9999/no=such'"),
    "describe two ids": (["describe", "a", "b"], r"usage: sockreuse describe"),
}


@pytest.mark.parametrize("name", list(USAGE_ERRORS))
def test_usage_error_exits_2(binary, tmp_path, name):
    args, msg = USAGE_ERRORS[name]
    (tmp_path / "empty").mkdir()
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    # A real filter that would run quickly, so that a usage error not caught shows as exit 0/1.
    if args[:1] == ["run"] and "--filter" not in args and "--cases" not in args:
        args += ["--filter", SUBSET]
    reports = [tmp_path / "r.json", tmp_path / "r.xml"]
    if args[:1] == ["run"] and not any(a.startswith("--json") or a.startswith("--junit") for a in args):
        args += ["--json", reports[0], "--junit", reports[1]]
    r = run(*args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == "", "nothing on stdout: no TAP for a run that did not start"
    assert re.search(msg, r.stderr), r.stderr
    assert not any(p.exists() for p in reports), "a report was written for a run that did not start"
    assert not list(tmp_path.glob("**/.sockreuse-probe-*")), "a write probe was left behind"


def test_report_path_that_is_a_directory_exits_2(binary, cases_dir, tmp_path):
    free_bind_case(cases_dir)
    r = run("run", "--cases", cases_dir, "--json", tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stdout == ""


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["help"]])
def test_help_exits_0(binary, args):
    r = run(*args)
    assert r.returncode == 0, r.stderr
    for cmd in ("run", "list", "describe"):
        assert re.search(rf"^\s+{cmd}\s", r.stdout, re.M), r.stdout
    assert "usage: sockreuse" in r.stdout


@pytest.mark.parametrize("cmd", ["run", "list", "describe"])
def test_command_help_exits_0(binary, cmd):
    r = run(cmd, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: sockreuse {cmd}"), r.stdout
    if cmd == "run":
        for opt in ("--cases", "--filter", "--exclude", "-j", "--timeout", "--repeat", "--keep-going",
                    "--tap", "--junit", "--json"):
            assert opt in r.stdout, opt


def test_version(binary):
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout == f"sockreuse {makefile_version()}\n"


# --- list and describe -------------------------------------------------------------------------

def listing(*args):
    r = run("list", *args)
    assert r.returncode == 0, r.stderr
    rows = [l.split("\t") for l in r.stdout.splitlines()]
    assert all(len(row) == 2 and row[0] and row[1] for row in rows), "each line is id<TAB>title"
    return rows


def test_list_prints_id_tab_title(binary):
    rows = listing()
    ids = [i for i, _ in rows]
    assert len(ids) == len(set(ids)), "ids are unique"
    numbers = {int(i[:4]) for i in ids}
    assert numbers == set(case_files_by_number()), "every case file has cases in the list"
    for i, title in rows:
        assert re.fullmatch(r"\d{4}(/[A-Za-z_][\w.]*=[^/{}|=]+)*", i), i
        assert "{" not in title, f"{i}: unresolved variable in the title: {title}"


def test_list_filter_narrows(binary):
    everything = listing()
    glob = "0101/*state=LISTEN*"
    some = listing("--filter", glob)
    assert some and len(some) < len(everything)
    assert [r for r in everything if fnmatch.fnmatchcase(r[0], glob)] == some
    two = listing("--filter", glob, "--filter", SUBSET)
    assert len(two) == len(some) + len(listing("--filter", SUBSET))
    assert listing("--filter", "9999/nothing*") == []


def test_list_title_substitutes_variables(binary, cases_dir, write):
    write(cases_dir, "0901-t.case", case_text(
        901, ["socket  s tcp {family}"], title="socket in {family} on port {PORT}",
        head="matrix  family  inet inet6"))
    rows = listing("--cases", cases_dir)
    assert rows == [["0901/family=inet", "socket in inet on port 4000"],
                    ["0901/family=inet6", "socket in inet6 on port 4000"]]


def vocabulary_params():
    for _num, path in sorted(case_files_by_number().items()):
        yield pytest.param(path, id=path.name)


@pytest.fixture(scope="module")
def all_ids(binary):
    by_file = {}
    for i, _ in listing():
        by_file.setdefault(int(i[:4]), []).append(i)
    return by_file


def described_params(i, cases=None):
    r = run("describe", *(["--cases", cases] if cases else []), i)
    assert r.returncode == 0, r.stderr
    line = r.stdout.split("\nParams\n", 1)[1].split("\n", 1)[0]
    # A sysctl value may hold spaces: a pair starts where a name and '=' follow a blank.
    return dict(kv.split("=", 1) for kv in re.split(r"\s+(?=[A-Za-z_][\w.]*=)", line.strip()))


@pytest.mark.parametrize("path", vocabulary_params())
def test_case_file_params_use_the_vocabulary(all_ids, path, tmp_path):
    """A case file's first and last instance, through describe: the params are the file's
    matrix, params, topology and sysctls, every key is in the params vocabulary and every value
    one it allows. (A matrix axis is a param: a helper axis belongs in a `let`.)"""
    ids = all_ids.get(int(path.name[:4]))
    assert ids, f"{path.name} has no case"
    axes, params, sysctls = case_file_decls(path)
    declared = set(axes) | set(params) | {"topology"} | {f"sysctl.{s}" for s in sysctls}
    problems = []
    (tmp_path / path.name).symlink_to(path)  # describe loads this one file only: quicker
    some = sorted({ids[0], ids[-1]})
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        described = dict(zip(some, pool.map(lambda i: described_params(i, tmp_path), some)))
    for i, got in described.items():
        if set(got) != declared:
            problems.append(f"{i}: params {sorted(got)} are not the declared {sorted(declared)}")
        for k, v in got.items():
            if k.startswith("sysctl."):
                continue
            if k not in VOCAB:
                # A case may add axes of its own (hold, attempt, ...): they are matrix axes,
                # declared in the file, never a misspelt vocabulary name.
                if k not in axes:
                    problems.append(f"param {k!r} is neither in the params vocabulary nor a matrix axis")
                near = [w for w in VOCAB if w.replace("_", "") == k.replace("_", "") and w != k]
                if near:
                    problems.append(f"param {k!r} looks like the vocabulary's {near[0]!r}")
            elif v not in VOCAB[k]:
                problems.append(f"{i}: {k}={v!r} is not one of {sorted(VOCAB[k])}")
    assert not problems, "\n".join(sorted(set(problems)))


def describe_sections(text):
    """describe's output cut into its sections, by the unindented headings."""
    out, name = {"head": []}, "head"
    for line in text.splitlines():
        if line and not line[0].isspace() and not line[0].isdigit():
            name = line.split(" ")[0]
            out[name] = []
        else:
            out[name].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def test_describe_prints_scenario_outcome_why_refs(binary, cases_dir, write):
    text = case_text(901, ["socket  s tcp {family}", "bind    s host {PORT}"], "EADDRINUSE",
                     title="bind in {family}", head="matrix  family  inet inet6\nparam   op  bind",
                     setup=["socket  a tcp {family}", "bind    a host {PORT}"],
                     why="The port is taken by the setup's socket.", ref="inet_csk_get_port()")
    write(cases_dir, "0901-d.case", text)
    r = run("describe", "--cases", cases_dir, "0901/family=inet6")
    assert r.returncode == 0, r.stderr
    s = describe_sections(r.stdout)
    assert s["head"].splitlines()[0] == "0901/family=inet6"
    assert "bind in inet6" in r.stdout
    assert " ".join(s["Scenario"].split()) == "A case written by the end-to-end tests. Its second line."
    assert s["Params"].split() == ["family=inet6", "op=bind", "topology=loopback"]
    steps = [l.split() for l in s["Steps"].splitlines() if l.strip()]
    assert ["setup", "bind", "a", "host", "4000"] in steps
    assert ["test", "socket", "s", "tcp", "inet6"] in steps
    outcome = s["Expected"]
    assert re.search(r"^  EADDRINUSE ", outcome, re.M), outcome
    assert "why: The port is taken by the setup's socket." in outcome
    assert "ref: inet_csk_get_port()" in outcome


def test_describe_kernel_dependent_expectation(binary, cases_dir, write):
    text = case_text(901, ["socket  s tcp inet"], "ENOPROTOOPT", why="Old kernels lack it.")
    text = text.replace("expect ENOPROTOOPT", "expect ok when kernel>=6.3\n    why  Added in 6.3.\n"
                        "    ref  commit 1234\nexpect ENOPROTOOPT")
    write(cases_dir, "0901-k.case", text)
    r = run("describe", "--cases", cases_dir, "0901")
    assert r.returncode == 0, r.stderr
    outcome = describe_sections(r.stdout)["Expected"]
    assert re.search(r"^  ok +kernel>=6\.3$", outcome, re.M), outcome
    assert re.search(r"^  ENOPROTOOPT ", outcome, re.M), outcome
    assert outcome.index("Added in 6.3.") < outcome.index("Old kernels lack it.")


def test_describe_shows_only_the_rule_that_applies(binary, cases_dir, write):
    text = case_text(901, ["socket  s tcp {family}"], "EADDRINUSE", why="The default.",
                     head="matrix  family  inet inet6")
    text = text.replace("expect EADDRINUSE", "expect ok when family=inet\n    why  The inet rule.\n"
                        "    ref  bind(2)\nexpect EADDRINUSE")
    write(cases_dir, "0901-r.case", text)
    r = run("describe", "--cases", cases_dir, "0901/family=inet")
    outcome = describe_sections(r.stdout)["Expected"]
    assert "The inet rule." in outcome
    assert "The default." not in outcome, outcome


def test_describe_real_case(binary):
    i = listing("--filter", SUBSET)[0][0]
    r = run("describe", i)
    assert r.returncode == 0, r.stderr
    s = describe_sections(r.stdout)
    assert s["head"].splitlines()[0] == i
    about = next(CASES.glob(f"{i[:4]}-*.case")).read_text()
    first_about_words = re.search(r"^about\s+(.*)$", about, re.M).group(1).split()[:5]
    assert " ".join(s["Scenario"].split()).startswith(" ".join(first_about_words))
    assert "why:" in s["Expected"] and "ref:" in s["Expected"]


# --- malformed case files ----------------------------------------------------------------------

def good_tail(verb_lines=("socket  s tcp inet", "bind    s host {PORT}")):
    return "test:\n" + "".join(f"    {v}\n" for v in verb_lines) + \
        "expect ok\n    why  w.\n    ref  bind(2)\n"


HEAD = "title    t\ngroup    e2e\n"

# name -> (file name, text, (line, col) or line alone, message pattern)
BAD_FILES = {
    "unknown directive": ("0911-dir.case", "case 0911\n" + HEAD + "frobnicate 1\n" + good_tail(),
                          (4, 1), r"unknown directive 'frobnicate'"),
    "bad condition": ("0912-cond.case", "case 0912\n" + HEAD + "matrix   family inet\nexclude  when family\n"
                      + good_tail(), (5, 15), r"expected a condition"),
    "condition on unknown name": ("0913-cname.case", "case 0913\n" + HEAD + "matrix   family inet\n"
                                  "exclude  when nosuch=1\n" + good_tail(), (5, 15), r"nosuch"),
    "unknown step verb": ("0914-verb.case", "case 0914\n" + HEAD + good_tail(["socket  s tcp inet", "frob  s"]),
                          (6, 5), r"unknown step 'frob'"),
    "wrong arity": ("0915-arity.case", "case 0915\n" + HEAD + good_tail(["socket  s tcp inet", "bind    s host"]),
                    (6, 5), r"'bind'.*got 2"),
    "missing expect": ("0916-noexpect.case", "case 0916\n" + HEAD + "test:\n    socket  s tcp inet\n",
                       (5, 1), r"no 'expect'"),
    "missing why": ("0917-nowhy.case", "case 0917\n" + HEAD + "test:\n    socket  s tcp inet\nexpect ok\n"
                    "    ref  bind(2)\n", (6, 1), r"no 'why'"),
    # The column may name the step (5) or the variable (15).
    "unknown variable": ("0918-var.case", "case 0918\n" + HEAD + good_tail(["socket  s tcp inet",
                                                                           "bind    s host {NOPE}"]),
                         6, r"unknown variable \{NOPE\}"),
    "number and name differ": ("0919-num.case", "case 0920\n" + HEAD + good_tail(), (1, 6),
                               r"does not match the file name"),
    "bad outcome": ("0921-outcome.case", "case 0921\n" + HEAD + "test:\n    socket  s tcp inet\nexpect maybe\n"
                    "    why  w.\n    ref  r\n", (6, 8), r"expected an outcome"),
    "kernel compared with =": ("0922-kstep.case", "case 0922\n" + HEAD + good_tail(
        ["socket  s tcp inet  when kernel=6.1"]), (5, 30), r"kernel>="),
    "control character": ("0923-ctl.case", "case 0923\n" + HEAD + "about  bell\x07\n" + good_tail(), (4, 12),
                          r"control character"),
    "binary file": ("0924-bin.case", "case 0924\n\0\x01\x02\xff binary", (2, 1), r"not a text file"),
}


def write_bad(folder, name):
    fname, text, _, _ = BAD_FILES[name]
    p = folder / fname
    p.write_bytes(text.encode("latin-1"))
    return p


def assert_position(stderr, fname, pos):
    if isinstance(pos, tuple):
        prefix = re.escape(f"{fname}:{pos[0]}:{pos[1]}: ")
    else:
        prefix = re.escape(f"{fname}:{pos}:") + r"\d+: "
    assert re.search(r"(^|/)" + prefix, stderr, re.M), f"no {fname}:{pos} in: {stderr!r}"


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_malformed_case_file_exits_2_before_running(binary, cases_dir, tmp_path, name):
    free_bind_case(cases_dir, number=901)
    free_bind_case(cases_dir, number=999, name="zz-last")
    write_bad(cases_dir, name)
    fname, _, pos, msg = BAD_FILES[name]
    reports = {"tap": tmp_path / "r.tap", "junit": tmp_path / "r.xml", "json": tmp_path / "r.json"}
    r = run("run", "--cases", cases_dir, *(a for k, p in reports.items() for a in (f"--{k}", p)))
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stdout == ""
    assert_position(r.stderr, fname, pos)
    assert re.search(msg, r.stderr), r.stderr
    assert " passed, " not in r.stderr, "no case ran, so there is no summary"
    assert not any(p.exists() for p in reports.values()), "no report for a run that did not start"
    # Streaming TAP too: nothing on stdout.
    r = run("run", "--cases", cases_dir)
    assert r.returncode == 2 and r.stdout == ""
    # list and describe load the same files and say the same.
    for args in (["list"], ["describe", "0901/family=inet"]):
        r = run(*args, "--cases", cases_dir)
        assert r.returncode == 2 and r.stdout == "", args
        assert_position(r.stderr, fname, pos)


@pytest.mark.parametrize("kind", ["directory", "dangling symlink"])
def test_unreadable_case_file_exits_2(binary, cases_dir, kind):
    """As root every file is readable: a directory or a dangling symlink named *.case stand in."""
    free_bind_case(cases_dir)
    bad = cases_dir / "0931-unreadable.case"
    if kind == "directory":
        bad.mkdir()
    else:
        bad.symlink_to(cases_dir / "no-such-target")
    r = run("run", "--cases", cases_dir)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    assert "0931-unreadable.case" in r.stderr, r.stderr
    r = run("run", "--cases", cases_dir, "--keep-going")
    assert r.returncode == 1, r.stderr
    tap = parse_tap(r.stdout)
    # Plan order: the file that did not load sits where its name sorts.
    assert [(t["id"], t["ok"]) for t in tap["tests"]] == [
        ("0901/family=inet", True), ("0901/family=inet6", True), ("0931-unreadable.case", False)]


def test_keep_going_reports_bad_files_and_runs_the_rest(binary, cases_dir, tmp_path):
    free_bind_case(cases_dir, number=901)
    free_bind_case(cases_dir, number=999, name="zz-last")
    bad = ["unknown directive", "unknown step verb", "missing expect", "binary file"]
    for name in bad:
        write_bad(cases_dir, name)
    reports = {"tap": tmp_path / "r.tap", "junit": tmp_path / "r.xml", "json": tmp_path / "r.json"}
    r = run("run", "--cases", cases_dir, "--keep-going",
            *(a for k, p in reports.items() for a in (f"--{k}", p)))
    assert r.returncode == 1, r.stderr
    doc = load_json(reports["json"])
    _, junit = load_junit(reports["junit"])
    tap = parse_tap(reports["tap"].read_text())
    cases = by_id(doc)
    for name in bad:
        fname, _, pos, msg = BAD_FILES[name]
        c = cases[fname]
        assert c["status"] == "error", c
        assert_position(c["detail"], fname, pos)
        assert re.search(msg, c["detail"])
        assert junit[fname] == "error"
    good = ["0901/family=inet", "0901/family=inet6", "0999/family=inet", "0999/family=inet6"]
    assert all(cases[i]["status"] == "pass" for i in good)
    assert len(doc["cases"]) == len(good) + len(bad)
    assert doc["summary"]["error"] == len(bad) and doc["summary"]["pass"] == len(good)
    assert tap["plan"] == len(good) + len(bad)
    # The message also names the failing file on stderr, and the summary counts it.
    assert r.stderr.rstrip().endswith(f"{len(good)} passed, 0 failed, 0 skipped, {len(bad)} errors")


def test_keep_going_with_only_bad_files(binary, cases_dir, tmp_path):
    write_bad(cases_dir, "wrong arity")
    r = run("run", "--cases", cases_dir, "--keep-going", "--json", tmp_path / "r.json")
    assert r.returncode == 1, r.stderr
    doc = load_json(tmp_path / "r.json")
    assert [(c["id"], c["status"]) for c in doc["cases"]] == [("0915-arity.case", "error")]
    tap = parse_tap(r.stdout)
    assert tap["plan"] == 1 and not tap["tests"][0]["ok"]


@pytest.mark.parametrize("where", ["step", "let", "exclude"])
def test_kernel_condition_outside_expect_is_rejected(binary, cases_dir, where):
    head, steps = "", ["socket  s tcp inet"]
    if where == "step":
        steps = ["socket  s tcp inet  when kernel>=6.1"]
    elif where == "let":
        head = "let  x  1  when kernel>=6.1"
    else:
        head = "matrix  family  inet inet6\nexclude  when kernel<6.1"
    write_case = case_text(901, steps, head=head)
    (cases_dir / "0901-k.case").write_text(write_case)
    r = run("run", "--cases", cases_dir)
    assert r.returncode == 2, (r.returncode, r.stdout)
    assert re.search(r"(^|/)0901-k\.case:\d+:\d+: .*kernel", r.stderr), r.stderr


def test_duplicate_case_number(binary, cases_dir):
    free_bind_case(cases_dir, number=901, name="a")
    p = free_bind_case(cases_dir, number=901, name="b")
    r = run("run", "--cases", cases_dir)
    assert r.returncode == 2
    assert re.search(r"(^|/)0901-b\.case:1:6: .*0901", r.stderr), r.stderr
    assert p.name in r.stderr
