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
