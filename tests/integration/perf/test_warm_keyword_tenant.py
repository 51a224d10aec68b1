"""``warm`` loads the keyword index API searches read — the default tenant's — and only that
one (issue 23: warming the all-tenant index held a second copy API traffic never read, and
the first search then built its tenant's index: +150 MB and 1.7 s at 14k chunks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from groundwire.bootstrap import build_app
from groundwire.domain import SearchRequest
from groundwire.embedding.fake import FakeEmbedder
from groundwire.security.principal import Principal

pytestmark = pytest.mark.integration


async def test_warm_loads_the_default_tenants_index_and_its_search_builds_none(
    make_settings: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# Alpha\n\nThe alpha reactor runs on thorium salt.\n")
    settings = make_settings(security={"default_readers": ["*"]})
    async with build_app(settings, embedder=FakeEmbedder(32)) as gw:
        await gw.ingest_path(folder)
        await gw.warm()
        tenant = settings.security.default_tenant
        warmed = set(gw.keyword._indexes)
        assert warmed == {("default", tenant)}
        principal = Principal(tenant=tenant, user="u", scopes=frozenset({"search"}))
        request = SearchRequest(query="thorium reactor", access=principal.access())
        hits, _ = await gw.search(request)
        assert [h.uri for h in hits][:1] == ["a.md"]
        assert set(gw.keyword._indexes) == warmed  # nothing built for the search
        assert (await gw.readiness())["ready"] is True
