"""Drift statistics on synthetic data with fixed seeds: no alarm when both windows come from
one distribution, an alarm when the second moves."""

from __future__ import annotations

import numpy as np
import pytest

from groundwire.monitoring.drift import (
    embedding_drift,
    mmd_permutation_test,
    psi,
    score_drift,
)

DIM = 32


def _topic(rng: np.random.Generator, centre: np.ndarray, n: int, spread: float = 0.6):
    return centre + spread * rng.standard_normal((n, DIM))


@pytest.mark.parametrize("seed", range(20))
def test_same_distribution_never_fires(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(DIM), rng.standard_normal(DIM)
    mix = lambda n: np.vstack([_topic(rng, a, n * 3 // 4), _topic(rng, b, n // 4)])  # noqa: E731
    emb = embedding_drift(mix(100), mix(100), permutations=200, min_z=8.0, min_mmd=0.02,
                          seed=seed)
    assert not emb.fired and emb.details["z"] < 8.0
    scores = score_drift(rng.beta(5, 3, 100), rng.beta(5, 3, 100), min_psi=0.25,
                         max_ks_p=0.001)
    assert not scores.fired


@pytest.mark.parametrize("seed", range(5))
def test_topic_shift_fires(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(DIM), rng.standard_normal(DIM)
    emb = embedding_drift(_topic(rng, a, 100), _topic(rng, b, 100), permutations=200,
                          min_z=8.0, min_mmd=0.02, seed=seed)
    assert emb.fired and emb.details["p_value"] == pytest.approx(1 / 201, abs=1e-6)
    scores = score_drift(rng.beta(5, 3, 100), rng.beta(2, 6, 100), min_psi=0.25,
                         max_ks_p=0.001)
    assert scores.fired and scores.details["current_mean"] < scores.details["baseline_mean"]


def test_mmd_is_deterministic_symmetric_and_scale_free() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((50, DIM)), rng.standard_normal((50, DIM)) + 0.5
    first = mmd_permutation_test(x, y, permutations=100, seed=3)
    assert first == mmd_permutation_test(x, y, permutations=100, seed=3)
    scaled = mmd_permutation_test(x * 7.0, y * 0.1, permutations=100, seed=3)  # cosine geometry
    assert scaled[0] == pytest.approx(first[0])
    swapped = mmd_permutation_test(y, x, permutations=100, seed=3)
    assert swapped[0] == pytest.approx(first[0])
    with pytest.raises(ValueError):
        mmd_permutation_test(x[:1], y, permutations=10)


def test_psi_known_values() -> None:
    base = np.linspace(0, 1, 1000)
    assert psi(base, base) == pytest.approx(0.0, abs=1e-12)
    # everything moves into the lowest decile: sum over bins of (c - b) * ln(c / b)
    moved = np.full(1000, 0.01)
    expected = (1 - 0.1) * np.log(1 / 0.1) + 9 * (1e-4 - 0.1) * np.log(1e-4 / 0.1)
    assert psi(base, moved) == pytest.approx(expected, rel=1e-3)
    # ties in the baseline merge bin edges instead of failing
    assert psi(np.zeros(100), np.zeros(100)) == pytest.approx(0.0)
