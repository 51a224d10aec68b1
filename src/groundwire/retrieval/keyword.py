"""BM25 keyword ranking with bm25s, kept in process and derived from the store (P1).

Why not PostgreSQL full-text search: ``ts_rank`` is not BM25 (no IDF, no length saturation).
Measured on SciFact (benchmarks/keyword_ranking.py, docs/benchmarks.md): ts_rank_cd nDCG@10
is far below bm25s, so the store stays the source of truth and this index is rebuilt from it
whenever the index's generation changes (about 27k passages/s).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from groundwire.domain import Access
from groundwire.retrieval.phrases import PhraseIndex
from groundwire.settings import RetrievalSettings
from groundwire.stores.base import StoredChunk

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Bm25Params:
    """BM25 saturation (``k1``) and length normalisation (``b``).

    Defaults k1 = 0.9, b = 0.4: Anserini's defaults for passage retrieval (chosen there on
    MS MARCO, not on our sets). Measured keyword-only nDCG@10 against the previous 1.5 / 0.75
    (benchmarks/keyword_ranking.py --params, docs/benchmarks.md): E-Manual 0.606 vs 0.575,
    OR-ShARC 0.805 vs 0.797, SciFact 0.677 vs 0.683, SQuAD see docs. Section-sized passages
    with a title header are short and similar in length; strong length normalisation (b
    0.75) penalised the longer section that answers the question."""

    k1: float = 0.9
    b: float = 0.4
    # Weight of the adjacent-term (phrase) BM25 added to the word BM25; 0 turns it off.
    # See retrieval/phrases.py for what it is and what it was measured to be worth.
    phrase_weight: float = 0.3


def bm25_params(retrieval: RetrievalSettings) -> Bm25Params:
    """The keyword index parameters of the settings (serving, tuning and adaptation all
    score with these, so what they measure is what is served)."""
    return Bm25Params(k1=retrieval.bm25_k1, b=retrieval.bm25_b,
                      phrase_weight=retrieval.phrase_weight)


class Bm25Index:
    """An immutable BM25 index over one snapshot of an index's chunks. ``search`` is safe to
    call from several threads at once (the server scores on its event loop; tuning and
    benchmark code may use threads)."""

    def __init__(self, generation: int, chunks: Sequence[StoredChunk], params: Bm25Params) -> None:
        import bm25s

        self.generation = generation
        self.chunk_ids = np.array([c.chunk_id for c in chunks], dtype=np.int64)
        self._tokenizer = _tokenizer()
        self._retriever: Any = None
        self._phrases: PhraseIndex | None = None
        self._phrase_weight = params.phrase_weight
        if len(chunks):
            tokens = self._tokenizer.tokenize(
                [c.search_text for c in chunks], return_as="ids", show_progress=False
            )
            self._retriever = bm25s.BM25(k1=params.k1, b=params.b)
            self._retriever.index(tokens, show_progress=False)
            if params.phrase_weight > 0:
                self._phrases = _phrase_index(tokens, self._tokenizer, params)
        rows = [FilterRow(c.uri, c.media_type, c.metadata) for c in chunks]
        # reader token -> positions of the chunks it may read (the permission pre-filter).
        positions: dict[str, list[int]] = {}
        tenants: dict[str, list[int]] = {}
        for i, chunk in enumerate(chunks):
            tenants.setdefault(chunk.tenant, []).append(i)
            for token in chunk.readers:
                positions.setdefault(token, []).append(i)
        self._setup(
            readable={t: np.array(p, dtype=np.int64) for t, p in positions.items()},
            by_tenant={t: np.array(p, dtype=np.int64) for t, p in tenants.items()},
            rows=lambda: rows,
        )

    @classmethod
    def from_parts(
        cls, generation: int, chunk_ids: np.ndarray, retriever: Any, vocab_dir: str | None,
        readable: dict[str, np.ndarray], by_tenant: dict[str, np.ndarray],
        rows: Callable[[], list[FilterRow]], phrases: PhraseIndex | None = None,
        phrase_weight: float = 0.3,
    ) -> Bm25Index:
        """An index from persisted parts (``retrieval/keyword_snapshots.py``): a bm25s model
        (possibly memory-mapped), the tokenizer vocabulary saved beside it, the permission
        positions, a loader of the filter fields (called on the first filtered query) and
        the phrase index with its weight (None: no phrase scoring)."""
        self = cls.__new__(cls)
        self.generation = generation
        self.chunk_ids = chunk_ids
        self._tokenizer = _tokenizer()
        if vocab_dir is not None:
            self._tokenizer.load_vocab(vocab_dir)
        self._retriever = retriever
        self._phrases = phrases
        self._phrase_weight = phrase_weight
        self._setup(readable=readable, by_tenant=by_tenant, rows=rows)
        return self

    def _setup(self, *, readable: dict[str, np.ndarray], by_tenant: dict[str, np.ndarray],
               rows: Callable[[], list[FilterRow]]) -> None:
        # A PyStemmer object (and the tokenizer's word cache) is not safe to share between
        # threads, so query tokenizing is serialised (microseconds; the scoring that follows
        # runs unlocked).
        self._tokenize_lock = threading.Lock()
        self._vocab = self._tokenizer.get_vocab_dict()
        self._mask_cache: dict[str, np.ndarray] = {}
        self._position: dict[int, int] | None = None  # chunk id -> row, built on first use
        self._access_cache: dict[tuple[str | None, frozenset[str]], np.ndarray] = {}
        self._readable = readable
        self._by_tenant = by_tenant
        self._load_rows = rows
        self._rows: list[FilterRow] | None = None

    @property
    def tokenizer(self) -> Any:
        """The bm25s tokenizer (its vocabulary is saved with a snapshot)."""
        return self._tokenizer

    @property
    def model(self) -> Any:
        """The bm25s model (None for an empty index)."""
        return self._retriever

    @property
    def phrases(self) -> PhraseIndex | None:
        """The adjacent-term index (None when phrase scoring is off or the index is empty)."""
        return self._phrases

    @property
    def readable(self) -> Mapping[str, np.ndarray]:
        """Reader token -> positions of the chunks it may read."""
        return self._readable

    @property
    def by_tenant(self) -> Mapping[str, np.ndarray]:
        """Tenant -> positions of its chunks."""
        return self._by_tenant

    def filter_rows(self) -> list[FilterRow]:
        """(uri, media type, metadata) of every chunk, in position order."""
        if self._rows is None:
            self._rows = self._load_rows()
        return self._rows

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def query_tokens(self, query: str) -> list[int]:
        """Token ids of the query's known terms. Asked for as ids: bm25s's ``return_as=
        "string"`` rebuilds the reverse vocabulary on every call (milliseconds per query on a
        large index)."""
        with self._tokenize_lock:
            ids = self._tokenizer.tokenize(
                [query], update_vocab=False, return_as="ids", show_progress=False
            )[0]
        empty = self._vocab.get("")  # the placeholder of a text without known terms
        return [i for i in ids if i != empty]

    def search(
        self, query: str, k: int, filters: Mapping[str, Any] | None = None,
        access: Access | None = None,
    ) -> list[tuple[int, float]]:
        """Top-k (chunk id, BM25 score) with score > 0; filters and ``access`` applied before
        ranking (a weight mask: unreadable chunks score 0 and are never candidates)."""
        if self._retriever is None or k <= 0:
            return []
        ids = self.query_tokens(query)
        if not ids:
            return []
        mask = self._mask(filters) if filters else None
        if access is not None and not access.unrestricted:
            allowed = self.access_mask(access)
            mask = allowed if mask is None else mask * allowed
        if mask is not None and not mask.any():
            return []
        scores = self._scores(ids)
        if mask is not None:
            scores *= mask
        # Only chunks holding a query term can score > 0: rank those, not the whole index.
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        order = candidates[np.lexsort((candidates, -scores[candidates]))]
        return [(int(self.chunk_ids[d]), float(scores[d])) for d in order]

    def scores_for(self, query: str, chunk_ids: Sequence[int]) -> dict[int, float]:
        """BM25 score of ``query`` for each of ``chunk_ids`` in this snapshot (0.0 when it
        holds no query term; ids not in the snapshot are absent). Callers pass chunks they
        may already read (the dense list is access-filtered in SQL)."""
        if self._retriever is None or not chunk_ids:
            return {}
        if self._position is None:
            self._position = {int(c): i for i, c in enumerate(self.chunk_ids)}
        ids = self.query_tokens(query)
        scores = self._scores(ids) if ids else None
        out: dict[int, float] = {}
        for cid in chunk_ids:
            i = self._position.get(int(cid))
            if i is not None:
                out[int(cid)] = float(scores[i]) if scores is not None else 0.0
        return out

    def _scores(self, ids: Sequence[int]) -> np.ndarray:
        """BM25 score of every chunk: bm25s's precomputed per-(term, chunk) scores summed over
        the query's terms (in query order), plus the weighted phrase score of its adjacent
        term pairs. bm25s's numpy path uses ``np.add.at`` (unbuffered, slow); a
        term's postings hold each chunk at most once, so a buffered ``+=`` is exact."""
        index = self._retriever.scores
        data, indices, indptr = index["data"], index["indices"], index["indptr"]
        scores = np.zeros(index["num_docs"], dtype=np.float32)
        for token in ids:
            start, end = indptr[token], indptr[token + 1]
            scores[indices[start:end]] += data[start:end]
        nonoccurrence = self._retriever.nonoccurrence_array
        if nonoccurrence is not None:  # BM25L/BM25+ variants; the default (lucene) has none
            scores += nonoccurrence[list(ids)].sum()
        if self._phrases is not None and len(ids) > 1:
            scores += self._phrase_weight * self._phrases.scores(ids)
        return scores

    def access_mask(self, access: Access) -> np.ndarray:
        """1.0 for chunks ``access`` may read (its tenant, a shared reader token), else 0.

        Computed once per (tenant, tokens) for this immutable snapshot and cached (a few
        hundred entries): at 1M chunks building it costs milliseconds, which every query of the
        same reader would otherwise pay. The returned array is shared: do not modify it."""
        key = (access.tenant, frozenset(access.tokens))
        cached = self._access_cache.get(key)
        if cached is not None:
            return cached
        mask = np.zeros(len(self), dtype=np.float32)
        for token in access.tokens:
            positions = self._readable.get(token)
            if positions is not None:
                mask[positions] = 1.0
        if access.tenant is not None:  # tokens are tenant-qualified; belt and braces
            same_tenant = np.zeros(len(self), dtype=np.float32)
            positions = self._by_tenant.get(access.tenant)
            if positions is not None:
                same_tenant[positions] = 1.0
            mask *= same_tenant
        mask.flags.writeable = False
        if len(self._access_cache) > 256:
            self._access_cache.clear()
        self._access_cache[key] = mask
        return mask

    def _mask(self, filters: Mapping[str, Any]) -> np.ndarray:
        key = repr(sorted((k, repr(v)) for k, v in filters.items()))
        cached = self._mask_cache.get(key)
        if cached is None:
            cached = np.array([chunk_matches(c, filters) for c in self.filter_rows()],
                              dtype=np.float32)
            if len(self._mask_cache) > 64:
                self._mask_cache.clear()
            self._mask_cache[key] = cached
        return cached


