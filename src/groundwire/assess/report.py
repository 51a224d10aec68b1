"""Building blocks of the assessment report (the JSON schema is in docs/assessment.md).

Every dimension returns a ``Section``; ``finding``/``location``/``chart`` build the schema's
dicts so keys are spelled in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1
DIMENSIONS = (
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
)
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


def location(
    uri: str, start: int | None = None, end: int | None = None, excerpt: str | None = None
) -> dict[str, Any]:
    return {"uri": uri, "start": start, "end": end, "excerpt": excerpt}


def finding(
    severity: str,
    kind: str,
    message: str,
    locations: list[dict[str, Any]],
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if severity not in SEVERITY_RANK:
        raise ValueError(f"unknown severity {severity!r}")
    return {
        "severity": severity,
        "kind": kind,
        "message": message,
        "locations": locations,
        "details": details or {},
    }


def chart(
    title: str, labels: list[str], values: Sequence[float], unit: str | None = None
) -> dict[str, Any]:
    return {
        "title": title,
        "kind": "bar",
        "labels": [str(x) for x in labels],
        "values": list(values),
        "unit": unit,
    }


def ratio_score(bad: float, total: int, *, weight: float = 1.0) -> int:
    """100 when nothing is bad, falling linearly with ``weight * bad / total`` to 0."""
    if total <= 0:
        return 100
    return int(round(max(0.0, 100.0 * (1.0 - weight * bad / total))))


@dataclass(slots=True)
class Section:
    """One dimension's result; ``as_json(cap)`` keeps the ``cap`` worst findings (severity
    first, then the order the dimension added them) and records how many were dropped."""

    score: int
    summary: str
    advice: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    weight: float = 1.0  # weight in the overall score (0: informational only)

    def as_json(self, cap: int) -> dict[str, Any]:
        ordered = sorted(
            enumerate(self.findings), key=lambda p: (SEVERITY_RANK[p[1]["severity"]], p[0])
        )
        kept = [f for _, f in ordered[:cap]]
        figures = dict(self.figures)
        figures["findings_total"] = len(self.findings)
        return {
            "score": int(max(0, min(100, self.score))),
            "summary": self.summary,
            "advice": list(self.advice),
            "findings": kept,
            "charts": list(self.charts),
            "figures": figures,
        }
