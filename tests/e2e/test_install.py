"""Installing: `make install` (PREFIX rebuilds what names it; the completion, schemas and man
page with installed paths), the bash completion itself, and `make deb` (debhelper, then the
package's contents, dependencies and lintian)."""
import gzip
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from helpers import BIN, REPO, makefile_version

COMPLETION = REPO / "tools" / "sockreuse.bash-completion"


def copy_tree(dest):
    """The source tree with its build products (objects, .prefix, binary), mtimes kept."""
    shutil.copytree(REPO, dest, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", "build", "cache", "out", "__pycache__", ".pytest_cache"))
    return dest


def make(tree, *args, timeout=600):
    r = subprocess.run(["make", "-C", str(tree), *args], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def compiled(out):
    return sorted(m.group(1) for m in re.finditer(r" -c -o (\S+\.o) ", out))


# --- make install and PREFIX -----------------------------------------------------------------

def test_install_after_make_rebuilds_for_the_new_prefix(binary, tmp_path):
    tree = copy_tree(tmp_path / "src")
    make(tree, "PREFIX=/usr/local")
    assert compiled(make(tree, "PREFIX=/usr/local")) == [], "nothing to rebuild for the same PREFIX"
    dest = tmp_path / "dest"
    out = make(tree, "install", "PREFIX=/usr", f"DESTDIR={dest}")
    assert compiled(out) == ["cmd/cmd_info.o"], "the object that names the data folder is rebuilt"
    exe = (dest / "usr/bin/sockreuse").read_bytes()
    assert b"/usr/share/sockreuse" in exe and b"/usr/local/share/sockreuse" not in exe
    assert compiled(make(tree, "install", "PREFIX=/usr", f"DESTDIR={dest}")) == []
    # What it installed: the cases, the schemas, the man page naming installed paths, the completion.
    cases = sorted(p.name for p in (REPO / "cases").glob("*.case"))
    assert sorted(p.name for p in (dest / "usr/share/sockreuse/cases").glob("*.case")) == cases
    assert (dest / "usr/share/sockreuse/schema.json").is_file()
    assert (dest / "usr/share/sockreuse/list-schema.json").is_file()
    man = (dest / "usr/share/man/man8/sockreuse.8").read_text()
    assert ".ds prefix /usr\n" in man
    assert (dest / "usr/share/bash-completion/completions/sockreuse").read_text() == COMPLETION.read_text()
    # The installed binary finds the installed cases.
    r = subprocess.run([str(dest / "usr/bin/sockreuse"), "list"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == len(
        subprocess.run([str(BIN), "list"], capture_output=True, text=True).stdout.splitlines())


# --- bash completion -------------------------------------------------------------------------

def complete(line):
    """What the completion offers for `line` (the cursor at its end), with COMP_WORDS split
    as bash splits them (COMP_WORDBREAKS: '=' and ':' are words of their own)."""
    script = r'''
source "$1"
line=$2
words=()
rest=$line
while [[ -n $rest ]]; do
  rest=${rest#"${rest%%[! ]*}"}
  [[ -z $rest ]] && break
  if [[ ${rest:0:1} == [=:] ]]; then words+=("${rest:0:1}"); rest=${rest:1}; continue; fi
  w=${rest%%[ =:]*}; words+=("$w"); rest=${rest:${#w}}
done
[[ $line == *' ' || $line == *'=' || $line == *':' ]] && words+=("")
COMP_WORDS=("${words[@]}"); COMP_CWORD=$((${#words[@]} - 1))
COMP_LINE=$line; COMP_POINT=${#line}
_sockreuse
# bash shows what replaced its last word: print whole words as they end up on the line
last=${COMP_WORDS[COMP_CWORD]}
for c in "${COMPREPLY[@]}"; do printf '%s\n' "${line%"$last"}$c"; done
'''
    r = subprocess.run(["bash", "-c", script, "bash", str(COMPLETION), line], capture_output=True, text=True,
                       timeout=60, cwd=REPO)
    assert r.returncode == 0, r.stderr
    return [l.split(" ")[-1] for l in r.stdout.splitlines()]


def test_completion_subcommands(binary):
    assert complete("./sockreuse ") == ["run", "list", "describe", "compare", "doc", "why", "help", "--help", "--version"]
    assert complete("./sockreuse de") == ["describe"]


@pytest.mark.parametrize("cmd", ["run", "list", "describe", "compare", "doc", "why"])
def test_completion_knows_every_option_of_help(binary, cmd):
    help_text = subprocess.run([str(BIN), cmd, "--help"], capture_output=True, text=True).stdout
    documented = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b", help_text)) - {"--help"}
    offered = set(o.rstrip("=") for o in complete(f"./sockreuse {cmd} -"))
    assert documented and documented <= offered, documented - offered


def test_completion_case_ids(binary):
    ids = [l.split("\t")[0] for l in subprocess.run([str(BIN), "list"], capture_output=True, text=True).stdout.splitlines()]
    want = [i for i in ids if i.startswith("0301/family=inet/")]
    assert want
    assert complete("./sockreuse describe 0301/family=inet/") == want, "ids hold '=': whole ids come back"
    assert complete("./sockreuse run --filter 0301/family=inet/") == want
    assert complete("./sockreuse run --color=n") == ["--color=never"]
    assert complete("./sockreuse compare --format h") == ["html"]


# --- make deb --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    for tool in ("dpkg-buildpackage", "dh", "lintian", "fakeroot"):
        assert shutil.which(tool), f"{tool} is missing: make deps-deb (or make check) installs it"
    out = tmp_path_factory.mktemp("deb")
    r = subprocess.run(["make", "-C", str(REPO), "deb", f"DEBDIR={out}"], capture_output=True, text=True,
                       timeout=1200)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    debs = [p for p in out.glob("sockreuse_*.deb")]
    assert len(debs) == 1, list(out.iterdir())
    return debs[0]


def test_deb_contents(deb):
    assert deb.name == f"sockreuse_{makefile_version()}_{subprocess.check_output(['dpkg', '--print-architecture'], text=True).strip()}.deb"
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    files = {l.split()[5].lstrip(".") : l.split()[0] for l in listing.splitlines()}
    assert files["/usr/bin/sockreuse"] == "-rwxr-xr-x"
    assert "/usr/share/man/man8/sockreuse.8.gz" in files
    assert "/usr/share/bash-completion/completions/sockreuse" in files
    assert "/usr/share/doc/sockreuse/copyright" in files
    for p in (REPO / "cases").glob("*.case"):
        assert f"/usr/share/sockreuse/cases/{p.name}" in files, p.name
    assert "/usr/share/sockreuse/cases/claims" in files
    assert "/usr/share/sockreuse/schema.json" in files
    assert not [f for f in files if f.startswith(("/usr/local", "/build"))]


def test_deb_depends_on_the_linked_libraries(deb):
    depends = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True,
                             check=True).stdout
    for lib in ("libc6", "libmnl0", "libjansson4", "zlib1g"):
        assert re.search(rf"\b{lib}\b", depends), depends


def test_deb_binary_works_from_its_installed_tree(deb, tmp_path):
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path)], check=True)
    exe = tmp_path / "usr/bin/sockreuse"
    assert b"/usr/share/sockreuse" in exe.read_bytes()
    r = subprocess.run([str(exe), "list"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.splitlines() == subprocess.run(
        [str(BIN), "list"], capture_output=True, text=True).stdout.splitlines()
    man = gzip.decompress((tmp_path / "usr/share/man/man8/sockreuse.8.gz").read_bytes()).decode()
    assert ".ds prefix /usr\n" in man


def test_deb_lintian_reports_no_error(deb):
    r = subprocess.run(["lintian", "--fail-on", "error", str(deb)], capture_output=True, text=True, timeout=600)
    errors = [l for l in r.stdout.splitlines() if l.startswith("E:")]
    assert r.returncode == 0 and not errors, r.stdout + r.stderr
