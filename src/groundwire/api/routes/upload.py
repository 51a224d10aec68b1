"""Upload files from a browser or a script: ``POST /v1/documents/upload`` (multipart).

Contract:

* Several files per request (form field ``files``, repeated); ``index`` (form field, default
  ``default``). Needs the ``ingest`` scope, like ``POST /v1/ingest``; documents belong to the
  caller's tenant and to its upload source (kind ``upload``, location = the tenant), so
  another tenant never sees, replaces or collides with them.
* Each file is ingested on its own through ``Groundwire.ingest_items`` with
  ``delete_missing=False``: an upload never deletes earlier uploads, and one bad file never
  stops the others. A file of the same name replaces the earlier upload of that name
  (``unchanged`` when its bytes are the same).
* The media type is sniffed from the content (magic bytes: PDF, DOCX/ZIP, gzip, images, HTML,
  text); the client's ``Content-Type`` is ignored and the file name's extension only decides
  between text formats (Markdown, CSV, JSON Lines...) or names what an unrecognised binary claims to
  be (so a corrupt ``.pdf`` fails ``parse.pdf_invalid``, not ``parse.unsupported``).
* A file over ``ingest.max_file_mb`` fails ``read.too_large`` without being kept.
* The answer lists one result per file, in request order:
  ``{filename, uri, status: indexed|unchanged|failed, code, message, document_id}``; a
  records file (JSONL/CSV/JSON) also gives ``records`` (indexed/unchanged/failed counts):
  it is ``failed`` only when none of its records could be indexed. Whole-request errors
  (no files, bad index name, body over the size limit) use the standard error shape.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel, Field

from groundwire.api.deps import get_app, require
from groundwire.api.schemas import ErrorResponse
from groundwire.app import Groundwire, check_index_name
from groundwire.domain import IngestReport, SourceItem
from groundwire.errors import ReadError
from groundwire.ingest.parsers.media_types import (
    BMP,
    DOCX,
    GIF,
    HTML,
    IMAGE_TYPES,
    JPEG,
    NDJSON,
    OCTET_STREAM,
    PDF,
    PLAIN_TEXT,
    PNG,
    TIFF,
    WEBP,
    media_type_for,
)
from groundwire.ingest.parsers.records import RECORD_MEDIA_TYPES
from groundwire.security.principal import Principal

router = APIRouter(prefix="/v1", tags=["documents"])

SOURCE_KIND = "upload"
URI_PREFIX = "upload/"
_BINARY = frozenset({PDF, DOCX})  # binary formats a parser reads
# Images (read by OCR) by their signature; BMP's two-letter one only counts in binary data.
_IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"GIF87a", GIF),
                (b"GIF89a", GIF), (b"II*\x00", TIFF), (b"MM\x00*", TIFF))
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b",
                         re.IGNORECASE | re.DOTALL)


class UploadResult(BaseModel):
    filename: str
    uri: str = Field(description="The document's uri in the index (`upload/<name>`).")
    status: str = Field(description="indexed | unchanged | failed")
    code: str | None = Field(None, description="Stable error code when failed.")
    message: str | None = None
    document_id: int | None = None
    media_type: str = Field(description="The media type sniffed from the content.")
    records: dict[str, int] | None = Field(
        None, description="A records file's per-record counts (indexed, unchanged, failed).")


class UploadResponse(BaseModel):
    index: str
    results: list[UploadResult]


def sniff_media_type(data: bytes, filename: str) -> str:
    """The media type of ``data`` judged by its bytes; the name's extension only picks among
    text formats, or stands for an unrecognised binary (see the module contract)."""
    claimed = media_type_for(filename)
    head = data[:2048]
    if b"%PDF-" in data[:1024]:
        return PDF
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return DOCX
        except (zipfile.BadZipFile, OSError, ValueError):
            return claimed if claimed in _BINARY else OCTET_STREAM
        return OCTET_STREAM  # another zip (xlsx, odt, an archive): not a format we read
    if head.startswith(b"\x1f\x8b"):
        return NDJSON  # gzip: only gzipped JSON Lines is read (the records parser checks)
    image = next((kind for magic, kind in _IMAGE_MAGIC if head.startswith(magic)), None)
    if image is not None or (head.startswith(b"RIFF") and head[8:12] == b"WEBP"):
        return image or WEBP
    if b"\x00" in head:  # binary: trust the name only for a binary format we parse
        if head.startswith(b"BM"):
            return BMP
        return claimed if claimed in _BINARY else OCTET_STREAM
    if _HTML_START.match(head.removeprefix(b"\xef\xbb\xbf")):
        return HTML
    if claimed in _BINARY:  # text that claims to be a PDF/DOCX: its parser says why not
        return claimed
    return PLAIN_TEXT if claimed == OCTET_STREAM or claimed in IMAGE_TYPES else claimed


def _safe_name(filename: str | None, position: int) -> str:
    """The file's base name without folders or control characters (never empty)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip()[:200]
    return name if name not in ("", ".", "..") else f"upload-{position}"


