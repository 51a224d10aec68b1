"""How much dense weight an index's own pseudo-questions justify: the tuner's guard for corpora
where the embedder is weak.

The problem it answers (issue 19): on E-Manual (34 device manuals in one house style) the
small embedder puts a section of the *wrong* manual first for 44 % of real questions, and the
default fusion (dense weight 0.5) ranks below Groundwire's own keyword ranking (nDCG@10 0.647
vs 0.667). The tuner's pseudo-questions there still rate the fusion a little above keyword
ranking (+0.012 over 400 questions), so neither the selection nor the held-out check moved
the weight: both only ask which setting scores best, and the best was the default.

The guard asks a different question: *is the dense side's contribution established at all?*
``dense_evidence`` compares the default fusion with keyword ranking (dense weight 0, the same
fusion otherwise) on every pseudo-question (both halves: this is one pre-registered
comparison, not a selection among settings, so there is no winner's curse to hold back) and
expresses the gain in paired standard errors, ``z``. Keyword ranking is the safe side — it
cannot put a passage that shares no word with the question first — so the dense weight has to
be earned: it keeps its full configured value when ``z >= Z_FULL`` and shrinks linearly toward
0 below that (rounded down to the tuner's 0.05 grid); no gain, or a loss, leaves keyword
ranking only.

Measured ``z`` (400 pseudo-questions each, seeds 0-3, the bundled MiniLM; docs/benchmarks.md
"Dense-evidence guard"):

| set | z at seeds 0, 1, 2, 3 | dense weight after the guard |
|---|---|---|
| E-Manual | 1.93, -0.68, -0.64, -1.48 | 0.45, 0, 0, 0 |
| SciFact | 5.07, 2.36, 3.10, 4.82 | 0.5 (unchanged) |
| OR-ShARC | 6.72, 6.60, 5.13, 5.88 | 0.5 (unchanged) |
| SQuAD | 10.06 (seed 0) | 0.5 (unchanged) |

``Z_FULL`` = 2 is the conventional two-standard-error line. It was checked, not fitted, on
these sets: 3 would also have capped SciFact at seed 1 (z 2.36: dense weight 0.35, which
labels score about 0.015 below 0.5) — the seed-to-seed spread of a 400-question estimate is
larger than its standard error suggests, so the line sits at the lower conventional value.
With labels, E-Manual scores 0.667 at dense weight 0 and 0.647 at 0.5.

When every pseudo-question is answered equally by both sides (a paired SE of 0 and no gain),
the questions carry no evidence either way and the guard does not act.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from groundwire.settings import RetrievalTuning

Z_FULL = 2.0  # paired standard errors of gain at which the configured dense weight is earned
STEP = 0.05  # the tuner's weight grid (quality/tuning.WEIGHTS)


def dense_cap(default_weight: float, gain: float, se: float) -> float | None:
    """The largest dense weight the evidence supports, or None when it supports the configured
    one (or carries no information). ``gain``: mean nDCG@10 of the default fusion minus
    keyword ranking; ``se``: its paired standard error."""
    if default_weight <= 0:
        return None
    if se <= 0:  # every question gained (or lost) the same: a loss is evidence, a tie is not
        return None if gain >= 0 else 0.0
    z = gain / se
    if z >= Z_FULL:
        return None
    share = max(0.0, z) / Z_FULL
    return round(math.floor(default_weight * share / STEP + 1e-9) * STEP, 2)


def dense_evidence(
    lists: Sequence[Any],
    default: RetrievalTuning,
    score: Callable[[Sequence[Any], RetrievalTuning], np.ndarray],
) -> dict[str, Any]:
    """The guard's evidence on ``lists`` (``score(lists, config)`` gives per-question nDCG@10):
    ``gain``, ``se``, ``z``, ``cap`` (None: no cap) and the ``questions`` counted."""
    keyword_only = default.model_copy(update={"dense_weight": 0.0})
    fused = score(lists, default)
    keyword = score(lists, keyword_only)
    diff = fused - keyword
    gain = float(diff.mean()) if len(diff) else 0.0
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    cap = dense_cap(default.dense_weight, gain, se) if len(diff) else None
    return {
        "questions": len(diff),
        "gain": round(gain, 4),
        "se": round(se, 4),
        "z": round(gain / se, 2) if se > 0 else None,
        "z_full": Z_FULL,
        "cap": cap,
    }
