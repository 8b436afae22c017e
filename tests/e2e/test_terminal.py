"""The terminal view of `sockreuse run`, seen through a real pseudo-terminal (script(1)):
the progress line, each failure and error as it happens with expected and observed, the
recap, the summary printed once; -q, -v, --color and NO_COLOR; TAP when stdout is not a
terminal; `make run`."""
import json
import os
import re
import select
import shlex
import subprocess
import time

import pytest

from helpers import BIN, REPO, case_text, free_bind_case, load_json, parse_tap, prove, write_case

SGR = re.compile(r"\x1b\[[0-9;]*m")
PROGRESS = re.compile(r"(\d+)/(\d+) cases, (\d+) failed, (\d+) errors?, [0-9.]+ s")
SUMMARY = re.compile(r"(\d+) passed, (\d+) failed, (\d+) skipped, (\d+) errors")


def script_cmd(args, env_prefix=""):
    """script(1) runs the command on a new pseudo-terminal, stdout and stderr both on it, and
    copies what the terminal shows to its own stdout (-f: as it comes)."""
    cmd = env_prefix + " ".join(shlex.quote(str(a)) for a in args)
    return ["script", "-qfec", cmd, "/dev/null"]


def on_tty(args, env=None, timeout=120):
    """Runs args on a pseudo-terminal; returns (exit status, what the terminal showed)."""
    e = dict(os.environ, TERM="xterm")
    e.pop("NO_COLOR", None)
    e.update(env or {})
    r = subprocess.run(script_cmd(args), stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, env=e)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def final_screen(text):
    """The lines as they stay on the screen: a carriage return lets the rest of a line
    overwrite what came before it. Colours are dropped."""
    out = []
    for line in SGR.sub("", text).replace("\r\n", "\n").split("\n"):
        screen = ""
        for part in line.split("\r"):
            screen = part + screen[len(part):]
        out.append(screen.rstrip())
    return out


@pytest.fixture
def mixed(cases_dir):
    """Four cases: two pass (inet, inet6 free binds), one fails (expects EADDRINUSE, gets ok),
    one is an error (its setup cannot bind an unassigned address)."""
    free_bind_case(cases_dir, number=901)
    write_case(cases_dir, "0902-wrong.case", case_text(
        902, ["socket  s tcp inet", "bind    s host {PORT}"], "EADDRINUSE", title="expects the wrong thing"))
    write_case(cases_dir, "0903-setup.case", case_text(
        903, ["socket  s tcp inet"], setup=["socket  a tcp inet", "bind    a unassigned {PORT}"]))
    return cases_dir


def test_view_shows_progress_failures_recap_and_one_summary(binary, mixed, tmp_path):
    tap = tmp_path / "run.tap"
    rc, shown = on_tty([BIN, "run", "--cases", mixed, "--tap", tap, "--color=never"])
    assert rc == 1, shown
    assert "\x1b" not in shown, "--color=never: no escape sequence at all"
    assert "TAP version 13" not in shown and not re.search(r"^(not )?ok \d", shown, re.M), \
        "TAP goes to --tap, not to the terminal"
    progress = [tuple(map(int, m.groups())) for m in PROGRESS.finditer(shown)]
    assert progress, shown
    assert progress[0][:2] == (0, 4), "the progress line is there from the start"
    assert progress[-1] == (4, 4, 1, 1), "the last progress line: done/total, failures, errors"
    assert [p[0] for p in progress] == sorted(p[0] for p in progress)
    screen = final_screen(shown)
    text = "\n".join(screen)
    # Each failure and error as it happened, with expected and observed ...
    i = screen.index("FAIL  0902")
    assert screen[i + 1].strip() == "expected EADDRINUSE, observed ok"
    j = screen.index("ERROR 0903")
    assert screen[j + 1].strip() == "expected ok, not reached"
    assert "EADDRNOTAVAIL" in screen[j + 2]
    # ... then the recap, then the summary: once, though stdout and stderr are one terminal.
    k = screen.index("1 failed, 1 error:")
    assert k > max(i, j)
    assert screen[k + 1:k + 3] == ["  FAIL  0902 (expected EADDRINUSE, observed ok)",
                                   "  ERROR 0903 (expected ok, not reached)"] or \
        sorted(screen[k + 1:k + 3]) == sorted(["  FAIL  0902 (expected EADDRINUSE, observed ok)",
                                               "  ERROR 0903 (expected ok, not reached)"])
    summaries = SUMMARY.findall(text)
    assert summaries == [("2", "1", "0", "1")], text
    assert not any(PROGRESS.search(l) for l in screen), "the progress line is cleared at the end"
    assert "PASS" not in text, "passes show only with -v"
    # The full TAP is in the file.
    t = parse_tap(tap.read_text())
    assert t["plan"] == 4 and sum(not x["ok"] for x in t["tests"]) == 2
    assert prove(tap).returncode != 0


