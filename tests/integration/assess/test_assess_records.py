"""Assess reads a records file as a container, as ingest does: each record is a document, a
bad record is one failed document named by its line, and the file's other records go on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundwire.assess.source import PathReader
from groundwire.ingest.chunking import Chunker
from groundwire.registry import parsers
from groundwire.settings import Settings

pytestmark = pytest.mark.integration


def _reader(root: Path) -> PathReader:
    chunker = Chunker(lambda text: len(text.split()), max_tokens=200, overlap_tokens=0,
                      window_tokens=256)
    return PathReader(root, Settings(), parsers(), chunker)


def test_bad_records_fail_alone_with_their_line(tmp_path: Path) -> None:
    good = {"id": "a", "title": "Alpha", "text": "The alpha record is a complete sentence."}
    later = {"id": "c", "text": "The gamma record comes after two bad lines."}
    lines = [
        json.dumps(good),
        "not json at all",
        json.dumps({"id": "a", "text": "A second record with the first one's id."}),
        json.dumps(later),
    ]
    (tmp_path / "notes.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "rows.csv").write_text("id,text\nr1,The first row has text.\n",
                                       encoding="utf-8")

    docs = {d.uri: d for d in _reader(tmp_path).documents()}

    assert set(docs) == {"notes.jsonl#a", "notes.jsonl#line-2", "notes.jsonl#a@line-3",
                         "notes.jsonl#c", "rows.csv#r1"}
    assert docs["notes.jsonl#a"].error_code is None
    assert docs["notes.jsonl#a"].title == "Alpha"
    assert docs["notes.jsonl#c"].error_code is None  # records after a bad line are read
    assert "gamma record" in docs["notes.jsonl#c"].text
    bad, dup = docs["notes.jsonl#line-2"], docs["notes.jsonl#a@line-3"]
    assert (bad.error_code, dup.error_code) == ("parse.record_invalid", "parse.record_duplicate")
    assert bad.error_message is not None and "line 2" in bad.error_message
    assert dup.error_message is not None and "line 3" in dup.error_message
    assert bad.container == "notes.jsonl"


def test_unreadable_container_fails_as_one_document(tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text('{"not": "a list"}', encoding="utf-8")

    docs = list(_reader(tmp_path).documents())

    assert [(d.uri, d.error_code) for d in docs] == [("list.json", "parse.record_invalid")]
