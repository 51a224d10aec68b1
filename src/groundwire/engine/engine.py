"""``IndexEngine``: one configuration's machinery for reading and writing an index.

An engine owns what a version of an index is built and served with — the embedder, the
keyword indexes (BM25 derived from the store), the hybrid retriever with its fusion settings
(``tunings``), the answer flow and the ingest pipeline — over a store it shares with every
other engine of the process. ``EngineFactory`` (``engine/factory.py``) builds engines from
``Settings``, once per configuration, and caches them by version; nothing builds one while
serving a request except through the factory's cache.

Engines take *physical* index names: resolving a logical name (an alias) to the live version
and its engine is the version router's job (``versions/router.py``).

Life cycle: constructing does no I/O; the store is opened and closed by its owner (the
application), never by an engine; ``aclose`` releases what the engine itself holds (its LLM
clients and, when it owns it, its encode thread pool).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from groundwire.answering.service import ANONYMOUS, AnswerDone, AnswerEvent, AnswerService
from groundwire.domain import IngestReport, SearchRequest
from groundwire.domain.budgets import BudgetScopes
from groundwire.domain.documents import SourceItem
from groundwire.embedding.base import Embedder
from groundwire.errors import NotFound
from groundwire.ingest.pipeline import IngestPipeline, Progress
from groundwire.registry import connectors
from groundwire.retrieval.hybrid import HybridRetriever, Retrieval
from groundwire.retrieval.keyword_indexes import KeywordIndexes
from groundwire.retrieval.tunings import TuningResolver
from groundwire.settings import Settings
from groundwire.stores.base import IndexStats, Store


class IngestLocks:
    """One ``asyncio.Lock`` per physical index, shared by every engine of a process: ingests
    into one index queue here, and the store's advisory lock (``index_write_lock``)
    serialises them with other processes'."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def __call__(self, index: str) -> asyncio.Lock:
        return self._locks.setdefault(index, asyncio.Lock())


class IndexEngine:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        keyword: KeywordIndexes,
        retriever: HybridRetriever,
        answers: AnswerService,
        pipeline: IngestPipeline,
        tunings: TuningResolver,
        encode_pool: ThreadPoolExecutor,
        ingest_locks: IngestLocks | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.keyword = keyword
        self.retriever = retriever
        self.answers = answers
        self.pipeline = pipeline
        self.tunings = tunings
        self.encode_pool = encode_pool
        self._locks = ingest_locks or IngestLocks()

    @property
    def embedder(self) -> Embedder:
        return self.retriever.embedder

    # ------------------------------------------------------------------ write
    async def ingest_items(
        self,
        items: Iterable[SourceItem],
        *,
        index: str,
        source: tuple[str, str],
        tenant: str,
        retry_failed: bool = False,
        delete_missing: bool = True,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Run the ingest pipeline over ``items`` into the physical ``index`` (see
        ``IngestPipeline.run`` for the contract), then bring this process's keyword index of
        ``index`` up to date. Ingests into one index are serialised in this process and
        across processes (the store's index write lock)."""
        hold = self.store.index_write_lock
        async with self._locks(index), hold(index):
            report = await self.pipeline.run(
                index, items, source=source, retry_failed=retry_failed,
                delete_missing=delete_missing, progress=progress, tenant=tenant,
            )
        await self.keyword.refresh_index(index, tenant)
        return report

    async def ingest_path(
        self,
        path: Path | str,
        *,
        index: str,
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        retry_failed: bool = False,
        progress: Progress | None = None,
        tenant: str | None = None,
    ) -> IngestReport:
        """Ingest a folder (recursively) or one file through the registered ``folder``
        connector; ``tenant`` defaults to ``security.default_tenant``."""
        options: dict[str, object] = {"path": str(Path(path).expanduser().resolve())}
        if include:
            options["include"] = include
        if exclude is not None:
            options["exclude"] = exclude
        connector = connectors().get("folder")(options, self.settings)
        return await self.ingest_items(
            connector.items(), index=index, source=connector.source,
            retry_failed=retry_failed, progress=progress,
            tenant=tenant or self.settings.security.default_tenant,
        )

    # ------------------------------------------------------------------ read
    async def retrieve(self, request: SearchRequest) -> Retrieval:
        """Hits, stage timings and the query vector for ``request`` (a physical index)."""
        return await self.retriever.retrieve(request)

    async def answer(self, request: SearchRequest, *, principal: str = ANONYMOUS,
                     budget: BudgetScopes | None = None) -> AnswerDone:
        """The whole answer flow (``answering/service.py``) for a physical index; ``budget``
        the scopes charged (default: ``principal`` alone)."""
        return await self.answers.answer(request, principal=principal, budget=budget)

    async def ask_stream(self, request: SearchRequest, *, principal: str = ANONYMOUS,
                         budget: BudgetScopes | None = None
                         ) -> AsyncIterator[AnswerEvent]:
        """``answer``, streamed: AnswerDelta / AnswerRestart events, then one AnswerDone."""
        events = self.answers.ask_stream(request, principal=principal, budget=budget)
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for event in events:
                yield event

    async def stats(self, index: str) -> IndexStats:
        """Counts of the physical ``index``; NotFound when it does not exist."""
        if index not in await self.store.list_indexes():
            raise NotFound(f"no index named {index!r}")
        return await self.store.stats(index)

    async def warm(self) -> None:
        """Load every index's keyword index and the embedding model before traffic. The
        keyword index loaded is the default tenant's, the one API searches of that tenant
        read (a principal's search is keyed by its tenant; the all-tenant index is only for
        unrestricted in-process use, which builds it on first use): warming the all-tenant
        one held a second copy in memory that API traffic never read (issue 23)."""
        tenant = self.settings.security.default_tenant
        for name in await self.store.list_indexes():
            await self.keyword.refresh(name, tenant)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.encode_pool, self.embedder.encode_query, "warm up")

    def llm_cache_enabled(self) -> bool:
        llm = self.answers.llm
        return llm is not None and llm.cache is not None

    async def aclose(self) -> None:
        """Finish writing keyword snapshots, close the LLM clients and stop the encode pool
        (the store stays open)."""
        await self.keyword.drain()
        await self.answers.aclose()
        self.encode_pool.shutdown(wait=False, cancel_futures=True)
