"""Runs the suite on one kernel and returns its JSON report: boot() a Debian kernel under qemu,
or host() on the running kernel. Each returns (report bytes, {"wall": s, "cpu": s})."""
import dataclasses
import glob
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

from . import Failure, channel, initramfs
from .config import KERNEL_ARGS, log, read

ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|[^\[])")


def tail(path, n=20):
    """The last n non-empty lines of a console log, indented, escape sequences removed."""
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").replace("\r", "").splitlines()
    except OSError:
        return "(no console output)"
    lines = [ANSI.sub("", line).rstrip() for line in lines]
    lines = [line for line in lines if line.strip()]
    return "\n".join("    " + line for line in lines[-n:]) or "    (empty)"


@dataclasses.dataclass
class Finished:
    exit_code: int
    timed_out: bool
    wall: float
    cpu: float


class Children:
    """The qemu and runner processes of a run, so that an interrupt can stop them all."""

    def __init__(self):
        self.lock = threading.Lock()
        self.procs = set()
        self.stopping = False

    def start(self, cmd, stdout, stderr):
        with self.lock:
            if self.stopping:
                raise Failure("interrupted")
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
            self.procs.add(proc)
            return proc

    def done(self, proc):
        with self.lock:
            self.procs.discard(proc)

    def kill_all(self):
        with self.lock:
            self.stopping = True
            for p in self.procs:
                p.kill()


def run_timed(children, cmd, timeout, stdout, stderr):
    """Runs cmd to its end or its deadline; the CPU time is this child's own (wait4), so that
    kernels running side by side do not count each other's."""
    t0 = time.monotonic()
    proc = children.start(cmd, stdout, stderr)
    expired = threading.Event()

    def kill():
        expired.set()
        proc.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, ru = os.wait4(proc.pid, 0)
    except BaseException:   # interrupted: leave no child behind
        proc.kill()
        os.wait4(proc.pid, 0)
        raise
    finally:
        timer.cancel()
        children.done(proc)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Finished(proc.returncode, expired.is_set(), time.monotonic() - t0, ru.ru_utime + ru.ru_stime)


def kernel_files(tree, name):
    """(vmlinuz, lib/modules/<version>) of an unpacked package."""
    kernels = glob.glob(os.path.join(tree, "boot", "vmlinuz-*"))
    mods = glob.glob(os.path.join(tree, "lib", "modules", "*"))
    if len(kernels) != 1 or len(mods) != 1:
        raise Failure("%s: expected one boot/vmlinuz-* and one lib/modules/<version>, found %d and %d"
                      % (name, len(kernels), len(mods)))
    return kernels[0], mods[0]


def qemu_command(cfg, vmlinuz, initrd, console, serial):
    append = " ".join([KERNEL_ARGS, cfg.append]).strip()
    return [cfg.qemu, "-accel", cfg.accel, "-cpu", cfg.cpu, "-m", str(cfg.memory_mb), "-smp", str(cfg.smp),
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot", "-nic", "none",
            "-kernel", vmlinuz, "-initrd", initrd, "-append", append,
            # ttyS0: console; ttyS1: the report, nothing else. Options escape "," as ",,".
            "-chardev", "file,id=console,path=" + console.replace(",", ",,"),
            "-chardev", "file,id=report,path=" + serial.replace(",", ",,"),
            "-serial", "chardev:console", "-serial", "chardev:report"]


def boot(cfg, children, pkg, tree, label=None):
    """Boots the unpacked package tree under qemu and returns the report it sends back."""
    label = label or pkg.abi
    if shutil.which(cfg.qemu) is None:
        raise Failure("%s not found (apt-get install qemu-system-x86)" % cfg.qemu)
    vmlinuz, moddir = kernel_files(tree, pkg.name)
    kver = os.path.basename(moddir)
    os.makedirs(cfg.logs, exist_ok=True)
    work = tempfile.mkdtemp(prefix="sockreuse-kernels-")
    try:
        initrd = os.path.join(work, "initrd.gz")
        known = cfg.known_for(kver)
        loaded = initramfs.build(cfg, moddir, "/dev/ttyS1", initrd, known)
        console = os.path.join(cfg.logs, "%s.console.log" % kver)
        serial = os.path.join(cfg.logs, "%s.report.serial" % kver)
        for p in (console, serial):
            if os.path.exists(p):
                os.unlink(p)
        log("%s: booting %s %s (%s, %d vCPU; modules: %s%s)" % (
            label, pkg.name, pkg.version, cfg.accel, cfg.smp, " ".join(loaded) or "none",
            "; known issues: " + cfg.show(known) if known else ""))
        qout = os.path.join(work, "qemu.out")
        with open(qout, "wb") as qf:
            done = run_timed(children, qemu_command(cfg, vmlinuz, initrd, console, serial), cfg.timeout, qf, qf)
        if done.timed_out:
            raise Failure("boot timeout after %g s; console tail:\n%s" % (cfg.timeout, tail(console)))
        qemu_said = read(qout).decode("utf-8", "replace").strip()
        if done.exit_code != 0 and (not os.path.exists(console) or not os.path.getsize(console)):
            raise Failure("qemu failed (exit %d): %s" % (done.exit_code, qemu_said or "no output"))
        data, err = None, None
        for src in (serial, console):
            try:
                data = channel.extract(read(src))
                break
            except (OSError, channel.FrameError) as e:
                err = err or e
        if data is None:
            raise Failure("report missing or corrupt (%s); console tail:\n%s" % (err, tail(console)))
        try:
            for line in read(console).decode("utf-8", "replace").splitlines():
                if "sockreuse-init:" in line and "insmod" in line:
                    log("%s: warning: %s" % (label, line.split("sockreuse-init:", 1)[1].strip()))
        except OSError:
            pass
        return data, {"wall": done.wall, "cpu": done.cpu}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def host(cfg, children):
    """Runs the suite on the running kernel."""
    os.makedirs(cfg.logs, exist_ok=True)
    fd, tmpjson = tempfile.mkstemp(prefix=".host-", suffix=".json", dir=cfg.out)
    os.close(fd)
    cmd = [cfg.runner, "run", "--cases", cfg.cases, "--json", tmpjson, "-j", str(cfg.guest_jobs),
           "--tap", os.path.join(cfg.logs, "host.tap")]
    known = cfg.known_for(os.uname().release)
    if known:
        cmd += ["--known", known]
    for f in cfg.filters:
        cmd += ["--filter", f]
    logfile = os.path.join(cfg.logs, "host.log")
    try:
        with open(logfile, "wb") as lg:
            done = run_timed(children, cmd, cfg.timeout, lg, lg)
        if done.timed_out:
            raise Failure("runner timeout after %g s; log tail:\n%s" % (cfg.timeout, tail(logfile)))
        data = read(tmpjson)
        if not data.strip():
            raise Failure("runner wrote no report; log tail:\n%s" % tail(logfile))
        return data, {"wall": done.wall, "cpu": done.cpu}
    finally:
        os.unlink(tmpjson)
