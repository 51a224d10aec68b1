from __future__ import annotations

import math

import pytest

from groundwire.quality.metrics import (
    exact_match,
    f1_score,
    hit_at,
    mrr_at,
    ndcg_at,
    percentile,
    recall_at,
)


def test_ndcg_perfect_and_partial() -> None:
    assert ndcg_at(["a", "b"], {"a": 1, "b": 1}) == pytest.approx(1.0)
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert ndcg_at(["x", "a"], {"a": 1, "b": 1}) == pytest.approx(expected)
    assert ndcg_at(["x"], {"a": 1}) == 0.0


def test_graded_relevance_counts() -> None:
    assert ndcg_at(["b", "a"], {"a": 2, "b": 1}) < 1.0


def test_recall_mrr_hit() -> None:
    ranked = ["x", "a", "y", "b"]
    rel = {"a": 1, "b": 1, "c": 1}
    assert recall_at(ranked, rel, 2) == pytest.approx(1 / 3)
    assert recall_at(ranked, rel, 10) == pytest.approx(2 / 3)
    assert mrr_at(ranked, rel) == pytest.approx(0.5)
    assert hit_at(ranked, rel, 1) == 0.0 and hit_at(ranked, rel, 2) == 1.0


def test_squad_normalisation() -> None:
    assert exact_match("The Eiffel Tower!", ["eiffel tower"]) == 1.0
    assert exact_match("Eiffel", ["eiffel tower"]) == 0.0
    assert f1_score("the tower in paris", ["Eiffel Tower"]) == pytest.approx(0.4)


def test_percentile_interpolates() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == pytest.approx(2.5)
    assert percentile([], 0.9) == 0.0
