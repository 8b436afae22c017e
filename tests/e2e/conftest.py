"""Shared fixtures for the end-to-end tests: the built binary, a scratch cases folder,
and a helper that runs the binary and keeps what it printed."""
import subprocess

import pytest

from helpers import BIN, CASES, REPO as ROOT, write_case  # noqa: F401 (CASES, ROOT: for the tests)


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
def write():
    return write_case


def new_dir(tmp_path, name):
    """An empty folder below the test's tmp_path."""
    d = tmp_path / name
    d.mkdir()
    return d


@pytest.fixture
def cases_dir(tmp_path):
    """An empty folder for hand-written case files."""
    return new_dir(tmp_path, "cases")


@pytest.fixture
def reports(tmp_path):
    """Paths for the three report files of one run (not created)."""
    d = new_dir(tmp_path, "reports")
    return {"tap": d / "run.tap", "junit": d / "junit.xml", "json": d / "run.json"}
