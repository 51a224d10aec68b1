"""``Groundwire``: the application the edges (API, CLI, benchmarks) call.

It composes, and does little itself: the store, the ``EngineFactory`` (one ``IndexEngine``
per index configuration: retrieval, answers, ingest), the version router (logical index name
-> live physical index and its engine), background jobs, monitoring, audit, rate limits and
self-tuning. Services below it receive what they use as arguments (``quality/`` an engine,
``versions/`` this object through their ``VersionHost`` port, ``jobs/`` its handlers); none of
them imports this module.

An async context manager: ``async with build_app(settings) as app:`` opens the store (starting
the embedded PostgreSQL when no database URL is set), and closes everything on exit.
Constructing it does no I/O.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from groundwire.answering.service import ANONYMOUS, AnswerDone, AnswerEvent, AnswerService
from groundwire.domain import (
    Answer,
    DocumentRecord,
    DocumentState,
    Hit,
    IngestReport,
    SearchRequest,
)
from groundwire.domain.budgets import BudgetScopes
from groundwire.domain.documents import SourceItem
from groundwire.embedding.base import Embedder
from groundwire.engine import EngineFactory, IndexEngine
from groundwire.errors import InvalidRequest, NotFound
from groundwire.ingest.pipeline import IngestPipeline, Progress
from groundwire.retrieval.hybrid import HybridRetriever
from groundwire.retrieval.keyword_indexes import KeywordIndexes
from groundwire.retrieval.tunings import TuningResolver
from groundwire.safety.redaction import redact_for_storage
from groundwire.settings import Settings
from groundwire.stores.base import IndexStats, Store
from groundwire.telemetry import Telemetry
from groundwire.versions.router import VersionRouter

if TYPE_CHECKING:
    from groundwire.jobs.service import JobService
    from groundwire.jobs.states import JobRecord
    from groundwire.jobs.tasks import Work
    from groundwire.monitoring.service import MonitoringService
    from groundwire.quality.autotune import AutoTuneResult
    from groundwire.security.audit import AuditLog
    from groundwire.security.ratelimit import RateLimiter

log = logging.getLogger(__name__)

INDEX_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")


def check_index_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name) <= INDEX_NAME_CHARS:
        raise InvalidRequest(
            f"invalid index name {name!r}: use 1-64 characters of a-z, 0-9, '-', '_' or '.'"
        )
    return name


class Groundwire:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        engines: EngineFactory,
        telemetry: Telemetry | None = None,
        monitoring: MonitoringService | None = None,
        jobs: JobService | None = None,
        audit: AuditLog | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        """``jobs``: the background job service (None in a process without one);
        ``audit`` / ``rate_limiter``: None when not configured."""
        self.settings = settings
        self.store = store
        self.engines = engines
        self.telemetry = telemetry or Telemetry.disabled()
        self.monitoring = monitoring
        self.jobs = jobs
        self.audit = audit
        self.rate_limiter = rate_limiter
        self.versions = VersionRouter(store, engines)  # logical index -> live version
        self.autotune_tasks: dict[str, asyncio.Task[AutoTuneResult | None]] = {}
        self._worker: asyncio.Task[None] | None = None

    # The default engine's parts, for the edges and in-process callers.
    @property
    def engine(self) -> IndexEngine:
        """The engine of this process's own settings (unversioned and matching indexes)."""
        return self.engines.default

    @property
    def retriever(self) -> HybridRetriever:
        return self.engine.retriever

    @property
    def answers(self) -> AnswerService:
        return self.engine.answers

    @property
    def keyword(self) -> KeywordIndexes:
        return self.engine.keyword

    @property
    def pipeline(self) -> IngestPipeline:
        return self.engine.pipeline

    @property
    def tunings(self) -> TuningResolver:
        return self.engine.tunings

    @property
    def embedder(self) -> Embedder:
        return self.engine.embedder

    async def __aenter__(self) -> Groundwire:
        await self.store.open()
        if self.jobs is not None:
            await self.jobs.open(self.store.conninfo)
        await self.store.ensure_index("default")
        await self.tunings.reload(self.store)
        self.tunings.start(self.store)
        if self.monitoring is not None:
            self.monitoring.start()
        if self.audit is not None:
            self.audit.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop_worker()
        for task in self.autotune_tasks.values():
            task.cancel()
        await asyncio.gather(*self.autotune_tasks.values(), return_exceptions=True)
        await self.tunings.stop()
        await self.engines.aclose()
        if self.monitoring is not None:
            await self.monitoring.stop()  # drains queued answer records first
        if self.audit is not None:
            await self.audit.close()  # every buffered audit event is stored first
        if self.jobs is not None:
            await self.jobs.close()
        await self.store.close()

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
        tenant: str | None = None,
    ) -> IngestReport:
        """Ingest a folder (recursively) or one file into the live version of ``index`` for
        ``tenant`` (default: ``security.default_tenant``); see IngestPipeline."""
        check_index_name(index)
        physical, engine = await self.versions.resolve(index)
        return await engine.ingest_path(path, index=physical, include=include, exclude=exclude,
                                        retry_failed=retry_failed, progress=progress,
                                        tenant=tenant)

    async def ingest_items(
        self,
        items: Iterable[SourceItem],
        *,
        index: str,
        source: tuple[str, str],
        retry_failed: bool = False,
        delete_missing: bool = True,
        progress: Progress | None = None,
        tenant: str | None = None,
    ) -> IngestReport:
        """Ingest ``items`` of ``source`` (kind, location) into the live version of ``index``."""
        check_index_name(index)
        physical, engine = await self.versions.resolve(index)
        return await engine.ingest_items(
            items, index=physical, source=source, retry_failed=retry_failed,
            delete_missing=delete_missing, progress=progress,
            tenant=tenant or self.settings.security.default_tenant)

    # ------------------------------------------------------------------ jobs
    async def start_ingest_job(
        self, path: str, *, index: str, retry_failed: bool = False, tenant: str | None = None,
        owner: str = "",
    ) -> JobRecord:
        """Queue an ingest for ``tenant`` as a background job (any worker on this database
        runs it; see jobs/); follow it with ``self.job_service().get(id)``."""
        check_index_name(index)
        if not Path(path).exists():
            raise InvalidRequest(f"path not found on the server: {path}")
        tenant = tenant or self.settings.security.default_tenant
        return await self.job_service().enqueue("ingest", tenant=tenant, owner=owner, params={
            "path": path, "index": index, "retry_failed": retry_failed, "tenant": tenant})

    async def start_assessment(
        self, *, path: str | None = None, index: str | None = None,
        questions: list[str] | None = None, tenant: str | None = None, owner: str = "",
    ) -> JobRecord:
        """Queue an assessment of a server-side path (before ingestion) or an indexed index
        as a background job (see ``assess/runner.py``); the report is the job's result."""
        if (path is None) == (index is None):
            raise InvalidRequest("give exactly one of path and index")
        if path is not None and not Path(path).exists():
            raise InvalidRequest(f"path not found on the server: {path}")
        if index is not None:
            check_index_name(index)
        tenant = tenant or self.settings.security.default_tenant
        return await self.job_service().enqueue("assessment", tenant=tenant, owner=owner,
                                                params={"path": path, "index": index,
                                                        "questions": questions})

    async def assessment(self, job_id: str) -> JobRecord:
        """An assessment job (queued, running or finished)."""
        job = await self.job_service().get(job_id)
        if job.kind != "assessment":
            raise NotFound(f"no assessment {job_id!r}")
        return job

    def job_service(self) -> JobService:
        """The background job service (queue, status rows, cancel, retry)."""
        if self.jobs is None:
            raise NotFound("background jobs are not available in this process")
        return self.jobs

    def job_handlers(self) -> dict[str, Work]:
        """Job kind -> the work a worker runs for it (``jobs/tasks.py``)."""
        from groundwire.operations import job_handlers

        return job_handlers(self)

    def start_worker(self) -> None:
        """Run a job worker inside this process (``serve`` with ``jobs.in_process_worker``)
        until ``stop_worker`` or exit; at exit a running job gets 10 s to finish, then goes
        back to the queue for the next worker."""
        from groundwire.jobs.worker import run_worker

        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(
                run_worker(self, install_signal_handlers=False, shutdown_graceful_timeout=10.0),
                name="groundwire-worker")

    async def stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.cancel()  # procrastinate stops gracefully: running jobs finish
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None

    # ------------------------------------------------------------------ self-tuning
    async def autotune_if_material(
        self, index: str, report: IngestReport
    ) -> AutoTuneResult | None:
        """Self-tune ``index`` and save the result when ``report`` changed its corpus
        materially; see ``operations.autotune_if_material``."""
        from groundwire.operations import autotune_if_material

        return await autotune_if_material(self.engine, index, report)

    def start_autotune_if_material(self, index: str, report: IngestReport) -> None:
        """``autotune_if_material`` as a background task (one per index at a time; a failure
        is logged, never raised); the task is in ``autotune_tasks[index]``."""
        running = self.autotune_tasks.get(index)
        if running is not None and not running.done():
            return

        async def run() -> AutoTuneResult | None:
            try:
                return await self.autotune_if_material(index, report)
            except Exception as exc:  # noqa: BLE001 - a failed auto-tune keeps the old settings
                log.warning("auto-tune of index %s failed: %s", index, exc)
                return None

        self.autotune_tasks[index] = asyncio.get_running_loop().create_task(run())

    # ------------------------------------------------------------------ query
    async def search(
        self, request: SearchRequest, *, principal: str = ANONYMOUS
    ) -> tuple[list[Hit], dict[str, float]]:
        hits, timings, _ = await self.search_recorded(request, principal=principal)
        return hits, timings

    async def search_recorded(
        self, request: SearchRequest, *, principal: str = ANONYMOUS
    ) -> tuple[list[Hit], dict[str, float], str | None]:
        """``search`` plus the id of its answer record (None: records off or queue full)."""
        self._check_request(request)
        routed, engine = await self.versions.route(request)
        result = await engine.retrieve(routed)
        self.telemetry.searched(result.timings_ms)
        record_id = None
        if self.monitoring is not None:
            record_id = self.monitoring.record_search(
                index=request.index, principal=principal,
                question=redact_for_storage(request.query), hits=result.hits,
                timings=result.timings_ms, generation=self.keyword.loaded().get(request.index),
                embedding=result.query_vector)
        return result.hits, result.timings_ms, record_id

    async def ask(self, request: SearchRequest, *, principal: str = ANONYMOUS,
                  budget: BudgetScopes | None = None) -> Answer:
        """Answer with inline citations (see ``answering/service.py`` for the whole flow);
        ``budget``: the budget scopes charged (default: ``principal`` alone)."""
        self._check_request(request)
        routed, engine = await self.versions.route(request)
        done = await engine.answer(routed, principal=principal, budget=budget)
        answer = self._recorded_answer(request, principal, done)
        self.telemetry.answered(answer, cache_enabled=engine.llm_cache_enabled())
        return answer

    def ask_stream(
        self, request: SearchRequest, *, principal: str = ANONYMOUS,
        budget: BudgetScopes | None = None,
    ) -> AsyncIterator[AnswerEvent]:
        """``ask``, streamed: AnswerDelta / AnswerRestart events, then one AnswerDone."""
        self._check_request(request)
        return self._stream(request, principal, budget)

    async def _stream(self, request: SearchRequest, principal: str,
                      budget: BudgetScopes | None) -> AsyncIterator[AnswerEvent]:
        """The events of the version the index alias points at now; the final answer is
        recorded (its record id put on it) and counted in the metrics."""
        routed, engine = await self.versions.route(request)
        events = engine.ask_stream(routed, principal=principal, budget=budget)
        async with aclosing(events):  # type: ignore[type-var]
            async for event in events:
                if isinstance(event, AnswerDone):
                    answer = self._recorded_answer(request, principal, event)
                    self.telemetry.answered(answer, cache_enabled=engine.llm_cache_enabled())
                    event = AnswerDone(answer, event.query_vector)
                yield event

    def _recorded_answer(self, request: SearchRequest, principal: str, done: AnswerDone
                         ) -> Answer:
        answer = done.answer
        if self.monitoring is None:
            return answer
        # Credentials pasted into a question (or echoed by an LLM) never reach the record.
        stored = replace(answer, question=redact_for_storage(answer.question),
                         text=redact_for_storage(answer.text))
        record_id = self.monitoring.record_ask(
            index=request.index, principal=principal, answer=stored,
            generation=self.keyword.loaded().get(request.index),
            embedding=done.query_vector)
        return replace(answer, record_id=record_id)

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

    # ------------------------------------------------------------------ monitoring
    def monitor(self) -> MonitoringService:
        """The monitoring service (records, feedback, monitors, gaps, alerts)."""
        if self.monitoring is None:
            raise NotFound("monitoring is not configured in this process")
        return self.monitoring

    async def content_gaps(
        self, *, index: str | None = None, days: float | None = None
    ) -> list[dict[str, Any]]:
        """Content-gap clusters with the documents nearest each cluster's centroid."""
        from groundwire.operations import nearest_documents

        async def closest(name: str, centroid: list[float]) -> list[dict[str, Any]]:
            return await nearest_documents(self.store, self.embedder.model_id, name, centroid)

        return await self.monitor().gaps(index=index, days=days, closest=closest)

    # ------------------------------------------------------------------ status
    async def stats(self, index: str = "default") -> IndexStats:
        check_index_name(index)
        index, engine = await self.versions.resolve(index)  # a logical name: its live version
        return await engine.stats(index)

    async def documents(
        self, index: str = "default", *, state: DocumentState | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[DocumentRecord]:
        check_index_name(index)
        index, _ = await self.versions.resolve(index)
        return await self.store.list_documents(index, state=state, limit=limit, offset=offset)

    async def readiness(self) -> dict[str, Any]:
        """What /readyz reports; see ``operations.readiness``."""
        from groundwire.operations import readiness

        return await readiness(self.store, self.keyword,
                               self.settings.security.default_tenant)

    async def warm(self) -> None:
        """Load every index's keyword index and the embedding model before serving traffic,
        and build the PII redactors of the answer records and the audit log (Presidio's
        recognizers: seconds of CPU that the first write would otherwise spend while the
        server already answers, issue 23); then return the heap all that freed to the OS
        (``engine/memory.py``)."""
        await self.engine.warm()
        for part in (self.monitoring, self.audit):
            if part is not None:
                await asyncio.to_thread(part.warm_redactor)
        from groundwire.engine.memory import release_freed_memory

        released = await asyncio.to_thread(release_freed_memory)  # start-up's freed heap
        log.debug("warm", extra={"released_bytes": released})
