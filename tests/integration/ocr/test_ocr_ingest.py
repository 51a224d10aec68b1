"""Ingest on the real store and model: a scanned PDF and a photo of text are OCR'd, indexed,
marked ``ocr: true`` and found by search; without Tesseract the scans fail
``parse.ocr_unavailable`` and the other files of the same batch are indexed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.scans import require_tesseract, scanned_pdf, text_png

from groundwire.bootstrap import build_app
from groundwire.domain import DocumentState, SearchRequest

pytestmark = pytest.mark.integration

SCAN_LINES = ["The harbour pilot boards every tanker", "near the breakwater at dawn"]
PHOTO_LINES = ["Beekeepers smoke the hive before", "lifting the honey frames"]


def _folder(root: Path) -> Path:
    root.mkdir()
    (root / "scan.pdf").write_bytes(scanned_pdf(text_png(SCAN_LINES)))
    (root / "whiteboard.png").write_bytes(text_png(PHOTO_LINES))
    (root / "notes.md").write_text("# Notes\n\nThe glacier calves icebergs into the fjord.\n",
                                   encoding="utf-8")
    return root


async def test_scans_are_indexed_and_found(
    tmp_path: Path, make_settings: Callable[..., Any], real_embedder: Any
) -> None:
    require_tesseract()
    folder = _folder(tmp_path / "docs")
    async with build_app(make_settings(), embedder=real_embedder) as gw:
        report = await gw.ingest_path(folder)
        assert (report.indexed, report.failed) == (3, 0), report
        docs = {d.uri: d for d in await gw.documents(state=DocumentState.INDEXED)}
        assert docs["scan.pdf"].metadata.get("ocr") is True
        assert docs["whiteboard.png"].metadata.get("ocr") is True
        assert "ocr" not in docs["notes.md"].metadata
        for query, uri in (("harbour pilot boards the tanker at the breakwater", "scan.pdf"),
                           ("smoking the beehive to lift honey frames", "whiteboard.png")):
            hits, _ = await gw.search(SearchRequest(query=query, index="default"))
            assert hits and hits[0].uri == uri, (query, [h.uri for h in hits])


async def test_without_tesseract_scans_fail_alone(
    tmp_path: Path, make_settings: Callable[..., Any], real_embedder: Any
) -> None:
    folder = _folder(tmp_path / "docs")
    settings = make_settings(ingest={"ocr": {"command": "groundwire-no-such-tesseract"}})
    async with build_app(settings, embedder=real_embedder) as gw:
        report = await gw.ingest_path(folder)
        assert (report.indexed, report.failed) == (1, 2), report
        assert report.errors == {"parse.ocr_unavailable": 2}
        failed = await gw.documents(state=DocumentState.FAILED)
        assert {d.uri: d.error_code for d in failed} == {
            "scan.pdf": "parse.ocr_unavailable", "whiteboard.png": "parse.ocr_unavailable"}
        assert all("tesseract-ocr" in (d.error_message or "") for d in failed)
        indexed = await gw.documents(state=DocumentState.INDEXED)
        assert [d.uri for d in indexed] == ["notes.md"]
