"""OCR through the Tesseract program: images, and PDF pages that have no text layer.

Tesseract is optional. It is run as a subprocess (``ingest.ocr.command``, looked up on
``PATH``), one run per page, each bounded by ``ingest.ocr.timeout_s`` and limited to one
thread (``OMP_THREAD_LIMIT=1``). What can go wrong, as coded ``ParseError``s:

* ``parse.ocr_unavailable`` — OCR is needed but cannot run: ``ingest.ocr.enabled`` is false,
  the program is not installed, a language's traineddata is missing, or (for PDFs) the
  renderer ``pypdfium2`` is not installed. The message says what to install. Only the file
  that needs OCR fails; the rest of the batch goes on.
* ``parse.ocr_failed`` — Tesseract ran but failed on a page or ran past the timeout.
* ``parse.image_invalid`` — the image cannot be decoded (or is a decompression bomb).

Parsers that can OCR take a keyword ``ocr: OcrSettings | None`` (``None``: the defaults);
``with_ocr`` binds the configured section into a parser table, so entry points keep the
plain ``(SourceItem) -> ParsedDocument`` signature. Importing this module imports neither
Pillow nor pypdfium2.
"""

from __future__ import annotations

import functools
import inspect
import io
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from groundwire.domain import Block, ParsedDocument, SourceItem
from groundwire.errors import ParseError
from groundwire.ingest.parsers._common import require_blocks, split_paragraphs, stem_title
from groundwire.settings.ocr import OcrSettings

if TYPE_CHECKING:
    from PIL.Image import Image

INSTALL_HINT = (
    "install Tesseract (Debian/Ubuntu: apt-get install tesseract-ocr tesseract-ocr-eng; "
    "macOS: brew install tesseract)"
)
# Renders large pages down to this many pixels on the longer side (Tesseract gains nothing
# beyond it and memory stays bounded).
_MAX_SIDE_PX = 8000
_render_lock = threading.Lock()  # PDFium is not thread-safe


def unavailable(uri: str, why: str) -> ParseError:
    """``parse.ocr_unavailable`` for ``uri``: ``why`` names what is missing and how to fix it."""
    return ParseError(f"{uri}: needs OCR, which is unavailable: {why}",
                      code="parse.ocr_unavailable")


def tesseract_path(settings: OcrSettings, uri: str) -> str:
    """The Tesseract executable, or ``parse.ocr_unavailable`` (disabled, or not installed)."""
    if not settings.enabled:
        raise unavailable(uri, "OCR is disabled (ingest.ocr.enabled = false)")
    found = shutil.which(settings.command)
    if found is None:
        raise unavailable(uri, f"{settings.command!r} was not found; {INSTALL_HINT}")
    return found


