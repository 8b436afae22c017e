"""The timeline of a series of kernels: for each case whose outcome changes along a series
(6.1.0-47 ... 6.1.0-57, or 6.12.107 ... 6.12.117), between which two releases it changed,
and what the later package's Debian changelog says went in between: the upstream stable
ChangeLog it links and the networking entries it lists."""
import functools
import glob
import gzip
import json
import os
import re

from . import fetch


DEBIAN_RE = re.compile(r"Debian ([0-9][^ ]*)")
UPSTREAM_RE = re.compile(r"([0-9]+\.[0-9]+\.[0-9]+)")
ENTRY_RE = re.compile(r"^linux(?:-signed-amd64)? \(([^)]+)\) ", re.M)
# Changelog lines about the code the suite exercises.
NET_RE = re.compile(r"\b(tcp|udp|inet6?|ipv4|ipv6|sock|socket|bind|reuse(addr|port)?|so_reuse\w*|"
                    r"ephemeral|local_port\w*|port_range|time_?wait|inet_(hash|bind)\w*)\b", re.I)
URL_RE = re.compile(r"https?://\S+")
COMMIT_RE = re.compile(r"\bcommit ([0-9a-f]{12,40})\b")


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def identity(rep):
    """(upstream "6.1.192", Debian version "6.1.192-3" or "", series "6.1") of a report."""
    k = rep.get("kernel", {})
    deb = DEBIAN_RE.search(k.get("version", "") or "")
    up = k.get("upstream") or ""
    if not up:
        m = UPSTREAM_RE.search(deb.group(1)) if deb else UPSTREAM_RE.search(k.get("release", ""))
        up = m.group(1) if m else k.get("release", "")
    series = ".".join(up.split(".")[:2])
    return up, deb.group(1) if deb else "", series


def outcome(c):
    return "%s (%s)" % (c.get("observed") or "-", c.get("status", "?"))


def changelog_for(cache, release):
    """The Debian changelog of the unpacked package whose modules are lib/modules/<release>."""
    for tree in glob.glob(os.path.join(cache, "linux-image-*_amd64")):
        if os.path.isdir(os.path.join(tree, "lib", "modules", release)):
            return fetch.changelog(tree)
    return ""


def entries_between(changelog, older, newer):
    """The changelog lines of the versions after older, up to newer."""
    out = []
    parts = ENTRY_RE.split(changelog)
    # parts: [before, version, body, version, body, ...]
    # A backport's changelog also holds the entries of the upload it was built from
    # (6.12.107-1 under 6.12.107-1~deb12u1): compare without the ~ suffix.
    older, newer = older.split("~")[0], newer.split("~")[0]
    for i in range(1, len(parts) - 1, 2):
        ver, body = parts[i], parts[i + 1]
        v = ver.split("~")[0]
        if fetch.version_compare(v, newer) <= 0 and (not older or fetch.version_compare(v, older) > 0):
            out.append((ver, body))
    return out


def notes(changelog, older, newer, limit=12):
    """Links (stable ChangeLogs, commits) and networking lines between two Debian versions."""
    links, lines = [], []
    for ver, body in entries_between(changelog, older, newer):
        for url in URL_RE.findall(body):
            if url not in links:
                links.append(url)
        for sha in COMMIT_RE.findall(body):
            url = "https://git.kernel.org/linus/%s" % sha
            if url not in links:
                links.append(url)
        for line in body.splitlines():
            s = line.strip().lstrip("-* ").strip()
            if s and not URL_RE.search(s) and NET_RE.search(s) and len(lines) < limit:
                lines.append("%s: %s" % (ver, s))
    return sorted(links, key=version_key), lines


def undetermined(c):
    """A passing case that asserts no single outcome (expect any): its changes are noise."""
    return c.get("expected") == "any" and c.get("status") == "pass"


def version_key(url):
    return [int(n) for n in re.findall(r"[0-9]+", url)]


def transitions(reports):
    """{series: [(case id, older label, older outcome, newer label, newer outcome, older rep,
    newer rep)]} for consecutive releases of each series."""
    by_series = {}
    for r in reports:
        by_series.setdefault(identity(r)[2], []).append(r)
    out = {}
    for series, reps in sorted(by_series.items(), key=lambda kv: [int(x) for x in kv[0].split(".") if x.isdigit()]):
        reps.sort(key=functools.cmp_to_key(lambda a, b: fetch.version_compare(identity(a)[0], identity(b)[0])
                                           or fetch.version_compare(identity(a)[1], identity(b)[1])))
        if len(reps) < 2:
            continue
        cases = [{c["id"]: c for c in r.get("cases", [])} for r in reps]
        found = []
        for i in range(1, len(reps)):
            for cid, c in cases[i].items():
                prev = cases[i - 1].get(cid)
                if prev and undetermined(prev) and undetermined(c):
                    continue   # "expect any": the kernel is allowed to differ from run to run
                if prev and (prev.get("observed"), prev.get("status")) != (c.get("observed"), c.get("status")):
                    found.append((cid, reps[i - 1], outcome(prev), reps[i], outcome(c)))
        out[series] = (reps, found)
    return out


def render(reports, cache):
    lines = ["# sockreuse: outcome timeline", "",
             "For each series, the cases whose observed outcome or status changes from one "
             "release to the next, and what the later package's Debian changelog lists in "
             "between (its upstream stable ChangeLog links and its networking entries).", ""]
    series = transitions(reports)
    if not series:
        lines.append("No series with two or more releases.")
    for name, (reps, found) in series.items():
        rel = [r["kernel"]["release"] for r in reps]
        lines += ["## %s: %s" % (name, " → ".join("%s (%s)" % (r, identity(x)[0]) for r, x in zip(rel, reps))), ""]
        if not found:
            lines += ["No case changes along this series.", ""]
            continue
        pairs = {}
        for cid, a, oa, b, ob in found:
            pairs.setdefault((a["kernel"]["release"], b["kernel"]["release"]), (a, b, []))[2].append((cid, oa, ob))
        for (ra, rb), (a, b, rows) in pairs.items():
            lines += ["### between %s (%s) and %s (%s): %d case%s" % (
                ra, identity(a)[0], rb, identity(b)[0], len(rows), "" if len(rows) == 1 else "s"), ""]
            for cid, oa, ob in rows:
                lines.append("- `%s`: %s → %s" % (cid, oa, ob))
            links, notes_ = notes(changelog_for(cache, rb), identity(a)[1], identity(b)[1])
            if links or notes_:
                lines += ["", "Changelog of %s since %s:" % (identity(b)[1] or rb, identity(a)[1] or ra)]
                lines += ["- <%s>" % u for u in links]
                lines += ["- %s" % n for n in notes_]
            lines.append("")
    return "\n".join(lines) + "\n"


def write(cfg, paths, dest):
    from .report import write_atomic
    reports = [load(p) for p in paths]
    write_atomic(dest, render(reports, cfg.cache).encode())
    return dest


def main(argv):
    """python3 -m harness.timeline REPORT... : prints the timeline of the given reports."""
    from .config import Config
    cfg = Config.from_env()
    print(render([load(p) for p in argv], cfg.cache), end="")
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))
