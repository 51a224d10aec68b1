"""BM25-mined hard negatives for domain adaptation (quality/hard_negatives.py)."""

from __future__ import annotations

from groundwire.quality.hard_negatives import mine_hard_negatives
from groundwire.quality.pseudo_questions import PseudoQuestion
from groundwire.stores.base import StoredChunk


def _chunk(chunk_id: int, document_id: int, text: str) -> StoredChunk:
    return StoredChunk(chunk_id=chunk_id, document_id=document_id, uri=f"d{document_id}",
                       title=f"Manual {document_id}", media_type="text/plain", text=text,
                       header=None, heading_path=(), char_start=0, char_end=len(text),
                       metadata={})


def test_the_best_keyword_hit_of_another_document_that_is_not_a_copy() -> None:
    tv = "Pair the smart remote with the television by holding the back and play buttons."
    chunks = [
        _chunk(1, 1, tv),
        _chunk(2, 1, "The television remote needs two batteries."),  # same document: skipped
        _chunk(3, 2, tv.replace("holding", "pressing")),  # near-copy in another manual: skipped
        _chunk(4, 3, "Pair the phone with a remote speaker over Bluetooth in Settings."),
        _chunk(5, 4, "Cleaning the lens of the camera with a soft cloth."),
    ]
    questions = [
        PseudoQuestion("pair smart remote television", 1, 1, "d1", "sentence"),
        PseudoQuestion("soft cloth lens", 5, 4, "d4", "sentence"),  # no other document matches
    ]
    negatives = mine_hard_negatives(questions, chunks)
    assert negatives[0] is not None and "Bluetooth" in negatives[0]
    assert negatives[0] == chunks[3].search_text
    assert negatives[1] is None
