"""End-to-end tests of hostile and malformed input: what a case file may write (sysctls of
its own network namespace only), what a case folder may hold (regular files of bounded
size), numbers, encodings, sizes, and step arguments checked when the file loads. Every
refusal is exit 2 with file:line:col, before any case runs.

Tests that could touch the host if the guard regressed run in private UTS and mount
namespaces (unshare -u -m), and only with a sysctl that such a namespace owns
(kernel.hostname); other global sysctls are only loaded (list), never run.
"""
import os
import re
import shutil
import subprocess

import pytest

from helpers import BIN, case_text, write_case

UNSHARE = shutil.which("unshare")


def run(*args, timeout=30, **kw):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw)


def assert_refused(folder, name, text, line, col, phrase):
    """`list` refuses the case file: exit 2, and its file:line:col and the phrase in the message."""
    p = write_case(folder, name, text)
    r = run("list", "--cases", folder)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{p}:{line}:{col}:" in r.stderr and phrase in r.stderr, r.stderr


def sysctl_case(folder, name, value="1", step=False):
    head = "" if step else f"sysctl   {name} {value}"
    test = [f"sysctl {name} {value}"] if step else ["socket s tcp"]
    return write_case(folder, "0901-sysctl.case", case_text(901, test, head=head))


# --- 7.2: sysctls of the case's own namespace only ------------------------------------------

GLOBAL_SYSCTLS = ["kernel.hostname", "vm.swappiness", "fs.file-max", "net.core.rmem_max",
                  "net.ipv4.tcp_mem", "net.core.netdev_max_backlog"]


@pytest.mark.parametrize("step", [False, True], ids=["directive", "step"])
@pytest.mark.parametrize("name", GLOBAL_SYSCTLS)
def test_global_sysctl_is_refused_when_the_file_loads(cases_dir, name, step):
    p = sysctl_case(cases_dir, name, step=step)
    r = run("list", "--cases", cases_dir)
    assert r.returncode == 2, r.stdout + r.stderr
    line, col = (6, 10) if not step else (7, 12)
    assert f"{p}:{line}:{col}:" in r.stderr, r.stderr
    assert "namespace" in r.stderr and name in r.stderr


@pytest.mark.parametrize("name", ["net.ipv4.tcp_tw_reuse", "net.ipv4.ip_local_port_range",
                                  "net.core.somaxconn", "net.ipv6.conf.all.disable_ipv6"])
