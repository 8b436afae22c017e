"""Shared fixtures for the end-to-end tests: the built binary, a scratch cases folder,
and a helper that runs the binary and keeps what it printed."""
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = ROOT / "sockreuse"
CASES = ROOT / "cases"


@pytest.fixture(scope="session")
def binary():
    if not BIN.exists():
        pytest.fail(f"{BIN} is not built: run make first")
    return BIN


def run(*args, timeout=120, **kw):
    """Runs the binary; returns the CompletedProcess (text mode)."""
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture
def sr():
    return run


@pytest.fixture
def cases_dir(tmp_path):
    """An empty folder for hand-written case files."""
    d = tmp_path / "cases"
    d.mkdir()
    return d


def write_case(folder, name, text):
    p = pathlib.Path(folder) / name
    p.write_text(text)
    return p


@pytest.fixture
def write():
    return write_case


@pytest.fixture
def reports(tmp_path):
    """Paths for the three report files of one run (not created)."""
    d = tmp_path / "reports"
    d.mkdir()
    return {"tap": d / "run.tap", "junit": d / "junit.xml", "json": d / "run.json"}
