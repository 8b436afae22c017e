"""docs/BEHAVIOUR.md is generated: the committed file must be exactly what the generator
prints from cases/ and reports/baselines/ (make docs regenerates it)."""
import json
import pathlib
import re

from conftest import ROOT, run

BASELINES = ROOT / "reports" / "baselines"
DOC = ROOT / "docs" / "BEHAVIOUR.md"


def test_behaviour_reference_is_up_to_date(binary):
    r = run("doc", "--cases", ROOT / "cases", "--baselines", BASELINES)
    assert r.returncode == 0, r.stderr
    assert DOC.read_text() == r.stdout, "docs/BEHAVIOUR.md is stale: run make docs and commit it"


def test_every_case_file_has_a_section(binary):
    text = DOC.read_text()
    for path in sorted((ROOT / "cases").glob("*.case")):
        number = path.name[:4]
        assert re.search(rf"^### {number} — ", text, re.M), f"no section for {path.name}"


def test_every_claim_is_settled_by_cases_that_exist(binary):
    text = DOC.read_text()
    claims = re.findall(r"^### Claim (\d+): ", text, re.M)
    assert len(claims) >= 6, "DESIGN.md lists six claims"
    for m in re.finditer(r"^- `([^`]+)` \((\d+) cases", text, re.M):
        assert int(m.group(2)) > 0, f"the glob {m.group(1)} matches no case"


def test_baselines_are_reports_of_three_kernels():
    files = sorted(BASELINES.glob("*.json"))
    assert len(files) >= 3, "baselines for Debian 6.1, Debian 6.12 and the host kernel"
    releases = [json.loads(f.read_text())["kernel"]["release"] for f in files]
    assert any(r.startswith("6.1.") for r in releases), releases
    assert any(r.startswith("6.12.") for r in releases), releases
