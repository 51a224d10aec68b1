"""How sure a drafted reply is: one score in [0, 1] with its parts.

``score(answer)``:

* an abstention, or an answer without citations, scores 0 (``reason`` says which);
* otherwise ``0.7 * support + 0.3 * retrieval`` where ``support`` is the answer's verified
  support (the best cited sentence's support score, times the LLM answer's groundedness —
  the share of its sentences their citations support — when there is one) and
  ``retrieval`` the best cosine similarity of a cited passage to the question (how close
  the evidence is at all), both clipped to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from groundwire.domain import Answer

SUPPORT_WEIGHT = 0.7


@dataclass(frozen=True, slots=True)
class Confidence:
    score: float
    support: float
    retrieval: float
    reason: str | None  # "abstained", "no_citations" or None

    def as_json(self) -> dict[str, Any]:
        return {"score": self.score, "support": self.support, "retrieval": self.retrieval,
                "reason": self.reason}


def _clip(value: float | None) -> float:
    return min(1.0, max(0.0, float(value or 0.0)))


def score(answer: Answer) -> Confidence:
    """The confidence of ``answer`` (see the module docstring)."""
    if answer.abstained:
        return Confidence(0.0, _clip(answer.confidence), 0.0, "abstained")
    if not answer.citations:
        return Confidence(0.0, _clip(answer.confidence), 0.0, "no_citations")
    support = _clip(answer.confidence)
    if answer.groundedness is not None:
        support *= _clip(answer.groundedness)
    retrieval = max(_clip(c.hit.vector_score) for c in answer.citations)
    total = SUPPORT_WEIGHT * support + (1.0 - SUPPORT_WEIGHT) * retrieval
    return Confidence(round(total, 4), round(support, 4), round(retrieval, 4), None)
