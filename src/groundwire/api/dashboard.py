"""The console's quality dashboard, shaped from monitoring data (pure; no I/O).

``build_dashboard`` takes the per-day points of ``MonitoringService.timeseries`` (metric ->
``[{t, value, count}]``) and the window's answer records, and returns what the page draws:
one row per UTC day of the window (missing days are gaps, ``None``), the totals, latency
p50/p95 per pipeline stage (from each record's ``timings``), and cost per day against the
daily budget. Charts get plain arrays (uPlot's columnar ``[xs, ys...]`` data).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-quantile (0..1) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def stage_latencies(records: Iterable[Any]) -> list[dict[str, Any]]:
    """p50/p95 (ms) and sample count of each timing stage, slowest p95 first; the records'
    end-to-end ``latency_ms`` is the stage ``total``."""
    samples: dict[str, list[float]] = {}
    for r in records:
        for stage, ms in (getattr(r, "timings", None) or {}).items():
            if isinstance(ms, int | float):
                samples.setdefault(str(stage), []).append(float(ms))
        if getattr(r, "latency_ms", None) is not None:
            samples.setdefault("total", []).append(float(r.latency_ms))
    rows = [{"stage": s, "p50": _round(percentile(v, 0.5)), "p95": _round(percentile(v, 0.95)),
             "n": len(v)} for s, v in samples.items()]
    return sorted(rows, key=lambda row: -(row["p95"] or 0))


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _by_day(points: Sequence[Mapping[str, Any]] | None) -> dict[date, Mapping[str, Any]]:
    out = {}
    for p in points or ():
        out[datetime.fromisoformat(str(p["t"])).astimezone(UTC).date()] = p
    return out


def build_dashboard(
    series: Mapping[str, Sequence[Mapping[str, Any]]], records: Sequence[Any], *,
    budget_per_day: float | None, since: datetime, now: datetime,
) -> dict[str, Any]:
    """See the module docstring. ``series`` keys: requests, no_answer_rate, groundedness,
    latency_p50, latency_p95, cost_per_answer, feedback, negative_feedback_rate."""
    first, last = since.astimezone(UTC).date(), now.astimezone(UTC).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    by = {metric: _by_day(points) for metric, points in series.items()}

    def column(metric: str, field: str = "value") -> list[float | None]:
        got = by.get(metric, {})
        return [(None if d not in got else got[d].get(field)) for d in days]

    answers = [int(n or 0) for n in column("requests", "count")]
    cost_each = column("cost_per_answer")
    cost = [None if c is None else round(c * n, 6) for c, n in zip(cost_each, answers,
                                                                   strict=True)]
    feedback = [int(n or 0) for n in column("feedback", "count")]
    abstained = sum(1 for r in records if getattr(r, "abstained", False))
    grounded = [r.groundedness for r in records if getattr(r, "groundedness", None) is not None]
    xs = [int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) for d in days]
    return {
        "days": [d.isoformat() for d in days],
        "x": xs,
        "answers": answers,
        "abstention_rate": column("no_answer_rate"),
        "groundedness": column("groundedness"),
        "latency_p50": column("latency_p50"),
        "latency_p95": column("latency_p95"),
        "cost": cost,
        "budget": budget_per_day,
        "budget_line": [budget_per_day] * len(days) if budget_per_day is not None else None,
        "feedback": feedback,
        "negative_feedback_rate": column("negative_feedback_rate"),
        "stages": stage_latencies(records),
        "totals": {
            "answers": sum(answers),
            "abstained": abstained,
            "abstention_rate": round(abstained / len(records), 4) if records else None,
            "groundedness": round(sum(grounded) / len(grounded), 4) if grounded else None,
            "feedback": sum(feedback),
            "cost": round(sum(c for c in cost if c is not None), 6),
        },
    }
