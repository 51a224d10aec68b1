"""Both retrievers' candidate lists for pseudo-questions: what self-tuning scores offline.

* ``collect_lists``: the lists of each question against the corpus as it is;
* ``collect_lists_cloze``: the lists as if each sentence question's source sentence were not
  in the corpus (the inverse cloze task; see ``quality/autotune.py`` for why);
* ``check_vectors``: refuse to collect dense lists over an index that lacks the served
  model's vectors.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from groundwire.domain import SearchRequest
from groundwire.quality.pseudo_questions import PseudoQuestion
from groundwire.quality.tuning import CANDIDATE_DEPTH
from groundwire.retrieval.fusion import Ranked
from groundwire.text import WORD_WITH_APOSTROPHE as _WORDS

if TYPE_CHECKING:
    from groundwire.engine import IndexEngine
    from groundwire.stores.base import StoredChunk

KEEP_SOURCE = 0.1  # share of pseudo-questions whose source sentence stays in the corpus

@dataclass(frozen=True, slots=True)
class QuestionLists:
    """One question's two candidate lists and its known answer (a document id).

    ``copy``: for a question scored as if its source sentence were not in the corpus, the two
    lists against the corpus as it is (keyword, dense); None for the others."""

    question: PseudoQuestion
    keyword: Ranked
    dense: Ranked
    copy: tuple[Ranked, Ranked] | None = None

    def as_copy(self) -> QuestionLists:
        assert self.copy is not None
        return QuestionLists(self.question, *self.copy)


async def collect_lists(engine: IndexEngine, index: str, questions: Sequence[PseudoQuestion],
                        depth: int = CANDIDATE_DEPTH) -> list[QuestionLists]:
    """Both retrievers' candidate lists for each question (one retrieval each)."""
    out = []
    for q in questions:
        cands = await engine.retriever.candidates(SearchRequest(query=q.query, index=index), depth)
        out.append(QuestionLists(q, cands.keyword, cands.dense))
    return out


def source_sentence(question: PseudoQuestion, text: str) -> str | None:
    """The sentence of ``text`` a ``sentence`` question was made from: the first sentence
    holding the question's words in order; None when there is none."""
    from groundwire.ingest.chunking import split_sentences

    wanted = [w.lower() for w in _WORDS.findall(question.query)]
    for start, end in split_sentences(text):
        sentence = text[start:end]
        words = iter(w.lower() for w in _WORDS.findall(sentence))
        if wanted and all(w in words for w in wanted):
            return sentence
    return None


def keeps_source(question: PseudoQuestion, seed: int, share: float) -> bool:
    """Whether ``question`` keeps its source sentence in the corpus (seeded, about ``share``
    of them; decided per question, so independent of the order and of the other questions)."""
    return share > 0 and random.Random(f"{seed}:{question.chunk_id}:{question.query}"
                                       ).random() < share


