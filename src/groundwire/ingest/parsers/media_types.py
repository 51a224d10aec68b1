"""Media types of files, decided by file extension only (no content sniffing)."""

from __future__ import annotations

MARKDOWN = "text/markdown"
PLAIN_TEXT = "text/plain"
HTML = "text/html"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CSV = "text/csv"
NDJSON = "application/x-ndjson"
JSON = "application/json"
OCTET_STREAM = "application/octet-stream"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
WEBP = "image/webp"
GIF = "image/gif"
BMP = "image/bmp"
IMAGE_TYPES = frozenset({PNG, JPEG, TIFF, WEBP, GIF, BMP})  # read by OCR (parsers/ocr.py)

_BY_EXTENSION: dict[str, str] = {
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".txt": PLAIN_TEXT,
    ".text": PLAIN_TEXT,
    ".rst": PLAIN_TEXT,
    ".log": PLAIN_TEXT,
    ".html": HTML,
    ".htm": HTML,
    ".pdf": PDF,
    ".docx": DOCX,
    ".csv": CSV,
    ".jsonl": NDJSON,
    ".ndjson": NDJSON,
    ".jsonl.gz": NDJSON,
    ".ndjson.gz": NDJSON,
    ".json": JSON,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".tif": TIFF,
    ".tiff": TIFF,
    ".webp": WEBP,
    ".gif": GIF,
    ".bmp": BMP,
}


def media_type_for(path: str) -> str:
    """Media type for a file name or path by its extension (case-insensitive; ``.jsonl.gz``
    and ``.ndjson.gz`` count as JSON Lines); ``application/octet-stream`` when unknown."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    for ext in (".jsonl.gz", ".ndjson.gz"):
        if name.endswith(ext) and len(name) > len(ext):
            return _BY_EXTENSION[ext]
    dot = name.rfind(".")
    if dot <= 0:  # no extension, or a dotfile such as ".md"
        return OCTET_STREAM
    return _BY_EXTENSION.get(name[dot:], OCTET_STREAM)
