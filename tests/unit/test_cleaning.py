from __future__ import annotations

from groundwire.domain import Block, ParsedDocument
from groundwire.ingest.cleaning import clean_document, clean_text


def test_clean_text_normalises_whitespace_and_controls() -> None:
    raw = "Cafe\u0301\x00  menu\u200b\r\n\r\n\r\n  item\t\tone  "
    assert clean_text(raw) == "Café menu\nitem one"


def test_clean_document_drops_empty_blocks_and_flattens_title() -> None:
    doc = ParsedDocument("  My\n Title ", (Block("  "), Block("Body", 0), Block("\x00", 1)))
    cleaned = clean_document(doc)
    assert cleaned.title == "My Title"
    assert cleaned.blocks == (Block("Body", 0),)
