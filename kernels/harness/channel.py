#!/usr/bin/python3
"""Framing of the JSON report that a guest sends back over a serial port.

The guest (busybox sh, see GUEST_SNIPPET) writes:

    SOCKREUSE-REPORT-BEGIN <byte count of the JSON> <sha256 of the JSON>
    <base64 of gzip(JSON), in lines>
    SOCKREUSE-REPORT-END

The harness gives the report a serial port of its own (ttyS1), where nothing else writes,
but the extractor does not rely on that: it also finds a frame in a console log where
kernel messages were printed between the lines. Inside a frame only lines made of base64
characters are kept (a kernel message always has a space or a bracket); whatever was
dropped or damaged shows up as a bad gzip stream, a wrong length or a wrong checksum,
and the frame is rejected. When a log holds several frames, the last good one wins.

Usage: frame.py extract LOG [LOG...] [-o OUT]   (exit 0, or 1 with a message)
       frame.py encode JSON                     (prints the frame; for tests)
"""
import base64
import binascii
import gzip
import hashlib
import re
import sys
import zlib

BEGIN = "SOCKREUSE-REPORT-BEGIN"
END = "SOCKREUSE-REPORT-END"

_B64_LINE = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_BEGIN_RE = re.compile(BEGIN + r" ([0-9]+) ([0-9a-f]{64})")

# What the guest's init runs; $1 is the JSON file. Closing the tty waits until the UART
# has sent everything, so poweroff afterwards does not cut the frame.
GUEST_SNIPPET = r'''frame_report() {
	n=$(wc -c < "$1")
	s=$(sha256sum "$1" | cut -d' ' -f1)
	echo
	echo "SOCKREUSE-REPORT-BEGIN $n $s"
	gzip -9 -c "$1" | base64
	echo "SOCKREUSE-REPORT-END"
}'''


class FrameError(Exception):
    pass


def encode(data: bytes, width: int = 76) -> str:
    """The frame for data, as the guest writes it (used by tests)."""
    b64 = base64.b64encode(gzip.compress(data, mtime=0)).decode()
    lines = [b64[i:i + width] for i in range(0, len(b64), width)]
    head = "%s %d %s" % (BEGIN, len(data), hashlib.sha256(data).hexdigest())
    return "\n".join([head] + lines + [END]) + "\n"


def _frames(text: str):
    """Yields (length, sha256, [base64 lines]) for every BEGIN ... END in text."""
    cur = None
    for raw in text.splitlines():
        line = raw.strip().strip("\x00")
        m = _BEGIN_RE.search(line)
        if m:
            cur = (int(m.group(1)), m.group(2), [])
            continue
        if cur is None:
            continue
        if END in line:
            yield cur
            cur = None
            continue
        if _B64_LINE.match(line):
            cur[2].append(line)
    if cur is not None:
        yield cur + ("unterminated",)


def _decode(frame) -> bytes:
    if len(frame) == 4:
        raise FrameError("frame has no %s line (output cut short)" % END)
    length, digest, lines = frame
    try:
        packed = base64.b64decode("".join(lines), validate=True)
    except (binascii.Error, ValueError) as e:
        raise FrameError("bad base64 in frame: %s" % e)
    try:
        data = gzip.decompress(packed)
    except (OSError, EOFError, zlib.error) as e:
        raise FrameError("bad gzip stream in frame: %s" % e)
    if len(data) != length:
        raise FrameError("frame length %d, header says %d" % (len(data), length))
    if hashlib.sha256(data).hexdigest() != digest:
        raise FrameError("frame checksum mismatch")
    return data


def extract(text: str) -> bytes:
    """The report carried by the last intact frame in text; FrameError when none is."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    last_err = None
    found = None
    for fr in _frames(text):
        try:
            found = _decode(fr)
        except FrameError as e:
            last_err = e
    if found is not None:
        return found
    if last_err is not None:
        raise last_err
    raise FrameError("no %s line" % BEGIN)


def main(argv):
    if len(argv) >= 2 and argv[0] == "encode":
        with open(argv[1], "rb") as f:
            sys.stdout.write(encode(f.read()))
        return 0
    if len(argv) >= 2 and argv[0] == "extract":
        args, out = argv[1:], None
        if "-o" in args:
            i = args.index("-o")
            out = args[i + 1]
            args = args[:i] + args[i + 2:]
        errs = []
        for path in args:
            try:
                with open(path, "rb") as f:
                    data = extract(f.read())
            except (OSError, FrameError) as e:
                errs.append("%s: %s" % (path, e))
                continue
            if out:
                with open(out, "wb") as f:
                    f.write(data)
            else:
                sys.stdout.buffer.write(data)
            return 0
        for e in errs:
            print("frame: " + e, file=sys.stderr)
        return 1
    print(__doc__.split("Usage:")[1].strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
