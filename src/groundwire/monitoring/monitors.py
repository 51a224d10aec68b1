"""Quality monitors over a sliding window, per index: pure functions from the window's
aggregates (``Store.window_aggregates``) and recent query vectors to ``MonitorResult``s.

A monitor is ``firing`` when its window has enough samples and the value crosses the
threshold, ``ok`` when it has enough samples and does not, ``no_data`` otherwise (a quiet
index neither fires nor resolves alerts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from groundwire.monitoring.drift import embedding_drift, score_drift
from groundwire.settings import MonitoringSettings

RATE_MONITORS = ("no_answer_rate", "low_score_rate", "groundedness", "negative_feedback_rate",
                 "latency_search_p95", "latency_ask_p95", "cost_per_answer")
DRIFT_MONITORS = ("drift_query_embedding", "drift_top_score")


@dataclass(frozen=True, slots=True)
class MonitorResult:
    name: str
    index: str
    status: str  # "ok" | "firing" | "no_data"
    value: float | None
    threshold: float | None
    samples: int
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "index": self.index, "status": self.status,
                "value": self.value, "threshold": self.threshold, "samples": self.samples,
                "message": self.message, "details": self.details}


def _result(
    name: str, index: str, value: float | None, threshold: float | None, samples: int,
    needed: int, fires: bool, what: str,
) -> MonitorResult:
    if value is None or samples < needed or threshold is None:
        return MonitorResult(name, index, "no_data", _round(value), threshold, samples,
                             f"{what}: {samples} samples, {needed} needed")
    status = "firing" if fires else "ok"
    return MonitorResult(name, index, status, _round(value), threshold, samples,
                         f"{what} {_round(value)} (threshold {threshold}, {samples} samples)")


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def rate_monitors(
    index: str, agg: Mapping[str, Any], cfg: MonitoringSettings
) -> list[MonitorResult]:
    """The window monitors of one index from its aggregates."""
    def num(key: str) -> float | None:
        value = agg.get(key)
        return None if value is None else float(value)

    asks, searches = int(agg.get("asks") or 0), int(agg.get("searches") or 0)
    feedback = int(agg.get("feedback") or 0)
    negative = int(agg.get("negative_feedback") or 0)
    out = []
    v = num("no_answer_rate")
    out.append(_result("no_answer_rate", index, v, cfg.max_no_answer_rate, asks,
                       cfg.min_samples, v is not None and v > cfg.max_no_answer_rate,
                       "share of answers that abstained"))
    v = num("low_score_rate")
    out.append(_result("low_score_rate", index, v, cfg.max_low_score_rate,
                       int(agg.get("scored") or 0), cfg.min_samples,
                       v is not None and v > cfg.max_low_score_rate,
                       f"share of queries with top score < {cfg.low_score}"))
    v = num("groundedness")
    out.append(_result("groundedness", index, v, cfg.min_groundedness,
                       int(agg.get("grounded") or 0), cfg.min_samples,
                       v is not None and v < cfg.min_groundedness,
                       "mean groundedness of LLM answers"))
    v = negative / feedback if feedback else None
    out.append(_result("negative_feedback_rate", index, v, cfg.max_negative_feedback_rate,
                       feedback, cfg.min_feedback,
                       v is not None and v > cfg.max_negative_feedback_rate,
                       "share of feedback marked not helpful"))
    v = num("search_p95_ms")
    out.append(_result("latency_search_p95", index, v, cfg.search_p95_ms, searches,
                       cfg.min_samples, v is not None and v > cfg.search_p95_ms,
                       "p95 search latency (ms)"))
    v = num("ask_p95_ms")
    out.append(_result("latency_ask_p95", index, v, cfg.ask_p95_ms, asks, cfg.min_samples,
                       v is not None and v > cfg.ask_p95_ms, "p95 answer latency (ms)"))
    v = num("cost_per_answer")
    limit = cfg.max_cost_per_answer
    out.append(_result("cost_per_answer", index, v, limit, asks, cfg.min_samples,
                       v is not None and limit is not None and v > limit,
                       "mean LLM cost per answer"))
    return out


def drift_monitors(
    index: str, recent: Sequence[tuple[float | None, Sequence[float]]],
    cfg: MonitoringSettings,
) -> list[MonitorResult]:
    """Drift of the latest ``drift_window`` queries (``recent`` is newest first) against the
    ``drift_window`` queries before them."""
    n = cfg.drift_window
    if len(recent) < 2 * n:
        return [MonitorResult(name, index, "no_data", None, None, len(recent),
                              f"drift: {len(recent)} queries, {2 * n} needed")
                for name in DRIFT_MONITORS]
    current, baseline = recent[:n], recent[n:2 * n]
    emb = embedding_drift(
        np.asarray([v for _, v in baseline]), np.asarray([v for _, v in current]),
        permutations=cfg.drift_permutations, min_z=cfg.drift_min_z, min_mmd=cfg.drift_min_mmd,
    )
    out = [MonitorResult(
        "drift_query_embedding", index, "firing" if emb.fired else "ok", emb.statistic,
        cfg.drift_min_mmd, 2 * n,
        f"query embedding MMD² {emb.statistic} (z {emb.details['z']}) between the latest "
        f"{n} queries and the {n} before", emb.details,
    )]
    base_scores = [s for s, _ in baseline if s is not None]
    cur_scores = [s for s, _ in current if s is not None]
    if len(base_scores) < n // 2 or len(cur_scores) < n // 2:
        out.append(MonitorResult("drift_top_score", index, "no_data", None, None,
                                 len(base_scores) + len(cur_scores),
                                 "drift: too few queries with a dense score"))
        return out
    sd = score_drift(np.asarray(base_scores), np.asarray(cur_scores),
                     min_psi=cfg.drift_min_psi, max_ks_p=cfg.drift_max_ks_p)
    out.append(MonitorResult(
        "drift_top_score", index, "firing" if sd.fired else "ok", sd.statistic,
        cfg.drift_min_psi, len(base_scores) + len(cur_scores),
        f"top score PSI {sd.statistic} (KS p {sd.details['ks_p_value']:.3g}), mean "
        f"{sd.details['baseline_mean']} -> {sd.details['current_mean']}", sd.details,
    ))
    return out
