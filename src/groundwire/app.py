"""``Groundwire``: the facade every edge (API, CLI, benchmarks) calls.

An async context manager: ``async with build_app(settings) as app:`` opens the store (starting
the embedded PostgreSQL when no database URL is set), and closes everything on exit.
Constructing it does no I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
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
from groundwire.domain.documents import SourceItem
from groundwire.errors import InvalidRequest, NotFound
from groundwire.ingest.connectors.folder import FolderConnector
from groundwire.ingest.pipeline import IngestPipeline, Progress
from groundwire.retrieval.hybrid import QUERY_VECTOR, HybridRetriever
from groundwire.retrieval.keyword import KeywordIndexes
from groundwire.safety.redaction import redact_for_storage
from groundwire.settings import Settings
from groundwire.stores.base import IndexStats, Store
from groundwire.telemetry import Telemetry
from groundwire.versions.router import VersionRouter

if TYPE_CHECKING:
    from groundwire.jobs.service import JobService
    from groundwire.jobs.states import JobRecord
    from groundwire.monitoring.service import MonitoringService
    from groundwire.quality.autotune import AutoTuneResult, TuningResolver
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
        keyword: KeywordIndexes,
        retriever: HybridRetriever,
        answers: AnswerService,
        pipeline: IngestPipeline,
        encode_pool: ThreadPoolExecutor,
        on_close: Callable[[], None] | None = None,
        telemetry: Telemetry | None = None,
        monitoring: MonitoringService | None = None,
        tunings: TuningResolver | None = None,
    ) -> None:
        from groundwire.quality.autotune import TuningResolver

        self.settings = settings
        self.store = store
        self.keyword = keyword
        self.retriever = retriever
        self.answers = answers
        self.pipeline = pipeline
        self._pool = encode_pool
        self._on_close = on_close
        self.telemetry = telemetry or Telemetry.disabled()
        self.monitoring = monitoring
        self._ingest_locks: dict[str, asyncio.Lock] = {}
        # Background jobs (jobs/service.py); set by bootstrap for an app owning its store.
        self.jobs: JobService | None = None
        self._worker: asyncio.Task[None] | None = None
        self.versions = VersionRouter()  # logical index -> live version, per request
        # Retrieval settings per index: per_index > stored auto-tuning > defaults.
        self.tunings = tunings or TuningResolver(
            settings.retrieval, enabled=settings.autotune.enabled,
            refresh_s=settings.autotune.refresh_s)
        self.autotune_tasks: dict[str, asyncio.Task[AutoTuneResult | None]] = {}
        # Set by bootstrap (security/audit.py, security/ratelimit.py); None: not configured.
        self.audit: AuditLog | None = None
        self.rate_limiter: RateLimiter | None = None

    async def __aenter__(self) -> Groundwire:
        await self.store.open()
        if self.jobs is not None:
            await self.jobs.open(self.store.conninfo)  # type: ignore[attr-defined]
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
        await self.answers.aclose()
        await self.versions.aclose()
        for task in self.autotune_tasks.values():
            task.cancel()
        await asyncio.gather(*self.autotune_tasks.values(), return_exceptions=True)
        await self.tunings.stop()
        if self.monitoring is not None:
            await self.monitoring.stop()  # drains queued answer records first
        if self.audit is not None:
            await self.audit.close()  # every buffered audit event is stored first
        if self.jobs is not None:
            await self.jobs.close()
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
        tenant: str | None = None,
    ) -> IngestReport:
        """Ingest a folder (recursively) or one file for ``tenant`` (default:
        ``security.default_tenant``); see IngestPipeline for the contract."""
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
            retry_failed=retry_failed, progress=progress, tenant=tenant,
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
        tenant: str | None = None,
    ) -> IngestReport:
        check_index_name(index)
        physical, serving = await self.versions.resolve(self, index)  # the live version
        if serving is not self:
            return await serving.ingest_items(
                items, index=physical, source=source, retry_failed=retry_failed,
                delete_missing=delete_missing, progress=progress, tenant=tenant)
        index = physical
        tenant = tenant or self.settings.security.default_tenant
        lock = self._ingest_locks.setdefault(index, asyncio.Lock())
        # The in-process lock queues this process's ingests; the store's lock (an advisory
        # lock in PostgreSQL) serialises them with other replicas' and workers'.
        hold = getattr(self.store, "index_write_lock", None)
        async with lock, (hold(index) if hold is not None else contextlib.nullcontext()):
            report = await self.pipeline.run(
                index, items, source=source, retry_failed=retry_failed,
                delete_missing=delete_missing, progress=progress, tenant=tenant,
            )
        await self.keyword.refresh_index(index, tenant)
        return report

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

    def job_service(self) -> JobService:
        """The background job service (queue, status rows, cancel, retry)."""
        if self.jobs is None:
            raise NotFound("background jobs are not available in this process")
        return self.jobs

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
        materially (``autotune.min_documents`` / ``min_change``), auto-tuning is enabled and
        the index has no explicit ``retrieval.per_index`` entry; else None."""
        from groundwire.quality.autotune import autotune, material_change, save_autotune

        cfg = self.settings.autotune
        if not cfg.enabled or index in self.settings.retrieval.per_index:
            return None
        stats = await self.store.stats(index)
        if not material_change(
            report.indexed + report.deleted, stats.documents_by_state.get("indexed", 0),
            self.tunings.evidence.get(index), min_documents=cfg.min_documents,
            min_change=cfg.min_change,
        ):
            return None
        result = await autotune(self, index, questions=cfg.questions)
        await save_autotune(self, result)
        log.info("auto-tuned index %s: %s", index, result.as_json())
        return result

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

    # ------------------------------------------------------------------ assessments
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
        QUERY_VECTOR.set(None)
        routed, serving = await self.versions.route(self, request)
        hits, timings = await serving.retriever.search_with_timings(routed)
        self.telemetry.searched(timings)
        record_id = None
        if self.monitoring is not None:
            record_id = self.monitoring.record_search(
                index=request.index, principal=principal,
                question=redact_for_storage(request.query), hits=hits,
                timings=timings, generation=self.keyword.loaded().get(request.index),
                embedding=self._query_vector(request.query))
        return hits, timings, record_id

    async def ask(self, request: SearchRequest, *, principal: str = ANONYMOUS) -> Answer:
        """Answer with inline citations (see ``answering/service.py`` for the whole flow)."""
        self._check_request(request)
        QUERY_VECTOR.set(None)
        routed, serving = await self.versions.route(self, request)
        answer = await serving.answers.ask(routed, principal=principal)
        answer = self._recorded_answer(request, principal, answer)
        self.telemetry.answered(answer, cache_enabled=self._llm_cache_enabled())
        return answer

    def ask_stream(
        self, request: SearchRequest, *, principal: str = ANONYMOUS
    ) -> AsyncIterator[AnswerEvent]:
        """``ask``, streamed: AnswerDelta / AnswerRestart events, then one AnswerDone."""
        self._check_request(request)
        return self._observed(
            self._recorded(self._routed_stream(request, principal), request, principal))

    async def _routed_stream(self, request: SearchRequest, principal: str
                             ) -> AsyncIterator[AnswerEvent]:
        """``ask_stream`` of the version the index alias points at now."""
        from contextlib import aclosing

        routed, serving = await self.versions.route(self, request)
        events = serving.answers.ask_stream(routed, principal=principal)
        async with aclosing(events):  # type: ignore[type-var]
            async for event in events:
                yield event

    async def _recorded(
        self, events: AsyncIterator[AnswerEvent], request: SearchRequest, principal: str
    ) -> AsyncIterator[AnswerEvent]:
        """Pass events through; record the final answer and put its record id on it."""
        from contextlib import aclosing

        QUERY_VECTOR.set(None)
        async with aclosing(events):  # type: ignore[type-var]
            async for event in events:
                if isinstance(event, AnswerDone):
                    event = AnswerDone(self._recorded_answer(request, principal, event.answer))
                yield event

    def _recorded_answer(self, request: SearchRequest, principal: str, answer: Answer) -> Answer:
        if self.monitoring is None:
            return answer
        # Credentials pasted into a question (or echoed by an LLM) never reach the record.
        stored = replace(answer, question=redact_for_storage(answer.question),
                         text=redact_for_storage(answer.text))
        record_id = self.monitoring.record_ask(
            index=request.index, principal=principal, answer=stored,
            generation=self.keyword.loaded().get(request.index),
            embedding=self._query_vector(request.query))
        return replace(answer, record_id=record_id)

    @staticmethod
    def _query_vector(query: str) -> Any | None:
        """The vector retrieval computed for ``query`` in this context, if it did."""
        seen = QUERY_VECTOR.get()
        return seen[1] if seen is not None and seen[0] == query else None

    async def _observed(self, events: AsyncIterator[AnswerEvent]) -> AsyncIterator[AnswerEvent]:
        """Pass events through; count the final answer in the metrics."""
        from contextlib import aclosing

        async with aclosing(events):  # type: ignore[type-var]
            async for event in events:
                if isinstance(event, AnswerDone):
                    self.telemetry.answered(event.answer,
                                            cache_enabled=self._llm_cache_enabled())
                yield event

    def _llm_cache_enabled(self) -> bool:
        llm = self.answers.llm
        return llm is not None and llm.cache is not None

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
        embedder = self.retriever.embedder

        async def closest(name: str, centroid: list[float]) -> list[dict[str, Any]]:
            try:
                ranked = await self.store.vector_search(name, embedder.model_id, centroid, 10)
            except NotFound:
                return []
            rows = await self.store.chunks_by_id([cid for cid, _ in ranked])
            docs: dict[str, dict[str, Any]] = {}
            for cid, score in ranked:
                row = rows.get(cid)
                if row is not None and row.uri not in docs:
                    docs[row.uri] = {"uri": row.uri, "title": row.title,
                                     "score": round(float(score), 4)}
            return list(docs.values())[:3]

        return await self.monitor().gaps(index=index, days=days, closest=closest)

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
        index, _ = await self.versions.resolve(self, index)  # a logical name: its live version
        if index not in await self.store.list_indexes():
            raise NotFound(f"no index named {index!r}")
        return await self.store.stats(index)

    async def documents(
        self, index: str = "default", *, state: DocumentState | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[DocumentRecord]:
        check_index_name(index)
        index, _ = await self.versions.resolve(self, index)
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

