"""Fusing a keyword list and a dense list into one ranking. Pure functions.

* ``rrf``: weighted reciprocal-rank fusion, ``(1-w)/(k+rank_kw) + w/(k+rank_dense)``.
* ``convex``: min-max normalise each list's scores over its candidates, then
  ``(1-w)*kw + w*dense`` (a candidate missing from a list scores 0 there).

``dense_weight`` 0 reproduces the keyword ranking and 1 the dense ranking exactly, so a tuner
that includes both ends can never end up below either retriever alone on its tuning set.

Query-adaptive weighting (``adaptive_weight``): shifts the dense weight per query toward the
list whose top hit stands out more (``top_margin``). Measured with labels on SciFact and SQuAD
(benchmarks/self_tuning.py, docs/benchmarks.md) it is not clearly better than fixed weights
(+0.0005 and +0.005 at the strength chosen on pseudo-questions, losses at higher strength), so
retrieval does not use it; it stays here for the benchmark and for future signals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Ranked = Sequence[tuple[int, float]]  # (id, score), best first


@dataclass(frozen=True, slots=True)
class Fused:
    id: int
    score: float
    keyword_score: float | None
    vector_score: float | None
    keyword_rank: int | None
    vector_rank: int | None


def fuse(
    keyword: Ranked, dense: Ranked, *, method: str, dense_weight: float, rrf_k: int = 60
) -> list[Fused]:
    kw_rank = {cid: i + 1 for i, (cid, _) in enumerate(keyword)}
    dn_rank = {cid: i + 1 for i, (cid, _) in enumerate(dense)}
    kw_score = dict(keyword)
    dn_score = dict(dense)
    w = dense_weight
    if method == "rrf":
        def combined(cid: int) -> float:
            s = 0.0
            if cid in kw_rank:
                s += (1 - w) / (rrf_k + kw_rank[cid])
            if cid in dn_rank:
                s += w / (rrf_k + dn_rank[cid])
            return s
    elif method == "convex":
        kw_norm = _min_max(kw_score)
        dn_norm = _min_max(dn_score)

        def combined(cid: int) -> float:
            return (1 - w) * kw_norm.get(cid, 0.0) + w * dn_norm.get(cid, 0.0)
    else:
        raise ValueError(f"unknown fusion method {method!r}")
    ids = list(dict.fromkeys([*kw_rank, *dn_rank]))
    # Ties break by keyword rank, then dense rank: deterministic output.
    ids.sort(key=lambda c: (-combined(c), kw_rank.get(c, 10**9), dn_rank.get(c, 10**9)))
    return [
        Fused(c, combined(c), kw_score.get(c), dn_score.get(c), kw_rank.get(c), dn_rank.get(c))
        for c in ids
    ]


def _min_max(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo < 1e-12:
        return {c: 1.0 for c in scores}
    return {c: (s - lo) / (hi - lo) for c, s in scores.items()}


def top_margin(ranked: Ranked, depth: int = 10) -> float:
    """How much the top hit stands out: ``(s1 - s2) / (s1 - s_depth)`` over the first
    ``depth`` scores, in [0, 1]; 0 for fewer than 3 hits or flat scores. Scale-free, so BM25
    and cosine scores are comparable."""
    scores = [s for _, s in ranked[:depth]]
    if len(scores) < 3 or scores[0] - scores[-1] < 1e-12:
        return 0.0
    return float((scores[0] - scores[1]) / (scores[0] - scores[-1]))


def adaptive_weight(keyword: Ranked, dense: Ranked, base: float, strength: float) -> float:
    """Per-query dense weight: ``base + strength * (top_margin(dense) - top_margin(keyword))``,
    clipped to [0, 1]. ``strength`` 0 is the fixed ``base``; an empty list gets the other
    list's full weight."""
    if not keyword:
        return 1.0
    if not dense:
        return 0.0
    w = base + strength * (top_margin(dense) - top_margin(keyword))
    return min(1.0, max(0.0, w))
