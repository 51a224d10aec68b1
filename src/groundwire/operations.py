"""Use cases the application (``app.py``) runs for its edges and job workers, written against
what they use rather than against the application object:

* ``job_handlers(host)``: job kind -> the work a worker runs (ingest, assessment, version
  build); ``host`` is anything with the ``JobHost`` shape (the application);
* ``autotune_if_material(engine, index, report)``: re-tune an index after a material change;
* ``readiness(store, keyword)``: what ``/readyz`` reports;
* ``nearest_documents(store, model_id, index, centroid)``: the documents nearest a vector
  (content-gap clusters).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from groundwire.domain import IngestReport
from groundwire.engine import IndexEngine
from groundwire.errors import NotFound
from groundwire.retrieval.keyword_indexes import KeywordIndexes
from groundwire.sources.service import SyncHost
from groundwire.stores.base import Store
from groundwire.versions.service import VersionHost
from groundwire.workflows.service import WorkflowHost

if TYPE_CHECKING:
    from groundwire.embedding.base import Embedder
    from groundwire.ingest.pipeline import Progress
    from groundwire.jobs.tasks import ProgressWriter, Work
    from groundwire.quality.autotune import AutoTuneResult

log = logging.getLogger(__name__)


class JobHost(VersionHost, WorkflowHost, SyncHost, Protocol):
    """What job work uses: version-routed ingest, self-tuning after it, the embedder (for
    assessments) and the version operations' needs (``VersionHost``)."""

    @property
    def embedder(self) -> Embedder: ...

    async def ingest_path(self, path: str, *, index: str = "default",
                          include: list[str] | None = None, exclude: list[str] | None = None,
                          retry_failed: bool = False, progress: Progress | None = None,
                          tenant: str | None = None) -> IngestReport: ...

    def start_autotune_if_material(self, index: str, report: IngestReport) -> None: ...


def job_handlers(host: JobHost) -> dict[str, Work]:
    """Job kind -> work ``(params, progress) -> JSON result`` (``jobs/tasks.py`` runs it)."""

    async def ingest(params: dict[str, Any], progress: ProgressWriter) -> Any:
        report = await host.ingest_path(params["path"], index=params["index"],
                                        retry_failed=params.get("retry_failed", False),
                                        progress=progress.update, tenant=params["tenant"])
        host.start_autotune_if_material(params["index"], report)
        return report.as_json()

    async def assessment(params: dict[str, Any], progress: ProgressWriter) -> Any:
        from groundwire.assess.runner import run_assessment
        from groundwire.assess.source import AssessmentSource

        path, index = params.get("path"), params.get("index")
        source = (AssessmentSource.of_path(path) if path is not None
                  else AssessmentSource.of_index(index or "default"))
        return await run_assessment(source, host.settings, embedder=host.embedder,
                                    store=host.store, questions=params.get("questions"),
                                    progress=progress.stage)

    async def version_build(params: dict[str, Any], progress: ProgressWriter) -> Any:
        from groundwire.versions.service import build_version

        return await build_version(host, params["index"], params.get("overrides") or {},
                                   progress=progress.update)

    async def workflow_event(params: dict[str, Any], progress: ProgressWriter) -> Any:
        from groundwire.workflows.service import WorkflowService

        return await WorkflowService(host).process(params["event_id"])

    async def source_sync(params: dict[str, Any], progress: ProgressWriter) -> Any:
        from groundwire.sources.service import SourceService

        result = await SourceService(host).sync(params["name"], params["tenant"])
        return result

    async def sources_tick(params: dict[str, Any], progress: ProgressWriter) -> Any:
        from groundwire.sources.service import SourceService

        return await SourceService(host).queue_due()

    return {"ingest": ingest, "assessment": assessment, "version_build": version_build,
            "workflow_event": workflow_event, "source_sync": source_sync,
            "sources_tick": sources_tick}


async def autotune_if_material(engine: IndexEngine, index: str, report: IngestReport
                               ) -> AutoTuneResult | None:
    """Self-tune ``index`` and save the result when ``report`` changed its corpus
    materially (``autotune.min_documents`` / ``min_change``), auto-tuning is enabled and
    the index has no explicit ``retrieval.per_index`` entry; else None."""
    from groundwire.quality.autotune import autotune, save_autotune
    from groundwire.retrieval.tunings import material_change

    cfg = engine.settings.autotune
    if not cfg.enabled or index in engine.settings.retrieval.per_index:
        return None
    stats = await engine.store.stats(index)
    if not material_change(
        report.indexed + report.deleted, stats.documents_by_state.get("indexed", 0),
        engine.tunings.evidence.get(index), min_documents=cfg.min_documents,
        min_change=cfg.min_change,
    ):
        return None
    result = await autotune(engine, index, questions=cfg.questions)
    await save_autotune(engine, result)
    log.info("auto-tuned index %s: %s", index, result.as_json())
    return result


async def readiness(store: Store, keyword: KeywordIndexes,
                    tenant: str | None = None) -> dict[str, Any]:
    """What /readyz reports. Ready when PostgreSQL answers and every index has a keyword
    index loaded. A loaded index behind the store's generation (another process ingested)
    is still served — stale keyword hits are dropped when their rows are fetched — and is
    rebuilt in the background; it is reported as ``consistent: false``, not as unready, so
    readiness does not flap during an ingest. An index never loaded here starts loading.
    ``tenant``: whose keyword index is (re)built (the one ``warm`` loads)."""
    checks: dict[str, Any] = {}
    try:
        await store.ping()
        checks["store"] = {"ok": True}
    except Exception as exc:  # readiness reports every failure instead of raising
        checks["store"] = {"ok": False, "error": str(exc)}
        return {"ready": False, "checks": checks}
    indexes = {}
    loaded = keyword.loaded()
    for name in await store.list_indexes():
        generation = await store.generation(name)
        have = loaded.get(name)
        if have != generation:
            keyword.schedule_refresh(name, tenant)
        indexes[name] = {
            "store_generation": generation,
            "keyword_generation": have,
            "loaded": have is not None,
            "consistent": have == generation,
        }
    checks["indexes"] = indexes
    ready = all(v["loaded"] for v in indexes.values())
    return {"ready": ready, "checks": checks}


async def nearest_documents(store: Store, model_id: str, index: str, centroid: list[float],
                            limit: int = 3) -> list[dict[str, Any]]:
    """Up to ``limit`` distinct documents whose chunks are nearest ``centroid`` in ``index``
    (``[]`` when the index is gone): ``uri``, ``title``, ``score``."""
    try:
        ranked = await store.vector_search(index, model_id, centroid, 10)
    except NotFound:
        return []
    rows = await store.chunks_by_id([cid for cid, _ in ranked])
    docs: dict[str, dict[str, Any]] = {}
    for cid, score in ranked:
        row = rows.get(cid)
        if row is not None and row.uri not in docs:
            docs[row.uri] = {"uri": row.uri, "title": row.title, "score": round(float(score), 4)}
    return list(docs.values())[:limit]
