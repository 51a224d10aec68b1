from __future__ import annotations

from groundwire.domain import Block, ParsedDocument
from groundwire.ingest.chunking import Chunker, split_sentences


def words(text: str) -> int:
    return len(text.split())


def make_chunker(max_tokens: int = 20, overlap: int = 5, window: int = 64) -> Chunker:
    return Chunker(words, max_tokens=max_tokens, overlap_tokens=overlap, window_tokens=window)


def sentences(n: int, prefix: str) -> str:
    return " ".join(f"{prefix} sentence number {i} has six words." for i in range(n))


def test_split_sentences_keeps_abbreviations_and_offsets() -> None:
    text = "First one here. e.g. this stays. Second starts here! Third? Yes."
    spans = split_sentences(text)
    parts = [text[s:e] for s, e in spans]
    assert parts == ["First one here. e.g. this stays.", "Second starts here!", "Third?", "Yes."]


def test_chunk_text_is_exact_slice_of_document_text() -> None:
    doc = ParsedDocument("Guide", (Block("Intro", 1), Block(sentences(12, "Alpha")),
                                   Block("Setup", 2), Block(sentences(9, "Beta"))))
    chunks = make_chunker().chunk(doc)
    assert len(chunks) > 4
    for chunk in chunks:
        assert doc.text[chunk.char_start:chunk.char_end] == chunk.text
        assert chunk.token_count <= 20


def test_chunks_never_cross_headings_and_carry_heading_path() -> None:
    doc = ParsedDocument("Guide", (Block("Intro", 1), Block(sentences(3, "Alpha")),
                                   Block("Setup", 2), Block(sentences(3, "Beta")),
                                   Block("Other", 1), Block(sentences(2, "Gamma"))))
    chunks = make_chunker(max_tokens=60, window=200).chunk(doc)
    assert [c.heading_path for c in chunks] == [("Intro",), ("Intro", "Setup"), ("Other",)]
    assert "Beta" not in chunks[0].text and "Alpha" not in chunks[1].text
    assert chunks[1].header == "Guide › Intro › Setup"
    assert chunks[1].search_text.startswith("Guide › Intro › Setup\n\n")


def test_consecutive_chunks_overlap_by_trailing_sentence() -> None:
    doc = ParsedDocument("T", (Block(sentences(10, "Delta")),))
    chunks = make_chunker(max_tokens=20, overlap=7).chunk(doc)
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        last_sentence = prev.text.split(". ")[-1].rstrip(".")
        assert last_sentence in nxt.text
        assert nxt.char_start < prev.char_end


def test_no_overlap_when_zero() -> None:
    doc = ParsedDocument("T", (Block(sentences(10, "Delta")),))
    chunks = make_chunker(max_tokens=20, overlap=0).chunk(doc)
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        assert nxt.char_start > prev.char_end


def test_over_long_sentence_is_cut_at_word_boundaries() -> None:
    doc = ParsedDocument("T", (Block(" ".join(f"w{i}" for i in range(55))),))
    chunks = make_chunker(max_tokens=20, overlap=0).chunk(doc)
    assert [c.token_count for c in chunks] == [20, 20, 15]
    assert " ".join(c.text for c in chunks) == doc.text


def test_header_shrinks_the_body_budget_to_fit_the_window() -> None:
    long_title = " ".join(["title"] * 30)
    doc = ParsedDocument(long_title, (Block(sentences(20, "Eps")),))
    chunks = make_chunker(max_tokens=40, overlap=0, window=64).chunk(doc)
    for c in chunks:
        assert words(c.header) + 2 + c.token_count <= 64


def test_chunking_is_deterministic() -> None:
    doc = ParsedDocument("T", (Block("H", 1), Block(sentences(15, "Zeta"))))
    a = make_chunker().chunk(doc)
    b = make_chunker().chunk(doc)
    assert [c.content_hash for c in a] == [c.content_hash for c in b]
