"""``EngineFactory``: builds an ``IndexEngine`` from a configuration, once, and caches it.

The factory holds what every engine of a process shares — the open store, the tracer, the
per-index ingest locks, and the embedder of the base settings (a version with the same
embedding settings reuses it instead of loading the model twice) — and builds the rest per
configuration: keyword indexes, retriever, answerer, LLM chain, ingest pipeline. Plug-ins
(embedders, answerers, LLM providers, parsers) come from the registries
(``groundwire.registry``), named by configuration.

* ``default``: the engine of the process's own settings (built with the factory).
* ``for_version(key, settings)``: the engine of a version, built on first use and cached by
  ``key`` (a version's physical index: its configuration tuple never changes); the version
  router (``versions/router.py``) calls it.
* ``aclose``: closes every cached version engine, then the default one.

No I/O happens here: building an engine loads nothing and connects to nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from opentelemetry import trace

from groundwire.answering.service import AnswerService, LLMAnswering
from groundwire.domain import parse_permissions
from groundwire.embedding.base import Embedder
from groundwire.embedding.memo import MemoEmbedder
from groundwire.engine.engine import IndexEngine, IngestLocks
from groundwire.ingest.chunking import Chunker
from groundwire.ingest.parsers.ocr import with_ocr
from groundwire.ingest.pipeline import IngestPipeline, RecordFields
from groundwire.registry import EMBEDDERS, answerers, llm_providers, parsers
from groundwire.retrieval.hybrid import HybridRetriever
from groundwire.retrieval.keyword import bm25_params
from groundwire.retrieval.keyword_indexes import KeywordIndexes
from groundwire.retrieval.keyword_snapshots import KeywordSnapshots
from groundwire.retrieval.tunings import TuningResolver
from groundwire.safety.output_filter import AnswerGuard, OutputFilter
from groundwire.settings import Settings
from groundwire.stores.base import Store


def build_embedder(settings: Settings) -> Embedder:
    """The embedder named by ``embedding.provider`` (registry group groundwire.embedders)."""
    embedder: Embedder = EMBEDDERS.get(settings.embedding.provider)(settings.embedding)
    return embedder


def build_llm(settings: Settings, store: Store, embedder: Embedder,
              tracer: trace.Tracer | None = None) -> LLMAnswering | None:
    """The LLM answer path, or None when no provider is configured (extractive answers).
    Each provider is built by the factory its ``type`` names (groundwire.llm_providers)."""
    from groundwire.answering.verification import CitationVerifier
    from groundwire.errors import ConfigurationError
    from groundwire.llm.budgets import BudgetGuard
    from groundwire.llm.cache import AnswerCache
    from groundwire.llm.chain import FallbackChain
    from groundwire.llm.prompts import get_template

    llm = settings.llm
    if not llm.providers:
        return None
    names = [p.name for p in llm.providers]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"llm.providers names must be unique: {names}")
    max_bytes = int(llm.max_response_mb * 1024 * 1024)
    registry = llm_providers()
    providers = [registry.get(p.type)(p, max_response_bytes=max_bytes) for p in llm.providers]
    cache = settings.cache
    return LLMAnswering(
        chain=FallbackChain(providers, llm, tracer=tracer),
        verifier=CitationVerifier(embedder),
        template=get_template(llm.prompt),
        settings=llm,
        budgets=BudgetGuard(store, settings.budgets),
        cache=AnswerCache(ttl_s=cache.ttl_s, max_entries=cache.max_entries)
        if cache.enabled else None,
        count_tokens=embedder.count_tokens,
    )


def build_answer_guard(settings: Settings) -> AnswerGuard:
    """PII policy per index and the output URL filter, applied to everything an answer shows."""
    return AnswerGuard(OutputFilter(settings.security.output_url_allowlist),
                       policy_for=settings.security.pii.for_index)


def build_pipeline(settings: Settings, store: Store, embedder: Embedder) -> IngestPipeline:
    """The ingest pipeline of ``settings``: chunker fitted to the embedder, record fields,
    default permissions and PII policy."""
    chunking, ingest = settings.chunking, settings.ingest
    chunker = Chunker(embedder.count_tokens, max_tokens=chunking.max_tokens,
                      overlap_tokens=chunking.overlap_tokens,
                      window_tokens=settings.embedding.max_seq_tokens)
    return IngestPipeline(
        store=store,
        embedder=embedder,
        chunker=chunker,
        parsers=with_ocr(parsers(), settings.ingest.ocr),
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
        near_duplicates=ingest.near_duplicates,
    )


class EngineFactory:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        embedder: Embedder | None = None,
        tunings: TuningResolver | None = None,
        tracer: trace.Tracer | None = None,
        build_embedder: Callable[[Settings], Embedder] = build_embedder,
    ) -> None:
        """``embedder``: an already built embedder for ``settings`` (tests, benchmarks);
        ``tunings``: the resolver of the default engine (the application reloads it from
        the store); version engines get their own, fixed by their recorded tuple."""
        self.settings = settings
        self.store = store
        self._tracer = tracer or trace.NoOpTracer()
        self._build_embedder = build_embedder
        self.ingest_locks = IngestLocks()
        self._base_embedder = embedder or build_embedder(settings)
        self.default = self.build(settings, embedder=self._base_embedder, tunings=tunings)
        self._versions: dict[str, IndexEngine] = {}
        self._lock = asyncio.Lock()

    def build(self, settings: Settings, *, embedder: Embedder | None = None,
              tunings: TuningResolver | None = None) -> IndexEngine:
        """A new engine for ``settings`` (not cached; see ``for_version``). The embedder is
        shared when the embedding settings equal the factory's own."""
        if embedder is None:
            embedder = (self._base_embedder if settings.embedding == self.settings.embedding
                        else self._build_embedder(settings))
        tunings = tunings or TuningResolver(settings.retrieval,
                                            enabled=settings.autotune.enabled,
                                            refresh_s=settings.autotune.refresh_s)
        # One thread per core for query-time model work; each encode uses query_threads.
        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="groundwire-encode")
        retrieval = settings.retrieval
        keyword = KeywordIndexes(
            self.store, bm25_params(retrieval),
            snapshots=(KeywordSnapshots(Path(settings.data_dir) / "keyword")
                       if retrieval.keyword_snapshots else None))
        retriever = HybridRetriever(store=self.store, keyword=keyword, embedder=embedder,
                                    tuning_for=tunings, encode_pool=pool, tracer=self._tracer)
        # The evidence gate and citation verification encode the same passage sentences:
        # one memo (embedding/memo.py) for the answer path.
        answer_embedder = MemoEmbedder(embedder)
        answerer = answerers().get("extractive")(answer_embedder, settings.answer)
        answers = AnswerService(
            retriever=retriever, answerer=answerer, passages=settings.answer.passages,
            encode_pool=pool, store=self.store,
            llm=build_llm(settings, self.store, answer_embedder, self._tracer),
            tracer=self._tracer, guard=build_answer_guard(settings),
        )
        return IndexEngine(
            settings=settings, store=self.store, keyword=keyword, retriever=retriever,
            answers=answers, pipeline=build_pipeline(settings, self.store, embedder),
            tunings=tunings, encode_pool=pool, ingest_locks=self.ingest_locks,
        )

    async def for_version(self, key: str, settings: Callable[[], Settings]) -> IndexEngine:
        """The cached engine of version ``key``, built from ``settings()`` on first use."""
        engine = self._versions.get(key)
        if engine is not None:
            return engine
        async with self._lock:
            engine = self._versions.get(key)
            if engine is None:
                engine = self._versions[key] = self.build(settings())
        return engine

    async def aclose(self) -> None:
        engines, self._versions = list(self._versions.values()), {}
        for engine in engines:
            await engine.aclose()
        await self.default.aclose()
