"""The connector contract, run by every built-in connector (folder, git, web, sql,
confluence, zendesk) against a real source (``tests/sources_harness.py``,
``tests/rest_sources_harness.py``) and the real application on the embedded PostgreSQL
(fake embedder: the subject is listing, change detection and deletion).

* listing: ``items()`` is deterministic, uris are unique and stable, reading is lazy and
  gives bytes; ``source`` is stable;
* sync through a named source: the first sync indexes everything; a second with no change
  embeds nothing; a change re-indexes only that document; a deletion at the source removes
  it from search in one sync; an outage raises ``source.unreachable``, is recorded on the
  source and deletes nothing; the next sync after the outage changes nothing;
* coded errors: one unreadable item fails alone with a stable code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_sources_harness import REST_HARNESSES
from sources_harness import HARNESSES, Harness

pytestmark = pytest.mark.integration


@pytest.fixture(params=sorted({**HARNESSES, **REST_HARNESSES}))
def harness(request: Any, tmp_path: Path) -> Iterator[Harness]:
    made = {**HARNESSES, **REST_HARNESSES}[request.param](tmp_path)
    yield made
    made.close()


def _settings(make_settings: Any) -> Any:
    return make_settings(embedding={"provider": "fake", "model": "fake-32"},
                         autotune={"enabled": False})


def test_listing_is_deterministic_lazy_and_stable(harness: Harness, make_settings: Any
                                                  ) -> None:
    from groundwire.registry import connectors
    from groundwire.sources.secrets import resolve

    settings = _settings(make_settings)
    factory = connectors().get(harness.kind)
    options = resolve(harness.options())  # env:/file: references, as a sync resolves them
    first, second = factory(options, settings), factory(options, settings)
    assert first.source == second.source
    listed = list(first.items())
    uris = [item.uri for item in listed]
    assert uris == [item.uri for item in second.items()]
    assert len(uris) == len(set(uris)) == harness.expected_documents
    assert {harness.uri(k) for k in harness.initial} <= set(uris)
    for item in listed:
        assert isinstance(item.text if item.text is not None else item.read(), str | bytes)


async def _uris_found(gw: Any, query: str) -> set[str]:
    from groundwire.domain import SearchRequest

    hits, _ = await gw.search(SearchRequest(query=query, index="docs", top_k=20))
    return {hit.uri for hit in hits}


async def test_sync_lifecycle(harness: Harness, make_settings: Any) -> None:
    from groundwire.bootstrap import build_app
    from groundwire.sources.errors import SourceUnreachable
    from groundwire.sources.service import SourceService

    async with build_app(_settings(make_settings)) as gw:
        sources = SourceService(gw)
        await sources.add("src", harness.kind, harness.options(), index="docs")

        first = await sources.sync("src")
        assert first["documents"]["indexed"] == harness.expected_documents, first
        assert first["documents"]["failed"] == 0 and first["chunks_embedded"] > 0

        again = await sources.sync("src")
        assert again["chunks_embedded"] == 0, again
        assert again["documents"]["indexed"] == again["documents"]["deleted"] == 0

        harness.change("alpha", "Alpha now documents the zebracorn migration in detail. " * 4)
        changed = await sources.sync("src")
        assert changed["documents"]["indexed"] == 1, changed
        assert changed["documents"]["deleted"] == 0
        assert harness.uri("alpha") in await _uris_found(gw, "zebracorn migration")

        assert harness.uri("beta") in await _uris_found(gw, "meadow quarry velvet willow")
        harness.delete("beta")
        deleted = await sources.sync("src")
        assert deleted["documents"]["deleted"] == 1, deleted
        assert harness.uri("beta") not in await _uris_found(gw, "meadow quarry velvet willow")

        before = (await sources.get("src"))["documents"]
        with harness.outage(), pytest.raises(SourceUnreachable) as caught:
            await sources.sync("src")
        assert caught.value.code == "source.unreachable"
        view = await sources.get("src")
        assert view["last_status"] == "unreachable"
        assert view["last_error"]["code"] == "source.unreachable"
        assert view["documents"] == before  # an outage deletes nothing
        assert harness.uri("alpha") in await _uris_found(gw, "zebracorn migration")

        after = await sources.sync("src")
        assert after["documents"]["deleted"] == 0 and after["chunks_embedded"] == 0, after
        view = await sources.get("src")
        assert view["last_status"] == "ok" and view["last_error"] is None
        assert view["documents"] == {"indexed": harness.expected_documents - 1}


async def test_one_unreadable_item_fails_alone_with_a_code(harness: Harness,
                                                           make_settings: Any) -> None:
    from groundwire.bootstrap import build_app
    from groundwire.sources.service import SourceService

    options, uri, code = harness.add_failing()
    async with build_app(_settings(make_settings)) as gw:
        sources = SourceService(gw)
        await sources.add("src", harness.kind, options, index="docs")
        report = await sources.sync("src")
        assert report["documents"]["failed"] == 1, report
        assert report["documents"]["indexed"] == harness.expected_documents
        assert report["errors"] == {code: 1}
        view = await sources.get("src")
        assert view["documents"] == {"indexed": harness.expected_documents, "failed": 1}
        assert [(f["uri"], f["code"]) for f in view["retrying"]] == [(uri, code)]
