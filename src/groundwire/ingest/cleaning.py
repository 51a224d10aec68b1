"""Text cleaning: Unicode normalisation, control characters, whitespace. Pure functions."""

from __future__ import annotations

import re
import unicodedata

from groundwire.domain import Block, ParsedDocument

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_text(text: str) -> str:
    """NFC-normalise, drop control and zero-width characters, collapse runs of spaces, trim
    each line; keep single newlines (lists, code) but never blank lines inside a block."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", text).strip()


def clean_document(doc: ParsedDocument) -> ParsedDocument:
    """Clean every block, drop empty ones; the title is cleaned to one line."""
    blocks = tuple(
        Block(text=cleaned, level=b.level)
        for b in doc.blocks
        if (cleaned := clean_text(b.text))
    )
    title = " ".join(clean_text(doc.title).split())
    return ParsedDocument(title=title, blocks=blocks, metadata=doc.metadata)
