"""Drift statistics: has the latest window of queries moved away from the window before it?

Two measured tests (thresholds and false-alarm counts in docs/benchmarks.md):

* **Query embeddings** — maximum mean discrepancy (MMD², unbiased) between the two windows'
  unit-normalised query embeddings with an RBF kernel whose bandwidth is the median pairwise
  squared distance of the pooled sample. Significance is a permutation test (labels shuffled
  ``permutations`` times, seeded: the same data always gives the same verdict); it fires when
  the observed MMD² is ``min_z`` permutation standard deviations above the permutation mean
  *and* at least ``min_mmd`` (an effect size, so large windows do not alarm on trivial shifts).
* **Top retrieval score** — population stability index over ten equal-frequency bins of the
  baseline scores, together with the two-sample Kolmogorov-Smirnov test; fires when
  ``PSI >= min_psi`` and ``KS p < max_ks_p``.

Pure functions over numpy arrays; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

PSI_BINS = 10
_PSI_FLOOR = 1e-4


@dataclass(frozen=True, slots=True)
class DriftResult:
    """One test's verdict: ``statistic`` is MMD² or PSI; ``fired`` applies the thresholds."""

    test: str  # "mmd" | "psi_ks"
    statistic: float
    fired: bool
    details: dict[str, Any]


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def mmd_permutation_test(
    baseline: np.ndarray, current: np.ndarray, *, permutations: int = 200, seed: int = 0
) -> tuple[float, float, float]:
    """``(mmd2, z, p_value)`` of the unbiased MMD² between two samples of vectors.

    ``z`` is (observed - permutation mean) / permutation std; ``p_value`` is the share of
    permutations (plus the observation) at least as large as the observation.
    """
    x, y = _unit(baseline), _unit(current)
    n, m = len(x), len(y)
    if n < 2 or m < 2:
        raise ValueError("each sample needs at least 2 vectors")
    z = np.vstack([x, y])
    sq = np.clip(2.0 - 2.0 * (z @ z.T), 0.0, None)
    off = sq[~np.eye(len(z), dtype=bool)]
    bandwidth = float(np.median(off)) or 1.0
    k = np.exp(-sq / bandwidth)

    def stat(labels: np.ndarray) -> np.ndarray:
        """MMD² for each column of a 0/1 label matrix (1 = first sample); diag(K) = 1."""
        s = labels.astype(np.float64)
        t = 1.0 - s
        ks, kt = k @ s, k @ t
        xx = (np.einsum("ij,ij->j", s, ks) - n) / (n * (n - 1))
        yy = (np.einsum("ij,ij->j", t, kt) - m) / (m * (m - 1))
        xy = np.einsum("ij,ij->j", s, kt) / (n * m)
        result: np.ndarray = xx + yy - 2.0 * xy
        return result

    observed_labels = np.zeros((n + m, 1))
    observed_labels[:n, 0] = 1.0
    observed = float(stat(observed_labels)[0])
    rng = np.random.default_rng(seed)
    perm = np.zeros((n + m, permutations))
    for j in range(permutations):
        perm[rng.permutation(n + m)[:n], j] = 1.0
    null = stat(perm)
    std = float(null.std()) or 1e-12
    z_score = (observed - float(null.mean())) / std
    p_value = (1.0 + float((null >= observed).sum())) / (permutations + 1.0)
    return observed, z_score, p_value


def psi(baseline: np.ndarray, current: np.ndarray, bins: int = PSI_BINS) -> float:
    """Population stability index of ``current`` against ``baseline`` over equal-frequency
    bins of the baseline (tied edges merged; empty bins floored at 1e-4)."""
    base = np.asarray(baseline, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    edges = np.unique(np.quantile(base, np.linspace(0, 1, bins + 1)[1:-1]))
    b = np.bincount(np.searchsorted(edges, base, side="right"), minlength=len(edges) + 1)
    c = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
    pb = np.maximum(b / b.sum(), _PSI_FLOOR)
    pc = np.maximum(c / c.sum(), _PSI_FLOOR)
    return float(np.sum((pc - pb) * np.log(pc / pb)))


def embedding_drift(
    baseline: np.ndarray, current: np.ndarray, *, permutations: int, min_z: float,
    min_mmd: float, seed: int = 0,
) -> DriftResult:
    mmd2, z, p = mmd_permutation_test(baseline, current, permutations=permutations, seed=seed)
    return DriftResult(
        "mmd", round(mmd2, 6), bool(z >= min_z and mmd2 >= min_mmd),
        {"z": round(z, 3), "p_value": round(p, 6), "baseline": len(baseline),
         "current": len(current), "min_z": min_z, "min_mmd": min_mmd},
    )


def score_drift(
    baseline: np.ndarray, current: np.ndarray, *, min_psi: float, max_ks_p: float
) -> DriftResult:
    from scipy.stats import ks_2samp

    value = psi(baseline, current)
    ks = ks_2samp(np.asarray(baseline, dtype=np.float64), np.asarray(current, dtype=np.float64))
    p = float(ks.pvalue)
    return DriftResult(
        "psi_ks", round(value, 6), bool(value >= min_psi and p < max_ks_p),
        {"ks_statistic": round(float(ks.statistic), 6), "ks_p_value": p,
         "baseline_mean": round(float(np.mean(baseline)), 6),
         "current_mean": round(float(np.mean(current)), 6), "baseline": len(baseline),
         "current": len(current), "min_psi": min_psi, "max_ks_p": max_ks_p},
    )
