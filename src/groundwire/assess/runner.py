"""``run_assessment``: one streaming pass over a source, then each dimension's verdict.

    source documents ─► every dimension's observe(doc)   (worker thread, one doc at a time)
                     ─► dimension.finish(ctx)            (worker thread; conflicts after
                                                          duplicates; coverage last)
                     ─► score, verdict, top fixes        (scoring.py)

Memory stays bounded by per-document summaries (hashes, MinHash signatures, counters, capped
findings); texts go to a temporary file (``TextSpool``), never a list. CPU-heavy work runs in
``asyncio.to_thread`` so a server's event loop is never blocked. ``progress(stage, done,
total)`` is called with stages ``read`` (total None while streaming), ``analyse`` and
``done``; it may be called from a worker thread, so it must be cheap and thread-safe.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from groundwire.assess.dimensions.access_control import Access
from groundwire.assess.dimensions.base import Context
from groundwire.assess.dimensions.conflicts import Conflicts
from groundwire.assess.dimensions.duplicates import Duplicates, add_ingest_marks
from groundwire.assess.dimensions.inventory import Inventory
from groundwire.assess.dimensions.model_safety import ModelSafety
from groundwire.assess.dimensions.parseability import Parseability
from groundwire.assess.dimensions.question_coverage import QuestionCoverage
from groundwire.assess.dimensions.retrieval_fitness import RetrievalFitness
from groundwire.assess.dimensions.sensitive_data import SensitiveData
from groundwire.assess.dimensions.staleness import Staleness
from groundwire.assess.report import DIMENSIONS, SCHEMA_VERSION, Section
from groundwire.assess.scoring import overall_score, top_fixes, verdict
from groundwire.assess.source import AssessedDocument, AssessmentSource, PathReader
from groundwire.assess.spool import TextSpool
from groundwire.errors import InvalidRequest
from groundwire.settings import Settings

Progress = Callable[[str, int, int | None], None]
PROGRESS_EVERY = 500
_INDEX_BATCH = 256


def estimate_tokens(text: str) -> int:
    """Whitespace token estimate used without an embedder: words * 1.3, rounded up."""
    return math.ceil(len(text.split()) * 1.3)


class _Pass:
    """The dimensions of one run and the shared context, fed one document at a time."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Any,
        questions: Sequence[str] | None,
        local_index: bool,
        now: datetime,
    ) -> None:
        cfg = settings.assess
        self.count_tokens = embedder.count_tokens if embedder is not None else estimate_tokens
        window = embedder.max_tokens if embedder is not None else settings.embedding.max_seq_tokens
        self.ctx = Context(
            settings=settings,
            now=now,
            uris=[],
            spool=TextSpool(),
            count_tokens=self.count_tokens,
            window_tokens=window,
        )
        self.dimensions: list[Any] = [
            Inventory(),
            Parseability(cfg.min_chars),
            Duplicates(cfg.near_duplicate_threshold),
            Conflicts(),
            Staleness(cfg.stale_days, now),
            SensitiveData(),
            Access(),
            ModelSafety(),
            RetrievalFitness(self.count_tokens, window),
        ]
        self.coverage = QuestionCoverage(
            questions,
            cfg.max_questions,
            embedder=embedder,
            min_support=settings.answer.min_support,
            passages=settings.answer.passages,
            build_index=local_index,
        )

    def observe(self, doc: AssessedDocument) -> None:
        i = len(self.ctx.uris)
        self.ctx.uris.append(doc.uri)
        self.ctx.spool.append(doc.text)
        for dim in self.dimensions:
            dim.observe(doc, i)
        self.coverage.observe(doc, i)

    def consume(self, docs: Iterable[AssessedDocument], progress: Progress | None) -> None:
        for doc in docs:
            self.observe(doc)
            if progress and len(self.ctx.uris) % PROGRESS_EVERY == 0:
                progress("read", len(self.ctx.uris), None)

    def finish(self) -> dict[str, Section]:
        return {dim.name: dim.finish(self.ctx) for dim in self.dimensions}


