"""Words that match what the program does: the man page (every option, installed FILES, a
date troff parses, no warnings), each subcommand's --help, describe's kernel ranges, and
the README's claims about make check and the suite's size."""
import json
import re
import subprocess

import pytest

from helpers import BIN, REPO, case_text, write_case

MAN = REPO / "docs" / "sockreuse.8"
README = REPO / "README.md"
COMMANDS = ["run", "list", "describe", "compare", "doc"]


def run(*args, **kw):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=120, **kw)


def help_options(cmd):
    text = run(cmd, "--help").stdout
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b", text)) - {"--help"}


def test_man_page_renders_without_warnings():
    r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", str(MAN)],
                       capture_output=True, text=True, timeout=60, env={"LC_ALL": "C.UTF-8", "MANWIDTH": "80",
                                                                       "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_man_page_date_is_a_date():
    th = next(l for l in MAN.read_text().splitlines() if l.startswith(".TH "))
    m = re.match(r'\.TH SOCKREUSE 8 (\d{4})-(\d{2})-(\d{2}) ', th)
    assert m, th
    assert 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31


@pytest.mark.parametrize("cmd", COMMANDS)
def test_man_page_has_every_option_of_help(binary, cmd):
    page = MAN.read_text().replace("\\-", "-")
    missing = [o for o in help_options(cmd) if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", page)]
    assert not missing, f"sockreuse {cmd} --help names {missing}, the man page does not"


def test_man_page_files_are_installed_paths():
    text = MAN.read_text()
    files = text[text.index(".SH FILES"):text.index(".SH", text.index(".SH FILES") + 1)]
    paths = re.findall(r"^\.I (\S+)", files, re.M)
    assert paths and all(p.startswith(r"\*[prefix]/share/") for p in paths), paths
    assert re.search(r"^\.ds prefix /usr/local$", text, re.M)


@pytest.mark.parametrize("cmd", COMMANDS)
def test_each_help_lists_its_options(binary, cmd):
    r = run(cmd, "--help")
    assert r.returncode == 0
    rows = [l for l in r.stdout.splitlines() if re.match(r"  (-\w, )?--?[a-z]", l)]
    assert len(rows) >= 1, r.stdout
    usage = " ".join(l for l in r.stdout.splitlines() if l.startswith(("usage:", "       ", "     ")))
    in_usage = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", usage))
    described = set(re.findall(r"^  (?:-\w, )?(--[a-z][a-z-]*)", r.stdout, re.M))
    assert in_usage <= described | {"--help"}, in_usage - described


def write_rules(cases_dir, rules):
    text = case_text(901, ["socket  s tcp {family}"], "ok", head="matrix  family  inet inet6")
    text = text.replace("expect ok\n    why  Written by the end-to-end tests.\n    ref  bind(2)\n", rules)
    write_case(cases_dir, "0901-r.case", text)


def expected_section(cases_dir, case_id):
    r = run("describe", "--cases", cases_dir, case_id)
    assert r.returncode == 0, r.stderr
    return r.stdout[r.stdout.index("Expected outcome"):]


def test_describe_every_kernel_when_no_range_applies(binary, cases_dir):
    """The first rule is for the other family: for inet there is one rule, on every kernel."""
    write_rules(cases_dir, "expect EADDRINUSE when family=inet6 kernel>=6.3\n    why  Six.\n    ref  bind(2)\n"
                           "expect ok\n    why  Always.\n    ref  bind(2)\n")
    inet = expected_section(cases_dir, "0901/family=inet")
    assert "on every kernel" in inet and "other" not in inet, inet
    inet6 = expected_section(cases_dir, "0901/family=inet6")
    assert re.search(r"EADDRINUSE +kernel>=6\.3", inet6) and "ok           on every other kernel" in inet6, inet6


def test_readme_says_make_check_boots_a_kernel_and_how_to_skip_it():
    text = README.read_text()
    quick = text[text.index("## Quick start"):text.index("## Usage")]
    assert re.search(r"make check .*qemu", quick), "the make check line says it boots a kernel"
    assert "make check\nSKIP_KERNELS=1" in quick or "make check SKIP_KERNELS=1" in quick.replace("\n", " ")
    r = subprocess.run(["make", "-n", "-C", str(REPO), "e2e", "SKIP_KERNELS=1"], capture_output=True, text=True)
    assert "-m 'not qemu'" in r.stdout, r.stdout
    r = subprocess.run(["make", "-n", "-C", str(REPO), "e2e"], capture_output=True, text=True)
    assert "not qemu" not in r.stdout
    r = subprocess.run(["pytest-3", "--collect-only", "-q", "-m", "not qemu", "tests/e2e/test_kernels.py"],
                       capture_output=True, text=True, cwd=REPO, timeout=120)
    assert "test_boot_debian_6_1" not in r.stdout and "deselected" in r.stdout, r.stdout


def test_readme_counts_the_cases_there_are(binary):
    """The prose rounds the suite's size (cases are added all the time); the JSON example is a
    real one-case report: valid, its summary its cases, its case one that exists."""
    import jsonschema
    text = README.read_text()
    listed = dict(l.split("\t", 1) for l in run("list").stdout.splitlines())
    said = re.search(r"^About (\d[\d,]*) cases in all", text, re.M)
    assert said, "README: About N cases in all"
    n = int(said.group(1).replace(",", ""))
    assert abs(n - len(listed)) <= 0.15 * len(listed), (n, len(listed))
    example = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    schema = json.loads((REPO / "reports" / "schema.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(example)
    s = example["summary"]
    assert s["total"] == len(example["cases"]) == sum(s[k] for k in ("pass", "fail", "skip", "error"))
    for c in example["cases"]:
        assert listed.get(c["id"]) == c["title"], c["id"]
