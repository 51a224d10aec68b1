"""Deterministic hash-seeded embedder for fast unit tests only (no model, no torch).

Each word maps to a fixed random unit vector; a text is the normalised sum of its words'
vectors, so texts sharing words are close — enough to test ranking plumbing, not quality.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from groundwire.embedding.base import Vectors

_WORD = re.compile(r"\w+", re.UNICODE)


class FakeEmbedder:
    def __init__(self, dimension: int = 32, max_tokens: int = 256) -> None:
        self.model_id = f"fake-{dimension}"
        self.dimension = dimension
        self.max_tokens = max_tokens

    def _word(self, word: str) -> Vectors:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)

    def _one(self, text: str) -> Vectors:
        vec = np.zeros(self.dimension, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            vec += self._word(word)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._one(t) for t in texts])

    def encode_query(self, text: str) -> Vectors:
        return self._one(text)

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return self.encode_passages(texts)

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text))
