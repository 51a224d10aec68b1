"""Adjacent-term (phrase) BM25: the ordered-bigram part of a sequential dependence model.

Why: a query's multi-word terms ("ambient mode", "universal guide", "hearing aid") name the
thing asked about; unigram BM25 scores a passage that has *ambient* in one sentence and
*mode* in another as high as one that has the phrase. Metzler & Croft's sequential
dependence model adds a score for adjacent query-term pairs; here that is a second BM25 over
each chunk's adjacent pairs of (stemmed, stop-word-free) tokens, added to the unigram score
with ``Bm25Params.phrase_weight``. Measured offline on the four shared sets with the serving
tokenizer (docs/benchmarks.md, "Phrase scoring"): keyword nDCG@10 E-Manual 0.597 → 0.657,
OR-ShARC 0.805 → 0.825, SQuAD 0.816 → 0.826, SciFact 0.677 → 0.674 at weight 0.3.

Why hand-written instead of a second bm25s model: bm25s needs a string vocabulary, and the
pair vocabulary is an order of magnitude larger than the word one (millions of Python
strings at 1M chunks). Pairs are keyed here by ``left * vocab_size + right`` (int64) in one
sorted array; the postings are the weights bm25s's default ("lucene") method computes, so
the two scores add on one scale: ``idf · tf / (tf + k1 · (1 − b + b · len / avg_len))`` with
``idf = ln(1 + (N − df + 0.5) / (df + 0.5))`` (tested equal to bm25s on a small corpus).

Contract: ``PhraseIndex.build(token_ids, vocab_size, k1, b)`` takes each chunk's token ids in
text order; ``scores(query_ids)`` returns a float32 array over the chunks (0 where no query
pair occurs). Immutable after build; ``scores`` is thread-safe. ``arrays()`` /
``from_arrays`` persist it (the snapshot memory-maps them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pair_keys(ids: Sequence[int] | np.ndarray, vocab_size: int) -> np.ndarray:
    """Keys of the adjacent pairs of ``ids`` (in order), as int64."""
    arr = np.asarray(ids, dtype=np.int64)
    if len(arr) < 2:
        return np.zeros(0, dtype=np.int64)
    return arr[:-1] * np.int64(vocab_size) + arr[1:]


class PhraseIndex:
    """BM25 over adjacent token pairs (see the module docstring)."""

    def __init__(self, vocab_size: int, num_docs: int, keys: np.ndarray, data: np.ndarray,
                 indices: np.ndarray, indptr: np.ndarray) -> None:
        self.vocab_size = vocab_size
        self.num_docs = num_docs
        self._keys = keys  # sorted unique pair keys; term t's postings: indptr[t]:indptr[t+1]
        self._data = data
        self._indices = indices
        self._indptr = indptr

    @classmethod
    def build(cls, token_ids: Sequence[Sequence[int]], vocab_size: int, k1: float,
              b: float) -> PhraseIndex:
        n = len(token_ids)
        per_doc = [pair_keys(t, vocab_size) for t in token_ids]
        lengths = np.array([len(p) for p in per_doc], dtype=np.float64)
        if not n or not lengths.sum():
            empty = np.zeros(0, dtype=np.int64)
            return cls(vocab_size, n, empty, np.zeros(0, dtype=np.float32),
                       np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64))
        all_keys = np.concatenate(per_doc)
        docs = np.repeat(np.arange(n, dtype=np.int64), lengths.astype(np.int64))
        # term frequency per (pair, doc): unique over the combined (term, doc) code.
        keys, term = np.unique(all_keys, return_inverse=True)
        code = term.astype(np.int64) * n + docs
        code, tf = np.unique(code, return_counts=True)  # sorted by term, then doc
        term_of, doc_of = code // n, code % n
        df = np.bincount(term_of, minlength=len(keys))
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        avg = lengths.mean()
        norm = k1 * (1.0 - b + b * lengths[doc_of] / avg)
        data = (idf[term_of] * tf / (tf + norm)).astype(np.float32)
        indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        return cls(vocab_size, n, keys, data, doc_of.astype(np.int32), indptr)

    def scores(self, query_ids: Sequence[int]) -> np.ndarray:
        """Phrase BM25 of every chunk for the query's adjacent pairs (a repeated pair counts
        once per occurrence, as a repeated word does in the unigram score)."""
        out = np.zeros(self.num_docs, dtype=np.float32)
        wanted = pair_keys(query_ids, self.vocab_size)
        if not len(wanted) or not len(self._keys):
            return out
        where = np.searchsorted(self._keys, wanted)
        for key, t in zip(wanted, where, strict=True):
            if t < len(self._keys) and self._keys[t] == key:
                start, end = self._indptr[t], self._indptr[t + 1]
                out[self._indices[start:end]] += self._data[start:end]
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """The index as named arrays (for a snapshot)."""
        return {"keys": self._keys, "data": self._data, "indices": self._indices,
                "indptr": self._indptr,
                "shape": np.array([self.vocab_size, self.num_docs], dtype=np.int64)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> PhraseIndex:
        vocab_size, num_docs = (int(x) for x in arrays["shape"])
        return cls(vocab_size, num_docs, arrays["keys"], arrays["data"], arrays["indices"],
                   arrays["indptr"])