async def collect_lists_cloze(
    engine: IndexEngine, index: str, questions: Sequence[PseudoQuestion],
    chunks: Sequence[StoredChunk], depth: int = CANDIDATE_DEPTH, *,
    keep_source: float = KEEP_SOURCE, seed: int = 0,
) -> list[QuestionLists]:
    """Candidate lists as if each ``sentence`` question's source sentence were not in the
    corpus (the inverse cloze task): a question copied from a passage is otherwise found by
    exact word overlap far more easily than a real question, which would pull the tuning
    toward keywords. BM25 runs on a temporary index of the corpus with those sentences
    removed; dense scores of the changed chunks are recomputed from their new text.

    About ``keep_source`` of the questions (``keeps_source``) keep their sentence in the
    corpus, as in the inverse cloze task's own recipe (Lee et al. 2019, ORQA: the sentence is
    removed 90 % of the time): real questions do share words with the passage that answers
    them, and a corpus with every source sentence removed makes keyword matching look worse
    than it is for them."""
    from groundwire.retrieval.keyword import Bm25Index, bm25_params

    by_id = {c.chunk_id: c for c in chunks}
    by_document: dict[int, list[StoredChunk]] = {}
    for c in chunks:
        by_document.setdefault(c.document_id, []).append(c)
    removed: dict[int, str] = {}  # chunk id -> text without the source sentences
    clozed: set[int] = set()  # id() of the questions whose source sentence was removed
    for q in questions:
        chunk = by_id.get(q.chunk_id)
        if keeps_source(q, seed, keep_source):
            continue
        sentence = source_sentence(q, chunk.text) if chunk and q.kind == "sentence" else None
        if sentence is None:
            continue
        clozed.add(id(q))
        for c in by_document[q.document_id]:  # overlapping chunks repeat sentences
            current = removed.get(c.chunk_id, c.text)
            if sentence in current:
                removed[c.chunk_id] = current.replace(sentence, " ")
    changed = [replace(by_id[cid], text=text) for cid, text in removed.items()]
    corpus = [replace(c, text=removed[c.chunk_id]) if c.chunk_id in removed else c
              for c in chunks]
    embedder = engine.retriever.embedder
    bm25 = await asyncio.to_thread(Bm25Index, 0, corpus,
                                   bm25_params(engine.settings.retrieval))
    vectors = await asyncio.to_thread(embedder.encode_passages,
                                      [c.search_text for c in changed])
    new_vector = {c.chunk_id: vectors[i] for i, c in enumerate(changed)}
    out = []
    for q in questions:
        keyword = bm25.search(q.query, depth)
        cands = await engine.retriever.candidates(SearchRequest(query=q.query, index=index), depth)
        qv = embedder.encode_query(q.query)
        dense = {cid: s for cid, s in cands.dense}
        for cid in dense.keys() & new_vector.keys():
            dense[cid] = float(np.dot(qv, new_vector[cid]))
        for c in by_document.get(q.document_id, []):  # the answer's changed chunks
            if c.chunk_id in new_vector:
                dense[c.chunk_id] = float(np.dot(qv, new_vector[c.chunk_id]))
        ranked = sorted(dense.items(), key=lambda kv: -kv[1])[:depth]
        out.append(QuestionLists(q, keyword, ranked,
                                 (cands.keyword, cands.dense) if id(q) in clozed else None))
    return out


VECTOR_SAMPLE = 2000  # chunks whose vectors ``check_vectors`` looks up
MIN_VECTOR_SHARE = 0.99


async def check_vectors(engine: IndexEngine, index: str, chunks: Sequence[StoredChunk],
                        seed: int) -> None:
    """Raise ``IndexNotReady`` (code ``autotune.vectors_missing``) when more than 1 % of a
    seeded sample of ``chunks`` have no vector from the served embedding model (an ingest or
    a re-embedding still running, or a model switched without re-embedding): the dense lists
    would hold only the chunks the cloze step re-embeds, each question's own answer among
    them, and the tuner would see a perfect dense retriever (measured: held-out dense nDCG@10
    0.93 on E-Manual, 1.0 on SciFact, and a promoted dense weight of 0.55)."""
    from groundwire.errors import IndexNotReady

    if not chunks:
        return
    ids = [c.chunk_id for c in chunks]
    sample = random.Random(seed).sample(ids, min(VECTOR_SAMPLE, len(ids)))
    embedder = engine.retriever.embedder
    probe = [1.0] + [0.0] * (embedder.dimension - 1)
    found = await engine.store.vector_scores(index, embedder.model_id, probe, sample)
    if len(found) < MIN_VECTOR_SHARE * len(sample):
        raise IndexNotReady(
            f"{len(sample) - len(found)} of {len(sample)} sampled chunks of index {index!r} have "
            f"no vector from the served model {embedder.model_id}: finish the ingest or "
            "re-embed (`groundwire versions`) before tuning", code="autotune.vectors_missing")
