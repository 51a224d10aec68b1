"""PDF: the text of every page (pypdf), read as prose: one body block per paragraph.

Damaged files are rejected as ``parse.pdf_invalid`` rather than half-read: any pypdf failure
(at open or on any page), a document without pages, or a password-protected document. A PDF
that reads cleanly but holds no text is ``parse.empty``.

Scanned pages (``ocr.py``): a page with images and fewer than ``ingest.ocr.min_page_chars``
extractable characters is rendered (``ingest.ocr.dpi``) and read by Tesseract, at most
``ingest.ocr.max_pages`` pages per document; the document's metadata then says ``ocr: true``
and ``ocr_pages`` (plus ``ocr_pages_skipped`` past the cap). When OCR cannot run, a PDF with no
text elsewhere fails ``parse.ocr_unavailable``; one with text on other pages is indexed from
that text and records ``ocr_unavailable_pages``.
pypdf's complaints about damaged files are kept out of the log and out of ``warnings``.

Reading as prose (``prose_paragraphs``): each page is extracted in pypdf's layout
mode (lines in reading order, paragraph gaps kept as blank lines; plain mode when layout
fails), repeated page headers and footers and page numbers are dropped, wrapped lines are
joined into paragraphs, words hyphenated across a line break are joined, and a paragraph
that runs over a page break is joined with its continuation.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from groundwire.domain import Block, ParsedDocument, SourceItem
from groundwire.errors import ParseError
from groundwire.ingest.parsers._common import require_blocks, stem_title
from groundwire.ingest.parsers.ocr import ocr_png, render_pdf_pages, tesseract_path
from groundwire.settings.ocr import OcrSettings

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


def _page_text(page: Any) -> str:
    """The page's text in layout mode (reading order, blank lines between paragraphs); plain
    mode when layout extraction fails on this page."""
    try:
        return str(page.extract_text(extraction_mode="layout") or "")
    except Exception:  # layout mode is stricter about odd fonts; plain mode still reads them
        return str(page.extract_text() or "")


def _has_images(page: Any) -> bool:
    try:
        return len(page.images) > 0
    except Exception:  # unreadable resources: not worth OCR
        return False


def parse_pdf(item: SourceItem, *, ocr: OcrSettings | None = None) -> ParsedDocument:
    """PDF to body blocks: one per prose paragraph (see the module docstring), scanned pages
    OCR'd per ``ocr`` (``None``: the defaults). Title: the metadata title (producer
    placeholders ignored), else the file stem. Errors: ``parse.pdf_invalid``, ``parse.empty``,
    ``parse.ocr_unavailable``, ``parse.ocr_failed``."""
    settings = ocr or OcrSettings()
    data = item.read()
    if not data.strip():
        raise ParseError(f"{item.uri}: the file is empty", code="parse.empty")
    if b"%PDF-" not in data[:1024]:
        raise _invalid(item.uri, "no %PDF- header")
    with _quiet_pypdf():
        try:
            reader = _open(data, item.uri)
            pages = list(reader.pages)
            if not pages:
                raise _invalid(item.uri, "no pages")
            texts = [_page_text(page) for page in pages]
            scanned = [i for i, (page, text) in enumerate(zip(pages, texts, strict=True))
                       if len("".join(text.split())) < settings.min_page_chars
                       and _has_images(page)]
            title = _metadata_title(reader)
        except ParseError:
            raise
        except Exception as exc:  # pypdf raises many types on damaged input
            raise _invalid(item.uri, f"{type(exc).__name__}: {exc}") from exc
    metadata = _ocr_pages(data, texts, scanned, settings, item.uri) if scanned else {}
    blocks = [Block(text=para, level=0) for para in prose_paragraphs(texts)]
    kept = require_blocks(blocks, item.uri,
                          hint="the PDF has no extractable text and no images to OCR")
    return ParsedDocument(title=title or item.title or stem_title(item.uri), blocks=kept,
                          metadata=metadata)


def _ocr_pages(data: bytes, texts: list[str], scanned: list[int], settings: OcrSettings,
               uri: str) -> dict[str, Any]:
    """OCR the ``scanned`` pages in place in ``texts`` (up to ``settings.max_pages``) and
    return the document metadata saying so. OCR that cannot run fails the document only when
    no other page has text."""
    try:
        exe = tesseract_path(settings, uri)
        todo = scanned[: settings.max_pages]
        pngs = render_pdf_pages(data, todo, dpi=settings.dpi, uri=uri)
        for index, png in zip(todo, pngs, strict=True):
            texts[index] = ocr_png(png, settings=settings, exe=exe, uri=uri,
                                   where=f"page {index + 1}")
    except ParseError as exc:
        others = [t for i, t in enumerate(texts) if i not in set(scanned)]
        if exc.code != "parse.ocr_unavailable" or not any(t.strip() for t in others):
            raise
        return {"ocr_unavailable_pages": len(scanned)}
    metadata: dict[str, Any] = {"ocr": True, "ocr_pages": len(todo)}
    if len(scanned) > len(todo):
        metadata["ocr_pages_skipped"] = len(scanned) - len(todo)
    return metadata


# ------------------------------------------------------------------ prose
_PAGE_NUMBER = re.compile(
    r"^(?:[-–—(\[]\s*)?(?:page|p\.|seite|pagina|página)?\s*(?:\d{1,4}|[ivxlcdm]{1,7})"
    r"(?:\s*(?:/|of|von|de|sur)\s*\d{1,4})?(?:\s*[-–—)\]])?$", re.IGNORECASE)
_EDGE_LINES = 3  # lines at the top and at the bottom of a page that may be header/footer
_PARAGRAPH_END = re.compile(r"[.!?:;。！？]['\"”’)\]]*$")
_HYPHENATED = re.compile(r"[^\W\d_][-\u00ad]$")


def _norm(line: str) -> str:
    """A line as a header/footer key: page numbers and dates vary, so digits do not count."""
    return re.sub(r"\d+", "#", " ".join(line.lower().split()))


def _page_lines(text: str) -> list[str]:
    """Lines of a page with runs of spaces collapsed; a paragraph gap is one empty line."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = " ".join(raw.split())
        if line or (lines and lines[-1]):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _edge_indexes(lines: Sequence[str]) -> list[int]:
    filled = [i for i, line in enumerate(lines) if line]
    return sorted(set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]))