def test_namespace_sysctls_load(cases_dir, name):
    sysctl_case(cases_dir, name, value="1")
    r = run("list", "--cases", cases_dir)
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(not UNSHARE or os.geteuid() != 0, reason="needs root and unshare(1)")
@pytest.mark.parametrize("step", [False, True], ids=["directive", "step"])
def test_hostname_sysctl_never_renames_the_host(cases_dir, tmp_path, step):
    """In a private UTS and mount namespace: the case that would rename the host is refused
    and the (private) hostname is what it was."""
    p = sysctl_case(cases_dir, "kernel.hostname", value="renamed-by-a-case", step=step)
    script = (f'hostname sr-before; "{BIN}" run --cases "{cases_dir}" --json "{tmp_path}/r.json"; '
              'echo "rc=$?"; echo "host=$(hostname)"')
    r = subprocess.run([UNSHARE, "-u", "-m", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, text=True, timeout=60)
    assert "rc=2" in r.stdout, r.stdout + r.stderr
    assert "host=sr-before" in r.stdout, r.stdout
    assert f"{p}:" in r.stderr and "kernel.hostname" in r.stderr
    assert not (tmp_path / "r.json").exists()


# --- 7.3: a case file is a regular file of bounded size -------------------------------------

def hostile(folder, kind):
    p = folder / "0902-hostile.case"
    if kind == "fifo":
        os.mkfifo(p)
    elif kind == "dev-zero":
        p.symlink_to("/dev/zero")
    elif kind == "directory":
        p.mkdir()
    elif kind == "too-big":
        p.write_text(case_text(902, ["socket s tcp"]) + ("# padding\n" * 110000))
    return p


COMMANDS = {
    "run": ["run"],
    "list": ["list"],
    "describe": ["describe", "0901"],
    "doc": ["doc"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory", "too-big"])
def test_hostile_case_files_are_refused_at_once(cases_dir, tmp_path, kind, command):
    write_case(cases_dir, "0901-ok.case", case_text(901, ["socket s tcp"]))
    p = hostile(cases_dir, kind)
    args = COMMANDS[command][:1] + ["--cases", cases_dir] + COMMANDS[command][1:]
    if command == "run":
        args += ["--json", tmp_path / "r.json"]
    r = run(*args, timeout=10)  # a FIFO used to block for ever, /dev/zero to exhaust memory
    assert r.returncode == 2, r.stdout + r.stderr
    assert str(p) in r.stderr
    assert re.search(r"regular file|at most|too big", r.stderr), r.stderr
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory", "too-big"])
def test_hostile_case_file_is_one_error_with_keep_going(cases_dir, tmp_path, kind):
    import json
    write_case(cases_dir, "0901-ok.case", case_text(901, ["socket s tcp"]))
    hostile(cases_dir, kind)
    r = run("run", "--cases", cases_dir, "--keep-going", "--json", tmp_path / "r.json", timeout=30)
    assert r.returncode == 1, r.stdout + r.stderr
    cases = json.loads((tmp_path / "r.json").read_text())["cases"]
    assert sorted(c["status"] for c in cases) == ["error", "pass"]


# --- 7.4: numbers are finite and in range ---------------------------------------------------

@pytest.mark.parametrize("opt,value", [
    ("--timeout", v) for v in ("nan", "inf", "-inf", "1e999", "1e-9", "0", "-1", "0x10", " 5", "3601")
] + [
    ("-j", v) for v in ("0", "-1", "1e3", "4294967297", "nan", "257", "+2")
] + [
    ("--repeat", v) for v in ("0", "nan", "inf", "1e999", "4294967297", "-3")
])
def test_bad_numeric_option_is_a_usage_error(cases_dir, tmp_path, opt, value):
    write_case(cases_dir, "0901-ok.case", case_text(901, ["socket s tcp"]))
    r = run("run", "--cases", cases_dir, opt, value, "--json", tmp_path / "r.json")
    assert r.returncode == 2, r.stdout + r.stderr
    assert opt in r.stderr and value in r.stderr
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "1e999", "1e-9", "0", "-5", "7200"])
def test_bad_case_timeout_names_its_position(cases_dir, value):
    p = write_case(cases_dir, "0901-t.case", case_text(901, ["socket s tcp"], head=f"timeout  {value}"))
    r = run("list", "--cases", cases_dir)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{p}:6:10:" in r.stderr, r.stderr


def test_good_numbers_still_pass(cases_dir, tmp_path):
    write_case(cases_dir, "0901-t.case", case_text(901, ["socket s tcp"], head="timeout  2.5"))
    r = run("run", "--cases", cases_dir, "--timeout", "1.5e1", "-j", "2", "--repeat", "2",
            "--json", tmp_path / "r.json")
    assert r.returncode == 0, r.stderr


# --- 7.6: UTF-8 only --------------------------------------------------------------------------

@pytest.mark.parametrize("raw,col", [(b"\xff", 13), (b"a\xc3", 14), (b"\xed\xa0\x80", 13), (b"\xc0\xaf", 13),
                                     (b"a\xc2\x85", 14), (b"\xef\xbf\xbe", 13)])
def test_case_file_that_is_not_utf8_is_refused(cases_dir, raw, col):
    text = case_text(901, ["socket s tcp"], head="matrix   x  a b").encode()
    text = text.replace(b"x  a b", b"x  " + raw + b" b")
    p = cases_dir / "0901-enc.case"
    p.write_bytes(text)
    r = run("list", "--cases", cases_dir)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{p}:6:{col}:" in r.stderr and re.search("UTF-8|noncharacter", r.stderr), r.stderr


def test_utf8_values_make_distinct_ids(cases_dir):
    write_case(cases_dir, "0901-enc.case", case_text(901, ["socket s tcp"], head="matrix   x  café cafè"))
    r = run("list", "--cases", cases_dir)
    assert r.returncode == 0, r.stderr
    ids = [l.split("\t")[0] for l in r.stdout.splitlines()]
    assert ids == ["0901/x=café", "0901/x=cafè"]


# --- 7.12: what one file may cost -------------------------------------------------------------

def test_matrix_cells_are_capped(cases_dir):
    head = "\n".join(f"matrix   a{i} " + " ".join(str(j) for j in range(32)) for i in range(4))
    p = write_case(cases_dir, "0901-big.case", case_text(901, ["socket s tcp"], head=head))
    r = run("list", "--cases", cases_dir, timeout=10)
    assert r.returncode == 2
    assert f"{p}:9:10:" in r.stderr and "100000 cells" in r.stderr, r.stderr


def test_long_matrix_line_repeat_is_found_where_it_is(cases_dir):
    vals = [f"v{i}" for i in range(50000)]
    line = "matrix   x " + " ".join(vals + ["v7"])
    p = write_case(cases_dir, "0901-big.case", case_text(901, ["socket s tcp"], head=line))
    r = run("list", "--cases", cases_dir, timeout=20)
    assert r.returncode == 2
    assert f"{p}:6:{len(line) - 1}:" in r.stderr and "'v7' is listed twice" in r.stderr, r.stderr


# --- 7.15: what is written literally is checked when the file loads ---------------------------

STEP_ERRORS = {
    "bad port": ("bind s host 70000", 17, "expected a port"),
    "bad address": ("bind s 300.0.0.1 4000", 12, "expected an address"),
    "bad protocol": ("socket s sctp", 14, "protocol"),
    "bad option": ("setsockopt s SO_NOSUCH 1", 18, "unknown socket option"),
    "bad option value": ("setsockopt s SO_REUSEADDR yes", 31, "takes a number"),
    "bad state": ("occupy o SLEEPING active host 4000", 14, "TCP state"),
    "host c": ("host c", 10, "expected a b"),
    "unknown verb": ("frobnicate s", 5, "unknown step"),
    "arity": ("close", 5, "takes 1 argument, got 0"),
}


@pytest.mark.parametrize("name", list(STEP_ERRORS))
def test_literal_step_arguments_are_checked_at_load(cases_dir, tmp_path, name):
    step, col, phrase = STEP_ERRORS[name]
    p = write_case(cases_dir, "0901-s.case", case_text(901, ["socket s tcp", step]))
    for args in (["list"], ["run", "--json", tmp_path / "r.json"]):
        r = run(args[0], "--cases", cases_dir, *args[1:])
        assert r.returncode == 2, r.stdout + r.stderr
        assert f"{p}:8:{col}:" in r.stderr and phrase in r.stderr, r.stderr
    assert not (tmp_path / "r.json").exists()


def test_substituted_step_arguments_are_checked_where_written(cases_dir):
    text = case_text(901, ["socket s tcp", "bind s host {p}"], head="matrix   p  4000 99999")
    assert_refused(cases_dir, "0901-s.case", text, 9, 17, "'99999'")


FILE_ERRORS = {
    "case junk": ("case 0901 junk\n", (1, 11), "takes the number only"),
    "timeout 1 2": ("timeout  1 2\n", (6, 12), "one number"),
    "kernel overflow": ("", (8, 24), "kernel version"),
    "exclude unknown value": ("matrix   x  a b\nexclude  when x=c\n", (7, 15), "'c' is no value of the matrix 'x'"),
    "param shadows axis": ("matrix   x  a b\nparam    x  a\n", (7, 10), "shadows the matrix 'x'"),
    "axis shadows param": ("param    x  a\nmatrix   x  a b\n", (7, 10), "name of a param"),
}


@pytest.mark.parametrize("name", list(FILE_ERRORS))
def test_file_level_mistakes_are_refused(cases_dir, name):
    head, (line, col), phrase = FILE_ERRORS[name]
    if name == "case junk":
        text = case_text(901, ["socket s tcp"]).replace("case 0901\n", head, 1)
    elif name == "kernel overflow":
        text = case_text(901, ["socket s tcp"]) + ("expect EADDRINUSE when kernel>=6.99999999999\n"
                                                   "    why w\n    ref r\n")
        text = text.replace("expect ok\n    why  Written by the end-to-end tests.\n    ref  bind(2)\n", "", 1)
        text += "expect ok\n    why w\n    ref r\n"
    else:
        text = case_text(901, ["socket s tcp"], head=head)
    assert_refused(cases_dir, "0901-f.case", text, line, col, phrase)


PLAN_ERRORS = {
    "param": ("param    p  {nope}", (6, 10), "param p"),
    "topology": ("topology {nope}", (6, 10), "topology"),
    "sysctl": ("sysctl   net.ipv4.tcp_tw_reuse {nope}", (6, 10), "sysctl net.ipv4.tcp_tw_reuse"),
    "all excluded": ("matrix   x  a\nexclude  when x=a", (7, 15), "every matrix cell is excluded"),
}


def test_title_and_number_errors_name_their_position(cases_dir):
    p = write_case(cases_dir, "0901-t.case", case_text(901, ["socket s tcp"], title="about {nope}"))
    r = run("list", "--cases", cases_dir)
    assert f"{p}:2:10:" in r.stderr and "title" in r.stderr, r.stderr
    p.unlink()
    write_case(cases_dir, "0901-a.case", case_text(901, ["socket s tcp"]))
    q = write_case(cases_dir, "0901-b.case", case_text(901, ["socket s tcp"]))
    r = run("list", "--cases", cases_dir)
    assert r.returncode == 2 and f"{q}:1:6:" in r.stderr and "also used" in r.stderr, r.stderr


# --- 13: the params vocabulary lives in the binary, and the docs say the same ----------------

def test_design_doc_lists_the_vocabulary_the_binary_enforces():
    import pathlib
    doc = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "DESIGN.md").read_text()
    table = doc.split("<!-- vocabulary:", 1)[1].split("<!-- end of vocabulary -->", 1)[0]
    rows = {}
    for line in table.splitlines():
        m = re.match(r"^\| `([^`]+)` \| (.*?) \| (.*) \|$", line)
        if m:
            rows[m.group(1)] = (m.group(2).replace("\\|", "|").replace("&lt;", "<").replace("&gt;", ">"),
                                m.group(3))
    out = run("doc", "--vocabulary").stdout
    want = {k: (v, about) for k, v, about in (l.split("\t") for l in out.splitlines())}
    assert rows == want
    for key in ("old_addr", "new_addr", "old_v6only", "new_v6only", "occupants", "dev"):
        assert key in want


