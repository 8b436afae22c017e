"""kernels/run: the suite on the host kernel and on Debian kernels under qemu.

    kernels/run [--all] [--baselines] [--filter GLOB]... [--known FILE] [--jobs N]
                [--timeout SEC] [--fresh] [--no-compare] [--out DIR] [KERNEL...]

KERNEL is one of
    host              the running kernel
    6.1, 6.12         the newest linux-image-<abi>-cloud-amd64-unsigned of that series
    6.1.0-57          the package of that ABI name (also 6.12.117+deb12)
    6.1.192           the package(s) of that upstream version
    A..B              every package whose upstream version is within A and B, e.g.
                      6.1.170..6.1.192 or 6.12.. (either end may be left open)
--all is every linux-image-*-cloud-amd64-unsigned the apt sources serve, plus host.
Default: host 6.1 6.12.

Kernels run side by side, --jobs at a time (default: the number of cores; each guest gets
cores/jobs vCPUs). Packages are downloaded with apt-get download into kernels/cache/, kept
and reused. Each report lands in <out>/<kernel release>.json (default reports/out/kernels);
--baselines also writes the compact reports/baselines/<release>.json.gz. Then
`sockreuse compare` writes <out>.md and <out>.html and the timeline <out>-timeline.md.

An interrupted run resumes: the kernels whose report this same runner, cases, filters and
known-issues file already produced are not run again (--fresh runs everything). A complete
run leaves nothing to resume.

A failure prints one line naming the kernel and what failed (a console tail follows when
there is one); the other kernels still run and the exit status is 1. A failed compare is a
failure too. Exit 2: bad usage or the runner is not built. Case failures are not harness
failures: they are in the reports.

The guest: qemu -accel tcg -cpu max -m 1024 -nic none, kernel arguments
"console=ttyS0 quiet panic=-1 oops=panic mitigations=off", the runner with -j 2. The report
travels on ttyS1, where no kernel message can land (harness/channel.py).

Environment (for tests and measurements): SOCKREUSE_RUNNER, SOCKREUSE_CASES,
SOCKREUSE_QEMU, SOCKREUSE_QEMU_ACCEL (default tcg), SOCKREUSE_QEMU_CPU (default max),
SOCKREUSE_QEMU_SMP (default cores/jobs), SOCKREUSE_GUEST_JOBS (default 2),
SOCKREUSE_QEMU_APPEND.
"""
import argparse
import concurrent.futures
import dataclasses
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import sys
import time

from . import Failure, fetch, qemu, report, timeline
from .config import Config, log, warn

DEFAULT_KERNELS = ["host", "6.1", "6.12"]
KERNEL_RE = re.compile(r"^(host|[0-9]+\.[0-9]+(\.[0-9]+)?(-[0-9]+)?(\+[a-z0-9]+)?|[0-9.]*\.\.[0-9.]*)$")


def cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def release_key(name):
    """Sort key putting kernel releases in version order: 6.1 < 6.12 < 6.18."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"([0-9]+)", name) if t]


@dataclasses.dataclass
class Job:
    label: str                   # what messages call it: host, 6.1.0-57, ...
    pkg: fetch.Package = None    # None for the host


def plan(cfg, specs, everything):
    """The jobs for the KERNEL arguments, host first, then packages oldest first."""
    specs = list(specs)
    if everything:
        specs = ["host", ".."] + specs
    want_pkgs = [s for s in specs if s != "host"]
    pkgs = fetch.available(cfg) if want_pkgs else []
    jobs, seen = [], set()
    if "host" in specs:
        jobs.append(Job("host"))
    chosen = []
    for s in want_pkgs:
        found = fetch.select(pkgs, s)
        if not found:
            raise Failure("no package linux-image-%s*-cloud-amd64-unsigned in the apt sources or the cache for %r"
                          % (s.split("..")[0], s))
        for p in found:
            if (p.name, p.version) not in seen:
                seen.add((p.name, p.version))
                chosen.append(p)
    jobs += [Job(p.abi, p) for p in fetch.in_version_order(chosen)]
    return jobs


def fingerprint(cfg):
    """What decides a report apart from the kernel: the runner, the cases, the filters and
    the known-issues file. A resumed run reuses only reports of the same fingerprint."""
    h = hashlib.sha256()
    paths = [cfg.runner] + sorted(glob.glob(os.path.join(cfg.cases, "**"), recursive=True))
    paths += [cfg.known] if cfg.known else sorted(glob.glob(os.path.join(cfg.known_dir, "*.txt")))
    for p in paths:
        if os.path.isfile(p):
            h.update(p.encode() + b"\0")
            with open(p, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    h.update(json.dumps([cfg.filters, cfg.guest_jobs]).encode())
    return h.hexdigest()[:16]


class Progress:
    """<out>/.progress/<fingerprint>/<label>: the report each finished kernel produced."""

    def __init__(self, cfg, fresh):
        self.root = os.path.join(cfg.out, ".progress")
        self.dir = os.path.join(self.root, fingerprint(cfg))
        if fresh:
            shutil.rmtree(self.root, ignore_errors=True)
        for old in glob.glob(os.path.join(self.root, "*")):
            if old != self.dir:
                shutil.rmtree(old, ignore_errors=True)
        os.makedirs(self.dir, exist_ok=True)

    def done(self, label):
        """The report path label produced earlier, or None."""
        try:
            with open(os.path.join(self.dir, label)) as f:
                path = f.read().strip()
        except OSError:
            return None
        return path if os.path.isfile(path) else None

    def mark(self, label, path):
        report.write_atomic(os.path.join(self.dir, label), path.encode() + b"\n")

    def finish(self):
        shutil.rmtree(self.root, ignore_errors=True)


def run_job(cfg, children, job, baselines):
    """Runs one kernel; returns the stored report's path. Raises Failure."""
    if children.stopping:
        raise Failure("interrupted")
    if job.pkg is None:
        data, timing = qemu.host(cfg, children)
    else:
        pkg = fetch.download(cfg, job.pkg)
        tree = fetch.unpack(cfg, pkg.deb)
        data, timing = qemu.boot(cfg, children, pkg, tree, job.label)
    path, rep = report.store(cfg, data)
    note = ""
    if baselines:
        _, written = report.write_baseline(cfg, rep)
        note = "; baseline %s" % ("written" if written else "unchanged")
    suite = rep.get("duration_s")
    log("%s: %s: %s in %.1f s (suite %s s, cpu %.1f s) -> %s%s" % (
        job.label, rep["kernel"]["release"], report.summary_line(rep), timing["wall"],
        "%.1f" % suite if isinstance(suite, (int, float)) else "?", timing["cpu"], cfg.show(path), note))
    return path


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="kernels/run", description=__doc__.split("\n\n")[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--all", action="store_true",
                    help="every linux-image-*-cloud-amd64-unsigned apt serves, plus host")
    ap.add_argument("--baselines", action="store_true",
                    help="also write reports/baselines/<release>.json.gz (compact, compressed)")
    ap.add_argument("--filter", action="append", default=[], metavar="GLOB",
                    help="run only the cases matching GLOB (repeatable; passed to the runner)")
    ap.add_argument("--known", metavar="FILE", default="",
                    help="known-issues file for every kernel (sockreuse run --known); "
                         "default: known/<kernel release>.txt where there is one")
    ap.add_argument("--jobs", "-j", type=int, default=0, metavar="N",
                    help="kernels at once (default: the number of cores)")
    ap.add_argument("--timeout", type=float, default=1800.0, metavar="SEC",
                    help="deadline for one kernel, boot included (default 1800: a guest runs the "
                         "suite in about 60 s under TCG on an idle 2-core machine and has taken "
                         "150 s on a loaded one; the rest is headroom)")
    ap.add_argument("--fresh", action="store_true", help="do not resume an interrupted run")
    ap.add_argument("--no-compare", action="store_true", help="do not write the comparison")
    ap.add_argument("--out", metavar="DIR", default=None,
                    help="where reports go (default reports/out/kernels; the matrix goes beside DIR)")
    ap.add_argument("kernels", nargs="*", metavar="KERNEL",
                    help="host, 6.1, 6.1.0-57, 6.1.192, 6.1.170..6.1.192 (default: host 6.1 6.12)")
    args = ap.parse_args(argv)
    for k in args.kernels:
        if not KERNEL_RE.match(k):
            ap.error("bad KERNEL %r: give host, a series like 6.1, an ABI like 6.1.0-57, "
                     "a version like 6.1.192 or a range like 6.1.170..6.1.192" % k)
        if ".." in k:
            try:
                fetch.parse_range(k)
            except ValueError as e:
                ap.error(str(e))
    if args.jobs < 0 or not (0 < args.timeout < 1e6):
        ap.error("--jobs must be >= 1 and --timeout within (0, 1e6) seconds")
    if args.known and not os.path.isfile(args.known):
        ap.error("--known %s: no such file" % args.known)
    return args