def _strip_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Drop page furniture: a line at a page's top or bottom that recurs (digits ignored) at
    the edge of at least half the pages (and of two at least), and page-number lines there."""
    seen: Counter[str] = Counter()
    for lines in pages:
        seen.update({_norm(lines[i]) for i in _edge_indexes(lines)})
    repeated = {key for key, n in seen.items() if n >= max(2, (len(pages) + 1) // 2)}
    cleaned = []
    for lines in pages:
        drop = {i for i in _edge_indexes(lines)
                if _norm(lines[i]) in repeated or _PAGE_NUMBER.match(lines[i])}
        cleaned.append([line for i, line in enumerate(lines) if i not in drop])
    return cleaned


def _join(left: str, right: str) -> str:
    """Two wrapped pieces of one paragraph: a word hyphenated over the break is joined
    (``hyphen-`` + ``ated``), anything else gets one space."""
    if _HYPHENATED.search(left) and right[:1].islower():
        return left[:-1] + right
    return f"{left} {right}"


def _paragraphs(lines: Sequence[str]) -> list[str]:
    """A page's paragraphs: lines joined until an empty line, or until a line that ends a
    sentence and is clearly shorter than the page's full lines (the last line of a
    paragraph, where the layout shows no gap)."""
    widths = sorted(len(line) for line in lines if line)
    full = widths[int(len(widths) * 0.9)] if widths else 0
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        current = _join(current, line) if current else line
        if _PARAGRAPH_END.search(line) and len(line) < 0.75 * full:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def prose_paragraphs(page_texts: Sequence[str]) -> list[str]:
    """The paragraphs of a document given each page's extracted text, in order: furniture
    dropped, wrapped lines and hyphenated words joined, a paragraph that a page break cut
    (it does not end a sentence and the next page goes on in lower case, or it ends with a
    hyphenated word) joined with its continuation."""
    paragraphs: list[str] = []
    for lines in _strip_furniture([_page_lines(text) for text in page_texts]):
        page = _paragraphs(lines)
        if page and paragraphs and _continues(paragraphs[-1], page[0]):
            paragraphs[-1] = _join(paragraphs[-1], page.pop(0))
        paragraphs += page
    return paragraphs


def _continues(last: str, first: str) -> bool:
    if _HYPHENATED.search(last):
        return first[:1].islower()
    return not _PARAGRAPH_END.search(last) and first[:1].islower()
