"""``ingest.ocr``: text from scanned PDFs and images through the Tesseract OCR engine."""

from __future__ import annotations

from pydantic import Field

from groundwire.settings.base import _Section


class OcrSettings(_Section):
    """How scanned pages and images are read. Tesseract is an optional system program
    (Debian: ``tesseract-ocr`` plus ``tesseract-ocr-<lang>`` per language); without it a file
    that needs OCR fails ``parse.ocr_unavailable`` and every other file is ingested."""

    enabled: bool = Field(
        True,
        description="OCR images (PNG, JPEG, TIFF, WebP, GIF, BMP) and PDF pages without a text "
        "layer. Off: such files fail parse.ocr_unavailable.",
    )
    command: str = Field(
        "tesseract", description="The Tesseract program: a name looked up on PATH, or a path."
    )
    languages: str = Field(
        "eng",
        pattern=r"^[A-Za-z0-9_]+(\+[A-Za-z0-9_]+)*$",
        description="Tesseract language codes joined by '+' (e.g. 'eng+deu'); each needs its "
        "traineddata installed (Debian: tesseract-ocr-eng, tesseract-ocr-deu...).",
    )
    dpi: int = Field(
        300, ge=72, le=600,
        description="Resolution at which PDF pages are rendered for OCR (also the resolution "
        "assumed for images that do not state one).",
    )
    max_pages: int = Field(
        50, ge=1, le=10000,
        description="Most pages (PDF pages or image frames) OCR'd per document; the rest are "
        "skipped (the document records how many in its metadata).",
    )
    timeout_s: float = Field(
        60.0, gt=0, le=3600,
        description="Per-page limit on one Tesseract run; a page over it fails the document "
        "with parse.ocr_failed.",
    )
    min_page_chars: int = Field(
        20, ge=0,
        description="A PDF page with images and fewer extractable characters than this is "
        "treated as scanned and OCR'd.",
    )
