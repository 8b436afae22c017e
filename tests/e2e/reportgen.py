"""Builds sockreuse JSON reports as Python dicts, for the compare tests.

A report is described by its kernel and a list of cases; every field json_write writes is filled
with a plausible default so a test states only what it is about.
"""
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def binary_path():
    """The runner binary: $SOCKREUSE when set (to test a build elsewhere), else sockreuse."""
    return Path(os.environ.get("SOCKREUSE", REPO / "sockreuse"))


def case(id, observed="ok", status="pass", expected=None, group="bind", **extra):
    """One case record. params default to a few derived from the id's labels."""
    number = int(id.split("/")[0]) if id.split("/")[0].isdigit() else 0
    params = dict(p.split("=", 1) for p in id.split("/")[1:] if "=" in p) or {"op": "bind"}
    c = {
        "id": id,
        "number": number,
        "title": f"Case {id}",
        "group": group,
        "params": params,
        "expected": observed if expected is None else expected,
        "observed": observed,
        "status": status,
        "duration_ms": 1.5,
        "detail": "" if status == "pass" else f"{status}: detail of {id}",
        "rationale": f"Because of {id}.",
        "refs": ["bind(2)", "net/ipv4/inet_connection_sock.c"],
        "facts": {},
    }
    c.update(extra)
    return c


def report(release, cases, version=None, machine="x86_64", hostname="host1",
           started="2026-11-21T10:11:39Z", tool_version="0.1.0", interrupted=False):
    summary = {"total": len(cases)}
    for s in ("pass", "fail", "skip", "error"):
        summary[s] = sum(1 for c in cases if c["status"] == s)
    return {
        "format": "sockreuse-report/1",
        "tool": {"name": "sockreuse", "version": tool_version},
        "kernel": {
            "release": release,
            "version": version or f"#1 SMP PREEMPT_DYNAMIC Debian {release}",
            "machine": machine,
        },
        "hostname": hostname,
        "started": started,
        "duration_s": 1.25,
        "interrupted": interrupted,
        "properties": {"sysctl.net.ipv4.tcp_tw_reuse": "2"},
        "summary": summary,
        "cases": cases,
    }


def write(path, data):
    """Writes a report (a dict) or raw text (a str) to path; returns the path as a string."""
    path = Path(path)
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=1))
    return str(path)
