"""MemoEmbedder returns exactly the wrapped embedder's vectors and encodes each text once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from groundwire.embedding.fake import FakeEmbedder
from groundwire.embedding.memo import MemoEmbedder


class Counting(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.encoded: list[str] = []

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded.extend(texts)
        return super().encode_queries(texts)


def test_memo_gives_identical_vectors_and_encodes_each_text_once() -> None:
    inner = Counting()
    memo = MemoEmbedder(inner, max_entries=3)
    first = memo.encode_queries(["a b", "c d", "a b"])
    assert np.array_equal(first, FakeEmbedder().encode_queries(["a b", "c d", "a b"]))
    assert inner.encoded == ["a b", "c d"]
    again = memo.encode_queries(["c d", "e f"])
    assert inner.encoded == ["a b", "c d", "e f"]
    assert np.array_equal(again[0], first[1])
    assert memo.encode_queries([]).shape == (0, inner.dimension)
    memo.encode_queries(["g h", "i j"])  # max_entries=3: the least recently used go
    memo.encode_queries(["a b"])
    assert inner.encoded[-1] == "a b"
    assert memo.count_tokens("x y z") == inner.count_tokens("x y z")
    assert memo.model_id == inner.model_id
