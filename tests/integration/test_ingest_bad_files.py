"""Bad files on the real store and model: each fails alone with a stable code, the good files
are indexed and searchable, re-runs do not duplicate anything and ``retry_failed``
re-processes the failures (which fail again, with the same codes)."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from groundwire.bootstrap import build_app
from groundwire.domain import DocumentState, SearchRequest

pytestmark = pytest.mark.integration

EXPECTED_FAILURES = {
    "broken.pdf": "parse.pdf_invalid",
    "notes.txt": "parse.binary",
    "empty.md": "parse.empty",
    "report.docx": "parse.docx_invalid",
}
GOOD_FILES = {
    # uri -> a query whose top hit must be that file
    "lighthouse.md": "lighthouse keeper lit the Fresnel lens at dusk",
    "glacier.html": "glacier calving icebergs into the fjord",
    "beekeeping.docx": "queen bee laying eggs in the brood comb",
}


def truncated_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for page in range(3):
        y = 780
        for line in range(30):
            pdf.drawString(60, y, f"Page {page} line {line}: migratory terns cross the ocean.")
            y -= 22
        pdf.showPage()
    pdf.save()
    data = buffer.getvalue()
    return data[: int(len(data) * 0.4)]


def binary_bytes() -> bytes:
    rng = random.Random(1234)
    data = bytearray(rng.randbytes(4096))
    data[10:14] = b"\x00\x00\x00\x00"  # NUL bytes for sure, not only by chance
    return bytes(data)


def real_docx() -> bytes:
    from docx import Document

    document = Document()
    document.add_heading("Beekeeping Basics", level=1)
    document.add_paragraph(
        "In spring the queen bee starts laying eggs in the brood comb at the centre of the hive. "
        "Workers feed the larvae royal jelly for three days and pollen afterwards."
    )
    document.add_heading("Harvest", level=2)
    document.add_paragraph("Honey is extracted once the frames are capped with wax.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "broken.pdf").write_bytes(truncated_pdf())
    (folder / "notes.txt").write_bytes(binary_bytes())
    (folder / "empty.md").write_bytes(b"")
    (folder / "report.docx").write_bytes(b"")
    (folder / "lighthouse.md").write_text(
        "# The Lighthouse\n\nEvery evening the lighthouse keeper lit the Fresnel lens at dusk and "
        "wound the clockwork that turned it through the night.\n\n## Storms\n\nDuring winter "
        "storms the keeper sounded the fog horn every thirty seconds.\n",
        encoding="utf-8",
    )
    (folder / "glacier.html").write_text(
        "<!doctype html><html><head><title>Tidewater Glaciers</title></head><body>"
        "<h1>Tidewater Glaciers</h1><p>A tidewater glacier ends in the sea, where calving "
        "drops icebergs into the fjord with a thunderous crack.</p>"
        "<p>Glaciers advance and retreat over centuries as snowfall and melting change.</p>"
        "</body></html>",
        encoding="utf-8",
    )
    (folder / "beekeeping.docx").write_bytes(real_docx())
    return folder


def document_count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM documents").fetchone()
    assert row is not None
    return int(row[0])


async def failed_codes(gw: Any) -> dict[str, str | None]:
    return {d.uri: d.error_code for d in await gw.documents(state=DocumentState.FAILED)}


async def test_bad_files_fail_alone_with_stable_codes(
    tmp_path: Path, make_settings: Callable[..., Any], real_embedder: Any, database_url: str
) -> None:
    folder = write_folder(tmp_path / "docs")
    expected_errors = {code: 1 for code in EXPECTED_FAILURES.values()}
    async with build_app(make_settings(), embedder=real_embedder) as gw:
        report = await gw.ingest_path(folder)
        assert report.failed == 4
        assert report.errors == expected_errors
        assert report.indexed == 3
        assert report.unchanged == 0

        failed = await gw.documents(state=DocumentState.FAILED)
        assert {d.uri: d.error_code for d in failed} == EXPECTED_FAILURES
        for doc in failed:
            assert doc.error_message and doc.error_message.strip(), doc.uri
            assert doc.chunk_count == 0, f"{doc.uri} is failed but has chunks"

        indexed = await gw.documents(state=DocumentState.INDEXED)
        assert sorted(d.uri for d in indexed) == sorted(GOOD_FILES)
        assert all(d.chunk_count > 0 for d in indexed)
        assert await gw.documents(state=DocumentState.PENDING) == []

        stats = await gw.stats()
        assert dict(stats.errors_by_code) == expected_errors
        assert dict(stats.documents_by_state) == {"indexed": 3, "failed": 4, "pending": 0}

        for uri, query in GOOD_FILES.items():
            hits, _ = await gw.search(SearchRequest(query=query, index="default"))
            assert hits and hits[0].uri == uri, (query, [h.uri for h in hits])
            assert not set(EXPECTED_FAILURES) & {h.uri for h in hits}

        # Re-running changes nothing and duplicates nothing.
        rerun = await gw.ingest_path(folder)
        assert rerun.unchanged == 7
        assert rerun.indexed == 0 and rerun.failed == 0 and rerun.deleted == 0
        assert rerun.chunks_embedded == 0
        assert document_count(database_url) == 7
        assert dict((await gw.stats()).errors_by_code) == expected_errors
        assert await failed_codes(gw) == EXPECTED_FAILURES

        # --retry-failed re-processes exactly the failed ones; they fail the same way.
        retry = await gw.ingest_path(folder, retry_failed=True)
        assert retry.failed == 4
        assert retry.errors == expected_errors
        assert retry.unchanged == 3
        assert retry.indexed == 0 and retry.deleted == 0 and retry.chunks_embedded == 0
        assert document_count(database_url) == 7
        assert await failed_codes(gw) == EXPECTED_FAILURES
        assert all(d.error_message for d in await gw.documents(state=DocumentState.FAILED))
        stats = await gw.stats()
        assert dict(stats.errors_by_code) == expected_errors
        assert dict(stats.documents_by_state) == {"indexed": 3, "failed": 4, "pending": 0}


async def test_fixed_bad_file_is_indexed_on_next_run(
    tmp_path: Path, make_settings: Callable[..., Any], real_embedder: Any
) -> None:
    """A failed file that is replaced by a good one is re-processed without --retry-failed
    (its content hash changed) and leaves the failed state."""
    folder = write_folder(tmp_path / "docs")
    async with build_app(make_settings(), embedder=real_embedder) as gw:
        await gw.ingest_path(folder)
        (folder / "report.docx").write_bytes(real_docx())
        report = await gw.ingest_path(folder)
        assert report.indexed == 1
        assert report.failed == 0
        assert report.unchanged == 6
        codes = await failed_codes(gw)
        assert "report.docx" not in codes
        assert len(codes) == 3
        stats = await gw.stats()
        assert "parse.docx_invalid" not in stats.errors_by_code
        assert dict(stats.documents_by_state) == {"indexed": 4, "failed": 3, "pending": 0}
