"""``assess`` reads scans as ingest does: OCR'd documents are counted in parseability's
``ocr`` figure, and without Tesseract they are failures with install advice (no model)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.scans import require_tesseract, scanned_pdf, text_png

from groundwire.assess import AssessmentSource, run_assessment
from groundwire.settings import Settings

pytestmark = pytest.mark.integration


def _folder(root: Path) -> Path:
    root.mkdir()
    (root / "scan.pdf").write_bytes(scanned_pdf())
    (root / "photo.png").write_bytes(text_png())
    (root / "notes.md").write_text("# Notes\n\nThe glacier calves icebergs into the fjord.\n",
                                   encoding="utf-8")
    return root


async def test_assess_counts_ocr_documents(tmp_path: Path) -> None:
    require_tesseract()
    report = await run_assessment(AssessmentSource.of_path(_folder(tmp_path / "d")), Settings())
    section = report["dimensions"]["parseability"]
    assert section["figures"]["ocr"] == 2
    assert section["figures"]["failed"] == 0


async def test_assess_without_tesseract_reports_ocr_unavailable(tmp_path: Path) -> None:
    settings = Settings(ingest={"ocr": {"command": "groundwire-no-such-tesseract"}})
    report = await run_assessment(AssessmentSource.of_path(_folder(tmp_path / "d")), settings)
    section = report["dimensions"]["parseability"]
    assert section["figures"]["failed"] == 2 and section["figures"]["ocr"] == 0
    kinds = {f["locations"][0]["uri"]: f["kind"] for f in section["findings"]
             if f["severity"] == "critical"}
    assert kinds == {"scan.pdf": "parse.ocr_unavailable", "photo.png": "parse.ocr_unavailable"}
    assert any("tesseract-ocr" in line for line in section["advice"])
