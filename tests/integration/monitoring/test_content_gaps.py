"""Content gaps on the real model: questions about a topic the corpus does not cover (growing
tomatoes) come out as one cluster, apart from another absent topic (astronomy) and from the
questions the corpus answers."""

from __future__ import annotations

from typing import Any

import pytest
from support.query_streams import pool

from groundwire.domain import SearchRequest

pytestmark = pytest.mark.integration


async def test_absent_topic_is_one_content_gap_cluster(monitored_app: Any) -> None:
    tomatoes = pool("gardening", 12, seed=7)
    astronomy = pool("astronomy", 6, seed=7)
    answered = pool("quillmate", 10, seed=7)
    async with monitored_app() as gw:
        for question in tomatoes + astronomy:
            await gw.ask(SearchRequest(question))
        for question in answered:
            await gw.search(SearchRequest(question))
        clusters = await gw.content_gaps()

    by_question = {}
    for n, cluster in enumerate(clusters):
        for example in cluster["examples"]:
            by_question[example] = n
    tomato_clusters = [c for c in clusters if set(c["examples"]) & set(tomatoes)]
    assert len(tomato_clusters) == 1, clusters
    gap = tomato_clusters[0]
    assert gap["size"] == len(tomatoes)  # every tomato question, and nothing else
    assert set(gap["examples"]) <= set(tomatoes) and len(gap["examples"]) == 5
    assert gap["reasons"]["abstained"] + gap["reasons"]["low_score"] >= len(tomatoes)
    assert gap["index"] == "default" and gap["closest_documents"]
    assert {"uri", "title", "score"} <= set(gap["closest_documents"][0])
    assert not any(set(c["examples"]) & set(answered) for c in clusters)
    astro = [c for c in clusters if set(c["examples"]) & set(astronomy)]
    assert astro and all(not set(c["examples"]) & set(tomatoes) for c in astro)
