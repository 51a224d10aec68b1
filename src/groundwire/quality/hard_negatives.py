"""Hard negatives for domain adaptation, mined with BM25 (``adapt --hard-negatives``).

In-batch negatives (``quality/adaptation.train``) are random passages of the corpus: easy to
tell apart from the answer. The mistakes the embedder makes on a corpus like E-Manual are of
another kind — the *same topic in another document* (the Bluetooth section of a phone manual
for a question about the TV's remote). ``mine_hard_negatives`` gives each training question
the passage keyword search ranks highest among those of *other* documents, which is exactly
such a confusable passage, to train against (the recipe of DPR, Karpukhin et al. 2020: one
BM25 negative per question next to the in-batch ones).

A near-copy of the answer in another document is not a negative (34 manuals in one house
style repeat sections nearly word for word): passages whose word sets overlap the answer's by
``MAX_JACCARD`` or more are skipped, and a question without any other candidate in the top
``DEPTH`` gets no hard negative (it still trains with in-batch negatives).
"""

from __future__ import annotations

from collections.abc import Sequence

from groundwire.quality.pseudo_questions import PseudoQuestion
from groundwire.retrieval.keyword import Bm25Index, Bm25Params
from groundwire.stores.base import StoredChunk
from groundwire.text import WORD_WITH_APOSTROPHE

DEPTH = 20
MAX_JACCARD = 0.6


def _words(text: str) -> set[str]:
    return {w.lower() for w in WORD_WITH_APOSTROPHE.findall(text)}


def mine_hard_negatives(
    questions: Sequence[PseudoQuestion], chunks: Sequence[StoredChunk],
    params: Bm25Params | None = None,
) -> list[str | None]:
    """For each question, the ``search_text`` of the best BM25 hit among ``chunks`` of other
    documents that is not a near-copy of the question's own chunk; None when there is none."""
    by_id = {c.chunk_id: c for c in chunks}
    index = Bm25Index(0, list(chunks), params or Bm25Params())
    out: list[str | None] = []
    for q in questions:
        own = by_id.get(q.chunk_id)
        own_words = _words(own.text) if own is not None else set()
        picked: str | None = None
        for chunk_id, _ in index.search(q.query, DEPTH):
            chunk = by_id[chunk_id]
            if chunk.document_id == q.document_id:
                continue
            words = _words(chunk.text)
            union = len(words | own_words)
            if union and len(words & own_words) / union >= MAX_JACCARD:
                continue
            picked = chunk.search_text
            break
        out.append(picked)
    return out
