"""Plain text: byte decoding (with binary detection) and paragraph splitting.

``decode_text`` is the one place raw bytes become text; the Markdown parser and the HTML
parser reuse it (or its binary check), so every text-like format rejects binary files the
same way.
"""

from __future__ import annotations

import codecs
import re

from groundwire.domain import ParsedDocument, SourceItem
from groundwire.errors import ParseError
from groundwire.ingest.parsers._common import body_blocks, require_blocks, stem_title

# Byte-order marks, longest first (a UTF-32-LE BOM starts with the UTF-16-LE one).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# ASCII control bytes that never occur in text (TAB, LF, VT, FF, CR and ESC excluded: ESC
# appears in coloured logs). In every ASCII-compatible encoding these are control characters.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
# Decoded text: C0/C1 controls (same exceptions), lone surrogates, private-use characters.
_BAD_CHARS = re.compile(
    r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff\U000f0000-\U0010ffff]"
)
# A text file may contain a stray control character; a binary file is full of them
# (uniform random bytes: ~11% of bytes are in _CONTROL_BYTES).
MAX_CONTROL_SHARE = 0.05
_SAMPLE_BYTES = 64 * 1024


def _bom_encoding(data: bytes) -> str | None:
    return next((enc for bom, enc in _BOMS if data.startswith(bom)), None)


def looks_binary(data: bytes) -> bool:
    """True when ``data`` (without a UTF-16/32 byte-order mark) is not text: it contains a NUL
    byte, or more than ``MAX_CONTROL_SHARE`` of its first 64 KiB are ASCII control bytes."""
    if _bom_encoding(data) in ("utf-16", "utf-32"):
        return False
    sample = data[:_SAMPLE_BYTES]
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, delete=_CONTROL_BYTES))
    return controls / len(sample) > MAX_CONTROL_SHARE


def _too_many_control_chars(text: str) -> bool:
    sample = text[:_SAMPLE_BYTES]
    if not sample:
        return False
    return len(_BAD_CHARS.findall(sample)) / len(sample) > MAX_CONTROL_SHARE


def decode_text(data: bytes, uri: str) -> str:
    """Decode ``data`` to text: a byte-order mark wins, then strict UTF-8, then
    charset-normalizer's best guess.

    Raises ``ParseError`` with code ``parse.binary`` (NUL bytes, or mostly control
    characters), ``parse.encoding`` (no encoding fits) or ``parse.empty`` (nothing but
    whitespace). The returned text has no BOM.
    """
    if looks_binary(data):
        raise ParseError(f"{uri}: looks like a binary file, not text", code="parse.binary")
    encoding = _bom_encoding(data)
    text: str | None = None
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(
                f"{uri}: invalid {encoding} despite its byte-order mark: {exc.reason}",
                code="parse.encoding",
            ) from exc
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _guess_decode(data)
        if text is None:
            raise ParseError(
                f"{uri}: could not detect the text encoding (not UTF-8)", code="parse.encoding"
            )
    if _too_many_control_chars(text):
        raise ParseError(f"{uri}: looks like a binary file, not text", code="parse.binary")
    if not text.strip():
        raise ParseError(f"{uri}: the file is empty", code="parse.empty")
    return text


def _guess_decode(data: bytes) -> str | None:
    from charset_normalizer import from_bytes  # lazy: keeps import time at zero

    best = from_bytes(data).best()
    return None if best is None else str(best)


def parse_record(item: SourceItem) -> ParsedDocument:
    """A document for an item that already carries its text (``item.text`` is not None):
    title ``item.title or ""``, one body block per blank-line-separated paragraph.
    Raises ``ParseError(code="parse.empty")`` for blank text."""
    if item.text is None:
        raise ValueError(f"{item.uri}: parse_record needs an item with text")
    blocks = require_blocks(body_blocks(item.text), item.uri)
    return ParsedDocument(title=item.title or "", blocks=blocks, metadata=dict(item.metadata))


def parse_text(item: SourceItem) -> ParsedDocument:
    """Plain text: one body block per paragraph (split on blank lines); title = file stem.
    Items that carry their own text are handed to ``parse_record``.
    Errors: ``parse.binary``, ``parse.encoding``, ``parse.empty``."""
    if item.text is not None:
        return parse_record(item)
    text = decode_text(item.read(), item.uri)
    blocks = require_blocks(body_blocks(text), item.uri)
    return ParsedDocument(title=item.title or stem_title(item.uri), blocks=blocks)
