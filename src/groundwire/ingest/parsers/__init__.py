"""Built-in parsers: one module per format, each ``SourceItem -> ParsedDocument``.

``BUILTIN_PARSERS`` maps a media type to its parse function. It is not how the pipeline finds
parsers: each is registered as an entry point of the ``groundwire.parsers`` group in
``pyproject.toml`` (name: the media type), exactly as a third-party parser is, and
``groundwire.registry.parsers()`` reads that group; ``tests/unit/test_registry.py`` checks the
two agree. Record containers (JSON Lines,
JSON, CSV) are not parsed into one document but expanded into items by
``records.iter_records`` (their media types are ``records.RECORD_MEDIA_TYPES``). Parsers raise
``groundwire.errors.ParseError`` with a stable ``code``; importing this package loads no
third-party parser library (each parser imports its library on first use). Images and
scanned PDF pages are read by OCR (``ocr``); parsers that take an ``ocr`` keyword get the
``ingest.ocr`` settings through ``with_ocr``.
"""

from __future__ import annotations

from collections.abc import Callable

from groundwire.domain import ParsedDocument, SourceItem
from groundwire.ingest.parsers import media_types
from groundwire.ingest.parsers.docx import parse_docx
from groundwire.ingest.parsers.html import parse_html
from groundwire.ingest.parsers.markdown import parse_markdown
from groundwire.ingest.parsers.media_types import media_type_for
from groundwire.ingest.parsers.ocr import parse_image, with_ocr
from groundwire.ingest.parsers.pdf import parse_pdf
from groundwire.ingest.parsers.records import RECORD_MEDIA_TYPES, iter_records
from groundwire.ingest.parsers.text import parse_record, parse_text

Parser = Callable[[SourceItem], ParsedDocument]

BUILTIN_PARSERS: dict[str, Parser] = {
    media_types.PLAIN_TEXT: parse_text,
    media_types.MARKDOWN: parse_markdown,
    media_types.HTML: parse_html,
    media_types.PDF: parse_pdf,
    media_types.DOCX: parse_docx,
    **dict.fromkeys(sorted(media_types.IMAGE_TYPES), parse_image),
}

__all__ = [
    "BUILTIN_PARSERS",
    "RECORD_MEDIA_TYPES",
    "Parser",
    "iter_records",
    "media_type_for",
    "parse_docx",
    "parse_html",
    "parse_image",
    "parse_markdown",
    "parse_pdf",
    "parse_record",
    "parse_text",
    "with_ocr",
]
