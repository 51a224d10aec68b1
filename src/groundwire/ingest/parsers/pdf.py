"""PDF: text of every page (pypdf), one body block per paragraph.

Damaged files are rejected as ``parse.pdf_invalid`` rather than half-read: any pypdf failure
(at open or on any page), a document without pages, or a password-protected document. A PDF
that reads cleanly but holds no text is ``parse.empty`` (typically a scan that needs OCR).
pypdf's complaints about damaged files are kept out of the log and out of ``warnings``.
"""

from __future__ import annotations

import io
import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from groundwire.domain import Block, ParsedDocument, SourceItem
from groundwire.errors import ParseError
from groundwire.ingest.parsers._common import require_blocks, split_paragraphs, stem_title

if TYPE_CHECKING:
    from pypdf import PdfReader

# Titles that PDF producers write when the author gave none.
_PLACEHOLDER_TITLES = frozenset({"untitled", "(anonymous)", "anonymous", "(unspecified)"})

_quiet_lock = threading.Lock()
_quiet_depth = 0
_saved_level = logging.NOTSET


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """Raise the ``pypdf`` logger to ERROR while any parse is running (nesting/threads safe)
    and ignore pypdf's Python warnings."""
    global _quiet_depth, _saved_level
    logger = logging.getLogger("pypdf")
    with _quiet_lock:
        if _quiet_depth == 0:
            _saved_level = logger.level
            logger.setLevel(logging.ERROR)
        _quiet_depth += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                logger.setLevel(_saved_level)


def _invalid(uri: str, reason: str) -> ParseError:
    return ParseError(f"{uri}: invalid or damaged PDF: {reason}", code="parse.pdf_invalid")


def _open(data: bytes, uri: str) -> PdfReader:
    from pypdf import PasswordType, PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise _invalid(uri, "it is password-protected")
    return reader


def _metadata_title(reader: PdfReader) -> str | None:
    try:
        meta = reader.metadata
        title = meta.title if meta is not None else None
    except Exception:  # a broken info dictionary only costs the title
        return None
    if not isinstance(title, str):
        return None
    title = " ".join(title.split())
    return title if title and title.lower() not in _PLACEHOLDER_TITLES else None


def parse_pdf(item: SourceItem) -> ParsedDocument:
    """PDF to body blocks: each page's text split on blank lines (a page without blank lines
    is one block). Title: the metadata title (producer placeholders ignored), else the file
    stem. Errors: ``parse.pdf_invalid``, ``parse.empty``."""
    data = item.read()
    if not data.strip():
        raise ParseError(f"{item.uri}: the file is empty", code="parse.empty")
    if b"%PDF-" not in data[:1024]:
        raise _invalid(item.uri, "no %PDF- header")
    blocks: list[Block] = []
    with _quiet_pypdf():
        try:
            reader = _open(data, item.uri)
            pages = list(reader.pages)
            if not pages:
                raise _invalid(item.uri, "no pages")
            for page in pages:
                text = page.extract_text() or ""
                blocks += [Block(text=para, level=0) for para in split_paragraphs(text)]
            title = _metadata_title(reader)
        except ParseError:
            raise
        except Exception as exc:  # pypdf raises many types on damaged input
            raise _invalid(item.uri, f"{type(exc).__name__}: {exc}") from exc
    kept = require_blocks(
        blocks,
        item.uri,
        hint="the PDF has no extractable text; it may be a scanned image that needs OCR",
    )
    return ParsedDocument(title=title or item.title or stem_title(item.uri), blocks=kept)
