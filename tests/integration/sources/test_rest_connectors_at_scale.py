"""Confluence and Zendesk syncs of 300 pages/articles from the local API servers through
the real application (fake embedder): the request counts stay at one listing request per
``page_size`` items, a quiet sync embeds nothing. Prints the timings quoted in
docs/connectors.md. Slow (about 10 s each): not in the default run; run it with
``.venv/bin/pytest -s -m slow tests/integration/sources/test_rest_connectors_at_scale.py``."""

from __future__ import annotations

import time
from typing import Any

import pytest
from rest_sources_harness import ConfluenceHarness, ZendeskHarness
from sources_harness import body

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N, PAGE_SIZE = 300, 100


@pytest.mark.parametrize("kind", ["confluence", "zendesk"])
async def test_sync_of_300_items(kind: str, make_settings: Any) -> None:
    from groundwire.bootstrap import build_app
    from groundwire.sources.service import SourceService

    site: Any = ConfluenceHarness() if kind == "confluence" else ZendeskHarness()
    keys = [f"doc{i:03d}" for i in range(N)]
    for n, key in enumerate(keys):
        site.ids[key] = str(5000 + n)
        if kind == "confluence":
            site._put(key, body(key, f"topic {key} " * 40), version=1)
        else:
            site._put(key, body(key, f"topic {key} " * 40))
    total = N + len(site.initial)
    listing = -(-total // PAGE_SIZE) + (1 if kind == "confluence" else 0)  # + space lookup
    steps = [("first", None, total),
             ("no change", None, 0),
             ("one changed", lambda: site.change(keys[5], "zebracorn " * 30), 1),
             ("one deleted", lambda: site.delete(keys[6]), 0)]
    settings = make_settings(embedding={"provider": "fake", "model": "fake-32"},
                             autotune={"enabled": False})
    try:
        async with build_app(settings) as gw:
            sources = SourceService(gw)
            await sources.add("big", kind, {**site.options(), "page_size": PAGE_SIZE},
                              index="docs")
            for label, act, indexed in steps:
                if act:
                    act()
                site.server.hits.clear()
                started = time.perf_counter()
                report = await sources.sync("big")
                took = time.perf_counter() - started
                print(f"{kind} {label}: {took:.2f} s, {report['documents']}, "
                      f"{report['chunks_embedded']} chunks embedded, "
                      f"{len(site.server.hits)} requests")
                assert report["documents"]["indexed"] == indexed, report
                assert len(site.server.hits) == listing
                if label == "no change":
                    assert report["chunks_embedded"] == 0
                if label == "one deleted":
                    assert report["documents"]["deleted"] == 1
            if kind == "confluence":  # + one read-restriction request per page
                await sources.add("mapped", kind, {**site.options(), "page_size": PAGE_SIZE,
                                                   "map_permissions": True}, index="docs2")
                await sources.sync("mapped")
                site.server.hits.clear()
                started = time.perf_counter()
                report = await sources.sync("mapped")
                print(f"confluence no change, map_permissions: "
                      f"{time.perf_counter() - started:.2f} s, {len(site.server.hits)} requests")
                assert report["chunks_embedded"] == 0
                assert len(site.server.hits) == listing + total - 1
    finally:
        site.close()
