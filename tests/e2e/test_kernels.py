"""kernels/: the framing that brings a report back from a guest, and one real boot under qemu.

The framing tests need nothing but Python (and busybox or coreutils for the guest's side).
The qemu test boots Debian's 6.1 cloud kernel through kernels/run; it fails when qemu or the
kernel package is missing, unless SOCKREUSE_SKIP_QEMU=1 is set.
"""
import glob
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KERNELS = os.path.join(ROOT, "kernels")
sys.path.insert(0, KERNELS)
from harness import channel as frame  # noqa: E402
from harness import cli, fetch, initramfs, modules, report  # noqa: E402
from harness.config import Config  # noqa: E402

REPORT = json.dumps({
    "tool": {"name": "sockreuse", "version": "0.1.0"},
    "kernel": {"release": "6.1.0-56-cloud-amd64", "version": "#1 SMP", "machine": "x86_64"},
    "summary": {"total": 2, "pass": 1, "fail": 1, "skip": 0, "error": 0},
    "cases": [{"id": "0110/TIME_WAIT/old=1/new=1/addr=same", "status": "pass",
               "detail": "é ü \u2603 " + "x" * 5000},
              {"id": "0111/LISTEN", "status": "fail", "detail": "".join(random.Random(7).choices("abcdefghij0123456789 ", k=20000))}],
}, indent=1).encode()

KMSG = [
    "[    3.141592] random: crng init done",
    "[    4.000001] veth: module verification failed: signature and/or required key missing - tainting kernel",
    "[   12.5] ------------[ cut here ]------------",
    "",
    "\x1b[0m",
]


def interleave(text, every=3):
    out = []
    for i, line in enumerate(text.splitlines()):
        out.append(line)
        if i % every == 1:
            out.append(KMSG[i % len(KMSG)])
    return "\r\n".join(out) + "\r\n"


def b64_lines(framed):
    lines = framed.splitlines()
    return [i for i, line in enumerate(lines) if re.fullmatch(r"[A-Za-z0-9+/=]+", line)]


def test_roundtrip():
    assert frame.extract(frame.encode(REPORT)) == REPORT


def test_recovers_exact_json_among_kernel_messages():
    framed = frame.encode(REPORT)
    assert len(b64_lines(framed)) > 20
    log = "SeaBIOS (version 1.16)\nBooting from ROM...\n" + KMSG[0] + "\n" + \
        "sockreuse-init: running\n" + interleave(framed) + "[   20.1] reboot: Power down\n"
    assert frame.extract(log) == REPORT
    assert frame.extract(log.encode()) == REPORT


def test_last_intact_frame_wins():
    older = frame.encode(b'{"old": 1}')
    assert frame.extract(older + "noise\n" + frame.encode(REPORT)) == REPORT
    # A damaged later frame does not hide an intact earlier one.
    bad = frame.encode(b'{"new": 2}').replace("SOCKREUSE-REPORT-END", "")
    assert frame.extract(frame.encode(REPORT) + bad) == REPORT