def test_failure_shows_while_the_run_goes_on(binary, cases_dir, tmp_path):
    """The failure is on the screen, and its --jsonl line in the file, while a slower case
    still runs: both stream, neither waits for the end."""
    write_case(cases_dir, "0902-wrong.case", case_text(
        902, ["socket  s tcp inet", "bind    s host {PORT}"], "EADDRINUSE"))
    write_case(cases_dir, "0950-slow.case", case_text(950, ["socket  s tcp inet", "wait-ms 3000"]))
    events = tmp_path / "events.jsonl"
    env = dict(os.environ, TERM="xterm")
    p = subprocess.Popen(script_cmd([BIN, "run", "--cases", cases_dir, "-j", "2", "--jsonl", events]),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    seen, t0 = b"", time.monotonic()
    try:
        while b"FAIL" not in seen and time.monotonic() - t0 < 30:
            r, _, _ = select.select([p.stdout], [], [], 1)
            if r:
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    break
                seen += chunk
        assert b"FAIL" in seen, seen
        assert p.poll() is None, "the failure showed only when the run ended"
        lines = events.read_text().splitlines()
        assert [json.loads(l)["id"] for l in lines] == ["0902"], "the event is written before the screen shows it"
        assert p.poll() is None
        rest, _ = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    shown = (seen + rest).decode()
    screen = final_screen(shown)
    assert "1 passed, 1 failed, 0 skipped, 0 errors" in " ".join(screen)
    # While the slow case runs and nothing finishes, the clock on the progress line moves.
    waiting = [float(m.group(1)) for m in re.finditer(r"1/2 cases, 1 failed, 0 errors, ([0-9.]+) s", shown)]
    assert len(waiting) >= 2 and waiting[-1] - waiting[0] >= 1.5, waiting
    assert len(events.read_text().splitlines()) == 2


@pytest.mark.parametrize("opt,env,colored", [
    ("--color=always", {}, True),
    ("--color=never", {}, False),
    (None, {}, True),
    (None, {"NO_COLOR": "1"}, False),
    (None, {"NO_COLOR": ""}, True),
    (None, {"TERM": "dumb"}, False),
    ("--color=always", {"NO_COLOR": "1"}, True),
])
def test_color(binary, mixed, tmp_path, opt, env, colored):
    args = [BIN, "run", "--cases", mixed] + ([opt] if opt else [])
    rc, shown = on_tty(args, env)
    assert rc == 1
    assert bool(SGR.search(shown)) == colored, shown
    assert "\x1b" not in SGR.sub("", shown), "colour codes only, no other escape sequence"


def test_quiet_shows_only_recap_and_summary(binary, mixed):
    rc, shown = on_tty([BIN, "run", "--cases", mixed, "-q", "--color=never"])
    assert rc == 1
    assert not PROGRESS.search(shown), "no progress line with -q"
    screen = [l for l in final_screen(shown) if l]
    assert screen == ["1 failed, 1 error:",
                      "  FAIL  0902 (expected EADDRINUSE, observed ok)",
                      "  ERROR 0903 (expected ok, not reached)",
                      screen[-1]], screen
    assert SUMMARY.match(screen[-1])


def test_verbose_shows_every_case_and_why(binary, mixed):
    rc, shown = on_tty([BIN, "run", "--cases", mixed, "-v", "--color=never"])
    screen = final_screen(shown)
    assert "PASS  0901/family=inet" in screen and "PASS  0901/family=inet6" in screen
    i = screen.index("FAIL  0902")
    assert "why: Written by the end-to-end tests." in [l.strip() for l in screen[i:i + 4]]


def test_not_a_terminal_gets_tap(binary, mixed):
    r = subprocess.run([str(BIN), "run", "--cases", str(mixed), "--color=always"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1
    t = parse_tap(r.stdout)
    assert t["plan"] == 4
    assert not PROGRESS.search(r.stdout) and "\x1b" not in r.stdout
    assert SUMMARY.fullmatch(r.stderr.strip().split("\n")[-1])


def test_summary_once_when_stdout_and_stderr_are_one_file(binary, mixed, tmp_path):
    log = tmp_path / "log"
    with open(log, "w") as f:
        r = subprocess.run([str(BIN), "run", "--cases", str(mixed)], stdout=f, stderr=subprocess.STDOUT, timeout=120)
    assert r.returncode == 1
    assert len(SUMMARY.findall(log.read_text())) == 1, log.read_text()


def test_make_run_shows_the_view_and_writes_tap(binary, tmp_path):
    out = tmp_path / "out"
    rc, shown = on_tty(["make", "-s", "-C", REPO, "run", f"OUT={out}", "RUN_ARGS=--filter 0301/*inet/*"],
                       timeout=300)
    screen = final_screen(shown)
    assert PROGRESS.search(shown), shown
    assert not re.search(r"^(not )?ok \d", shown, re.M), "no TAP on the terminal"
    summaries = SUMMARY.findall("\n".join(screen))
    assert len(summaries) == 1, screen
    doc = load_json(out / "results.json")
    t = parse_tap((out / "results.tap").read_text())
    assert t["plan"] == len(doc["cases"]) == sum(map(int, summaries[0])) > 0
    assert all(c["id"].startswith("0301/family=inet/") for c in doc["cases"])
    assert rc == (0 if doc["summary"]["fail"] + doc["summary"]["error"] == 0 else 1)
    assert any(l.startswith("reports: ") for l in screen)


def test_no_view_when_a_report_goes_to_the_terminal(binary, mixed, tmp_path):
    """--json - on a terminal: the report is all there is, no view in the middle of it."""
    rc, shown = on_tty([BIN, "run", "--cases", mixed, "--tap", tmp_path / "t.tap", "--json", "-"])
    assert rc == 1
    body = shown.replace("\r\n", "\n")
    doc = json.loads(body[:body.rindex("}") + 1])
    assert doc["summary"]["total"] == 4
    assert not PROGRESS.search(shown)
