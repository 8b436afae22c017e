"""The kernel modules the suite needs, with their dependencies read from each module's own
.modinfo (no depmod, no modprobe in the guest): veth for the two-host topology,
inet_diag/tcp_diag/udp_diag for sock_diag dumps (TIME_WAIT and request sockets have no fd).
A module built into the kernel needs nothing."""
import gzip
import lzma
import os
import re
import shutil
import struct
import subprocess

from . import Failure

REQUIRED = ("veth", "inet_diag", "tcp_diag", "udp_diag")
OPTIONAL = ("raw_diag",)


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


def resolve(moddir, required=REQUIRED, optional=OPTIONAL):
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
                              % (name, moddir))
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

    for m in required:
        visit(m, True, [])
    for m in optional:
        visit(m, False, [])
    return [(n, blobs[n]) for n in order], builtin

