"""Word (.docx): paragraphs and tables in document order (python-docx).

Paragraph styles "Title" and "Heading N" become headings (level 1 and min(N, 6)); other
paragraphs are body blocks; each table row is one body block, its cells joined with " | ".
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

from groundwire.domain import Block, ParsedDocument, SourceItem
from groundwire.errors import ParseError
from groundwire.ingest.parsers._common import first_heading, require_blocks, stem_title

if TYPE_CHECKING:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

_ZIP_MAGIC = b"PK\x03\x04"
_HEADING_STYLE = re.compile(r"^heading\s*(\d+)$", re.IGNORECASE)


def _heading_level(paragraph: Paragraph) -> int:
    style: Any = paragraph.style
    if style is None:
        return 0
    for name in (style.name or "", style.style_id or ""):
        if name.strip().lower() == "title":
            return 1
        match = _HEADING_STYLE.match(name.strip())
        if match:
            return max(1, min(int(match.group(1)), 6))
    return 0


def _row_texts(table: Table) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:  # a merged cell is repeated once per grid column it spans
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            text = " ".join(cell.text.split())
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _invalid(uri: str, reason: str) -> ParseError:
    return ParseError(f"{uri}: not a valid .docx file: {reason}", code="parse.docx_invalid")


def parse_docx(item: SourceItem) -> ParsedDocument:
    """DOCX to blocks. Title: the core-properties title, else the first level-1 heading, else
    the file stem. Errors: ``parse.docx_invalid`` (empty file, not a zip, not a Word
    document), ``parse.empty`` (no text)."""
    data = item.read()
    if not data.startswith(_ZIP_MAGIC):
        raise _invalid(item.uri, "the file is empty" if not data else "not a zip archive")
    from docx import Document
    from docx.table import Table

    try:
        document = Document(io.BytesIO(data))
        blocks: list[Block] = []
        for part in document.iter_inner_content():
            if isinstance(part, Table):
                blocks += [Block(text=row, level=0) for row in _row_texts(part)]
                continue
            text = part.text.strip()
            if text:
                blocks.append(Block(text=text, level=_heading_level(part)))
        core_title = (document.core_properties.title or "").strip()
    except Exception as exc:  # python-docx/lxml/zipfile raise many types on damaged input
        raise _invalid(item.uri, f"{type(exc).__name__}: {exc}") from exc
    kept = require_blocks(blocks, item.uri)
    title = core_title or first_heading(kept, 1) or item.title or stem_title(item.uri)
    return ParsedDocument(title=title, blocks=kept)
