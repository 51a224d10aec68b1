"""run_assessment end to end on tiny folders (real parsers and detectors, no database)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from groundwire.assess import AssessmentSource, run_assessment
from groundwire.errors import InvalidRequest
from groundwire.settings import Settings

TEXT = (
    "The committee reviewed the annual budget and approved the new library wing after a "
    "long discussion about maintenance, staffing and opening hours for the public."
)


def test_source_is_a_path_or_an_index() -> None:
    with pytest.raises(InvalidRequest):
        AssessmentSource()
    with pytest.raises(InvalidRequest):
        AssessmentSource(path=Path("."), index="default")
    assert AssessmentSource.of_index().as_json() == {
        "kind": "index",
        "path": None,
        "index": "default",
    }


async def test_index_source_needs_a_store_and_path_must_exist(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest):
        await run_assessment(AssessmentSource.of_index("x"), Settings())
    with pytest.raises(InvalidRequest):
        await run_assessment(AssessmentSource.of_path(tmp_path / "missing"), Settings())


async def test_records_file_sidecars_and_progress(tmp_path: Path) -> None:
    rows = [
        {
            "_id": str(i),
            "title": f"T{i}",
            "text": f"{TEXT} Item {i}.",
            "acl": "staff" if i % 2 else "",
        }
        for i in range(6)
    ]
    rows.append({"_id": "blank", "text": "   "})
    with gzip.open(tmp_path / "corpus.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "note.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "note.txt.acl.json").write_text('{"allowed_users": ["ann"]}', encoding="utf-8")
    (tmp_path / "bad.jsonl").write_text('{"id": 1, "text": "ok"}\n{oops\n', encoding="utf-8")
    stages: list[tuple[str, int, int | None]] = []

    report = await run_assessment(
        AssessmentSource.of_path(tmp_path), Settings(), progress=lambda *a: stages.append(a)
    )

    counts = report["counts"]
    # 7 records + note.txt + bad.jsonl's first record + its bad second record (failed, as a
    # document of its own: bad.jsonl#line-2); the sidecar is not a document.
    assert counts["documents"] == 10
    assert counts["empty"] == 1 and counts["failed"] == 1
    failed = [
        f for f in report["dimensions"]["parseability"]["findings"] if f["severity"] == "critical"
    ]
    assert [(f["kind"], f["locations"][0]["uri"]) for f in failed] == [
        ("parse.record_invalid", "bad.jsonl#line-2")
    ]
    # Records 0, 2, 4 (empty acl), "blank" and both of bad.jsonl's have no permissions.
    assert counts["no_acl_documents"] == 6
    assert stages[-1] == ("done", 10, 10)
    assert ("read", 10, 10) in stages
    assert report["target"] == {"kind": "path", "path": str(tmp_path), "index": None}


async def test_single_file_source(tmp_path: Path) -> None:
    path = tmp_path / "one.md"
    path.write_text(f"---\npermissions: [a]\n---\n# Budget review\n\n{TEXT}\n", encoding="utf-8")
    report = await run_assessment(AssessmentSource.of_path(path), Settings())
    assert report["counts"]["documents"] == 1
    assert report["counts"]["no_acl_documents"] == 0
    assert report["dimensions"]["inventory"]["figures"]["main_language"] == "en"


async def test_records_fall_back_to_their_files_sidecar(tmp_path: Path) -> None:
    rows = [{"id": "1", "text": TEXT}, {"id": "2", "text": TEXT + " Two.", "acl": "x"}]
    (tmp_path / "r.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    report = await run_assessment(AssessmentSource.of_path(tmp_path), Settings())
    assert report["counts"]["no_acl_documents"] == 1
    (tmp_path / "r.jsonl.acl.json").write_text('{"allowed_groups": ["a"]}', encoding="utf-8")
    report = await run_assessment(AssessmentSource.of_path(tmp_path), Settings())
    assert report["counts"]["no_acl_documents"] == 0
