"""What happens to a report once it is back: stored under its kernel release, made into a
compact compressed baseline, compared (sockreuse compare), and read into a timeline."""
import glob
import gzip
import json
import os
import re
import tempfile

from . import Failure
from .config import log, run

# What a baseline keeps of a case: what compare and the docs need. Titles, rationales and
# references live in the case files.
CASE_KEYS = ("id", "observed", "status", "facts")
# Facts that record a choice the kernel makes at random (the ephemeral port connect() picks,
# the first and last port of a port walk) or a wall-clock time: they differ from one run to
# the next on the same kernel, so a baseline that kept them would change at every
# regeneration and say nothing the outcome does not.
VOLATILE_FACTS = re.compile(r"(^|\.)(remote_port|first_port|last_port|waited_ms|age_ms)$")
RUN_KEYS = ("format", "tool", "kernel", "hostname", "started", "duration_s", "interrupted",
            "properties", "summary")


def parse(data):
    try:
        rep = json.loads(data)
        release = rep["kernel"]["release"]
    except (ValueError, KeyError, TypeError) as e:
        raise Failure("report is not the expected JSON (%s)" % e)
    if not isinstance(release, str) or not re.match(r"^[A-Za-z0-9._+-]+$", release):
        raise Failure("odd kernel release in report: %r" % (release,))
    return rep


def write_atomic(path, data, mode=0o644):
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def store(cfg, data):
    """Writes the report to <out>/<release>.json; returns (path, parsed report)."""
    rep = parse(data)
    path = os.path.join(cfg.out, rep["kernel"]["release"] + ".json")
    write_atomic(path, data)
    return path, rep


def compact_case(c):
    """id, observed, status and the facts that do not vary per run (none: no facts key)."""
    kept = {k: c[k] for k in CASE_KEYS if k in c}
    facts = {k: v for k, v in (kept.pop("facts", None) or {}).items() if not VOLATILE_FACTS.search(k)}
    if facts:
        kept["facts"] = facts
    return kept


def compact(rep):
    """The baseline form of a report: the run's identity, and per case only id, observed,
    status and facts (see compact_case), one case per line so that a diff of two
    uncompressed baselines reads case by case."""
    head = {k: rep[k] for k in RUN_KEYS if k in rep}
    lines = [json.dumps(compact_case(c), ensure_ascii=False, separators=(",", ":"))
             for c in rep.get("cases", [])]
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    text += ',"cases":[\n' + ",\n".join(lines) + "\n]}\n"
    return text.encode()


def outcomes(rep):
    """What compare tells apart: the kernel, and per case id, observed and status. Facts
    are left out: some of them (how many ports a random port walk took before it failed)
    differ between two runs of one kernel, and compare does not count them as a change."""
    return rep.get("kernel"), [(c.get("id"), c.get("observed", ""), c.get("status")) for c in rep.get("cases", [])]


def read_baseline(path):
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError, EOFError):
        return None


def same_build(cfg, rep):
    """The path of an existing baseline of this very kernel build, named after another
    release: the host's kernel is one build, but each machine of a kind names its release
    with a suffix of its own (6.18.44-fc-v669, 6.18.44-fc-v1098). None when there is none."""
    kernel = rep.get("kernel", {})
    key = (kernel.get("upstream"), kernel.get("version"))
    if not all(key):
        return None
    for path in sorted(glob.glob(os.path.join(cfg.baselines, "*.json.gz"))):
        other = read_baseline(path)
        if other and (other.get("kernel", {}).get("upstream"), other.get("kernel", {}).get("version")) == key:
            return path
    return None


def write_baseline(cfg, rep):
    """reports/baselines/<release>.json.gz (gzip, no timestamp: the same report gives the same
    bytes); an uncompressed baseline of the same release is removed. A baseline that already
    records the same outcomes (outcomes()), under this release or as the same build under
    another (same_build()), is left as it is, so that regenerating the baselines changes only
    the files of kernels whose behaviour, or whose cases, changed. One that differs replaces
    it. Returns (path, whether it was written)."""
    os.makedirs(cfg.baselines, exist_ok=True)
    base = os.path.join(cfg.baselines, rep["kernel"]["release"] + ".json")
    path = base + ".gz" if os.path.exists(base + ".gz") else same_build(cfg, rep) or base + ".gz"
    old = read_baseline(path)
    same_name = path == base + ".gz"
    unchanged = old is not None and outcomes(old)[1] == outcomes(rep)[1] and (
        not same_name or old.get("kernel") == rep.get("kernel"))
    if os.path.exists(base):
        os.unlink(base)
    if unchanged:
        return path, False
    write_atomic(base + ".gz", gzip.compress(compact(rep), compresslevel=9, mtime=0))
    if not same_name and os.path.exists(path):
        os.unlink(path)   # the same build's older name
    return base + ".gz", True


def summary_line(rep):
    s = rep.get("summary", {})
    line = "%s passed, %s failed, %s skipped, %s errors" % (
        s.get("pass", "?"), s.get("fail", "?"), s.get("skip", "?"), s.get("error", "?"))
    for extra in ("xfail", "xpass"):
        if s.get(extra):
            line += ", %s %s" % (s[extra], extra)
    return line


def compare(cfg, reports, md, html):
    """sockreuse compare of the reports into md and html. Exit 0 (nothing changed) and 1
    (something did) are results; anything else, or no file written, is a failure: a broken
    compare must fail the run, never pass as "no matrix"."""
    ok = True
    for fmt, dest in (("md", md), ("html", html)):
        r = run([cfg.runner, "compare", "--all"] + reports + ["--format", fmt, "--output", dest])
        if r.returncode in (0, 1) and os.path.isfile(dest):
            log("compare: %s" % cfg.show(dest))
            continue
        msg = (r.stderr.strip() or r.stdout.strip() or "no output").splitlines()[0]
        log("compare --format %s failed (exit %d): %s" % (fmt, r.returncode, msg))
        ok = False
    return ok
