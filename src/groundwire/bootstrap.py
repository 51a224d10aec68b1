"""Composition root: the only module that names concrete classes. ``build_app(settings)``
wires everything from one ``Settings`` and does no I/O (``async with`` opens the app)."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from groundwire.answering.extractive import ExtractiveAnswerer
from groundwire.answering.service import AnswerService, LLMAnswering
from groundwire.app import Groundwire
from groundwire.domain import parse_permissions
from groundwire.embedding.base import Embedder
from groundwire.embedding.memo import MemoEmbedder
from groundwire.errors import ConfigurationError
from groundwire.ingest.chunking import Chunker
from groundwire.ingest.pipeline import IngestPipeline, RecordFields
from groundwire.monitoring.service import MonitoringService
from groundwire.quality.autotune import TuningResolver
from groundwire.registry import embedders, parsers
from groundwire.retrieval.hybrid import HybridRetriever
from groundwire.retrieval.keyword import Bm25Params, KeywordIndexes
from groundwire.safety.output_filter import AnswerGuard, OutputFilter
from groundwire.security.audit import AuditLog
from groundwire.security.ratelimit import RateLimiter
from groundwire.settings import Settings
from groundwire.stores.base import Store
from groundwire.telemetry import Telemetry


def build_embedder(settings: Settings) -> Embedder:
    factories = embedders()
    factory = factories.get(settings.embedding.provider)
    if factory is None:
        raise ConfigurationError(
            f"embedding.provider {settings.embedding.provider!r} is not registered "
            f"(known: {', '.join(sorted(factories))})"
        )
    embedder: Embedder = factory(settings.embedding)
    return embedder


def build_store(settings: Settings) -> Store:
    """PostgreSQL at ``database_url``, else the embedded server (started in ``open()``)."""
    from groundwire.stores.postgres.embedded import EmbeddedPostgres
    from groundwire.stores.postgres.store import PostgresStore

    url = settings.database_url.get_secret_value() if settings.database_url else None
    return PostgresStore(
        url or EmbeddedPostgres(settings.data_dir),
        pool_min=settings.database.pool_min,
        pool_max=settings.database.pool_max,
        read_url=(settings.database.read_url.get_secret_value()
                  if settings.database.read_url else None),
        prepare_threshold=settings.database.prepare_threshold,
        application_name=settings.database.application_name,
        ef_search=settings.retrieval.hnsw_ef_search,
        hnsw_m=settings.retrieval.hnsw_m,
        hnsw_ef_construction=settings.retrieval.hnsw_ef_construction,
    )


def build_llm(
    settings: Settings, store: Store, embedder: Embedder, telemetry: Telemetry | None = None
) -> LLMAnswering | None:
    """The LLM answer path, or None when no provider is configured (extractive answers)."""
    from groundwire.answering.verification import CitationVerifier
    from groundwire.llm.budgets import BudgetGuard
    from groundwire.llm.cache import AnswerCache
    from groundwire.llm.chain import FallbackChain
    from groundwire.llm.prompts import get_template
    from groundwire.llm.provider import OpenAICompatibleProvider

    llm = settings.llm
    if not llm.providers:
        return None
    names = [p.name for p in llm.providers]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"llm.providers names must be unique: {names}")
    max_bytes = int(llm.max_response_mb * 1024 * 1024)
    providers = [OpenAICompatibleProvider(p, max_response_bytes=max_bytes) for p in llm.providers]
    cache = settings.cache
    return LLMAnswering(
        chain=FallbackChain(providers, llm, tracer=telemetry.tracer if telemetry else None),
        verifier=CitationVerifier(embedder),
        template=get_template(llm.prompt),
        settings=llm,
        budgets=BudgetGuard(store, settings.budgets),
        cache=AnswerCache(ttl_s=cache.ttl_s, max_entries=cache.max_entries)
        if cache.enabled else None,
        count_tokens=embedder.count_tokens,
    )


def build_app(
    settings: Settings, *, embedder: Embedder | None = None, telemetry: Telemetry | None = None,
    store: Store | None = None,
) -> Groundwire:
    """``telemetry``: metrics and tracer of a server (``create_app`` builds and owns it);
    default ``Telemetry.disabled()`` (CLI, benchmarks, in-process use). ``store``: an already
    open store to share (a version's view, ``versions/runtime.py``); default a new one."""
    telemetry = telemetry or Telemetry.disabled()
    owns_store = store is None
    store = store or build_store(settings)
    embedder = embedder or build_embedder(settings)
    # One thread per core for query-time model work; each encode uses query_threads.
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="groundwire-encode")
    keyword = KeywordIndexes(
        store, Bm25Params(k1=settings.retrieval.bm25_k1, b=settings.retrieval.bm25_b))
    tunings = TuningResolver(settings.retrieval, enabled=settings.autotune.enabled,
                             refresh_s=settings.autotune.refresh_s)
    retriever = HybridRetriever(
        store=store,
        keyword=keyword,
        embedder=embedder,
        tuning_for=tunings,
        encode_pool=pool,
        tracer=telemetry.tracer,
    )
    # The evidence gate and citation verification encode the same passage sentences: share
    # one memo (embedding/memo.py) for the answer path.
    answer_embedder = MemoEmbedder(embedder)
    answerer = ExtractiveAnswerer(
        answer_embedder,
        max_sentences=settings.answer.max_sentences,
        min_support=settings.answer.min_support,
        passages=settings.answer.passages,
    )
    chunking = settings.chunking
    chunker = Chunker(
        embedder.count_tokens,
        max_tokens=chunking.max_tokens,
        overlap_tokens=chunking.overlap_tokens,
        window_tokens=settings.embedding.max_seq_tokens,
    )
    ingest = settings.ingest
    pipeline = IngestPipeline(
        store=store,
        embedder=embedder,
        chunker=chunker,
        parsers=parsers(),
        chunker_fingerprint=json.dumps(
            [chunking.max_tokens, chunking.overlap_tokens, settings.embedding.max_seq_tokens]
        ),
        record_fields=RecordFields(
            ingest.record_id_field, ingest.record_title_field, ingest.record_text_field,
            settings.security.permissions_field or None,
        ),
        batch_size=max(settings.embedding.batch_size * 2, 16),
        default_permissions=parse_permissions(settings.security.default_readers),
        shared_tenant=settings.security.default_tenant,
        pii=settings.security.pii,
    )
    gw = Groundwire(
        settings=settings,
        store=store,
        keyword=keyword,
        retriever=retriever,
        answers=AnswerService(
            retriever=retriever, answerer=answerer, passages=settings.answer.passages,
            encode_pool=pool, store=store,
            llm=build_llm(settings, store, answer_embedder, telemetry),
            tracer=telemetry.tracer, guard=build_answer_guard(settings),
        ),
        pipeline=pipeline,
        encode_pool=pool,
        telemetry=telemetry,
        monitoring=build_monitoring(settings, store, embedder,
                                    on_dead_letter=telemetry.dead_lettered),
        tunings=tunings,
    )
    gw.audit, gw.rate_limiter = build_security_edges(
        settings, store, on_dead_letter=telemetry.dead_lettered)
    if owns_store:  # a version's view shares its parent's store and job service
        from groundwire.jobs.service import JobService

        gw.jobs = JobService(settings.jobs,
                             prepare_threshold=settings.database.prepare_threshold)
    return gw


def build_answer_guard(settings: Settings) -> AnswerGuard:
    """PII policy per index and the output URL filter, applied to everything an answer shows."""
    return AnswerGuard(OutputFilter(settings.security.output_url_allowlist),
                       policy_for=settings.security.pii.for_index)


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
