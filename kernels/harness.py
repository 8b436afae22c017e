#!/usr/bin/python3
"""Runs the sockreuse suite on the host kernel and on Debian kernels booted under qemu.

    kernels/run [--baselines] [--filter GLOB]... [--timeout SEC] [KERNEL...]

KERNEL is `host` or a Debian kernel flavour such as `6.1` or `6.12`: the newest
linux-image-<flavour>.*-cloud-amd64-unsigned package that apt offers. Default: host 6.1 6.12.

For a Debian kernel: `apt-get download` into kernels/cache/ (kept and reused), unpack,
build an initramfs (busybox-static, sockreuse and the shared libraries it links,
cases/, the kernel modules the suite needs), boot it with qemu-system-x86_64 (TCG; no
network device), and bring the JSON report back framed on a second serial port (see
kernels/frame.py). Each report lands in reports/out/kernels/<kernel release>.json, then
`sockreuse compare` writes reports/out/kernels.md and reports/out/kernels.html.

Every report in that folder goes into the comparison (delete a stale one to drop it).
Console logs and the raw report channel of each boot stay in reports/out/kernels/log/.

A failure prints one line naming the kernel and what failed (a console tail follows when
there is one); the other kernels still run and the exit status is 1. Exit 2: bad usage or
the runner is not built. Case failures are not harness failures: they are in the reports.

The guest: qemu -accel tcg -cpu max -m 1024 -smp 2 -nic none, kernel arguments
"console=ttyS0 quiet panic=-1 oops=panic mitigations=off" (the speculation mitigations
change nothing the suite measures and cost a third of the run time under TCG), the runner
with -j 2. The report travels on ttyS1, where no kernel message can land.

Environment (for tests and measurements): SOCKREUSE_RUNNER, SOCKREUSE_CASES (the runner
binary and the case folder, default sockreuse and cases/), SOCKREUSE_QEMU (default
qemu-system-x86_64), SOCKREUSE_QEMU_ACCEL (default tcg; kvm only where proven to work),
SOCKREUSE_QEMU_CPU (default max), SOCKREUSE_QEMU_SMP (default 2), SOCKREUSE_GUEST_JOBS
(default 2), SOCKREUSE_QEMU_APPEND (more kernel arguments).
"""
import argparse
import functools
import glob
import gzip
import lzma
import os
import re
import resource
import shlex
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import frame  # noqa: E402

ROOT = os.path.dirname(HERE)
CACHE = os.path.join(HERE, "cache")
# SOCKREUSE_RUNNER replaces the runner binary (tests use a stand-in script).
RUNNER = os.path.abspath(os.environ.get("SOCKREUSE_RUNNER") or os.path.join(ROOT, "sockreuse"))
CASES = os.path.abspath(os.environ.get("SOCKREUSE_CASES") or os.path.join(ROOT, "cases"))
OUT = os.path.join(ROOT, "reports", "out", "kernels")   # --out changes it
LOGS = os.path.join(OUT, "log")
BASELINES = os.path.join(ROOT, "reports", "baselines")
BUSYBOX_CANDIDATES = ["/bin/busybox", "/usr/bin/busybox"]

# Kernel modules the suite needs: veth for the two-host topology, inet_diag/tcp_diag/udp_diag
# for sock_diag dumps (TIME_WAIT and request sockets have no fd). Their dependencies come
# from each module's own .modinfo; a module built into the kernel needs nothing.
MODULES_REQUIRED = ["veth", "inet_diag", "tcp_diag", "udp_diag"]
MODULES_OPTIONAL = ["raw_diag"]

DEFAULT_KERNELS = ["host", "6.1", "6.12"]
DEFAULT_TIMEOUT = 300
GUEST_JOBS = int(os.environ.get("SOCKREUSE_GUEST_JOBS") or 2)
KERNEL_ARGS = "console=ttyS0 quiet panic=-1 oops=panic mitigations=off"


class Failure(Exception):
    """One kernel failed; the message is printed as "<kernel>: <message>"."""


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def log(msg):
    print(msg, flush=True)