def _too_large(uri: str, limit: int) -> Callable[[], bytes]:
    def read() -> bytes:
        raise ReadError(f"{uri}: the file exceeds the limit of {limit} bytes "
                        "(ingest.max_file_mb)", code="read.too_large")
    return read


def _status(report: IngestReport) -> str:
    if report.indexed:
        return "indexed"
    if report.failed:
        return "failed"
    return "unchanged"


@router.post(
    "/documents/upload", response_model=UploadResponse,
    responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
               413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
    summary="Upload files (multipart) into your tenant's upload source; a result per file",
)
async def upload_documents(
    files: list[UploadFile] = File(..., description="The files (repeat the field)."),
    index: str = Form("default", max_length=64),
    gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("ingest")),
) -> UploadResponse:
    check_index_name(index)
    limit = int(gw.settings.ingest.max_file_mb * 1024 * 1024)
    results: list[UploadResult] = []
    for position, upload in enumerate(files, 1):
        name = _safe_name(upload.filename, position)
        uri = URI_PREFIX + name
        data = await upload.read(limit + 1)
        await upload.close()
        if len(data) > limit:
            media_type, size, read = media_type_for(name), None, _too_large(uri, limit)
        else:
            media_type, size = sniff_media_type(data, name), len(data)
            read = (lambda payload: lambda: payload)(data)
        item = SourceItem(uri=uri, media_type=media_type, read=read, size=size,
                          modified_at=datetime.now(UTC))
        report = await gw.ingest_items([item], index=index,
                                       source=(SOURCE_KIND, principal.tenant),
                                       delete_missing=False, tenant=principal.tenant)
        results.append(await _result(gw, index, principal, name, item, report))
    return UploadResponse(index=index, results=results)


async def _result(
    gw: Groundwire, index: str, principal: Principal, name: str, item: SourceItem,
    report: IngestReport,
) -> UploadResult:
    status = _status(report)
    fields: dict[str, Any] = {"filename": name, "uri": item.uri, "status": status,
                              "media_type": item.media_type}
    if item.media_type in RECORD_MEDIA_TYPES:
        fields["records"] = {"indexed": report.indexed, "unchanged": report.unchanged,
                             "failed": report.failed}
    physical, _ = await gw.versions.resolve(index)
    docs = await gw.store.documents_by_uri(physical, [item.uri], tenant=principal.tenant)
    doc = docs[0] if docs else None
    if doc is not None:
        fields["document_id"] = doc.id
        if status == "failed":
            fields["code"], fields["message"] = doc.error_code, doc.error_message
    elif status == "failed":  # a records file whose records all failed: the first code
        fields["code"] = next(iter(report.errors), None)
        fields["message"] = (f"{report.failed} record(s) failed: "
                             + ", ".join(f"{c} x{n}" for c, n in report.errors.items()))
    return UploadResult(**fields)
