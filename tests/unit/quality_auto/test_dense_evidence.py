"""The tuner's dense-evidence guard (quality/dense_evidence.py): the dense weight keeps its
configured value only when the pseudo-questions show the fusion beating keyword ranking by
two paired standard errors; below that it shrinks in proportion."""

from __future__ import annotations

from groundwire.quality.autotune import QuestionLists, choose
from groundwire.quality.dense_evidence import Z_FULL, dense_cap
from groundwire.quality.pseudo_questions import PseudoQuestion
from groundwire.settings import RetrievalTuning


def test_cap_shrinks_in_proportion_to_the_evidence() -> None:
    assert Z_FULL == 2.0
    assert dense_cap(0.5, 0.02, 0.01) is None  # 2 SE: earned
    assert dense_cap(0.5, 0.0236, 0.01) is None  # SciFact's lowest seed, 2.36 SE
    assert dense_cap(0.5, 0.0193, 0.01) == 0.45  # E-Manual's seed 0: 0.5 * 1.93 / 2 -> 0.45
    assert dense_cap(0.5, 0.0075, 0.01) == 0.15
    assert dense_cap(0.5, -0.01, 0.01) == 0.0  # the fusion loses: keyword ranking only
    assert dense_cap(0.5, 0.0, 0.0) is None  # every question tied: no evidence either way
    assert dense_cap(0.5, -0.2, 0.0) == 0.0  # every question lost the same
    assert dense_cap(0.0, -0.2, 0.01) is None  # keyword only already


def _q(i: int) -> PseudoQuestion:
    return PseudoQuestion(f"q{i}", i, i, f"u{i}", "sentence")


def _item(i: int, kind: str) -> QuestionLists:
    """Question i (answer: document i). ``gain``: keyword ranks a wrong document first and the
    fusion repairs it; ``loss``: keyword is right and the dense side drags the wrong one up;
    ``tie``: both sides rank the answer first."""
    right, wrong, other = i, 1000 + i, 2000 + i
    if kind == "gain":
        kw = [(wrong, 10.0), (right, 9.0), (other, 0.0)]
        dn = [(right, 1.0), (other, 0.5), (wrong, 0.0)]
    elif kind == "loss":
        kw = [(right, 10.0), (wrong, 9.0), (other, 0.0)]
        dn = [(wrong, 1.0), (other, 0.5), (right, 0.0)]
    else:
        kw = [(right, 10.0), (wrong, 9.0), (other, 0.0)]
        dn = [(right, 1.0), (other, 0.5), (wrong, 0.0)]
    return QuestionLists(_q(i), kw, dn)


def _mix(gains: int, losses: int, ties: int) -> list[QuestionLists]:
    kinds = ["gain"] * gains + ["loss"] * losses + ["tie"] * ties
    # interleave so both halves get each kind
    order = sorted(range(len(kinds)), key=lambda i: (i % 2, i))
    return [_item(n, kinds[i]) for n, i in enumerate(order)]


def test_a_small_unproven_dense_gain_caps_the_weight() -> None:
    lists = _mix(12, 8, 20)
    doc_of = {c: c for item in lists for c, _ in (*item.keyword, *item.dense)}
    tuning, promoted, evidence = choose(lists[:20], lists[20:], doc_of, RetrievalTuning())
    dense = evidence["dense_evidence"]
    assert dense["questions"] == 40 and dense["gain"] > 0 and 0 < dense["z"] < Z_FULL
    assert dense["cap"] == 0.2 and tuning.dense_weight == 0.2 and promoted
    assert "dense side not established" in evidence["reason"]
    assert "groundwire adapt" in evidence["reason"]
    assert tuning.fusion == "convex"
    # without the guard the same lists keep the default
    unguarded, _, _ = choose(lists[:20], lists[20:], doc_of, RetrievalTuning(), dense_guard=False)
    assert unguarded.dense_weight == 0.5


def test_an_established_dense_gain_keeps_the_weight() -> None:
    lists = _mix(20, 0, 20)
    doc_of = {c: c for item in lists for c, _ in (*item.keyword, *item.dense)}
    tuning, _, evidence = choose(lists[:20], lists[20:], doc_of, RetrievalTuning())
    dense = evidence["dense_evidence"]
    assert dense["z"] >= Z_FULL and dense["cap"] is None
    assert tuning.dense_weight >= 0.5
