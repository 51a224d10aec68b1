"""Near-duplicates at ingest on the real embedded PostgreSQL (fake embedder: fast): the older
of two near-identical documents is marked ``duplicate_of`` the newer and left out of search
(keyword and vector side); different reader sets are never marked; deleting the newer one
(or changing its readers) makes the older searchable again; a distinct document is never
marked; ``include_in_search`` searches duplicates too (another keyword snapshot)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from groundwire.assess.runner import run_assessment
from groundwire.assess.source import AssessmentSource
from groundwire.bootstrap import build_app
from groundwire.domain import Permissions, SearchRequest, SourceItem

pytestmark = pytest.mark.integration

POLICY = (
    "Employees booking business travel must use the approved booking portal and choose the "
    "lowest economy fare available within two hours of the preferred departure time. Hotel "
    "stays are reimbursed up to the city limit published by finance each January, and meals "
    "are covered by the daily allowance rather than by receipts. Travel abroad needs written "
    "approval from a director at least fourteen days before departure, and every trip must "
    "be recorded in the expense system within thirty days of returning home, with the "
    "boarding passes attached as proof of travel for the auditors of the {year} cycle."
)
DISTINCT = (
    "The cafeteria opens at half past seven and serves breakfast until ten. Lunch is served "
    "from noon to two, with a vegetarian dish and a soup every day of the week."
)
QUERY = "approved booking portal lowest economy fare hotel city limit"


def item(uri: str, text: str, year: int, readers: Permissions | None = None) -> SourceItem:
    return SourceItem(uri=uri, media_type="text/plain", read=lambda: b"", text=text,
                      title="Travel policy", modified_at=datetime(year, 1, 1, tzinfo=UTC),
                      permissions=readers or Permissions(everyone=True))


def marks(database_url: str) -> dict[str, str | None]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT d.uri, k.uri FROM documents d LEFT JOIN documents k ON k.id = d.duplicate_of"
        ).fetchall()
    return dict(rows)


async def hit_uris(gw: Any, query: str = QUERY) -> list[str]:
    hits, _ = await gw.search(SearchRequest(query=query, index="default", top_k=10))
    return [h.uri for h in hits]


def cli_status(database_url: str, data_dir: Path) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    env.update(GROUNDWIRE_DATABASE_URL=database_url, GROUNDWIRE_DATA_DIR=str(data_dir),
               GROUNDWIRE_EMBEDDING__PROVIDER="fake", GROUNDWIRE_LOG_LEVEL="WARNING")
    result = subprocess.run([str(Path(sys.executable).parent / "groundwire"), "status", "--json"],
                            env=env, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout)


async def test_older_marked_hidden_until_newer_deleted(
    make_settings: Callable[..., Any], database_url: str, tmp_path: Path
) -> None:
    old = item("policy-2023.txt", POLICY.format(year=2023), 2023)
    new = item("policy-2024.txt", POLICY.format(year=2024), 2024)
    other = item("cafeteria.txt", DISTINCT, 2020)
    source = ("test", "memory")
    async with build_app(make_settings(embedding={"provider": "fake"})) as gw:
        # the older one first, the newer in a later run: it is compared with the stored one
        await gw.ingest_items([old, other], index="default", source=source)
        assert marks(database_url) == {"policy-2023.txt": None, "cafeteria.txt": None}
        assert "policy-2023.txt" in await hit_uris(gw)

        await gw.ingest_items([old, other, new], index="default", source=source)
        assert marks(database_url) == {"policy-2023.txt": "policy-2024.txt",
                                       "cafeteria.txt": None, "policy-2024.txt": None}
        uris = await hit_uris(gw)
        assert "policy-2024.txt" in uris and "policy-2023.txt" not in uris
        assert "cafeteria.txt" in await hit_uris(gw, "cafeteria breakfast vegetarian soup")
        assert await gw.store.count_duplicates("default") == 1
        pairs = await gw.store.duplicate_pairs("default")
        assert [(p.duplicate_uri, p.kept_uri) for p in pairs] == [
            ("policy-2023.txt", "policy-2024.txt")]
        # `groundwire status` and `assess` (of the index) report them
        assert cli_status(database_url, tmp_path / "data")["near_duplicates"] == {
            "documents": 1, "pairs": [{"duplicate": "policy-2023.txt", "of": "policy-2024.txt"}]}
        report = await run_assessment(AssessmentSource.of_index("default"), gw.settings,
                                      store=gw.store)
        section = report["dimensions"]["duplicates"]
        assert section["figures"]["marked_at_ingest"] == 1
        assert any(f["kind"] == "duplicate.marked" for f in section["findings"])

        # the newer one goes away at the source: the older one is searchable again
        report = await gw.ingest_items([old, other], index="default", source=source)
        assert report.deleted == 1
        assert marks(database_url) == {"policy-2023.txt": None, "cafeteria.txt": None}
        assert "policy-2023.txt" in await hit_uris(gw)


async def test_include_in_search_and_one_batch(
    make_settings: Callable[..., Any], database_url: str
) -> None:
    docs = [item("policy-2024.txt", POLICY.format(year=2024), 2024),
            item("policy-2023.txt", POLICY.format(year=2023), 2023)]
    async with build_app(make_settings(embedding={"provider": "fake"})) as gw:
        await gw.ingest_items(docs, index="default", source=("test", "memory"))
        assert marks(database_url)["policy-2023.txt"] == "policy-2024.txt"
        assert "policy-2023.txt" not in await hit_uris(gw)
        hidden = len(await gw.keyword.refresh("default"))
        await gw.keyword.drain()  # the persisted keyword snapshot is written
    include = {"near_duplicates": {"include_in_search": True}}
    async with build_app(make_settings(embedding={"provider": "fake"}, ingest=include)) as gw:
        assert "policy-2023.txt" in await hit_uris(gw)
        # another corpus, so another snapshot key (epoch): not the one written above
        assert len(await gw.keyword.get("default")) > hidden


async def test_different_readers_or_equal_times_are_never_marked(
    make_settings: Callable[..., Any], database_url: str
) -> None:
    text = POLICY.format(year=2024)
    docs = [item("finance/policy.txt", text, 2023, Permissions(groups=("finance",))),
            item("everyone/policy.txt", text, 2024),
            item("copy-a.txt", text + " Copy.", 2022), item("copy-b.txt", text + " Copy.", 2022)]
    async with build_app(make_settings(embedding={"provider": "fake"})) as gw:
        await gw.ingest_items(docs, index="default", source=("test", "memory"))
        found = marks(database_url)
        # the kept document's readers change: its duplicates are searchable again
        kept = await gw.store.documents_by_uri("default", ["everyone/policy.txt"],
                                               tenant="default")
        await gw.store.set_readers(kept[0].id, ["t:default:group:legal"])
        assert set(marks(database_url).values()) == {None}
    assert found["finance/policy.txt"] is None  # same text, other readers: both searchable
    # copy-a/copy-b: equal modified times (neither is newer), each marked only for the newer
    # document everyone reads
    assert found == {"finance/policy.txt": None, "everyone/policy.txt": None,
                     "copy-a.txt": "everyone/policy.txt", "copy-b.txt": "everyone/policy.txt"}