@dataclass(frozen=True, slots=True)
class FilterRow:
    """The fields of a chunk that search filters read."""

    uri: str
    media_type: str
    metadata: Mapping[str, Any]


def _phrase_index(tokens: Any, tokenizer: Any, params: Bm25Params) -> PhraseIndex:
    """The phrase index over the chunks' token ids (bm25s's placeholder for a text without
    known terms is dropped, so it never forms pairs)."""
    vocab = tokenizer.get_vocab_dict()
    empty = vocab.get("")
    ids = tokens.ids if hasattr(tokens, "ids") else tokens
    if empty is not None:
        ids = [[t for t in doc if t != empty] for doc in ids]
    return PhraseIndex.build(ids, len(vocab), params.k1, params.b)


def _tokenizer() -> Any:
    """The tokenizer every index uses: English stop words, Snowball stemmer, bm25s's word
    splitter. Changing it changes scores: bump ``keyword_snapshots.FORMAT`` with it."""
    import Stemmer
    from bm25s.tokenization import Tokenizer

    return Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")


def chunk_matches(chunk: StoredChunk | FilterRow, filters: Mapping[str, Any]) -> bool:
    """The filter vocabulary of SearchRequest, evaluated in Python (same meaning as the SQL)."""
    prefix = filters.get("uri_prefix")
    if prefix and not chunk.uri.startswith(str(prefix)):
        return False
    media_type = filters.get("media_type")
    if media_type and chunk.media_type != media_type:
        return False
    wanted = filters.get("metadata") or {}
    return all(chunk.metadata.get(k) == v for k, v in wanted.items())