def show(path):
    """path relative to the project when inside it."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


# --------------------------------------------------------------------------- apt

def pkg_pattern(spec):
    return "linux-image-%s*-cloud-amd64-unsigned" % spec


def _vorder(c):
    if c == "~":
        return -1
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _vpart_cmp(a, b):
    """dpkg's comparison of an upstream version or a revision."""
    while a or b:
        na = re.match(r"[^0-9]*", a).group()
        nb = re.match(r"[^0-9]*", b).group()
        for i in range(max(len(na), len(nb))):
            ca = _vorder(na[i]) if i < len(na) else 0
            cb = _vorder(nb[i]) if i < len(nb) else 0
            if ca != cb:
                return -1 if ca < cb else 1
        a, b = a[len(na):], b[len(nb):]
        da = re.match(r"[0-9]*", a).group()
        db = re.match(r"[0-9]*", b).group()
        if int(da or 0) != int(db or 0):
            return -1 if int(da or 0) < int(db or 0) else 1
        a, b = a[len(da):], b[len(db):]
    return 0


def dpkg_cmp(a, b):
    """Compares two Debian versions as dpkg --compare-versions does: -1, 0 or 1."""
    def split(v):
        epoch, _, rest = v.rpartition(":") if ":" in v else ("0", "", v)
        upstream, _, rev = rest.rpartition("-") if "-" in rest else (rest, "", "0")
        return int(epoch or 0), upstream, rev
    ea, ua, ra = split(a)
    eb, ub, rb = split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _vpart_cmp(ua, ub) or _vpart_cmp(ra, rb)


_apt_updated = False


def apt_candidates(spec):
    """[(package, candidate version)] that apt offers for the flavour spec."""
    if shutil.which("apt-cache") is None:
        return []
    name_re = re.compile(r"^linux-image-%s\.[0-9][^ ]*-cloud-amd64-unsigned$" % re.escape(spec))
    # apt-cache policy takes a glob; one call instead of a search plus a policy.
    r = run(["apt-cache", "policy", "linux-image-%s.*-cloud-amd64-unsigned" % spec])
    found, cur = [], None
    for line in r.stdout.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            cur = line[:-1] if name_re.match(line[:-1]) else None
        elif cur and line.strip().startswith("Candidate:"):
            ver = line.split(":", 1)[1].strip()
            if ver and ver != "(none)":
                found.append((cur, ver))
            cur = None
    return found


def cached_debs(spec):
    """[(package, version, path)] of .deb files for spec already in the cache."""
    out = []
    for path in glob.glob(os.path.join(CACHE, "linux-image-%s.*-cloud-amd64-unsigned_*_amd64.deb" % spec)):
        name, ver, _ = os.path.basename(path)[:-4].split("_")
        if re.match(r"^linux-image-%s\.[0-9]" % re.escape(spec), name):
            out.append((name, ver.replace("%3a", ":"), path))
    return out


