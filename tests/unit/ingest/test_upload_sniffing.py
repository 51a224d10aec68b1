"""Uploads are typed by their bytes (api/routes/upload.py ``sniff_media_type``): the client's
header is never consulted and the name only chooses among text formats."""

from __future__ import annotations

import io
import zipfile

import pytest

from groundwire.api.routes.upload import _safe_name, sniff_media_type


def zipped(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, "<xml/>")
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "name", "expected"), [
    (b"%PDF-1.7\n...", "report.txt", "application/pdf"),
    (b"%PDF-1.4 truncated", "x.pdf", "application/pdf"),
    (zipped("word/document.xml"), "letter.bin",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (zipped("xl/workbook.xml"), "sheet.docx", "application/octet-stream"),
    (b"PK\x03\x04 not really a zip", "bad.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"\x1f\x8b\x08\x00gzip", "data.bin", "application/x-ndjson"),
    (b"\xef\xbb\xbf<!DOCTYPE html><html><p>x</p></html>", "page.md", "text/html"),
    (b"  <!-- c --> <html><body>x</body></html>", "noext", "text/html"),
    (b"# Title\n\nbody", "notes.md", "text/markdown"),
    (b"id,text\n1,a\n", "rows.csv", "text/csv"),
    (b"plain words", "README", "text/plain"),
    (b"plain words", "photo.png", "text/plain"),
    (b"plain words", "claims.pdf", "application/pdf"),  # its parser says why not
    (b"\x00\x01\x02binary", "blob.txt", "application/octet-stream"),
    (b"\x00\x01\x02binary", "scan.pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "upload.bin", "image/png"),  # read by OCR
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "photo.png", "image/jpeg"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "x", "image/webp"),
    (b"BM\x36\x00\x00\x00\x00\x00", "x.bmp", "image/bmp"),
    (b"BMW parts list", "parts.txt", "text/plain"),
    (b"plain words", "scan.tiff", "text/plain"),
])
def test_sniff_media_type(data: bytes, name: str, expected: str) -> None:
    assert sniff_media_type(data, name) == expected


def test_safe_name_keeps_only_a_clean_base_name() -> None:
    assert _safe_name("../../etc/passwd", 1) == "passwd"
    assert _safe_name("C:\\Users\\me\\doc.pdf", 1) == "doc.pdf"
    assert _safe_name("bell\x07.txt", 1) == "bell.txt"
    assert _safe_name("..", 3) == "upload-3"
    assert _safe_name(None, 2) == "upload-2"
