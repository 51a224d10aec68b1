"""The embedder port.

Contract: ``encode_passages`` / ``encode_query`` / ``encode_queries`` return L2-normalised float32
vectors of
``dimension`` floats, one per input, in input order; the same input gives the same vector
(deterministic); passages use ingest-time threads, queries (short texts at request time)
use the capped query-time threads; ``model_id`` names the weights and is stored with every
vector, so changing
weights must change it. ``count_tokens`` counts tokens with the model's own tokenizer (used to
fit chunks to ``max_tokens``). Failures raise ``EmbeddingError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    model_id: str
    max_tokens: int

    @property
    def dimension(self) -> int: ...  # read-only: a model may know it only once loaded

    def encode_passages(self, texts: Sequence[str]) -> Vectors: ...

    def encode_query(self, text: str) -> Vectors: ...

    def encode_queries(self, texts: Sequence[str]) -> Vectors: ...

    def count_tokens(self, text: str) -> int: ...
