"""``AnswerService``: retrieve, then answer with the configured answerer.

The answerer runs off the event loop (it encodes sentences). LLM answerers and the fallback
chain of a later release wrap this same service: each answerer is tried in order and the
extractive one is always last.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from groundwire.answering.base import Answerer
from groundwire.domain import Answer, SearchRequest
from groundwire.retrieval.hybrid import HybridRetriever


class AnswerService:
    def __init__(
        self,
        *,
        retriever: HybridRetriever,
        answerer: Answerer,
        passages: int,
        encode_pool: ThreadPoolExecutor,
    ) -> None:
        self._retriever = retriever
        self.answerer = answerer
        self._passages = passages
        self._pool = encode_pool

    async def ask(self, request: SearchRequest) -> Answer:
        started = time.perf_counter()
        search = replace(request, top_k=max(request.top_k, self._passages))
        hits, timings = await self._retriever.search_with_timings(search)
        t0 = time.perf_counter()
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(
            self._pool, self.answerer.answer, request.query, hits[: self._passages]
        )
        timings = {
            **timings,
            "answer": round((time.perf_counter() - t0) * 1000, 2),
            "total": round((time.perf_counter() - started) * 1000, 2),
        }
        return replace(answer, timings_ms=timings)
