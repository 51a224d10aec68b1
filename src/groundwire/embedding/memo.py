"""``MemoEmbedder``: an Embedder whose ``encode_queries`` remembers vectors by text (LRU).

Answering encodes the sentences of the top passages twice per question — the extractive
evidence gate scores them, then citation verification compares the answer with them — and
popular passages recur across questions. Encoding is the dominant CPU cost of the answer
layer on a small box, so the answer path shares one memo (``bootstrap.build_app``). Vectors
are identical to the wrapped embedder's (same model, same text → same vector; the Embedder
contract), so the memo changes speed only. Everything else delegates.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from cachetools import LRUCache

from groundwire.embedding.base import Embedder, Vectors


class MemoEmbedder:
    def __init__(self, embedder: Embedder, *, max_entries: int = 20_000) -> None:
        self._inner = embedder
        self._memo: LRUCache[str, np.ndarray] = LRUCache(maxsize=max_entries)
        self._lock = threading.Lock()
        self.model_id = embedder.model_id
        self.dimension = embedder.dimension
        self.max_tokens = embedder.max_tokens

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            known = {t: self._memo.get(t) for t in texts}
        missing = list(dict.fromkeys(t for t, v in known.items() if v is None))
        if missing:
            vectors = self._inner.encode_queries(missing)
            fresh = dict(zip(missing, vectors, strict=True))
            with self._lock:
                for text, vector in fresh.items():
                    self._memo[text] = vector
            known.update(fresh)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([cast(np.ndarray, known[t]) for t in texts])  # all filled above

    def encode_query(self, text: str) -> Vectors:
        return self.encode_queries([text])[0]

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        return self._inner.encode_passages(texts)

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