def resolve_package(spec):
    """(package, version, path to .deb), downloading it unless cached."""
    global _apt_updated
    cands = apt_candidates(spec)
    if not cands and not _apt_updated and os.geteuid() == 0 and shutil.which("apt-get"):
        # apt's lists may never have been fetched on this machine: fetch them once.
        log("%s: no candidate in apt's lists; running apt-get update" % spec)
        run(["apt-get", "update", "-qq"])
        _apt_updated = True
        cands = apt_candidates(spec)
    cached = cached_debs(spec)
    if not cands:
        if cached:
            name, ver, path = max(cached, key=functools.cmp_to_key(lambda a, b: dpkg_cmp(a[1], b[1])))
            log("%s: apt offers no %s; using the cached %s" % (spec, pkg_pattern(spec), os.path.basename(path)))
            return name, ver, path
        raise Failure("no package %s in the apt sources" % pkg_pattern(spec))
    name, ver = max(cands, key=functools.cmp_to_key(lambda a, b: dpkg_cmp(a[1], b[1])))
    for cname, cver, path in cached:
        if cname == name and cver == ver:
            return name, ver, path
    os.makedirs(CACHE, exist_ok=True)
    log("%s: downloading %s %s" % (spec, name, ver))
    # Into a private folder first, so that a concurrent run never sees half a file.
    tmp = tempfile.mkdtemp(prefix=".download-", dir=CACHE)
    try:
        r = run(["apt-get", "download", "-q", "%s=%s" % (name, ver)], cwd=tmp)
        for f in glob.glob(os.path.join(tmp, "*.deb")):
            os.replace(f, os.path.join(CACHE, os.path.basename(f)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for cname, cver, path in cached_debs(spec):
        if cname == name and cver == ver:
            return name, ver, path
    msg = (r.stderr.strip().splitlines() or ["no .deb appeared in kernels/cache"])[-1]
    if cached:
        name, ver, path = max(cached, key=functools.cmp_to_key(lambda a, b: dpkg_cmp(a[1], b[1])))
        log("%s: apt-get download failed (%s); using the cached %s" % (spec, msg, os.path.basename(path)))
        return name, ver, path
    raise Failure("apt-get download %s=%s failed: %s" % (name, ver, msg))


def unpack(deb):
    """Directory holding the unpacked package (cached next to the .deb)."""
    dest = deb[:-4]
    if os.path.isdir(dest):
        return dest
    tmp = tempfile.mkdtemp(prefix=".unpack-", dir=CACHE)
    r = run(["dpkg-deb", "-x", deb, tmp])
    if r.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise Failure("dpkg-deb -x %s failed: %s" % (os.path.basename(deb), r.stderr.strip()))
    try:
        os.rename(tmp, dest)
    except OSError:
        if not os.path.isdir(dest):   # else a concurrent run unpacked it first
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


# --------------------------------------------------------------------------- modules

def elf_modinfo(data):
    """{key: [values]} from the .modinfo section of a kernel module (ELF64 little endian)."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not an ELF64 little-endian file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def section(i):
        name, _type, _flags, _addr, off, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        return name, off, size

    _, stroff, _ = section(shstrndx)
    info = {}
    for i in range(shnum):
        name, off, size = section(i)
        end = data.index(b"\0", stroff + name)
        if data[stroff + name:end] != b".modinfo":
            continue
        for item in data[off:off + size].split(b"\0"):
            if b"=" in item:
                k, v = item.decode("utf-8", "replace").split("=", 1)
                info.setdefault(k, []).append(v)
    return info


def read_module(path):
    """The module's bytes, decompressed."""
    if path.endswith(".ko"):
        with open(path, "rb") as f:
            return f.read()
    if path.endswith(".ko.xz"):
        with open(path, "rb") as f:
            return lzma.decompress(f.read())
    if path.endswith(".ko.gz"):
        with open(path, "rb") as f:
            return gzip.decompress(f.read())
    if path.endswith(".ko.zst"):
        if shutil.which("zstd") is None:
            raise Failure("zstd not found, needed for %s (apt-get install zstd)" % os.path.basename(path))
        r = subprocess.run(["zstd", "-dc", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise Failure("zstd -d %s failed" % path)
        return r.stdout
    raise ValueError(path)


def modname(path):
    base = os.path.basename(path)
    base = re.sub(r"\.ko(\.(xz|gz|zst))?$", "", base)
    return base.replace("-", "_")


def resolve_modules(moddir):
    """[(name, bytes)] in load order (dependencies first), and the names built in."""
    builtin = set()
    try:
        with open(os.path.join(moddir, "modules.builtin")) as f:
            builtin = {modname(line.strip()) for line in f if line.strip()}
    except OSError:
        pass
    files = {}
    for dirpath, _, names in os.walk(os.path.join(moddir, "kernel")):
        for n in names:
            if re.search(r"\.ko(\.(xz|gz|zst))?$", n):
                files.setdefault(modname(n), os.path.join(dirpath, n))
    order, seen, blobs = [], set(), {}

    def visit(name, required, chain):
        if name in seen or name in builtin:
            return
        if name in chain:
            raise Failure("module dependency loop: %s" % " -> ".join(chain + [name]))
        if name not in files:
            if required:
                raise Failure("kernel module %s not found (neither built in nor under %s/kernel)"
                              % (name, os.path.relpath(moddir, CACHE)))
            return
        data = read_module(files[name])
        try:
            deps = [d for v in elf_modinfo(data).get("depends", []) for d in v.split(",") if d]
        except (ValueError, struct.error) as e:
            raise Failure("cannot read .modinfo of %s: %s" % (files[name], e))
        for d in deps:
            visit(d.replace("-", "_"), True, chain + [name])
        seen.add(name)
        blobs[name] = data
        order.append(name)

    for m in MODULES_REQUIRED:
        visit(m, True, [])
    for m in MODULES_OPTIONAL:
        visit(m, False, [])
    return [(n, blobs[n]) for n in order], builtin


# --------------------------------------------------------------------------- initramfs

class Cpio:
    """A cpio "newc" archive built in memory: no root needed for device nodes."""

    def __init__(self):
        self.entries = {}

    def _parents(self, path):
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.entries:
                self.entries[d] = (stat.S_IFDIR | 0o755, b"", 0)

    def dir(self, path, mode=0o755):
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = (stat.S_IFDIR | mode, b"", 0)

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = (stat.S_IFREG | mode, data, 0)

    def symlink(self, path, target):
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = (stat.S_IFLNK | 0o777, target.encode(), 0)

    def chardev(self, path, major, minor, mode=0o600):
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = (stat.S_IFCHR | mode, b"", (major, minor))

    def bytes(self):
        out = bytearray()

        def put(name, mode, data, rdev, ino):
            major, minor = rdev if rdev else (0, 0)
            nb = name.encode() + b"\0"
            hdr = "070701" + "".join("%08X" % v for v in (
                ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0,
                major, minor, len(nb), 0))
            out.extend(hdr.encode() + nb)
            out.extend(b"\0" * (-len(out) % 4))
            out.extend(data)
            out.extend(b"\0" * (-len(out) % 4))

        # Parents sort before their children ("a" < "a/b").
        for ino, name in enumerate(sorted(self.entries), start=1):
            mode, data, rdev = self.entries[name]
            put(name, mode, data, rdev, ino)
        put("TRAILER!!!", 0, b"", None, 0)
        return bytes(out)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def shared_libs(binary):
    """[(path inside the guest, host file)] for every library binary links, loader included."""
    r = run(["ldd", binary])
    if r.returncode != 0:
        if "not a dynamic executable" in (r.stdout + r.stderr):
            return []
        raise Failure("ldd %s failed: %s" % (binary, (r.stderr or r.stdout).strip()))
    libs = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if "=>" in line:
            name, rest = [s.strip() for s in line.split("=>", 1)]
            if rest.startswith("not found"):
                raise Failure("%s links %s, which is not found (ldd)" % (os.path.relpath(binary, ROOT), name))
            path = rest.split(" (")[0].strip()
            if path:
                libs.append(path)
        elif line.startswith("/"):
            libs.append(line.split(" (")[0].strip())
    return [(p, os.path.realpath(p)) for p in libs]


def elf_is_static(path):
    """True when the ELF64 file at path has no program interpreter (PT_INTERP)."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return False
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        off = phoff + i * phentsize
        if off + 4 > len(data):
            return False
        if struct.unpack_from("<I", data, off)[0] == 3:
            return False
    return True


def find_busybox():
    for p in BUSYBOX_CANDIDATES:
        if os.path.isfile(p) and elf_is_static(p):
            return p
    raise Failure("no statically linked busybox in %s (apt-get install busybox-static)"
                  % " or ".join(BUSYBOX_CANDIDATES))


INIT_TEMPLATE = r'''#!/bin/sh
# sockreuse guest init, generated by kernels/harness.py
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /tmp /run
mount -t tmpfs tmpfs /tmp
say() { read -r up _ < /proc/uptime; echo "sockreuse-init: [$up] $*"; }
%(frame)s
for m in %(modules)s; do
	insmod /lib/modules/sockreuse/$m.ko || say "insmod $m failed"
done
ip link set lo up 2>/dev/null
say "kernel $(uname -r); running the suite"
%(command)s >/tmp/r.out 2>/tmp/r.err
rc=$?
say "runner exit $rc: $(tail -n 1 /tmp/r.err)"
if [ -s /tmp/r.json ]; then
	stty -F %(port)s raw -echo 2>/dev/null
	frame_report /tmp/r.json > %(port)s
	say "report sent"
else
	say "no report written; runner stderr:"
	tail -n 20 /tmp/r.err
fi
poweroff -f
'''


def build_initramfs(moddir, filters, report_port, dest):
    cp = Cpio()
    for d in ("dev", "proc", "sys", "tmp", "run", "bin", "sbin", "usr/bin", "usr/sbin", "root"):
        cp.dir(d)
    cp.chardev("dev/console", 5, 1)
    cp.chardev("dev/null", 1, 3, 0o666)
    cp.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    cp.file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    bb = find_busybox()
    cp.file("bin/busybox", read(bb), 0o755)
    applets = run([bb, "--list-full"]).stdout.split()
    for a in applets:
        if a.strip("/") not in ("bin/busybox", "init", "linuxrc") and "/" in a:
            cp.symlink(a, "/bin/busybox")
    cp.file("sockreuse", read(RUNNER), 0o755)
    for guest, host in shared_libs(RUNNER):
        cp.file(guest, read(host), 0o755)
    n = 0
    for dirpath, _, names in os.walk(CASES):
        for name in names:
            path = os.path.join(dirpath, name)
            cp.file("cases/" + os.path.relpath(path, CASES), read(path))
            n += 1
    if n == 0:
        raise Failure("no case files under cases/")
    cp.dir("cases")
    mods, _ = resolve_modules(moddir)
    for name, data in mods:
        cp.file("lib/modules/sockreuse/%s.ko" % name, data)
    cmd = ["/sockreuse", "run", "--cases", "/cases", "--json", "/tmp/r.json", "-j", str(GUEST_JOBS),
           "--tap", "/tmp/r.tap"]
    for f in filters:
        cmd += ["--filter", f]
    init = INIT_TEMPLATE % {
        "frame": frame.GUEST_SNIPPET,
        "modules": " ".join(n for n, _ in mods),
        "command": " ".join(shlex.quote(c) for c in cmd),
        "port": report_port,
    }
    cp.file("init", init.encode(), 0o755)
    with open(dest, "wb") as f:
        f.write(gzip.compress(cp.bytes(), compresslevel=6, mtime=0))
    return [n for n, _ in mods]


# --------------------------------------------------------------------------- boot

ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|[^\[])")


def tail(path, n=20):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").replace("\r", "").splitlines()
    except OSError:
        return "(no console output)"
    lines = [ANSI.sub("", line).rstrip() for line in lines]
    lines = [line for line in lines if line.strip()]
    return "\n".join("    " + line for line in lines[-n:]) or "    (empty)"


def boot(spec, filters, timeout):
    qemu = os.environ.get("SOCKREUSE_QEMU", "qemu-system-x86_64")
    if shutil.which(qemu) is None:
        raise Failure("%s not found (apt-get install qemu-system-x86)" % qemu)
    name, ver, deb = resolve_package(spec)
    tree = unpack(deb)
    kernels = glob.glob(os.path.join(tree, "boot", "vmlinuz-*"))
    mods = glob.glob(os.path.join(tree, "lib", "modules", "*"))
    if len(kernels) != 1 or len(mods) != 1:
        raise Failure("%s: expected one boot/vmlinuz-* and one lib/modules/<version>, found %d and %d"
                      % (name, len(kernels), len(mods)))
    kver = os.path.basename(mods[0])
    os.makedirs(LOGS, exist_ok=True)
    work = tempfile.mkdtemp(prefix="sockreuse-kernels-")
    try:
        initrd = os.path.join(work, "initrd.gz")
        loaded = build_initramfs(mods[0], filters, "/dev/ttyS1", initrd)
        console = os.path.join(LOGS, "%s.console.log" % kver)
        serial = os.path.join(LOGS, "%s.report.serial" % kver)
        for p in (console, serial):
            if os.path.exists(p):
                os.unlink(p)
        accel = os.environ.get("SOCKREUSE_QEMU_ACCEL", "tcg")
        append = " ".join([KERNEL_ARGS, os.environ.get("SOCKREUSE_QEMU_APPEND", "")]).strip()
        cmd = [qemu, "-accel", accel, "-cpu", os.environ.get("SOCKREUSE_QEMU_CPU", "max"),
               "-m", "1024", "-smp", os.environ.get("SOCKREUSE_QEMU_SMP", "2"),
               "-nodefaults", "-no-user-config", "-nographic", "-no-reboot", "-nic", "none",
               "-kernel", kernels[0], "-initrd", initrd, "-append", append,
               # ttyS0: console; ttyS1: the report, nothing else. Options escape "," as ",,".
               "-chardev", "file,id=console,path=" + console.replace(",", ",,"),
               "-chardev", "file,id=report,path=" + serial.replace(",", ",,"),
               "-serial", "chardev:console", "-serial", "chardev:report"]
        log("%s: booting %s %s (%s; modules: %s)" % (spec, name, ver, accel, " ".join(loaded) or "none"))
        t0, cpu0 = time.monotonic(), children_cpu()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        try:
            qout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise Failure("boot timeout after %g s; console tail:\n%s" % (timeout, tail(console)))
        finally:
            if proc.poll() is None:   # interrupted: leave no qemu behind
                proc.kill()
                proc.wait()
        elapsed = time.monotonic() - t0
        timing = {"wall": elapsed, "cpu": children_cpu() - cpu0}
        if proc.returncode != 0 and not os.path.exists(console):
            raise Failure("qemu failed (exit %d): %s" % (proc.returncode, qout.decode("utf-8", "replace").strip()))
        data, err = None, None
        for src in (serial, console):
            try:
                data = frame.extract(read(src))
                break
            except (OSError, frame.FrameError) as e:
                err = err or e
        if data is None:
            raise Failure("report missing or corrupt (%s); console tail:\n%s" % (err, tail(console)))
        try:
            for line in read(console).decode("utf-8", "replace").splitlines():
                if "sockreuse-init:" in line and "failed" in line:
                    log("%s: warning: %s" % (spec, line.split("sockreuse-init:", 1)[1].strip()))
        except OSError:
            pass
        return data, timing
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- host

def run_host(filters, timeout):
    os.makedirs(LOGS, exist_ok=True)
    fd, tmpjson = tempfile.mkstemp(prefix=".host-", suffix=".json", dir=OUT)
    os.close(fd)
    cmd = [RUNNER, "run", "--cases", CASES, "--json", tmpjson, "-j", str(GUEST_JOBS),
           "--tap", os.path.join(LOGS, "host.tap")]
    for f in filters:
        cmd += ["--filter", f]
    t0, cpu0 = time.monotonic(), children_cpu()
    try:
        with open(os.path.join(LOGS, "host.log"), "wb") as lg:
            try:
                subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=lg, stderr=lg, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise Failure("runner timeout after %g s; log tail:\n%s" % (timeout, tail(lg.name)))
        data = read(tmpjson)
        if not data.strip():
            raise Failure("runner wrote no report; log tail:\n%s" % tail(os.path.join(LOGS, "host.log")))
        return data, {"wall": time.monotonic() - t0, "cpu": children_cpu() - cpu0}
    finally:
        os.unlink(tmpjson)


# --------------------------------------------------------------------------- main

def store(spec, data, timing, baselines):
    import json
    try:
        rep = json.loads(data)
        release = rep["kernel"]["release"]
        summ = rep.get("summary", {})
    except (ValueError, KeyError, TypeError) as e:
        raise Failure("report is not the expected JSON (%s)" % e)
    if not re.match(r"^[A-Za-z0-9._+-]+$", release):
        raise Failure("odd kernel release in report: %r" % release)
    path = os.path.join(OUT, release + ".json")
    fd, tmp = tempfile.mkstemp(prefix=".report-", dir=OUT)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    if baselines:
        os.makedirs(BASELINES, exist_ok=True)
        shutil.copyfile(path, os.path.join(BASELINES, release + ".json"))
    suite = rep.get("duration_s")
    log("%s: %s: %s passed, %s failed, %s skipped, %s errors in %.1f s (suite %s s, cpu %.1f s) -> %s" % (
        spec, release, summ.get("pass", "?"), summ.get("fail", "?"), summ.get("skip", "?"),
        summ.get("error", "?"), timing["wall"],
        "%.1f" % suite if isinstance(suite, (int, float)) else "?", timing["cpu"], show(path)))
    return path


def release_key(name):
    """Sort key putting kernel releases in version order: 6.1 < 6.12 < 6.18."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"([0-9]+)", name) if t]


def compare(reports):
    log("compare: %s" % " ".join(os.path.basename(r)[:-5] for r in reports))
    ok = True
    for fmt, out in (("md", "kernels.md"), ("html", "kernels.html")):
        dest = os.path.join(os.path.dirname(OUT), out)
        cmd = [RUNNER, "compare"] + reports + ["--format", fmt, "--output", dest]
        r = run(cmd)
        if r.returncode in (0, 1) and os.path.exists(dest):
            log("compare: %s" % show(dest))
            continue
        msg = (r.stderr.strip() or r.stdout.strip() or "exit %d" % r.returncode).splitlines()[0]
        if re.search(r"unknown|usage|unrecogni[sz]ed|not implemented|no such command|invalid command", msg, re.I):
            log("compare: the runner has no working compare command yet (%s); no matrix written" % msg)
            return True
        log("compare --format %s failed (exit %d): %s" % (fmt, r.returncode, msg))
        ok = False
    return ok


def main(argv):
    global OUT, LOGS
    ap = argparse.ArgumentParser(prog="kernels/run", description=__doc__.split("\n\n")[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baselines", action="store_true",
                    help="also copy each report to reports/baselines/<release>.json")
    ap.add_argument("--filter", action="append", default=[], metavar="GLOB",
                    help="run only the cases matching GLOB (repeatable; passed to the runner)")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SEC",
                    help="deadline for one kernel, boot included (default %d)" % DEFAULT_TIMEOUT)
    ap.add_argument("--no-compare", action="store_true", help="do not write the comparison matrix")
    ap.add_argument("--out", metavar="DIR", default=OUT,
                    help="where reports go (default reports/out/kernels; the matrix goes beside DIR)")
    ap.add_argument("kernels", nargs="*", metavar="KERNEL", help="host, 6.1, 6.12, ... (default: host 6.1 6.12)")
    args = ap.parse_args(argv)
    OUT = os.path.abspath(args.out)
    LOGS = os.path.join(OUT, "log")
    kernels = args.kernels or DEFAULT_KERNELS
    for k in kernels:
        if k != "host" and not re.match(r"^[0-9]+\.[0-9]+$", k):
            ap.error("bad KERNEL %r: give host or a version like 6.1" % k)
    if not (os.path.isfile(RUNNER) and os.access(RUNNER, os.X_OK)):
        print("sockreuse not built (make sockreuse)", file=sys.stderr)
        return 2
    os.makedirs(OUT, exist_ok=True)
    failed, reports = False, []
    t_all = time.monotonic()
    for k in kernels:
        try:
            if k == "host":
                data, timing = run_host(args.filter, args.timeout)
            else:
                data, timing = boot(k, args.filter, args.timeout)
            path = store(k, data, timing, args.baselines)
            if path not in reports:
                reports.append(path)
        except Failure as e:
            print("%s: %s" % (k, e), file=sys.stderr, flush=True)
            failed = True
    if reports and not args.no_compare:
        # Every report in the folder, so that a run of one kernel still compares with the
        # others' earlier reports (delete the folder to forget a kernel).
        every = sorted(glob.glob(os.path.join(OUT, "*.json")), key=lambda p: release_key(os.path.basename(p)))
        if len(every) < 2:
            log("compare: only one report in %s; no matrix written" % show(OUT))
        elif not compare(every):
            failed = True
    log("kernels: %d of %d reports in %.1f s" % (len(reports), len(kernels), time.monotonic() - t_all))
    return 1 if failed else 0


def _terminate(signum, _frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
