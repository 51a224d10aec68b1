"""Real scanned documents for the OCR tests: text rendered into a PNG with Pillow (the TTF
font that reportlab ships, so no system font is needed) and a PDF whose only page is that
image (no text layer, as a scanner writes it)."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

SENTENCE = "The harbour pilot boards every tanker near the breakwater"


def require_tesseract() -> str:
    """The tesseract program; skips without it, fails when ``GROUNDWIRE_REQUIRE_TESSERACT=1``
    (CI, where a missing binary must not silently skip the OCR tests)."""
    path = shutil.which("tesseract")
    if path is None:
        message = "no tesseract on PATH (apt-get install tesseract-ocr tesseract-ocr-eng)"
        if os.environ.get("GROUNDWIRE_REQUIRE_TESSERACT") == "1":
            pytest.fail(f"GROUNDWIRE_REQUIRE_TESSERACT=1 but {message}")
        pytest.skip(message)
    return path


def text_png(lines: list[str] | None = None, *, dpi: int = 200) -> bytes:
    """A white page with ``lines`` (default: ``SENTENCE``) in black, about 28 px text."""
    import reportlab
    from PIL import Image, ImageDraw, ImageFont

    font_path = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
    font = ImageFont.truetype(str(font_path), 32)
    lines = lines or [SENTENCE]
    image = Image.new("L", (1400, 80 + 60 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((40, 40 + 60 * n), line, fill=0, font=font)
    buf = io.BytesIO()
    image.save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


def scanned_pdf(png: bytes | None = None, *, text_page: str | None = None) -> bytes:
    """A PDF whose page is only the image ``png`` (no text layer); ``text_page`` adds a first
    page with real text."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    if text_page:
        pdf.drawString(60, 780, text_page)
        pdf.showPage()
    image = ImageReader(io.BytesIO(png or text_png()))
    width, height = image.getSize()
    scale = (A4[0] - 80) / width
    pdf.drawImage(image, 40, A4[1] - 80 - height * scale, width * scale, height * scale)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()
