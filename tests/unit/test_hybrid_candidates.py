"""``HybridRetriever.candidates``: the dense side (embed, then the vector scan) runs while BM25
scores, the query is embedded once and its vector reaches the caller, and a failure on either
side leaves no task behind."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from groundwire.domain import SearchRequest
from groundwire.embedding.fake import FakeEmbedder
from groundwire.retrieval.hybrid import HybridRetriever
from groundwire.settings import RetrievalTuning


class CountingEmbedder(FakeEmbedder):
    model_id = "fake-8"

    def __init__(self) -> None:
        super().__init__(dimension=8)
        self.queries: list[str] = []

    def encode_query(self, text: str) -> Any:
        self.queries.append(text)
        return super().encode_query(text)


class Events:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.scan_started = asyncio.Event()


class SlowStore:
    """The vector scan takes a while in the database (it yields to the event loop)."""

    def __init__(self, events: Events, fail: bool = False) -> None:
        self.events, self.fail = events, fail

    async def generation(self, index: str) -> int:
        # The keyword side's round trip returns only once the vector scan is under way: a
        # retriever that ran the two sides one after the other times out here.
        await asyncio.wait_for(self.events.scan_started.wait(), 5)
        return 1

    async def vector_search(self, *args: Any) -> list[tuple[int, float]]:
        self.events.log.append("vector started")
        self.events.scan_started.set()
        await asyncio.sleep(0.05)
        if self.fail:
            raise RuntimeError("database went away")
        self.events.log.append("vector done")
        return [(2, 0.9), (3, float("nan"))]

    async def vector_scores(self, index: str, model_id: str, vector: Any, chunk_ids: Any,
                            access: Any = None) -> dict[int, float]:
        self.events.log.append(f"vector_scores {sorted(chunk_ids)}")
        return {cid: 0.5 for cid in chunk_ids}


class Bm25:
    def __init__(self, events: Events, fail: bool) -> None:
        self.events, self.fail = events, fail

    def search(self, *args: Any) -> list[tuple[int, float]]:
        self.events.log.append("bm25 scored")
        if self.fail:
            raise ValueError("bad index")
        return [(1, 3.0)]

    def scores_for(self, query: str, chunk_ids: Any) -> dict[int, float]:
        self.events.log.append(f"scores_for {sorted(chunk_ids)}")
        return {cid: 0.0 for cid in chunk_ids}


class Keyword:
    def __init__(self, store: SlowStore, bm25: Bm25) -> None:
        self.store, self.bm25 = store, bm25

    async def get(self, index: str, tenant: str | None = None) -> Bm25:
        await self.store.generation(index)
        return self.bm25


def _retriever(events: Events, *, vector_fails: bool = False, bm25_fails: bool = False,
               fill: bool = False) -> tuple[HybridRetriever, CountingEmbedder, ThreadPoolExecutor]:
    store = SlowStore(events, vector_fails)
    embedder = CountingEmbedder()
    pool = ThreadPoolExecutor(1)
    retriever = HybridRetriever(store=store, keyword=Keyword(store, Bm25(events, bm25_fails)),  # type: ignore[arg-type]
                                embedder=embedder,
                                tuning_for=lambda _: RetrievalTuning(fill_scores=fill),
                                encode_pool=pool)
    return retriever, embedder, pool


async def test_the_vector_scan_runs_while_bm25_scores_and_the_query_is_embedded_once() -> None:
    events = Events()
    retriever, embedder, pool = _retriever(events)
    try:
        cands = await retriever.candidates(SearchRequest(query="graph search", index="i"), 10)
    finally:
        pool.shutdown()
    assert events.log == ["vector started", "bm25 scored", "vector done"]
    assert cands.keyword == [(1, 3.0)]
    assert cands.dense == [(2, 0.9)]  # the NaN score is dropped
    assert embedder.queries == ["graph search"]
    assert cands.query_vector is not None and len(cands.query_vector) == 8
    assert set(cands.timings_ms) == {"keyword", "embed", "vector"}


@pytest.mark.parametrize("side", ["vector", "bm25"])
async def test_a_failure_on_either_side_propagates_and_leaves_no_task(side: str) -> None:
    events = Events()
    retriever, _, pool = _retriever(events, vector_fails=side == "vector",
                                    bm25_fails=side == "bm25")
    before = asyncio.all_tasks()
    try:
        with pytest.raises(RuntimeError if side == "vector" else ValueError):
            await retriever.candidates(SearchRequest(query="graph search", index="i"), 10)
    finally:
        pool.shutdown()
    assert asyncio.all_tasks() == before
    if side == "bm25":  # the scan was cancelled, not left running
        assert "vector done" not in events.log


async def test_filled_lists_score_every_candidate_on_both_sides() -> None:
    """A keyword candidate the vector index missed gets its exact cosine (not 0), a dense
    candidate without a keyword hit gets its BM25 score; both lists cover the union."""
    events = Events()
    retriever, _, pool = _retriever(events, fill=True)
    try:
        cands = await retriever.candidates(SearchRequest(query="graph search", index="i"), 10)
    finally:
        pool.shutdown()
    assert "vector_scores [1]" in events.log and "scores_for [2]" in events.log
    assert cands.keyword == [(1, 3.0), (2, 0.0)]
    assert cands.dense == [(2, 0.9), (1, 0.5)]
    assert "fill" in cands.timings_ms
