"""Overall score, verdict and top fixes (groundwire.assess.scoring)."""

from __future__ import annotations

from groundwire.assess.report import Section, finding
from groundwire.assess.scoring import overall_score, top_fixes, verdict


def _s(score: int, *, weight: float = 1.0, advice: str = "", critical: bool = False) -> Section:
    findings = [finding("critical", "x.y", "bad", [])] if critical else []
    return Section(
        score=score,
        summary="s",
        advice=[advice] if advice else [],
        findings=findings,
        weight=weight,
    )


def test_overall_score_is_the_weighted_mean_ignoring_zero_weights() -> None:
    sections = {"a": _s(100, weight=3), "b": _s(0, weight=1), "c": _s(0, weight=0)}
    assert overall_score(sections) == 75


def test_verdict_ready_needs_high_scores_and_no_critical_finding() -> None:
    assert verdict({"a": _s(95), "b": _s(90)}, 92) == "ready"
    assert verdict({"a": _s(95, critical=True), "b": _s(90)}, 92) == "ready_with_warnings"
    assert verdict({"a": _s(95), "b": _s(65)}, 86) == "ready_with_warnings"


def test_verdict_not_ready_on_low_total_or_one_blocking_dimension() -> None:
    assert verdict({"a": _s(55), "b": _s(55)}, 55) == "not_ready"
    assert verdict({"a": _s(100), "b": _s(30)}, 90) == "not_ready"
    # An informational dimension (weight 0) never blocks.
    assert verdict({"a": _s(100), "b": _s(10, weight=0)}, 100) == "ready"


def test_top_fixes_put_critical_dimensions_first_then_largest_shortfall() -> None:
    sections = {
        "mild": _s(90, advice="mild fix"),
        "bad": _s(20, advice="bad fix"),
        "critical": _s(95, advice="critical fix", critical=True),
        "worse": _s(10, weight=2, advice="worse fix"),
        "perfect": _s(100),
    }
    assert top_fixes(sections) == ["critical fix", "worse fix", "bad fix"]


def test_top_fixes_skip_dimensions_without_advice_and_deduplicate() -> None:
    sections = {"a": _s(50, advice="same"), "b": _s(40, advice="same"), "c": _s(60)}
    assert top_fixes(sections) == ["same"]


def test_findings_are_capped_worst_first() -> None:
    section = Section(
        score=50,
        summary="s",
        findings=[
            finding("info", "i", "1", []),
            finding("critical", "c", "2", []),
            finding("warning", "w", "3", []),
            finding("critical", "c", "4", []),
        ],
    )
    data = section.as_json(cap=3)
    assert [f["message"] for f in data["findings"]] == ["2", "4", "3"]
    assert data["figures"]["findings_total"] == 4
