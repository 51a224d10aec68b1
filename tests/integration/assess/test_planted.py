"""The assessment finds what was planted: precision and recall >= 0.9 for every category of
``support.planted_corpus``, exact counts where exactness is defined. Runs the real parsers,
the real PII/injection detectors and MinHash LSH on a corpus of ~120 files (no database)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from support.planted_corpus import GroundTruth, build_planted_corpus

from groundwire.assess import AssessmentSource, run_assessment
from groundwire.settings import Settings

pytestmark = pytest.mark.integration

MIN_PRECISION = 0.9
MIN_RECALL = 0.9


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[GroundTruth, dict[str, Any]]:
    root = tmp_path_factory.mktemp("planted")
    truth = build_planted_corpus(root)
    settings = Settings(assess={"max_findings": 1000})
    report = asyncio.run(run_assessment(AssessmentSource.of_path(root), settings))
    return truth, report


def _findings(report: dict[str, Any], dimension: str, *kinds: str) -> list[dict[str, Any]]:
    return [
        f
        for f in report["dimensions"][dimension]["findings"]
        if not kinds or any(f["kind"].startswith(k) for k in kinds)
    ]


def _uris(findings: list[dict[str, Any]], *, skip_first: bool = False) -> set[str]:
    out: set[str] = set()
    for f in findings:
        locations = f["locations"][1:] if skip_first else f["locations"]
        out.update(loc["uri"] for loc in locations)
    return out


def _check(name: str, found: set[str], expected: set[str]) -> None:
    assert expected, f"{name}: nothing planted"
    hits = len(found & expected)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(expected)
    assert precision >= MIN_PRECISION and recall >= MIN_RECALL, (
        f"{name}: precision {precision:.2f} recall {recall:.2f}; "
        f"missed {sorted(expected - found)}, extra {sorted(found - expected)}"
    )


def test_document_count_and_exact_counts(planted: tuple[GroundTruth, dict[str, Any]]) -> None:
    truth, report = planted
    counts = report["counts"]
    assert counts["documents"] == truth.documents
    assert counts["exact_duplicate_documents"] == truth.exact_duplicate_documents
    assert counts["empty"] == len(truth.empty)
    assert counts["failed"] == len(truth.failed)
    assert counts["near_duplicate_clusters"] == truth.near_duplicate_clusters
    assert counts["no_acl_documents"] == len(truth.no_acl)


def test_exact_duplicates(planted: tuple[GroundTruth, dict[str, Any]]) -> None:
    truth, report = planted
    found = _uris(_findings(report, "duplicates", "duplicate.exact"), skip_first=True)
    _check("exact duplicates", found, truth.exact_duplicate_later)


def test_near_duplicate_clusters(planted: tuple[GroundTruth, dict[str, Any]]) -> None:
    truth, report = planted
    found = _uris(_findings(report, "duplicates", "duplicate.near"))
    _check("near duplicates", found, truth.near_duplicate)
    for f in _findings(report, "duplicates", "duplicate.near"):
        a, b = f["details"]["representative_pair"]
        assert a != b and f["details"]["similarity"] >= 0.7


def test_conflicting_versions_show_the_differing_number(
    planted: tuple[GroundTruth, dict[str, Any]],
) -> None:
    truth, report = planted
    conflicts = _findings(report, "conflicts", "conflict.version")
    _check("conflicts", _uris(conflicts), truth.conflicts)
    pairs = {frozenset((d["a"], d["b"])) for f in conflicts for d in f["details"]["diffs"]}
    assert {
        frozenset(("12%", "15%")),
        frozenset(("30", "45")),
        frozenset(("$120", "$150")),
    } <= pairs


def test_stale_documents(planted: tuple[GroundTruth, dict[str, Any]]) -> None:
    truth, report = planted
    _check("stale", _uris(_findings(report, "staleness")), truth.stale)
    assert report["counts"]["stale_documents"] == len(truth.stale)


@pytest.mark.parametrize(
    "kind", ["email", "phone", "payment_card", "iban", "national_id", "ip_address", "secret"]
)
def test_each_pii_type(planted: tuple[GroundTruth, dict[str, Any]], kind: str) -> None:
    truth, report = planted
    found = {
        f["locations"][0]["uri"]
        for f in _findings(report, "sensitive_data")
        if kind in f["details"]["kinds"]
    }
    _check(f"pii.{kind}", found, truth.pii[kind])


def test_pii_excerpts_are_masked(planted: tuple[GroundTruth, dict[str, Any]]) -> None:
    _, report = planted
    text = str(report)
    for raw in (
        "jane.doe@example.com",
        "4111 1111 1111 1111",
        "536-22-1234",
        "9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c",
        "DE89 3704 0044 0532 0130 00",
    ):
        assert raw not in text


def test_broken_files_with_their_codes(planted: tuple[GroundTruth, dict[str, Any]]) -> None:
    truth, report = planted
    failed = [f for f in _findings(report, "parseability") if f["severity"] == "critical"]
    _check("failed", _uris(failed), set(truth.failed))
    codes = {f["locations"][0]["uri"]: f["kind"] for f in failed}
    assert codes == truth.failed
    _check("empty", _uris(_findings(report, "parseability", "parseability.empty")), truth.empty)
    _check(
        "garbled", _uris(_findings(report, "parseability", "parseability.garbled")), truth.garbled
    )


def test_injection_and_hidden_html(planted: tuple[GroundTruth, dict[str, Any]]) -> None:
    truth, report = planted
    findings = _findings(report, "model_safety")
    _check("injection", _uris(findings), truth.injection)
    hidden = {f["locations"][0]["uri"] for f in findings if "hidden_html" in f["details"]["kinds"]}
    _check("hidden html", hidden, truth.hidden_html)
    assert report["counts"]["injection_suspects"] == len(truth.injection)


def test_documents_without_permissions(planted: tuple[GroundTruth, dict[str, Any]]) -> None:
    truth, report = planted
    _check("no acl", _uris(_findings(report, "access")), truth.no_acl)


def test_report_shape_and_verdict(planted: tuple[GroundTruth, dict[str, Any]]) -> None:
    _, report = planted
    assert set(report["dimensions"]) == {
        "inventory",
        "parseability",
        "duplicates",
        "conflicts",
        "staleness",
        "sensitive_data",
        "access",
        "model_safety",
        "retrieval_fitness",
        "question_coverage",
    }
    for dim in report["dimensions"].values():
        assert 0 <= dim["score"] <= 100 and dim["summary"]
    # Planted conflicts, injections and secrets are critical: never "ready".
    assert report["verdict"] in ("ready_with_warnings", "not_ready")
    assert len(report["top_fixes"]) == 3
    assert report["dimensions"]["inventory"]["figures"]["pdf_pages"] == 2


def test_clean_filler_alone_is_ready(tmp_path: Path) -> None:
    import random

    from support.planted_corpus import prose

    rng = random.Random(1)
    for n in range(20):
        (tmp_path / f"d{n}.md").write_text(
            f"---\npermissions: [staff]\n---\n# Notes {n}\n\n{prose(rng)}\n", encoding="utf-8"
        )
    report = asyncio.run(
        run_assessment(
            AssessmentSource.of_path(tmp_path), Settings(), questions=["What guides the river?"]
        )
    )
    counts = report["counts"]
    assert counts["documents"] == 20
    assert all(counts[k] == 0 for k in counts if k != "documents")
    assert report["dimensions"]["question_coverage"]["figures"]["questions"] == 1
