from __future__ import annotations

import pytest

from groundwire.retrieval.fusion import fuse

KW = [(1, 9.0), (2, 5.0), (3, 1.0)]
DN = [(3, 0.9), (4, 0.8), (1, 0.1)]


@pytest.mark.parametrize("method", ["rrf", "convex"])
def test_weight_zero_reproduces_keyword_order(method: str) -> None:
    fused = fuse(KW, DN, method=method, dense_weight=0.0)
    assert [f.id for f in fused][:3] == [1, 2, 3]


@pytest.mark.parametrize("method", ["rrf", "convex"])
def test_weight_one_reproduces_dense_order(method: str) -> None:
    fused = fuse(KW, DN, method=method, dense_weight=1.0)
    assert [f.id for f in fused][:3] == [3, 4, 1]


def test_rrf_scores_follow_the_formula() -> None:
    fused = {f.id: f for f in fuse(KW, DN, method="rrf", dense_weight=0.25, rrf_k=10)}
    assert fused[3].score == pytest.approx(0.75 / (10 + 3) + 0.25 / (10 + 1))
    assert fused[4].score == pytest.approx(0.25 / (10 + 2))
    assert (fused[3].keyword_rank, fused[3].vector_rank) == (3, 1)


def test_convex_normalises_each_list() -> None:
    fused = {f.id: f for f in fuse(KW, DN, method="convex", dense_weight=0.5)}
    # keyword: 1 -> 1.0, 2 -> 0.5, 3 -> 0.0 ; dense: 3 -> 1.0, 4 -> 0.875, 1 -> 0.0
    assert fused[1].score == pytest.approx(0.5)
    assert fused[3].score == pytest.approx(0.5)
    assert fused[4].score == pytest.approx(0.4375)
    assert fused[2].score == pytest.approx(0.25)


def test_empty_lists() -> None:
    assert fuse([], [], method="convex", dense_weight=0.5) == []
    assert [f.id for f in fuse([], DN, method="rrf", dense_weight=0.5)] == [3, 4, 1]


def test_unknown_method_is_rejected() -> None:
    with pytest.raises(ValueError):
        fuse(KW, DN, method="max", dense_weight=0.5)
