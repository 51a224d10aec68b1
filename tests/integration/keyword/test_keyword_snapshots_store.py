"""Persisted keyword indexes over the real store: a second process-equivalent app loads the
snapshot without reading the corpus from the database, ranks the same, and an ingest (a new
generation) is rebuilt from the store, never served from the old file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from groundwire.bootstrap import build_app
from groundwire.domain import SearchRequest

pytestmark = pytest.mark.integration


def write_docs(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"doc{i}.md").write_text(
            f"# Topic {i}\n\nThe espresso machine model {i} needs descaling every {i + 2} "
            f"weeks; the steam wand of model {i} is cleaned daily.\n")
    return folder


def snapshot_names(settings: Any) -> dict[str, str]:
    """Tenant folder -> the one snapshot in it (fails when a folder holds several)."""
    found: dict[str, str] = {}
    for meta in (Path(settings.data_dir) / "keyword" / "default").rglob("meta.json"):
        tenant = meta.parent.parent.name
        assert tenant not in found, "more than one snapshot of one index and tenant"
        found[tenant] = meta.parent.name
    return found


async def keyword_ids(gw: Any, query: str) -> list[int]:
    bm25 = await gw.keyword.get("default")
    return [cid for cid, _ in bm25.search(query, 10)]


async def test_a_second_app_loads_the_snapshot_and_an_ingest_rebuilds(
        make_settings: Any, tmp_path: Path) -> None:
    settings = make_settings(embedding={"provider": "fake", "model": "fake-32"})
    corpus = write_docs(tmp_path / "corpus", 12)
    async with build_app(settings) as gw:
        await gw.ingest_path(corpus)
        first = await keyword_ids(gw, "descaling model 7")
        await gw.keyword.drain()
    before = snapshot_names(settings)
    assert set(before) == {"_all", "t-default"}  # every tenant, and the ingesting tenant

    async with build_app(settings) as gw:
        reads: list[str] = []
        real = gw.store.keyword_corpus

        async def counted(index: str, tenant: str | None = None) -> Any:
            reads.append(index)
            return await real(index, tenant)

        gw.store.keyword_corpus = counted  # type: ignore[method-assign]
        assert await keyword_ids(gw, "descaling model 7") == first
        assert reads == []  # loaded from the snapshot, not from the database
        hits, _ = await gw.search(SearchRequest("descaling model 7", index="default"))
        assert hits and "model 7" in hits[0].text

        (corpus / "doc7.md").write_text("# Topic 7\n\nThis machine was retired.\n")
        await gw.ingest_path(corpus)  # a new generation: rebuilt from the store
        assert reads
        after = await keyword_ids(gw, "descaling model 7")
        assert after != first
        await gw.keyword.drain()
    after_names = snapshot_names(settings)
    assert set(after_names) == set(before)
    assert all(after_names[t] != before[t] for t in before)  # older generations removed