@pytest.mark.parametrize("damage", ["flip", "drop", "glued_kmsg", "truncated", "length", "checksum", "none"])
def test_rejects_damaged_frame(damage):
    lines = frame.encode(REPORT).splitlines()
    idx = b64_lines("\n".join(lines))
    mid = idx[len(idx) // 2]
    if damage == "flip":
        c = lines[mid][10]
        lines[mid] = lines[mid][:10] + ("A" if c != "A" else "B") + lines[mid][11:]
    elif damage == "drop":
        del lines[mid]
    elif damage == "glued_kmsg":
        # a kernel message printed in the middle of a base64 line
        lines[mid] = lines[mid][:30] + "[    7.7] tcp: oops" + "\n" + lines[mid][30:]
    elif damage == "truncated":
        lines = lines[:mid]
    elif damage == "length":
        head = lines[0].split()
        lines[0] = " ".join([head[0], str(int(head[1]) + 1), head[2]])
    elif damage == "checksum":
        head = lines[0].split()
        lines[0] = " ".join([head[0], head[1], hashlib.sha256(b"other").hexdigest()])
    elif damage == "none":
        lines = [line for line in lines if not line.startswith("SOCKREUSE-REPORT-BEGIN")]
    with pytest.raises(frame.FrameError):
        frame.extract("\n".join(lines) + "\n")


def guest_shells():
    shells = []
    if shutil.which("busybox"):
        shells.append(["busybox", "sh"])
    if all(shutil.which(t) for t in ("sh", "gzip", "base64", "sha256sum", "wc", "cut")):
        shells.append(["sh"])
    return shells


@pytest.mark.parametrize("shell", guest_shells(), ids=lambda s: s[0])
def test_guest_snippet_matches_extractor(tmp_path, shell):
    """The shell code the guest's init runs produces frames the extractor accepts."""
    src = tmp_path / "r.json"
    src.write_bytes(REPORT)
    script = frame.GUEST_SNIPPET + '\nframe_report "$1"\n'
    out = subprocess.run(shell + ["-c", script, "sh", str(src)], stdout=subprocess.PIPE, check=True).stdout
    assert frame.extract(interleave(out.decode())) == REPORT


def test_extract_cli(tmp_path):
    log = tmp_path / "console.log"
    log.write_text(interleave(frame.encode(REPORT)))
    out = tmp_path / "out.json"
    r = subprocess.run([sys.executable, os.path.join(KERNELS, "harness", "channel.py"), "extract", str(log), "-o", str(out)])
    assert r.returncode == 0 and out.read_bytes() == REPORT
    log.write_text("no frame here\n")
    r = subprocess.run([sys.executable, os.path.join(KERNELS, "harness", "channel.py"), "extract", str(log)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 1 and "SOCKREUSE-REPORT-BEGIN" in r.stderr


def test_cpio_newc_archive(tmp_path):
    """The in-memory initramfs writer produces an archive cpio(1) lists, parents first."""
    cp = initramfs.Cpio()
    cp.file("a/b/c.txt", b"hello")
    cp.symlink("bin/sh", "/bin/busybox")
    cp.chardev("dev/console", 5, 1)
    data = cp.bytes()
    assert data.startswith(b"070701") and b"TRAILER!!!" in data
    if shutil.which("cpio"):
        r = subprocess.run(["cpio", "-t", "-v"], input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert r.returncode == 0, r.stderr
        names = [line.split()[-1] if "->" not in line else line.split()[-3] for line in r.stdout.decode().splitlines()]
        assert names.index("a") < names.index("a/b") < names.index("a/b/c.txt")
        assert "dev/console" in names and "bin/sh" in names


def test_modinfo_depends():
    """elf_modinfo reads the depends= field of a module; a minimal ELF is built here."""
    import struct
    modinfo = b"license=GPL\0depends=inet_diag,foo-bar\0name=tcp_diag\0"
    shstr = b"\0.modinfo\0.shstrtab\0"
    body_off = 64
    shoff = body_off + len(modinfo) + len(shstr)
    ehdr = bytearray(64)
    ehdr[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", ehdr, 0x28, shoff)
    struct.pack_into("<HHH", ehdr, 0x3A, 64, 3, 2)

    def sh(name, off, size):
        return struct.pack("<IIQQQQIIQQ", name, 1, 0, 0, off, size, 0, 0, 1, 0)

    data = bytes(ehdr) + modinfo + shstr + sh(0, 0, 0) + sh(1, body_off, len(modinfo)) + \
        sh(10, body_off + len(modinfo), len(shstr))
    info = modules.elf_modinfo(data)
    assert info["depends"] == ["inet_diag,foo-bar"]
    assert info["name"] == ["tcp_diag"]


# ----------------------------------------------------------------------------- qemu

def small_subset(n=16):
    """--filter arguments for a small subset: the first n case ids of the lowest-numbered file."""
    if os.environ.get("SOCKREUSE_QEMU_FILTER"):
        return ["--filter", os.environ["SOCKREUSE_QEMU_FILTER"]]
    r = subprocess.run([Config().runner, "list", "--cases", Config().cases],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, "sockreuse list failed: %s" % r.stderr
    ids = sorted(line.split("\t", 1)[0] for line in r.stdout.splitlines() if line.strip())
    assert ids, "sockreuse list printed no case"
    first = ids[0].split("/", 1)[0]
    args = []
    for i in [i for i in ids if i.split("/", 1)[0] == first][:n]:
        args += ["--filter", re.sub(r"([*?[])", r"[\1]", i)]
    return args


@pytest.mark.qemu
def test_boot_debian_6_1(tmp_path):
    if os.environ.get("SOCKREUSE_SKIP_QEMU") == "1":
        pytest.skip("SOCKREUSE_SKIP_QEMU=1")
    assert shutil.which("qemu-system-x86_64"), \
        "qemu-system-x86_64 not found (apt-get install qemu-system-x86, or set SOCKREUSE_SKIP_QEMU=1)"
    out = tmp_path / "kernels"
    cmd = [os.path.join(KERNELS, "run"), "--no-compare", "--out", str(out), "--timeout", "300"] + \
        small_subset() + ["6.1"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    assert r.returncode == 0, r.stdout
    reports = glob.glob(str(out / "*.json"))
    assert len(reports) == 1, (reports, r.stdout)
    with open(reports[0]) as f:
        rep = json.load(f)
    assert rep["kernel"]["release"].startswith("6.1."), rep["kernel"]
    statuses = [c["status"] for c in rep["cases"]]
    assert "pass" in statuses, (statuses, r.stdout)
    assert os.path.basename(reports[0]) == rep["kernel"]["release"] + ".json"
