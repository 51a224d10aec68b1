"""OCR on real files with the real Tesseract program: images and scanned PDF pages are read,
the bounds hold (page cap, timeout), and without Tesseract a file that needs OCR fails
``parse.ocr_unavailable`` while text pages are still read. Each file is one small page."""

from __future__ import annotations

import io

import pytest
from support.scans import SENTENCE, require_tesseract, scanned_pdf, text_png

from groundwire.domain import ParsedDocument, SourceItem
from groundwire.errors import ParseError
from groundwire.ingest.parsers.ocr import parse_image
from groundwire.ingest.parsers.pdf import parse_pdf
from groundwire.settings import OcrSettings

pytestmark = pytest.mark.integration

MISSING = OcrSettings(command="groundwire-no-such-tesseract")


def _item(uri: str, data: bytes, media_type: str) -> SourceItem:
    return SourceItem(uri=uri, media_type=media_type, read=lambda: data)


def _words(doc: ParsedDocument) -> set[str]:
    return set(doc.text.lower().split())


def test_png_is_read_by_ocr() -> None:
    require_tesseract()
    doc = parse_image(_item("scans/pilot.png", text_png(), "image/png"))
    assert set(SENTENCE.lower().split()) <= _words(doc)
    assert doc.title == "pilot"
    assert dict(doc.metadata) == {"ocr": True, "ocr_pages": 1}


def test_scanned_pdf_page_is_ocrd_and_text_pages_are_kept() -> None:
    require_tesseract()
    data = scanned_pdf(text_page="Quarterly lighthouse maintenance log, typed page.")
    doc = parse_pdf(_item("scan.pdf", data, "application/pdf"))
    assert set(SENTENCE.lower().split()) <= _words(doc)
    assert "lighthouse" in _words(doc)
    assert dict(doc.metadata) == {"ocr": True, "ocr_pages": 1}


def test_multi_page_tiff_is_capped_by_max_pages() -> None:
    require_tesseract()
    from PIL import Image

    pages = [Image.open(io.BytesIO(text_png([line]))) for line in
             ("First page about orchards", "Second page about glaciers")]
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:])
    item = _item("two.tiff", buf.getvalue(), "image/tiff")
    both = parse_image(item)
    assert {"orchards", "glaciers"} <= _words(both)
    first = parse_image(item, ocr=OcrSettings(max_pages=1))
    assert "orchards" in _words(first) and "glaciers" not in _words(first)


def test_a_page_over_the_timeout_fails_ocr_failed() -> None:
    require_tesseract()
    with pytest.raises(ParseError) as caught:
        parse_image(_item("slow.png", text_png(), "image/png"),
                    ocr=OcrSettings(timeout_s=0.001))
    assert caught.value.code == "parse.ocr_failed"
    assert "timeout" in caught.value.message


def test_missing_language_data_is_ocr_unavailable() -> None:
    require_tesseract()
    with pytest.raises(ParseError) as caught:
        parse_image(_item("x.png", text_png(), "image/png"), ocr=OcrSettings(languages="zzz"))
    assert caught.value.code == "parse.ocr_unavailable"
    assert "tesseract-ocr-zzz" in caught.value.message


def test_without_tesseract_scans_fail_ocr_unavailable() -> None:
    for item, parse in (
        (_item("photo.png", text_png(), "image/png"), parse_image),
        (_item("scan.pdf", scanned_pdf(), "application/pdf"), parse_pdf),
    ):
        with pytest.raises(ParseError) as caught:
            parse(item, ocr=MISSING)
        assert caught.value.code == "parse.ocr_unavailable", item.uri
        assert "tesseract-ocr" in caught.value.message  # says what to install


def test_ocr_disabled_is_ocr_unavailable() -> None:
    with pytest.raises(ParseError) as caught:
        parse_pdf(_item("scan.pdf", scanned_pdf(), "application/pdf"),
                  ocr=OcrSettings(enabled=False))
    assert caught.value.code == "parse.ocr_unavailable"
    assert "ingest.ocr.enabled" in caught.value.message


def test_without_tesseract_a_pdf_with_text_pages_keeps_them() -> None:
    data = scanned_pdf(text_page="Quarterly lighthouse maintenance log, typed page.")
    doc = parse_pdf(_item("mixed.pdf", data, "application/pdf"), ocr=MISSING)
    assert "lighthouse" in _words(doc)
    assert dict(doc.metadata) == {"ocr_unavailable_pages": 1}


def test_undecodable_image_is_image_invalid() -> None:
    require_tesseract()
    with pytest.raises(ParseError) as caught:
        parse_image(_item("broken.png", b"\x89PNG\r\n\x1a\n not really", "image/png"))
    assert caught.value.code == "parse.image_invalid"
