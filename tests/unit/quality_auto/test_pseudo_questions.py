"""Pseudo-question generation: deterministic for a seed, answers known, documents spread."""

from __future__ import annotations

import random

from groundwire.quality.pseudo_questions import generate_pseudo_questions
from groundwire.stores.base import StoredChunk


def _chunk(cid: int, doc: int, text: str, title: str = "", heading: tuple[str, ...] = ()
           ) -> StoredChunk:
    return StoredChunk(cid, doc, f"corpus.jsonl#{doc}", title, "text/plain", text,
                       title, heading, 0, len(text), {})


def _corpus(docs: int = 40) -> list[StoredChunk]:
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(500)]
    chunks = []
    for d in range(docs):
        for part in range(2):
            sentences = [" ".join(rng.choices(vocab, k=10)).capitalize() + "." for _ in range(3)]
            chunks.append(_chunk(d * 10 + part, d, " ".join(sentences),
                                 title=f"Document number {d}", heading=(f"Section {d} {part}",)))
    return chunks


def test_same_seed_same_questions_in_any_input_order() -> None:
    chunks = _corpus()
    first = generate_pseudo_questions(chunks, 30, seed=3)
    shuffled = chunks[:]
    random.Random(1).shuffle(shuffled)
    assert generate_pseudo_questions(shuffled, 30, seed=3) == first
    assert len(first) == 30
    other = generate_pseudo_questions(chunks, 30, seed=4)
    assert [q.query for q in other] != [q.query for q in first]


def test_answers_are_the_source_chunk_and_documents_are_spread() -> None:
    chunks = _corpus()
    by_id = {c.chunk_id: c for c in chunks}
    questions = generate_pseudo_questions(chunks, 40, seed=0)
    assert len({q.document_id for q in questions}) == 40  # one per document first
    assert len({q.query.lower() for q in questions}) == len(questions)
    kinds = {q.kind for q in questions}
    assert "sentence" in kinds and kinds <= {"title", "heading", "sentence"}
    for q in questions:
        chunk = by_id[q.chunk_id]
        assert (q.document_id, q.uri) == (chunk.document_id, chunk.uri)
        if q.kind == "sentence":
            # One of the chunk's sentences, punctuation dropped.
            sentences = [t.strip().rstrip(".") for t in chunk.text.split(".") if t.strip()]
            assert q.query in sentences
        elif q.kind == "title":
            assert q.query == chunk.title
        else:
            assert q.query == chunk.heading_path[-1]


def test_more_questions_than_documents_and_degenerate_inputs() -> None:
    chunks = _corpus(5)
    questions = generate_pseudo_questions(chunks, 12, seed=0)
    assert len(questions) == 12
    assert generate_pseudo_questions([], 10) == []
    assert generate_pseudo_questions(chunks, 0) == []
    tiny = [_chunk(1, 1, "Too short.")]
    assert generate_pseudo_questions(tiny, 5) == []


def test_word_subset_queries_keep_content_words_in_order() -> None:
    chunks = _corpus(10)
    by_id = {c.chunk_id: c for c in chunks}
    for q in generate_pseudo_questions(chunks, 10, seed=2, keep_fraction=0.5, drop_rarest=1):
        if q.kind != "sentence":
            continue
        words = q.query.lower().split()
        assert 3 <= len(words) <= 6  # half of ten content words, at most
        tokens = iter(by_id[q.chunk_id].text.lower().replace(".", "").split())
        assert all(w in tokens for w in words)  # a subsequence of the chunk
