"""A records file is a container (issue 20 item 5): on the real embedded PostgreSQL, a
``.jsonl.gz`` (1k records by default, 10k under the ``slow`` marker) with repeated ids and
a few malformed lines indexes every other record;
each bad record is one failed document with a coded error naming its line; a re-run counts
the bad records as unchanged; fixing the file clears them. (The fake embedder keeps it fast:
the subject is the container semantics, not retrieval quality.)"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from groundwire.bootstrap import build_app
from groundwire.domain import DocumentState, SearchRequest

pytestmark = pytest.mark.integration

def bad_lines(records: int) -> tuple[dict[int, int], dict[int, str]]:
    """(line -> the earlier record number whose id it repeats, line -> malformed text)."""
    duplicates = {records // 4: 17, records * 3 // 5: records * 2 // 5 + 42, records - 1: 17}
    malformed = {records * 2 // 5: '{"id": "broken", "text": ',
                 records * 4 // 5: '["not", "an", "object"]'}
    return duplicates, malformed


def record(i: int) -> dict[str, Any]:
    return {"_id": f"r{i}", "title": f"Record {i}",
            "text": f"Record number {i} describes the harbour crane model K{i}."}


def write_corpus(path: Path, records: int, *, bad: bool = True) -> Path:
    duplicates, malformed = bad_lines(records)
    lines = []
    for line in range(1, records + 1):
        if bad and line in duplicates:
            lines.append(json.dumps({**record(line), "_id": f"r{duplicates[line]}"}))
        elif bad and line in malformed:
            lines.append(malformed[line])
        else:
            lines.append(json.dumps(record(line)))
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("records", [1_000, pytest.param(10_000, marks=pytest.mark.slow)])
async def test_bad_records_fail_alone_in_a_gzip_records_file(
    records: int, tmp_path: Path, make_settings: Callable[..., Any]
) -> None:
    corpus = write_corpus(tmp_path / "corpus.jsonl.gz", records)
    duplicates, malformed = bad_lines(records)
    bad = len(duplicates) + len(malformed)
    good = records - bad
    async with build_app(make_settings(embedding={"provider": "fake"})) as gw:
        report = await gw.ingest_path(corpus)
        assert report.indexed == good
        assert report.failed == bad
        assert report.errors == {"parse.record_duplicate": 3, "parse.record_invalid": 2}

        failed = {d.uri: d for d in await gw.documents(state=DocumentState.FAILED, limit=100)}
        repeated = records * 2 // 5 + 42
        assert set(failed) == {
            f"corpus.jsonl.gz#r17@line-{records // 4}",
            f"corpus.jsonl.gz#r{repeated}@line-{records * 3 // 5}",
            f"corpus.jsonl.gz#r17@line-{records - 1}",
            f"corpus.jsonl.gz#line-{records * 2 // 5}",
            f"corpus.jsonl.gz#line-{records * 4 // 5}",
        }
        duplicate = failed[f"corpus.jsonl.gz#r{repeated}@line-{records * 3 // 5}"]
        assert duplicate.error_code == "parse.record_duplicate"
        assert f"line {records * 3 // 5}" in (duplicate.error_message or "")
        assert f"first at line {repeated}" in (duplicate.error_message or "")
        assert f"line {records * 2 // 5}" in (
            failed[f"corpus.jsonl.gz#line-{records * 2 // 5}"].error_message or "")

        # The first record of a repeated id is the one kept; the others are all there.
        kept = await gw.documents(state=DocumentState.INDEXED, limit=records)
        uris = {d.uri for d in kept}
        assert len(uris) == good
        assert {"corpus.jsonl.gz#r17", f"corpus.jsonl.gz#r{repeated}", "corpus.jsonl.gz#r1",
                f"corpus.jsonl.gz#r{records}"} <= uris
        assert f"corpus.jsonl.gz#r{records // 4}" not in uris  # its line repeated r17's id
        hits, _ = await gw.search(SearchRequest(query=f"harbour crane model K{repeated}",
                                                index="default"))
        assert hits[0].uri == f"corpus.jsonl.gz#r{repeated}"
        assert f"K{repeated}." in hits[0].text

        # Unchanged input: nothing re-indexed, nothing re-failed.
        rerun = await gw.ingest_path(corpus)
        assert (rerun.indexed, rerun.failed, rerun.deleted) == (0, 0, 0)
        assert rerun.unchanged == records

        # The file fixed: the bad records are indexed and their failed documents go away.
        write_corpus(corpus, records, bad=False)
        fixed = await gw.ingest_path(corpus)
        assert fixed.failed == 0
        assert fixed.indexed == bad
        assert fixed.deleted == bad
        assert await gw.documents(state=DocumentState.FAILED) == []
