from __future__ import annotations

import numpy as np

from groundwire.quality.tuning import select_configuration
from groundwire.settings import RetrievalTuning

BM25 = RetrievalTuning(fusion="convex", dense_weight=0.0)
DEFAULT = RetrievalTuning(fusion="convex", dense_weight=0.5)


def test_keeps_default_when_best_is_within_noise() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 1, 400)
    noisy_best = RetrievalTuning(fusion="rrf", dense_weight=0.45, rrf_k=10)
    scored = [
        (BM25, base - 0.1),
        (DEFAULT, base),
        (noisy_best, base + rng.normal(0.002, 0.05, 400)),
    ]
    chosen, reason = select_configuration(scored, DEFAULT)
    assert chosen == DEFAULT
    assert "kept" in reason


def test_moves_when_the_improvement_is_clear() -> None:
    base = np.linspace(0.2, 0.8, 300)
    better = RetrievalTuning(fusion="convex", dense_weight=0.3)
    scored = [(BM25, base - 0.05), (DEFAULT, base), (better, base + 0.05)]
    chosen, _ = select_configuration(scored, DEFAULT)
    assert chosen == better


def test_never_below_bm25() -> None:
    base = np.linspace(0.2, 0.8, 300)
    # the default is far worse than BM25 here: BM25 must win even though it is "farther"
    scored = [(BM25, base + 0.2), (DEFAULT, base)]
    chosen, _ = select_configuration(scored, DEFAULT)
    assert chosen == BM25


def test_prefers_nearest_eligible_to_default() -> None:
    base = np.linspace(0.2, 0.8, 300)
    near = RetrievalTuning(fusion="convex", dense_weight=0.45)
    far = RetrievalTuning(fusion="convex", dense_weight=0.2)
    noise = np.random.default_rng(1).normal(0, 0.02, 300)
    noise = noise - noise.mean() - 0.0005  # 0.0005 below "far" on average: within one SE
    scored = [(BM25, base - 0.3), (DEFAULT, base - 0.1), (near, base + 0.1 + noise),
              (far, base + 0.1)]
    chosen, _ = select_configuration(scored, DEFAULT)
    assert chosen == near
