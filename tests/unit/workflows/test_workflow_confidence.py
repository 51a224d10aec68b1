"""The confidence of a draft: zero on abstention or without citations; support and
retrieval otherwise."""

from __future__ import annotations

from groundwire.domain import Answer, Citation, Hit
from groundwire.workflows.confidence import score


def hit(vector: float | None) -> Hit:
    return Hit(chunk_id=1, document_id=1, uri="a.md", title="A", text="t", heading_path=(),
               char_start=0, char_end=1, score=0.5, vector_score=vector)


def answer(**kw: object) -> Answer:
    base: dict[str, object] = {"question": "q", "text": "t [1]", "abstained": False,
                               "citations": (Citation(1, hit(0.8), "t"),), "hits": (),
                               "confidence": 0.6}
    base.update(kw)
    return Answer(**base)  # type: ignore[arg-type]


def test_abstention_and_missing_citations_score_zero() -> None:
    assert score(answer(abstained=True, citations=())).reason == "abstained"
    assert score(answer(abstained=True, citations=())).score == 0.0
    assert score(answer(citations=())).reason == "no_citations"


def test_score_blends_support_and_retrieval() -> None:
    result = score(answer())
    assert result.reason is None
    assert result.score == round(0.7 * 0.6 + 0.3 * 0.8, 4)


def test_groundedness_scales_support_and_values_are_clipped() -> None:
    assert score(answer(groundedness=0.5)).support == 0.3
    assert score(answer(confidence=3.0, citations=(Citation(1, hit(None), "t"),))).score \
        == 0.7
