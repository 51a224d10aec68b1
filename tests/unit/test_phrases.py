"""Phrase (adjacent-term) BM25: equal to bm25s over the same pairs, and it ranks a passage
holding the query's phrase above one holding the same words apart."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest

from groundwire.retrieval.keyword import Bm25Index, Bm25Params
from groundwire.retrieval.keyword_snapshots import KeywordSnapshots, SnapshotKey
from groundwire.retrieval.phrases import PhraseIndex, pair_keys
from groundwire.stores.base import StoredChunk

DOCS = [[1, 2, 3, 1, 2], [2, 3], [4, 5, 6, 7], [1, 2], [3], [5, 6, 5, 6, 5, 6]]


@pytest.mark.parametrize(("k1", "b"), [(0.9, 0.4), (1.5, 0.75), (1.2, 0.0)])
def test_scores_equal_bm25s_over_the_same_pairs(k1: float, b: float) -> None:
    vocab_size = 10
    index = PhraseIndex.build(DOCS, vocab_size, k1, b)
    # bm25s over the pairs as strings (a placeholder keeps pair-less documents' lengths 0).
    pair_docs = [[str(k) for k in pair_keys(d, vocab_size)] for d in DOCS]
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(p, len(vocab)) for p in doc] for doc in pair_docs]
    reference = bm25s.BM25(k1=k1, b=b)
    reference.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    for query in ([1, 2, 3], [5, 6], [2, 3, 9], [7]):
        expected = np.zeros(len(DOCS), dtype=np.float32)
        for key in pair_keys(query, vocab_size):
            if str(key) in vocab:
                expected += reference.get_scores([str(key)])
        np.testing.assert_allclose(index.scores(query), expected, rtol=1e-5, atol=1e-6)


def test_an_empty_or_pairless_corpus_scores_zero() -> None:
    assert PhraseIndex.build([], 5, 0.9, 0.4).scores([1, 2]).shape == (0,)
    assert not PhraseIndex.build([[1], [2]], 5, 0.9, 0.4).scores([1, 2]).any()


def chunk(cid: int, text: str) -> StoredChunk:
    return StoredChunk(cid, cid, f"d{cid}", "", "text/plain", text, "", (), 0, len(text), {})


# Same words, same length; only chunk 1 has "ambient mode" as a phrase.
CHUNKS = [chunk(1, "Set the ambient mode wallpaper from the decor menu of the screen"),
          chunk(2, "The decor menu and the ambient light sensor change the screen mode"),
          chunk(3, "Pair the remote control with the television")]


def test_the_passage_with_the_phrase_ranks_first() -> None:
    with_phrases = Bm25Index(1, CHUNKS, Bm25Params())
    hits = with_phrases.search("ambient mode decor", 10)
    assert [h[0] for h in hits] == [1, 2]
    assert hits[0][1] > hits[1][1]
    words_only = Bm25Index(1, CHUNKS, Bm25Params(phrase_weight=0.0))
    assert words_only.phrases is None
    scores = dict(words_only.search("ambient mode decor", 10))
    assert scores[1] == pytest.approx(scores[2])  # without phrases the two are tied


def test_the_phrase_weight_is_part_of_a_snapshot_key(tmp_path: Path) -> None:
    built = Bm25Index(1, CHUNKS, Bm25Params())
    snapshots = KeywordSnapshots(tmp_path)
    key = SnapshotKey("default", None, "e", 1, Bm25Params())
    snapshots.save(key, built)
    loaded = snapshots.load(key)
    assert loaded is not None and loaded.phrases is not None
    assert loaded.search("ambient mode decor", 10) == built.search("ambient mode decor", 10)
    other = SnapshotKey("default", None, "e", 1, Bm25Params(phrase_weight=0.5))
    assert snapshots.load(other) is None