def ocr_png(png: bytes, *, settings: OcrSettings, exe: str, uri: str, where: str,
            dpi: int | None = None) -> str:
    """The text Tesseract reads in one PNG (``where`` names the page in messages)."""
    command = [exe, "stdin", "stdout", "-l", settings.languages, "--dpi",
               str(dpi or settings.dpi)]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(command, input=png, capture_output=True, env=env,
                              timeout=settings.timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ParseError(f"{uri}: {where}: OCR ran past ingest.ocr.timeout_s "
                         f"({settings.timeout_s:g} s)", code="parse.ocr_failed") from exc
    except OSError as exc:
        raise unavailable(uri, f"{exe} could not be run ({exc}); {INSTALL_HINT}") from exc
    if done.returncode != 0:
        detail = " ".join(done.stderr.decode("utf-8", "replace").split())[:300]
        if "Failed loading language" in detail or "traineddata" in detail:
            packages = " ".join(f"tesseract-ocr-{lang.lower()}"
                                for lang in settings.languages.split("+"))
            raise unavailable(uri, f"Tesseract lacks language data for "
                                   f"{settings.languages!r} (Debian: apt-get install {packages})")
        raise ParseError(f"{uri}: {where}: Tesseract failed (exit {done.returncode}): {detail}",
                         code="parse.ocr_failed")
    return done.stdout.decode("utf-8", "replace")


def to_png(image: Image) -> bytes:
    """``image`` as a PNG that Tesseract reads (grey or RGB, at most ``_MAX_SIDE_PX``)."""
    if image.mode not in ("1", "L", "RGB"):
        image = image.convert("RGBA" if "A" in image.mode or image.mode == "P" else "RGB")
        if image.mode == "RGBA":  # transparent pixels become white paper, not black
            from PIL import Image as PILImage

            paper = PILImage.new("RGB", image.size, "white")
            paper.paste(image, mask=image.getchannel("A"))
            image = paper
    if max(image.size) > _MAX_SIDE_PX:
        image = image.copy()
        image.thumbnail((_MAX_SIDE_PX, _MAX_SIDE_PX))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _pillow(uri: str) -> Any:
    try:
        from PIL import Image as PILImage
    except ImportError as exc:
        raise unavailable(uri, "the Python package Pillow is not installed "
                               "(pip install 'groundwire[ocr]')") from exc
    return PILImage


def _frames(data: bytes, uri: str, limit: int) -> Iterator[tuple[Image, int | None]]:
    """Up to ``limit`` frames of an image (TIFF pages; a GIF/WebP animation's first frame)
    with the dpi the file states, if any; ``parse.image_invalid`` when it does not decode."""
    pil = _pillow(uri)
    try:
        image = pil.open(io.BytesIO(data))
        multi = image.format == "TIFF"
        for index in range(min(getattr(image, "n_frames", 1) if multi else 1, limit)):
            image.seek(index)
            image.load()
            dpi = image.info.get("dpi")
            stated = round(float(dpi[0])) if dpi and float(dpi[0]) >= 72 else None
            yield image.copy(), stated
    except (OSError, ValueError, SyntaxError, EOFError, pil.DecompressionBombError) as exc:
        raise ParseError(f"{uri}: unreadable image: {type(exc).__name__}: {exc}",
                         code="parse.image_invalid") from exc


def parse_image(item: SourceItem, *, ocr: OcrSettings | None = None) -> ParsedDocument:
    """An image (PNG, JPEG, TIFF with all its pages up to ``max_pages``, the first frame of
    a GIF or WebP, BMP) to body blocks, one per paragraph that Tesseract reads. Metadata:
    ``ocr: true``, ``ocr_pages``. Errors: ``parse.ocr_unavailable`` (checked before the image
    is decoded), ``parse.image_invalid``, ``parse.ocr_failed``, ``parse.empty`` (no text)."""
    settings = ocr or OcrSettings()
    exe = tesseract_path(settings, item.uri)
    data = item.read()
    if not data:
        raise ParseError(f"{item.uri}: the file is empty", code="parse.empty")
    texts = [
        ocr_png(to_png(frame), settings=settings, exe=exe, uri=item.uri,
                where=f"page {n}", dpi=dpi)
        for n, (frame, dpi) in enumerate(_frames(data, item.uri, settings.max_pages), 1)
    ]
    blocks = require_blocks(
        (Block(text=p, level=0) for text in texts for p in split_paragraphs(text)),
        item.uri, hint="OCR found no text in the image",
    )
    return ParsedDocument(title=item.title or stem_title(item.uri), blocks=blocks,
                          metadata={"ocr": True, "ocr_pages": len(texts)})


def render_pdf_pages(data: bytes, indexes: list[int], *, dpi: int, uri: str) -> Iterator[bytes]:
    """PNGs of the given 0-based pages of a PDF rendered at ``dpi`` (pypdfium2, greyscale);
    ``parse.ocr_unavailable`` when pypdfium2 is not installed."""
    try:
        import pypdfium2 as pdfium
    except ImportError as exc:
        raise unavailable(uri, "rendering PDF pages needs the Python package pypdfium2 "
                               "(pip install 'groundwire[ocr]')") from exc
    for index in indexes:
        with _render_lock:
            document = pdfium.PdfDocument(data)
            try:
                page = document[index]
                width, height = page.get_size()
                scale = min(dpi / 72, _MAX_SIDE_PX / max(width, height, 1))
                image = page.render(scale=scale, grayscale=True).to_pil()
            finally:
                document.close()
        yield to_png(image)


def with_ocr(parsers: Mapping[str, Callable[..., ParsedDocument]],
             settings: OcrSettings) -> dict[str, Callable[[SourceItem], ParsedDocument]]:
    """The parser table with ``settings`` bound into every parser that takes ``ocr``."""
    bound: dict[str, Callable[[SourceItem], ParsedDocument]] = {}
    for media_type, parser in parsers.items():
        try:
            takes_ocr = "ocr" in inspect.signature(parser).parameters
        except (TypeError, ValueError):  # a builtin or C callable: nothing to bind
            takes_ocr = False
        bound[media_type] = functools.partial(parser, ocr=settings) if takes_ocr else parser
    return bound