def main(argv, env=None):
    args = parse_args(argv)
    env = os.environ if env is None else env
    cfg = Config.from_env(env, filters=args.filter, timeout=args.timeout,
                          known=os.path.abspath(args.known) if args.known else "")
    if args.out:
        cfg.out = os.path.abspath(args.out)
    if not (os.path.isfile(cfg.runner) and os.access(cfg.runner, os.X_OK)):
        warn("sockreuse not built (make sockreuse)")
        return 2
    try:
        jobs = plan(cfg, args.kernels or ([] if args.all else DEFAULT_KERNELS), args.all)
    except Failure as e:
        warn("kernels/run: %s" % e)
        return 1
    width = args.jobs or cores()
    width = max(1, min(width, len(jobs)))
    if not env.get("SOCKREUSE_QEMU_SMP"):
        cfg.smp = max(1, cores() // width)
    os.makedirs(cfg.out, exist_ok=True)
    progress = Progress(cfg, args.fresh)
    failed, reports = False, []
    t_all = time.monotonic()
    todo = []
    for j in jobs:
        path = progress.done(j.label)
        if path:
            log("%s: done in an earlier, interrupted run: %s" % (j.label, cfg.show(path)))
            reports.append(path)
        else:
            todo.append(j)
    log("kernels: %d to run, %d at once: %s" % (len(todo), width, " ".join(j.label for j in todo) or "none"))
    children = qemu.Children()
    futures = {}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=width)
    try:
        def one(j):
            path = run_job(cfg, children, j, args.baselines)
            progress.mark(j.label, path)   # here, not in the main thread: an interrupt may come first
            return path

        futures = {pool.submit(one, j): j for j in todo}
        for fut in concurrent.futures.as_completed(futures):
            j = futures[fut]
            try:
                path = fut.result()
            except Failure as e:
                warn("%s: %s" % (j.label, e))
                failed = True
                continue
            if path not in reports:
                reports.append(path)
    except BaseException:
        # Interrupted: stop what runs (the children die with their threads' wait4), keep
        # what finished for the next run.
        for f in futures:
            f.cancel()
        children.kill_all()
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)
    if not failed:
        progress.finish()
    if reports and not args.no_compare:
        # Every report in the folder, so that a run of one kernel still compares with the
        # others' earlier reports (delete the folder to forget a kernel).
        every = sorted(glob.glob(os.path.join(cfg.out, "*.json")), key=lambda p: release_key(os.path.basename(p)))
        if len(every) < 2:
            log("compare: only one report in %s; no matrix written" % cfg.show(cfg.out))
        else:
            base = cfg.out.rstrip("/")
            if not report.compare(cfg, every, base + ".md", base + ".html"):
                failed = True
            tl = timeline.write(cfg, every, base + "-timeline.md")
            log("timeline: %s" % cfg.show(tl))
    log("kernels: %d of %d reports in %.1f s" % (len(reports), len(jobs), time.monotonic() - t_all))
    return 1 if failed else 0


def _terminate(signum, _frame):
    raise KeyboardInterrupt


def entry():
    signal.signal(signal.SIGTERM, _terminate)
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        warn("kernels/run: interrupted; run it again to resume")
        sys.exit(130)