VOCAB_ERRORS = {
    "matrix state": ("matrix   state  LISTEN TIMEWAIT", (6, 24), "TIME_WAIT, not 'TIMEWAIT'"),
    "matrix flag": ("matrix   old_reuseaddr  0 2", (6, 27), "0|1"),
    "param op": ("param    op  bnd", (6, 14), "bind|listen"),
    "param occupants": ("param    occupants  two", (6, 21), "<count>"),
    "param address": ("param    old_addr  192.0.2.999", (6, 20), "<address>"),
    "param dev": ("param    dev  a/b", (6, 15), "<name>"),
    "param from a let": ("let      o  bnd\nparam    op  {o}", (7, 10), "bind|listen"),
}


# Found while expanding (a variable filled in by the plan), or a vocabulary key that does not
# carry one of its values: the position of the word either way.
HEAD_ERRORS = {**PLAN_ERRORS, **VOCAB_ERRORS}


@pytest.mark.parametrize("name", list(HEAD_ERRORS))
def test_expansion_and_vocabulary_errors_name_their_position(cases_dir, name):
    head, (line, col), phrase = HEAD_ERRORS[name]
    assert_refused(cases_dir, "0901-h.case", case_text(901, ["socket s tcp"], head=head), line, col, phrase)


def test_vocabulary_values_and_own_keys_load(cases_dir):
    head = ("matrix   state  LISTEN TIME_WAIT\nparam    old_addr  ::ffff:127.0.0.1\nparam    occupants  3\n"
            "param    dev  veth-a\nmatrix   hold  short long")
    write_case(cases_dir, "0901-v.case", case_text(901, ["socket s tcp"], head=head))
    r = run("list", "--cases", cases_dir)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 4
