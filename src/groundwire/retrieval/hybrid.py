"""``HybridRetriever``: BM25 + dense candidates, fused with per-index tuned weights.

Exact duplicates are handled at query time: identical passage texts collapse into the
best-ranked hit (their embeddings are already shared by content hash at ingest).

Filters and the reader's ``Access`` (tenant + reader tokens) are applied inside both
retrievers before ranking (masked BM25 scoring over a per-tenant BM25 index; SQL ``WHERE``
inside the pgvector index scan), never as top-k-then-filter; fetching the rows re-checks access
in SQL, so a keyword snapshot older than a permission change cannot leak.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace

from groundwire.domain import Hit, SearchRequest
from groundwire.embedding.base import Embedder
from groundwire.retrieval.fusion import Fused, Ranked, fuse
from groundwire.retrieval.keyword import Bm25Index
from groundwire.retrieval.keyword_indexes import KeywordIndexes
from groundwire.settings import RetrievalTuning
from groundwire.stores.base import Store, StoredChunk


@dataclass(frozen=True, slots=True)
class Candidates:
    """Both retrievers' raw lists for one query (what ``tune`` re-fuses offline), and the
    query's embedding (None when the dense side did not run)."""

    keyword: Ranked
    dense: Ranked
    timings_ms: dict[str, float] = field(default_factory=dict)
    query_vector: Any | None = None


@dataclass(frozen=True, slots=True)
class Retrieval:
    """What one search returns: the hits best first, the stage timings in ms (``embed``,
    ``keyword``, ``vector``, ``fill`` when both lists were filled, ``fusion``, ``total``) and
    the query vector, which answer records reuse so drift monitoring never embeds a question
    twice."""

    hits: list[Hit]
    timings_ms: dict[str, float]
    query_vector: Any | None = None


