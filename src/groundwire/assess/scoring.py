"""Overall score, verdict and the three most important fixes.

* ``score``: the weighted mean of the dimension scores (weights in each ``Section``;
  inventory 0.5, staleness/access 0.75, parseability/conflicts/sensitive data/model safety
  1.5, the others 1; question coverage 0.5 when its questions are derived, 0 when none).
* ``verdict``: ``not_ready`` when the score is below ``NOT_READY_BELOW`` or any dimension
  scores below ``BLOCKING_DIMENSION``; ``ready`` when the score is at least ``READY_FROM``,
  no dimension is below ``WARNING_DIMENSION`` and there is no critical finding; otherwise
  ``ready_with_warnings``.
* ``top_fixes``: the first advice of the dimensions with the largest weighted shortfall
  ``weight * (100 - score)``, critical findings first; at most three.
"""

from __future__ import annotations

from collections.abc import Mapping

from groundwire.assess.report import Section

NOT_READY_BELOW = 60
BLOCKING_DIMENSION = 40
READY_FROM = 85
WARNING_DIMENSION = 70


def overall_score(sections: Mapping[str, Section]) -> int:
    total = sum(s.weight for s in sections.values())
    if total <= 0:
        return 100
    return int(round(sum(s.score * s.weight for s in sections.values()) / total))


def verdict(sections: Mapping[str, Section], score: int) -> str:
    weighted = [s for s in sections.values() if s.weight > 0]
    if score < NOT_READY_BELOW or any(s.score < BLOCKING_DIMENSION for s in weighted):
        return "not_ready"
    critical = any(f["severity"] == "critical" for s in weighted for f in s.findings)
    if score >= READY_FROM and not critical and all(s.score >= WARNING_DIMENSION for s in weighted):
        return "ready"
    return "ready_with_warnings"


def top_fixes(sections: Mapping[str, Section], limit: int = 3) -> list[str]:
    def urgency(item: tuple[str, Section]) -> tuple[int, float]:
        _, s = item
        critical = any(f["severity"] == "critical" for f in s.findings)
        return (0 if critical else 1, -s.weight * (100 - s.score))

    fixes: list[str] = []
    for _, section in sorted(sections.items(), key=urgency):
        if section.score >= 100 and not section.findings:
            continue
        if section.advice and section.advice[0] not in fixes:
            fixes.append(section.advice[0])
        if len(fixes) == limit:
            break
    return fixes
