"""A records file is a container (issue 20 item 5): on the real embedded PostgreSQL, a 10k
record ``.jsonl.gz`` with repeated ids and a few malformed lines indexes every other record;
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

RECORDS = 10_000
DUPLICATES = {2_500: 17, 6_000: 4_242, 9_999: 17}  # line -> the earlier id it repeats
MALFORMED = {4_000: '{"id": "broken", "text": ', 8_000: '["not", "an", "object"]'}


def record(i: int) -> dict[str, Any]:
    return {"_id": f"r{i}", "title": f"Record {i}",
            "text": f"Record number {i} describes the harbour crane model K{i}."}


def write_corpus(path: Path, *, bad: bool = True) -> Path:
    lines = []
    for line in range(1, RECORDS + 1):
        if bad and line in DUPLICATES:
            lines.append(json.dumps({**record(line), "_id": f"r{DUPLICATES[line]}"}))
        elif bad and line in MALFORMED:
            lines.append(MALFORMED[line])
        else:
            lines.append(json.dumps(record(line)))
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


async def test_bad_records_fail_alone_in_a_10k_record_gzip_file(
    tmp_path: Path, make_settings: Callable[..., Any]
) -> None:
    corpus = write_corpus(tmp_path / "corpus.jsonl.gz")
    good = RECORDS - len(DUPLICATES) - len(MALFORMED)
    async with build_app(make_settings(embedding={"provider": "fake"})) as gw:
        report = await gw.ingest_path(corpus)
        assert report.indexed == good
        assert report.failed == len(DUPLICATES) + len(MALFORMED)
        assert report.errors == {"parse.record_duplicate": 3, "parse.record_invalid": 2}

        failed = {d.uri: d for d in await gw.documents(state=DocumentState.FAILED, limit=100)}
        assert set(failed) == {
            "corpus.jsonl.gz#r17@line-2500", "corpus.jsonl.gz#r4242@line-6000",
            "corpus.jsonl.gz#r17@line-9999", "corpus.jsonl.gz#line-4000",
            "corpus.jsonl.gz#line-8000",
        }
        duplicate = failed["corpus.jsonl.gz#r4242@line-6000"]
        assert duplicate.error_code == "parse.record_duplicate"
        assert "line 6000" in (duplicate.error_message or "")
        assert "first at line 4242" in (duplicate.error_message or "")
        assert "line 4000" in (failed["corpus.jsonl.gz#line-4000"].error_message or "")

        # The first record of a repeated id is the one kept; the others are all there.
        kept = await gw.documents(state=DocumentState.INDEXED, limit=RECORDS)
        uris = {d.uri for d in kept}
        assert len(uris) == good
        assert {"corpus.jsonl.gz#r17", "corpus.jsonl.gz#r4242", "corpus.jsonl.gz#r1",
                "corpus.jsonl.gz#r10000"} <= uris
        assert "corpus.jsonl.gz#r2500" not in uris  # its line repeated r17's id
        hits, _ = await gw.search(SearchRequest(query="harbour crane model K4242",
                                                index="default"))
        assert hits[0].uri == "corpus.jsonl.gz#r4242"
        assert "K4242" in hits[0].text

        # Unchanged input: nothing re-indexed, nothing re-failed.
        rerun = await gw.ingest_path(corpus)
        assert (rerun.indexed, rerun.failed, rerun.deleted) == (0, 0, 0)
        assert rerun.unchanged == RECORDS

        # The file fixed: the bad records are indexed and their failed documents go away.
        write_corpus(corpus, bad=False)
        fixed = await gw.ingest_path(corpus)
        assert fixed.failed == 0
        assert fixed.indexed == len(DUPLICATES) + len(MALFORMED)
        assert fixed.deleted == len(DUPLICATES) + len(MALFORMED)
        assert await gw.documents(state=DocumentState.FAILED) == []