class HybridRetriever:
    def __init__(
        self,
        *,
        store: Store,
        keyword: KeywordIndexes,
        embedder: Embedder,
        tuning_for: Callable[[str], RetrievalTuning],
        encode_pool: ThreadPoolExecutor,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self._store = store
        self._keyword = keyword
        self.embedder = embedder
        self._tuning_for = tuning_for
        self._pool = encode_pool
        self._tracer = tracer or trace.NoOpTracer()

    async def candidates(self, request: SearchRequest, depth: int | None = None) -> Candidates:
        """Both retrievers' lists for ``request``, computed at the same time.

        The dense side (embed the query on the encode pool, then the pgvector scan) runs as a
        task; BM25 scores on this thread meanwhile, so the scan runs in the database while
        Python scores keywords. At 1M chunks, 1 client (benchmarks/scale.py, docs/benchmarks.md
        "Scale"), ``/v1/search`` p50 / p95: 34-39 / 65-89 ms this way, 47 / 131 ms with the two
        sides one after the other, 51 / 112 ms with BM25 on a worker thread (its numpy
        scatter-adds hold the GIL, so the event loop waited to read the database's answer).
        With a real model the query embed (10-20 ms) overlaps BM25 and the scan follows it.
        """
        tuning = self._tuning_for(request.index)
        n = depth or tuning.candidates
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        dense_task = asyncio.ensure_future(self._dense_hits(request, n, timings))
        try:
            bm25, keyword_hits = await self._keyword_hits(request, n)
            timings["keyword"] = _ms(t0)
            vector, dense_hits = await dense_task
        except BaseException:
            dense_task.cancel()
            await asyncio.gather(dense_task, return_exceptions=True)
            raise
        if tuning.fill_scores and keyword_hits and dense_hits:
            t1 = time.perf_counter()
            keyword_hits, dense_hits = await fill_lists(
                self._store, bm25, request, self.embedder.model_id, vector,
                keyword_hits, dense_hits)
            timings["fill"] = _ms(t1)
        return Candidates(keyword_hits, dense_hits, timings, vector)

    async def _keyword_hits(self, request: SearchRequest, n: int) -> tuple[Bm25Index, Ranked]:
        access = request.access
        tenant = access.tenant if access is not None and not access.unrestricted else None
        with self._tracer.start_as_current_span("keyword"):
            # Awaiting the snapshot (a database round trip) lets the dense task start first.
            bm25 = await self._keyword.get(request.index, tenant)
            return bm25, bm25.search(request.query, n, request.filters, access)

    async def _dense_hits(self, request: SearchRequest, n: int,
                          timings: dict[str, float]) -> tuple[Any, Ranked]:
        """(query vector, dense hits): embed the query on the encode pool, then scan the
        vector index; records the ``embed`` and ``vector`` timings. The embed span is not made
        current (the worker thread creates no spans)."""
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        embed_span = self._tracer.start_span("embed")
        try:
            vector = await loop.run_in_executor(
                self._pool, self.embedder.encode_query, request.query
            )
        finally:
            embed_span.end()
        timings["embed"] = _ms(t0)
        t1 = time.perf_counter()
        with self._tracer.start_as_current_span("vector"):
            dense_hits = await self._store.vector_search(
                request.index, self.embedder.model_id, vector.tolist(), n, request.filters,
                request.access,
            )
        timings["vector"] = _ms(t1)
        # A zero query vector (no embeddable text, e.g. the query "\\") has no direction:
        # its cosine scores are NaN, which would rank arbitrarily and serialize as null.
        return vector, [(cid, score) for cid, score in dense_hits if math.isfinite(score)]

    async def search(self, request: SearchRequest) -> list[Hit]:
        hits, _ = await self.search_with_timings(request)
        return hits

    async def search_with_timings(
        self, request: SearchRequest
    ) -> tuple[list[Hit], dict[str, float]]:
        """``retrieve``'s hits and timings."""
        result = await self.retrieve(request)
        return result.hits, result.timings_ms

    async def retrieve(self, request: SearchRequest) -> Retrieval:
        """One search, in a ``retrieval`` span whose children are the stage spans."""
        with self._tracer.start_as_current_span("retrieval") as span:
            span.set_attribute("groundwire.index", request.index)
            return await self._retrieve(request)

    async def _retrieve(self, request: SearchRequest) -> Retrieval:
        started = time.perf_counter()
        tuning = self._tuning_for(request.index)
        cands = await self.candidates(request, tuning.candidates)
        t_fuse = time.perf_counter()
        with self._tracer.start_as_current_span("fusion"):
            fused = fuse(
                cands.keyword,
                cands.dense,
                method=tuning.fusion,
                dense_weight=tuning.dense_weight,
                rrf_k=tuning.rrf_k,
            )
        timings = dict(cands.timings_ms)
        timings["fusion"] = _ms(t_fuse)
        # Fetch extra rows: chunks deleted since the keyword snapshot are dropped here, and
        # identical passages (exact duplicate documents or copied sections) collapse into the
        # best-ranked one, so a result list never shows the same text twice.
        wanted = fused[: request.top_k * 2 + 10]
        rows = await self._store.chunks_by_id([f.id for f in wanted], request.access)
        hits: list[Hit] = []
        seen_texts: set[str] = set()
        for f in wanted:
            row = rows.get(f.id)
            if row is None or row.text in seen_texts:
                continue
            seen_texts.add(row.text)
            admitted = request.access.admits(row.tenant, row.readers) if request.access else None
            hits.append(_hit(f, row, admitted))
            if len(hits) == request.top_k:
                break
        timings["total"] = _ms(started)
        return Retrieval(hits, timings, cands.query_vector)


async def fill_lists(store: Store, bm25: Bm25Index, request: SearchRequest, model_id: str,
                     vector: Any, keyword: Ranked, dense: Ranked) -> tuple[Ranked, Ranked]:
    """Both lists over the union of their candidates, each candidate with its real score on
    both sides: exact cosine (one primary-key query) for keyword candidates the vector index
    did not return, BM25 for dense candidates the keyword list did not hold. Each list stays
    sorted best first.

    Why: a passage missing from one list otherwise scores 0 there. On E-Manual (34 device
    manuals in one house style) the HNSW scan at ef_search 100 returned 93 % of the exact top
    10, and the misses were often the right section: dense-only nDCG@10 0.27 against 0.38
    exact, and fusion fell below keyword-only ranking (docs/benchmarks.md)."""
    in_keyword = {cid for cid, _ in keyword}
    in_dense = {cid for cid, _ in dense}
    need_dense = [cid for cid, _ in keyword if cid not in in_dense]
    need_keyword = [cid for cid, _ in dense if cid not in in_keyword]
    extra_dense = await store.vector_scores(
        request.index, model_id, vector.tolist(), need_dense, request.access,
    ) if need_dense else {}
    extra_keyword = bm25.scores_for(request.query, need_keyword)
    dense_all = [*dense, *((cid, s) for cid, s in extra_dense.items() if math.isfinite(s))]
    keyword_all = [*keyword, *extra_keyword.items()]
    return (sorted(keyword_all, key=lambda p: -p[1]), sorted(dense_all, key=lambda p: -p[1]))


def _hit(f: Fused, row: StoredChunk, admitted_by: str | None = None) -> Hit:
    return Hit(
        chunk_id=row.chunk_id,
        document_id=row.document_id,
        uri=row.uri,
        title=row.title,
        text=row.text,
        heading_path=row.heading_path,
        char_start=row.char_start,
        char_end=row.char_end,
        score=f.score,
        keyword_score=f.keyword_score,
        vector_score=f.vector_score,
        keyword_rank=f.keyword_rank,
        vector_rank=f.vector_rank,
        metadata=row.metadata,
        admitted_by=admitted_by,
    )


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
