"""Helpers shared by the built-in parsers: titles, paragraphs, the empty-document check."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from groundwire.domain import Block
from groundwire.errors import ParseError

_BLANK_LINE = re.compile(r"\n[ \t\f\v]*\n")


def stem_title(uri: str) -> str:
    """The file stem of ``uri`` (``docs/guide.md#x`` -> ``guide``), used when no title is found."""
    path = uri.split("#", 1)[0].replace("\\", "/").rstrip("/")
    return PurePosixPath(path).stem if path else ""


def collapse_whitespace(text: str) -> str:
    """All runs of whitespace (newlines and NBSP included) become one space; ends trimmed."""
    return " ".join(text.split())


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of ``text`` split on blank lines; lines inside a paragraph are kept, trailing
    spaces trimmed; empty paragraphs dropped. Newlines are normalised (CRLF, CR -> LF)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = []
    for part in _BLANK_LINE.split(text):
        para = "\n".join(line.rstrip() for line in part.strip("\n").split("\n")).strip()
        if para:
            paragraphs.append(para)
    return paragraphs


def body_blocks(text: str) -> list[Block]:
    """One level-0 block per paragraph of ``text``."""
    return [Block(text=para, level=0) for para in split_paragraphs(text)]


def require_blocks(blocks: Iterable[Block], uri: str, *, hint: str = "") -> tuple[Block, ...]:
    """Blocks with visible text, or ``ParseError(code="parse.empty")`` when there are none."""
    kept = tuple(b for b in blocks if b.text.strip())
    if not kept:
        message = f"{uri}: no text found"
        raise ParseError(f"{message} ({hint})" if hint else message, code="parse.empty")
    return kept


def first_heading(blocks: Iterable[Block], level: int = 1) -> str | None:
    """Text of the first heading of exactly ``level``, if any."""
    return next((b.text for b in blocks if b.level == level), None)
