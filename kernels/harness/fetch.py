"""Debian kernel packages: which ones the archive serves (python3-apt), download, unpack.

A package is linux-image-<abi>-cloud-amd64-unsigned, e.g. linux-image-6.1.0-57-cloud-amd64-unsigned
at version 6.1.192-3: the ABI name hides the upstream version, the package version holds it."""
import dataclasses
import functools
import glob
import os
import re
import shutil
import tempfile

import apt_pkg

from . import Failure
from .config import log, run

apt_pkg.init()

NAME_RE = re.compile(r"^linux-image-([0-9][^ ]*)-cloud-amd64-unsigned$")


@dataclasses.dataclass(frozen=True)
class Package:
    name: str
    version: str        # the Debian package version, "6.1.192-3"
    deb: str = ""       # path of the .deb in the cache, "" until downloaded

    @property
    def abi(self):
        """"6.1.0-57", "6.12.117+deb12": what uname -r starts with."""
        return NAME_RE.match(self.name).group(1)

    @property
    def upstream(self):
        """The upstream three-part version: "6.1.192" of "6.1.192-3", "6.12.117" of "6.12.117-1~deb12u1"."""
        return upstream_of(self.version)

    @property
    def flavour(self):
        """"6.1", "6.12": the series."""
        return ".".join(self.upstream.split(".")[:2])


def upstream_of(debian_version):
    v = debian_version.split(":", 1)[-1]
    return v.rsplit("-", 1)[0] if "-" in v else v


def version_compare(a, b):
    """dpkg's order of two versions: negative, 0 or positive (apt_pkg)."""
    return apt_pkg.version_compare(a, b)


def newest(pkgs):
    return max(pkgs, key=functools.cmp_to_key(lambda a, b: version_compare(a.version, b.version)))


def in_version_order(pkgs):
    return sorted(pkgs, key=functools.cmp_to_key(
        lambda a, b: version_compare(a.upstream, b.upstream) or version_compare(a.version, b.version)))


def from_apt():
    """Every linux-image-*-cloud-amd64-unsigned apt has a candidate for, as [Package]."""
    import apt   # the cache is opened only when asked: it reads every list
    cache = apt.Cache()
    out = []
    for name in cache.keys():
        if NAME_RE.match(name):
            cand = cache[name].candidate
            if cand is not None:
                out.append(Package(name, cand.version))
    return out


def from_cache(cfg):
    """Packages whose .deb is already in the cache (what an offline machine can still run)."""
    out = []
    for path in glob.glob(os.path.join(cfg.cache, "linux-image-*-cloud-amd64-unsigned_*_amd64.deb")):
        name, ver, _ = os.path.basename(path)[:-4].split("_")
        if NAME_RE.match(name):
            out.append(Package(name, ver.replace("%3a", ":"), path))
    return out


def available(cfg):
    """What can be run: apt's candidates, else (offline, or apt lists empty) the cached ones.
    Runs apt-get update once when apt lists no kernel at all and we are root."""
    pkgs = from_apt()
    if not pkgs and cfg.apt_update and os.geteuid() == 0 and shutil.which("apt-get"):
        log("apt lists no %s; running apt-get update" % "linux-image-*-cloud-amd64-unsigned")
        run(["apt-get", "update", "-qq"])
        pkgs = from_apt()
    cached = {(p.name, p.version): p for p in from_cache(cfg)}
    if not pkgs:
        return in_version_order(cached.values())
    return in_version_order(cached.get((p.name, p.version), p) for p in pkgs)


def parse_range(spec):
    """"6.1.170..6.1.192" -> ("6.1.170", "6.1.192"); either end may be empty (open)."""
    lo, _, hi = spec.partition("..")
    for v in (lo, hi):
        if v and not re.match(r"^[0-9]+(\.[0-9]+)*$", v):
            raise ValueError("bad version %r in range %r" % (v, spec))
    return lo, hi


def select(pkgs, spec):
    """The packages a KERNEL argument names, oldest first:
       6.1 / 6.12      the newest package of that series
       6.1.0-57        the package of that ABI name (also 6.12.117+deb12)
       6.1.192         the packages of that upstream version
       A..B            every package whose upstream version is within A and B (inclusive)"""
    if ".." in spec:
        lo, hi = parse_range(spec)
        return [p for p in pkgs
                if (not lo or version_compare(p.upstream, lo) >= 0) and
                (not hi or version_compare(p.upstream, hi) <= 0)]
    if re.match(r"^[0-9]+\.[0-9]+$", spec):
        series = [p for p in pkgs if p.flavour == spec]
        return [newest(series)] if series else []
    by_abi = [p for p in pkgs if p.abi == spec]
    if by_abi:
        return by_abi
    return [p for p in pkgs if p.upstream == spec]


def download(cfg, pkg):
    """pkg with its .deb in the cache, downloading it unless it is there."""
    if pkg.deb and os.path.isfile(pkg.deb):
        return pkg
    for c in from_cache(cfg):
        if (c.name, c.version) == (pkg.name, pkg.version):
            return c
    os.makedirs(cfg.cache, exist_ok=True)
    log("%s: downloading %s %s" % (pkg.abi, pkg.name, pkg.version))
    # Into a private folder first, so that a concurrent run never sees half a file.
    tmp = tempfile.mkdtemp(prefix=".download-", dir=cfg.cache)
    try:
        r = run(["apt-get", "download", "-q", "%s=%s" % (pkg.name, pkg.version)], cwd=tmp)
        for f in glob.glob(os.path.join(tmp, "*.deb")):
            os.replace(f, os.path.join(cfg.cache, os.path.basename(f)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for c in from_cache(cfg):
        if (c.name, c.version) == (pkg.name, pkg.version):
            return c
    msg = (r.stderr.strip().splitlines() or ["no .deb appeared in the cache"])[-1]
    raise Failure("apt-get download %s=%s failed: %s" % (pkg.name, pkg.version, msg))


def unpack(cfg, deb):
    """Directory holding the unpacked package (cached next to the .deb)."""
    dest = deb[:-4]
    if os.path.isdir(dest):
        return dest
    tmp = tempfile.mkdtemp(prefix=".unpack-", dir=cfg.cache)
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


def changelog(tree):
    """The package's Debian changelog (usr/share/doc/linux-image-*/changelog.Debian.gz) as text,
    or "" when the package has none."""
    import gzip
    for path in glob.glob(os.path.join(tree, "usr", "share", "doc", "linux-image-*", "changelog.Debian.gz")):
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            return f.read()
    return ""
