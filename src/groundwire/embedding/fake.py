"""Deterministic hash-seeded embedder for fast unit tests only (no model, no torch).

Each word maps to a fixed random unit vector; a text is the normalised sum of its words'
vectors, so texts sharing words are close — enough to test ranking plumbing, not quality.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

import numpy as np

from groundwire.embedding.base import Vectors
from groundwire.text import WORD


@functools.lru_cache(maxsize=100_000)
def _word_vector(word: str, dimension: int) -> Vectors:
    """The fixed vector of a word (memoised: seeding a generator costs more than the sum)."""
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    vec = np.random.default_rng(seed).standard_normal(dimension).astype(np.float32)
    vec.flags.writeable = False
    return vec


class FakeEmbedder:
    def __init__(self, dimension: int = 32, max_tokens: int = 256) -> None:
        self.model_id = f"fake-{dimension}"
        self.dimension = dimension
        self.max_tokens = max_tokens

    def _word(self, word: str) -> Vectors:
        return _word_vector(word, self.dimension)

    def _one(self, text: str) -> Vectors:
        vec = np.zeros(self.dimension, dtype=np.float32)
        for word in WORD.findall(text.lower()):
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
        return len(WORD.findall(text))