async def run_assessment(
    source: AssessmentSource,
    settings: Settings,
    *,
    embedder: Any = None,
    store: Any = None,
    questions: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Assess ``source`` and return the report dict (schema: docs/assessment.md).

    ``embedder`` (optional) gives real token counts and window, and embedding-based answer
    support; without it token counts are a whitespace estimate and support is lexical.
    ``store`` is required for an index source (``NotFound`` for an unknown index).
    ``questions`` overrides the heading-derived questions of question coverage.
    Raises ``InvalidRequest`` for a missing path or an index source without a store.
    """
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    if source.index is not None and store is None:
        raise InvalidRequest("assessing an index needs a store")
    if source.path is not None and not source.path.expanduser().exists():
        raise InvalidRequest(f"path not found: {source.path}")
    use_hybrid = source.index is not None and embedder is not None
    run = _Pass(
        settings, embedder=embedder, questions=questions, local_index=not use_hybrid, now=started_at
    )
    try:
        if source.path is not None:
            await _read_path(run, source, settings, embedder, progress)
        else:
            await _read_index(run, store, source.index or "default", progress)
        total = len(run.ctx.uris)
        if progress:
            progress("read", total, total)
            progress("analyse", 0, len(DIMENSIONS))
        sections = await asyncio.to_thread(run.finish)
        if progress:
            progress("analyse", len(sections), len(DIMENSIONS))
        hits = None
        if use_hybrid:
            hits = await _hybrid_hits(
                store, embedder, settings, source.index or "default", run.coverage.questions()
            )
        sections["question_coverage"] = await asyncio.to_thread(run.coverage.finish, run.ctx, hits)
        if source.index is not None:  # what ingest marked (ingest.near_duplicates)
            await add_ingest_marks(sections["duplicates"], store, source.index)
        if progress:
            progress("analyse", len(DIMENSIONS), len(DIMENSIONS))
    finally:
        run.ctx.spool.close()
        run.coverage.texts.close()
    report = assemble(
        source,
        sections,
        run.ctx.documents,
        settings.assess.max_findings,
        started_at=started_at,
        duration_s=time.perf_counter() - t0,
    )
    if progress:
        progress("done", run.ctx.documents, run.ctx.documents)
    return report


async def _read_path(
    run: _Pass,
    source: AssessmentSource,
    settings: Settings,
    embedder: Any,
    progress: Progress | None,
) -> None:
    from groundwire.ingest.chunking import Chunker
    from groundwire.ingest.parsers.ocr import with_ocr
    from groundwire.registry import parsers

    chunker = Chunker(
        run.count_tokens,
        max_tokens=settings.chunking.max_tokens,
        overlap_tokens=settings.chunking.overlap_tokens,
        window_tokens=settings.embedding.max_seq_tokens,
    )
    assert source.path is not None
    reader = PathReader(source.path, settings, with_ocr(parsers(), settings.ingest.ocr), chunker)
    await asyncio.to_thread(run.consume, reader.documents(), progress)


async def _read_index(run: _Pass, store: Any, index: str, progress: Progress | None) -> None:
    from groundwire.assess.source import index_documents

    batch: list[AssessedDocument] = []
    async for doc in index_documents(store, index, run.count_tokens):
        batch.append(doc)
        if len(batch) >= _INDEX_BATCH:
            await asyncio.to_thread(run.consume, batch, progress)
            batch = []
    if batch:
        await asyncio.to_thread(run.consume, batch, progress)


async def _hybrid_hits(
    store: Any, embedder: Any, settings: Settings, index: str, questions: list[str]
) -> dict[str, list[Any]]:
    """The real retrieval (BM25 + dense, tuned fusion) for each question."""
    from concurrent.futures import ThreadPoolExecutor

    from groundwire.domain import SearchRequest
    from groundwire.retrieval.hybrid import HybridRetriever
    from groundwire.retrieval.keyword_indexes import KeywordIndexes

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="groundwire-assess")
    try:
        retriever = HybridRetriever(
            store=store,
            keyword=KeywordIndexes(store),
            embedder=embedder,
            tuning_for=settings.retrieval.for_index,
            encode_pool=pool,
        )
        out: dict[str, list[Any]] = {}
        for q in questions:
            query = q[: settings.server.max_query_chars]
            out[q] = await retriever.search(SearchRequest(query=query, index=index, top_k=5))
        return out
    finally:
        pool.shutdown(wait=False)


def assemble(
    source: AssessmentSource,
    sections: dict[str, Section],
    documents: int,
    max_findings: int,
    *,
    started_at: datetime,
    duration_s: float,
) -> dict[str, Any]:
    """The report dict from the finished sections (see docs/assessment.md)."""
    ordered = {name: sections[name] for name in DIMENSIONS}
    score = overall_score(ordered)
    fig = {name: s.figures for name, s in ordered.items()}
    counts = {
        "documents": documents,
        "failed": fig["parseability"]["failed"],
        "empty": fig["parseability"]["empty"],
        "exact_duplicate_documents": fig["duplicates"]["exact_duplicate_documents"],
        "near_duplicate_clusters": fig["duplicates"]["near_duplicate_clusters"],
        "pii_documents": fig["sensitive_data"]["pii_documents"],
        "stale_documents": fig["staleness"]["stale_documents"],
        "no_acl_documents": fig["access"]["no_acl_documents"],
        "injection_suspects": fig["model_safety"]["injection_suspects"],
    }
    finished_at = datetime.now(UTC)
    return {
        "schema_version": SCHEMA_VERSION,
        "target": source.as_json(),
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "duration_s": round(duration_s, 3),
        "verdict": verdict(ordered, score),
        "score": score,
        "top_fixes": top_fixes(ordered),
        "counts": counts,
        "dimensions": {name: s.as_json(max_findings) for name, s in ordered.items()},
    }
