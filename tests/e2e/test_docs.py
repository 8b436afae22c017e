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
    assert len(claims) >= 6, "docs/DESIGN.md names six claims"
    for m in re.finditer(r"^- `([^`]+)` \((\d+) cases", text, re.M):
        assert int(m.group(2)) > 0, f"the glob {m.group(1)} matches no case"


def baselines():
    return sorted(BASELINES.glob("*.json.gz"))


def load(path):
    import gzip
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def test_baselines_are_reports_of_three_kernels():
    files = baselines()
    assert len(files) >= 3, "baselines for Debian 6.1, Debian 6.12 and the host kernel"
    assert not list(BASELINES.glob("*.json")), "baselines are stored compressed (.json.gz)"
    releases = [load(f)["kernel"]["release"] for f in files]
    assert any(r.startswith("6.1.") for r in releases), releases
    assert any(r.startswith("6.12.") for r in releases), releases
    for f, r in zip(files, releases):
        assert f.name == r + ".json.gz"


def test_baselines_are_compact_and_small():
    """Per case only id, observed, status and facts (titles, rationales and references live
    in the cases), and all baselines together under 5 MB."""
    total = sum(f.stat().st_size for f in BASELINES.iterdir())
    assert total < 5 * 1024 * 1024, "reports/baselines/ holds %d bytes" % total
    for f in baselines():
        rep = load(f)
        assert {"kernel", "summary", "cases"} <= set(rep)
        assert rep["cases"], f
        extra = {k for c in rep["cases"] for k in c} - {"id", "observed", "status", "facts"}
        assert not extra, (f.name, extra)


def test_compare_reads_the_baselines(binary):
    r = run("compare", *baselines(), "--only-changes")
    assert r.returncode in (0, 1), r.stderr
    assert "%d runs" % len(baselines()) in r.stdout
    # Compact baselines keep no group: the HTML folds their cases per case file instead.
    r = run("compare", *baselines(), "--format", "html")
    assert "(no group)" not in r.stdout and "<summary>0101 \u2014" in r.stdout
