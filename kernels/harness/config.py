"""Config: everything a run depends on, built once from the command line and the environment
and passed down. Nothing below cli.py reads os.environ."""
import dataclasses
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # kernels/
ROOT = os.path.dirname(HERE)

# The guest's kernel arguments: mitigations change nothing the suite measures and cost a
# third of the run time under TCG; oops=panic and panic=-1 end a broken boot at once.
KERNEL_ARGS = "console=ttyS0 quiet panic=-1 oops=panic mitigations=off"


@dataclasses.dataclass
class Config:
    root: str = ROOT
    runner: str = os.path.join(ROOT, "sockreuse")
    cases: str = os.path.join(ROOT, "cases")
    cache: str = os.path.join(HERE, "cache")
    out: str = os.path.join(ROOT, "reports", "out", "kernels")
    baselines: str = os.path.join(ROOT, "reports", "baselines")
    filters: list = dataclasses.field(default_factory=list)
    known: str = ""                 # known-issues file given to every run ("" for none)
    known_dir: str = os.path.join(ROOT, "known")   # else known/<kernel release>.txt, when there is one
    timeout: float = 1800.0         # one kernel, boot included (TCG on a loaded machine is slow)
    qemu: str = "qemu-system-x86_64"
    accel: str = "tcg"              # kvm only where it is proven to work
    cpu: str = "max"
    smp: int = 2
    memory_mb: int = 1024
    append: str = ""
    guest_jobs: int = 2
    busybox: tuple = ("/bin/busybox", "/usr/bin/busybox")
    apt_update: bool = True         # run apt-get update once when apt lists nothing (root only)

    def known_for(self, release):
        """The known-issues file for a kernel release: --known, else known/<release>.txt."""
        if self.known:
            return self.known
        path = os.path.join(self.known_dir, release + ".txt")
        return path if os.path.isfile(path) else ""

    @property
    def logs(self):
        return os.path.join(self.out, "log")

    def show(self, path):
        """path relative to the project when inside it."""
        rel = os.path.relpath(path, self.root)
        return path if rel.startswith("..") else rel

    @classmethod
    def from_env(cls, env=None, **kw):
        """The defaults, overridden by SOCKREUSE_* variables (for tests and measurements)."""
        env = os.environ if env is None else env
        c = cls(**kw)
        if env.get("SOCKREUSE_RUNNER"):
            c.runner = os.path.abspath(env["SOCKREUSE_RUNNER"])
        if env.get("SOCKREUSE_CASES"):
            c.cases = os.path.abspath(env["SOCKREUSE_CASES"])
        c.qemu = env.get("SOCKREUSE_QEMU") or c.qemu
        c.accel = env.get("SOCKREUSE_QEMU_ACCEL") or c.accel
        c.cpu = env.get("SOCKREUSE_QEMU_CPU") or c.cpu
        c.smp = int(env.get("SOCKREUSE_QEMU_SMP") or c.smp)
        c.guest_jobs = int(env.get("SOCKREUSE_GUEST_JOBS") or c.guest_jobs)
        c.append = env.get("SOCKREUSE_QEMU_APPEND") or c.append
        return c


def log(msg):
    print(msg, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def warn(msg):
    print(msg, file=sys.stderr, flush=True)
