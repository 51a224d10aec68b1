"""Window monitors: thresholds, minimum samples, and the drift windows' split."""

from __future__ import annotations

import numpy as np

from groundwire.monitoring.monitors import drift_monitors, rate_monitors
from groundwire.settings import MonitoringSettings


def _by_name(results):
    return {r.name: r for r in results}


def test_rate_monitors_fire_only_past_threshold_with_enough_samples() -> None:
    cfg = MonitoringSettings(min_samples=10, min_feedback=3, max_cost_per_answer=0.01)
    agg = {"asks": 20, "searches": 30, "no_answer_rate": 0.5, "scored": 50,
           "low_score_rate": 0.1, "grounded": 12, "groundedness": 0.7, "feedback": 4,
           "negative_feedback": 3, "search_p95_ms": 120.0, "ask_p95_ms": 20000.0,
           "cost_per_answer": 0.002}
    got = _by_name(rate_monitors("kb", agg, cfg))
    assert got["no_answer_rate"].status == "firing"
    assert got["low_score_rate"].status == "ok"
    assert got["groundedness"].status == "firing"  # below min_groundedness 0.8
    assert got["negative_feedback_rate"].status == "firing"
    assert got["negative_feedback_rate"].value == 0.75
    assert got["latency_search_p95"].status == "ok"
    assert got["latency_ask_p95"].status == "firing"
    assert got["cost_per_answer"].status == "ok"

    few = _by_name(rate_monitors("kb", {**agg, "asks": 5, "feedback": 2}, cfg))
    assert few["no_answer_rate"].status == "no_data"
    assert few["negative_feedback_rate"].status == "no_data"
    assert _by_name(rate_monitors("kb", {}, cfg))["groundedness"].status == "no_data"
    unset = _by_name(rate_monitors("kb", agg, MonitoringSettings(min_samples=10)))
    assert unset["cost_per_answer"].status == "no_data"  # no cost threshold configured


def test_drift_needs_two_full_windows_and_compares_newest_with_previous() -> None:
    cfg = MonitoringSettings(drift_window=20, drift_permutations=100)
    rng = np.random.default_rng(0)
    old = [(0.7, list(rng.standard_normal(16) + 3.0)) for _ in range(20)]
    new = [(0.1, list(rng.standard_normal(16) - 3.0)) for _ in range(20)]
    assert {r.status for r in drift_monitors("kb", (new + old)[:39], cfg)} == {"no_data"}
    shifted = _by_name(drift_monitors("kb", new + old, cfg))  # newest first
    assert shifted["drift_query_embedding"].status == "firing"
    assert shifted["drift_top_score"].status == "firing"
    assert shifted["drift_top_score"].details["current_mean"] == 0.1
    same = _by_name(drift_monitors("kb", old + old, cfg))
    assert same["drift_top_score"].status == "ok"
