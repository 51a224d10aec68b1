"""Composition root: ``build_app(settings)`` wires the application from one ``Settings`` and
does no I/O (``async with`` opens it).

What it builds: the store (registry group ``groundwire.stores``; the built-in ``postgres``),
the ``EngineFactory`` and its default engine (``engine/factory.py``: embedder,
retrieval, answers, ingest, all from the registries), monitoring, the audit log and rate
limiter, and the job service. Plug-in kinds are named by configuration and looked up in
``groundwire.registry``; nothing here names a connector, provider, embedder or answerer class.
"""

from __future__ import annotations

from collections.abc import Callable

from groundwire.app import Groundwire
from groundwire.embedding.base import Embedder
from groundwire.engine import EngineFactory
from groundwire.engine.factory import build_answer_guard, build_embedder, build_llm
from groundwire.monitoring.service import MonitoringService
from groundwire.registry import stores
from groundwire.retrieval.tunings import TuningResolver
from groundwire.security.audit import AuditLog
from groundwire.security.ratelimit import RateLimiter
from groundwire.settings import Settings
from groundwire.stores.base import Store
from groundwire.telemetry import Telemetry

__all__ = ["build_answer_guard", "build_app", "build_embedder", "build_llm", "build_store"]


def build_store(settings: Settings) -> Store:
    """The store named by ``database.store`` (registry group groundwire.stores); the built-in
    ``postgres``: PostgreSQL at ``database_url``, else the embedded server (started in
    ``open()``)."""
    store: Store = stores().get(settings.database.store)(settings)
    return store


def build_app(
    settings: Settings, *, embedder: Embedder | None = None, telemetry: Telemetry | None = None,
) -> Groundwire:
    """``telemetry``: metrics and tracer of a server (``create_app`` builds and owns it);
    default ``Telemetry.disabled()`` (CLI, benchmarks, in-process use). ``embedder``: an
    already built embedder for ``settings`` (tests, benchmarks); default from the registry."""
    from groundwire.jobs.service import JobService

    telemetry = telemetry or Telemetry.disabled()
    store = build_store(settings)
    tunings = TuningResolver(settings.retrieval, enabled=settings.autotune.enabled,
                             refresh_s=settings.autotune.refresh_s)
    engines = EngineFactory(settings, store, embedder=embedder, tunings=tunings,
                            tracer=telemetry.tracer)
    audit, rate_limiter = build_security_edges(settings, store,
                                               on_dead_letter=telemetry.dead_lettered)
    return Groundwire(
        settings=settings,
        store=store,
        engines=engines,
        telemetry=telemetry,
        monitoring=build_monitoring(settings, store, engines.default.embedder,
                                    on_dead_letter=telemetry.dead_lettered),
        jobs=JobService(settings.jobs, prepare_threshold=settings.database.prepare_threshold),
        audit=audit,
        rate_limiter=rate_limiter,
    )


def build_security_edges(
    settings: Settings, store: Store, *,
    on_dead_letter: Callable[[str, str], None] | None = None,
) -> tuple[AuditLog, RateLimiter]:
    """The audit log writer and the per-key rate limiter (both over the store; no I/O).
    ``on_dead_letter(writer, code)`` counts audit events the store refused (metrics)."""
    audit = AuditLog(store.insert_audit, queue_size=settings.security.audit_queue_size,
                     on_dead_letter=on_dead_letter)
    return audit, RateLimiter(store.take_token, settings.security.rate_limit)


def build_monitoring(
    settings: Settings, store: Store, embedder: Embedder, *,
    on_dead_letter: Callable[[str, str], None] | None = None,
) -> MonitoringService:
    """Answer records, monitors and alerts (``groundwire.monitoring``); no I/O here."""
    return MonitoringService(store, settings.monitoring, embedding_model=embedder.model_id,
                             embed=embedder.encode_query, on_dead_letter=on_dead_letter)
