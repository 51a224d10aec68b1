"""``Groundwire``: the facade every edge (API, CLI, benchmarks) calls.

An async context manager: ``async with build_app(settings) as app:`` opens the store (starting
the embedded PostgreSQL when no database URL is set), and closes everything on exit.
Constructing it does no I/O.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from groundwire.answering.service import ANONYMOUS, AnswerEvent, AnswerService
from groundwire.domain import (
    Answer,
    DocumentRecord,
    DocumentState,
    Hit,
    IngestReport,
    SearchRequest,
)
from groundwire.domain.documents import SourceItem
from groundwire.errors import InvalidRequest, NotFound
from groundwire.ingest.connectors.folder import FolderConnector
from groundwire.ingest.pipeline import IngestPipeline, Progress
from groundwire.retrieval.hybrid import HybridRetriever
from groundwire.retrieval.keyword import KeywordIndexes
from groundwire.settings import Settings
from groundwire.stores.base import IndexStats, Store

INDEX_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")


def check_index_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name) <= INDEX_NAME_CHARS:
        raise InvalidRequest(
            f"invalid index name {name!r}: use 1-64 characters of a-z, 0-9, '-', '_' or '.'"
        )
    return name


@dataclass
class IngestJob:
    """An ingest started through the API; polled with ``GET /v1/ingest/{id}``."""

    id: str
    index: str
    path: str
    state: str = "running"  # running | succeeded | failed
    done: int = 0
    total: int = 0
    report: IngestReport | None = None
    error: dict[str, str] | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Groundwire:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        keyword: KeywordIndexes,
        retriever: HybridRetriever,
        answers: AnswerService,
        pipeline: IngestPipeline,
        encode_pool: ThreadPoolExecutor,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.keyword = keyword
        self.retriever = retriever
        self.answers = answers
        self.pipeline = pipeline
        self._pool = encode_pool
        self._on_close = on_close
        self._ingest_locks: dict[str, asyncio.Lock] = {}
        self.jobs: dict[str, IngestJob] = {}

    async def __aenter__(self) -> Groundwire:
        await self.store.open()
        await self.store.ensure_index("default")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.answers.aclose()
        await self.store.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._on_close:
            self._on_close()

    # ------------------------------------------------------------------ ingest
    async def ingest_path(
        self,
        path: Path | str,
        *,
        index: str = "default",
        include: list[str] | None = None,
        exclude: list[str] | None = None,
        retry_failed: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest a folder (recursively) or one file; see IngestPipeline for the contract."""
        check_index_name(index)
        root = Path(path).expanduser().resolve()
        cfg = self.settings.ingest
        connector = FolderConnector(
            root,
            include=include or cfg.include,
            exclude=exclude if exclude is not None else cfg.exclude,
            max_bytes=int(cfg.max_file_mb * 1024 * 1024),
        )
        return await self.ingest_items(
            connector.items(), index=index, source=("folder", str(root)),
            retry_failed=retry_failed, progress=progress,
        )

    async def ingest_items(
        self,
        items: Iterable[SourceItem],
        *,
        index: str,
        source: tuple[str, str],
        retry_failed: bool = False,
        delete_missing: bool = True,
        progress: Progress | None = None,
    ) -> IngestReport:
        check_index_name(index)
        lock = self._ingest_locks.setdefault(index, asyncio.Lock())
        async with lock:
            report = await self.pipeline.run(
                index, items, source=source, retry_failed=retry_failed,
                delete_missing=delete_missing, progress=progress,
            )
        await self.keyword.refresh(index)
        return report

    def start_ingest_job(self, path: str, *, index: str, retry_failed: bool = False) -> IngestJob:
        """Run an ingest in the background of this process; poll ``jobs[id]``."""
        check_index_name(index)
        if not Path(path).exists():
            raise InvalidRequest(f"path not found on the server: {path}")
        job = IngestJob(id=uuid.uuid4().hex, index=index, path=path)

        def progress(done: int, total: int) -> None:
            job.done, job.total = done, total

        async def run() -> None:
            try:
                job.report = await self.ingest_path(
                    path, index=index, retry_failed=retry_failed, progress=progress
                )
                job.state = "succeeded"
            except Exception as exc:  # the job records any failure; the server keeps running
                code = getattr(exc, "code", "internal")
                job.state, job.error = "failed", {"code": code, "message": str(exc)}
            finally:
                job.finished_at = time.time()

        self.jobs[job.id] = job
        job.task = asyncio.get_running_loop().create_task(run())
        return job

    # ------------------------------------------------------------------ query
    async def search(self, request: SearchRequest) -> tuple[list[Hit], dict[str, float]]:
        self._check_request(request)
        return await self.retriever.search_with_timings(request)

    async def ask(self, request: SearchRequest, *, principal: str = ANONYMOUS) -> Answer:
        """Answer with inline citations (see ``answering/service.py`` for the whole flow)."""
        self._check_request(request)
        return await self.answers.ask(request, principal=principal)

    def ask_stream(
        self, request: SearchRequest, *, principal: str = ANONYMOUS
    ) -> AsyncIterator[AnswerEvent]:
        """``ask``, streamed: AnswerDelta / AnswerRestart events, then one AnswerDone."""
        self._check_request(request)
        return self.answers.ask_stream(request, principal=principal)

    def _check_request(self, request: SearchRequest) -> None:
        check_index_name(request.index)
        if not request.query.strip():
            raise InvalidRequest("query is empty")
        if len(request.query) > self.settings.server.max_query_chars:
            raise InvalidRequest(
                f"query longer than server.max_query_chars ({self.settings.server.max_query_chars})"
            )
        if not 1 <= request.top_k <= 100:
            raise InvalidRequest("top_k must be between 1 and 100")
        # An unknown index raises NotFound from the store's generation lookup, which every
        # search makes anyway (keyword index freshness): no extra query here.

    # ------------------------------------------------------------------ status
    async def stats(self, index: str = "default") -> IndexStats:
        check_index_name(index)
        if index not in await self.store.list_indexes():
            raise NotFound(f"no index named {index!r}")
        return await self.store.stats(index)

    async def documents(
        self, index: str = "default", *, state: DocumentState | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[DocumentRecord]:
        check_index_name(index)
        return await self.store.list_documents(index, state=state, limit=limit, offset=offset)

    async def readiness(self) -> dict[str, Any]:
        """What /readyz reports. Ready when PostgreSQL answers and every index has a keyword
        index loaded. A loaded index behind the store's generation (another process ingested)
        is still served — stale keyword hits are dropped when their rows are fetched — and is
        rebuilt in the background; it is reported as ``consistent: false``, not as unready, so
        readiness does not flap during an ingest. An index never loaded here starts loading."""
        checks: dict[str, Any] = {}
        try:
            await self.store.ping()
            checks["store"] = {"ok": True}
        except Exception as exc:  # readiness reports every failure instead of raising
            checks["store"] = {"ok": False, "error": str(exc)}
            return {"ready": False, "checks": checks}
        indexes = {}
        loaded = self.keyword.loaded()
        for name in await self.store.list_indexes():
            generation = await self.store.generation(name)
            have = loaded.get(name)
            if have != generation:
                self.keyword.schedule_refresh(name)
            indexes[name] = {
                "store_generation": generation,
                "keyword_generation": have,
                "loaded": have is not None,
                "consistent": have == generation,
            }
        checks["indexes"] = indexes
        ready = all(v["loaded"] for v in indexes.values())
        return {"ready": ready, "checks": checks}

    async def warm(self) -> None:
        """Load every index's keyword index and the embedding model before serving traffic."""
        for name in await self.store.list_indexes():
            await self.keyword.refresh(name)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, self.retriever.embedder.encode_query, "warm up")
