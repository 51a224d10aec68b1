"""Readiness and keyword-index freshness across two processes' worth of app instances sharing
one PostgreSQL (the in-process keyword index is derived from the store, P1)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from groundwire.bootstrap import build_app
from groundwire.domain import SearchRequest
from groundwire.embedding.fake import FakeEmbedder

pytestmark = pytest.mark.integration


async def test_second_instance_sees_ingest_and_stays_ready(
    make_settings: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# Alpha\n\nThe alpha reactor runs on thorium salt.\n")
    settings = make_settings()
    embedder = FakeEmbedder(32)
    async with build_app(settings, embedder=embedder) as writer, \
            build_app(settings, embedder=embedder) as reader:
        await writer.ingest_path(folder)
        await reader.warm()
        ready = await reader.readiness()
        assert ready["ready"] is True
        assert ready["checks"]["indexes"]["default"]["consistent"] is True

        (folder / "b.md").write_text("# Beta\n\nThe beta turbine spins on magnetic bearings.\n")
        await writer.ingest_path(folder)
        stale = await reader.readiness()
        # Behind the store, but still serving: ready, not consistent (a rebuild was started).
        assert stale["ready"] is True
        assert stale["checks"]["indexes"]["default"]["consistent"] is False
        for _ in range(100):
            report = await reader.readiness()
            if report["checks"]["indexes"]["default"]["consistent"]:
                break
            await asyncio.sleep(0.05)
        assert report["checks"]["indexes"]["default"]["consistent"] is True
        hits, _ = await reader.search(SearchRequest(query="magnetic bearings turbine"))
        assert hits[0].uri == "b.md"

        (folder / "b.md").unlink()
        await writer.ingest_path(folder)
        # Even before the reader's keyword index catches up, the deleted passage is never
        # returned: rows are fetched from the store, which no longer has it.
        hits, _ = await reader.search(SearchRequest(query="magnetic bearings turbine"))
        assert "b.md" not in {h.uri for h in hits}


async def test_not_ready_when_store_is_unreachable(tmp_path: Path) -> None:
    from groundwire.settings import Settings

    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/nothing",
                        data_dir=tmp_path)
    app = build_app(settings, embedder=FakeEmbedder(8))
    from groundwire.errors import StoreUnavailable

    with pytest.raises(StoreUnavailable):
        async with app:
            pass
