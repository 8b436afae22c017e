"""The compare page in a real browser: headless Chromium (Debian's chromium) renders it at
1400 px and at phone width, and the changed cases come first.

The screenshots land in $SOCKREUSE_SHOTS when set (to look at them), else in the test's
temporary folder. Fails when chromium is missing, unless SOCKREUSE_SKIP_BROWSER=1."""
import os
import shutil
import struct
import subprocess
import zlib

import pytest

from reportgen import binary_path, case, report, write

BIN = binary_path()
REGRESSION = (0xf4, 0xb4, 0xab)   # .chg-regression in compare_html.c
BEHAVIOUR = (0xfb, 0xe0, 0x9a)    # .chg-behaviour


def chromium():
    if os.environ.get("SOCKREUSE_SKIP_BROWSER") == "1":
        pytest.skip("SOCKREUSE_SKIP_BROWSER=1")
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium not found (apt-get install chromium, or set SOCKREUSE_SKIP_BROWSER=1)"
    return exe


def png_pixels(data):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, hdr
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, rows = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def first_row_with(rows, colour):
    for y, row in enumerate(rows):
        if colour in row:
            return y
    return None


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A comparison of three kernels: 300 unchanged cases in two families, and, among them,
    a regression and a behaviour change near the end of the id order."""
    tmp = tmp_path_factory.mktemp("browser")
    runs = []
    for k, rel in enumerate(["6.1.0-47-cloud-amd64", "6.1.0-57-cloud-amd64", "6.12.117+deb12-cloud-amd64"]):
        cases = [case("0%d01/family=inet/state=TIME_WAIT/old_reuseaddr=%d/new_reuseaddr=1/addr=same/n=%d"
                      % (1 + n % 2, n % 2, n), group=("bind", "connect")[n % 2]) for n in range(300)]
        cases.append(case("0901/family=inet6/state=LISTEN/op=bind", observed="ok" if k < 2 else "EADDRINUSE",
                          expected="ok", status="pass" if k < 2 else "fail"))
        cases.append(case("0902/family=inet/sock_range=40000-40004", observed=("EADDRNOTAVAIL", "ok")[k > 0]))
        runs.append(write(tmp / ("r%d.json" % k), report(rel, cases, version="#1 SMP Debian %s" %
                                                         ("6.1.170-3", "6.1.192-3", "6.12.117-1")[k])))
    html = tmp / "compare.html"
    r = subprocess.run([str(BIN), "compare", *map(str, reversed(runs)), "--format", "html", "--output", str(html)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    return html


def shoot(page, width, height, name):
    out_dir = os.environ.get("SOCKREUSE_SHOTS") or str(page.parent)
    os.makedirs(out_dir, exist_ok=True)
    png = os.path.join(out_dir, name)
    profile = page.parent / ("profile-" + name)
    r = subprocess.run([chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--user-data-dir=%s" % profile, "--window-size=%d,%d" % (width, height),
                        "--screenshot=%s" % png, page.as_uri()],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0 and os.path.exists(png), r.stderr[-2000:]
    with open(png, "rb") as f:
        return png_pixels(f.read())


@pytest.mark.parametrize("width,height", [(1400, 900), (390, 844)], ids=["desktop", "phone"])
def test_changed_rows_render_first(page, width, height):
    w, h, rows = shoot(page, width, height, "compare-%d.png" % width)
    assert (w, h) == (width, height)
    colours = {p for row in rows[::7] for p in row[::7]}
    assert len(colours) > 8, "the page rendered blank"
    # The changed cases open the page: both highlight colours are in the first screenful,
    # though 300 unchanged cases sort before them by id.
    y_reg, y_beh = first_row_with(rows, REGRESSION), first_row_with(rows, BEHAVIOUR)
    assert y_reg is not None and y_beh is not None, "no changed row in the first screenful"
    # Nothing is cut off at the right edge of the window: the wide table scrolls in its own
    # box, so the page itself is no wider than the window (the last column of pixels is
    # the background, not a table clipped by the viewport).
    right = [row[-1] for row in rows]
    assert all(p == (255, 255, 255) for p in right), "content reaches the window's right edge"
