"""Answer records: built from what a search/ask returned, written in the background.

Contract:

* ``RecordWriter.submit(record)`` never blocks and never raises: the record goes on a bounded
  queue, or — queue full, writer stopped — is dropped and counted in ``dropped``.
* The background task takes batches off the queue, redacts the question with
  ``PiiDetector.redact`` (in a worker thread: Presidio is CPU work) — and the answer text,
  whatever the index's PII policy — and inserts the batch in one
  statement. The writer is ``stores/batch_writer.py``: a failed batch is retried while the
  error is transient, then record by record; a record the store refuses is dead-lettered
  (logged without its text, counted in ``failed`` and in
  ``groundwire_writer_dead_letters_total``) and the rest are stored. The writer goes on.
* ``flush()`` waits until everything submitted before the call is stored (or failed).
* ``stop()`` flushes (bounded by ``drain_timeout_s``) and ends the task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from groundwire.domain import Answer, Hit
from groundwire.domain.records import AnswerRecord
from groundwire.stores.batch_writer import BatchWriter

log = logging.getLogger(__name__)
BATCH = 200
RETRIES = 3


def top_score(hits: Sequence[Hit]) -> float | None:
    """Best dense cosine similarity among ``hits`` (None when no hit came from the dense
    retriever): unlike the fused score it is comparable across queries."""
    scores = [h.vector_score for h in hits if h.vector_score is not None]
    return round(float(max(scores)), 6) if scores else None


def passages_of(hits: Sequence[Hit]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {"chunk_id": h.chunk_id, "document_id": h.document_id, "uri": h.uri,
         "score": round(float(h.score), 6),
         "vector_score": None if h.vector_score is None else round(float(h.vector_score), 6),
         "keyword_score": None if h.keyword_score is None else round(float(h.keyword_score), 6)}
        for h in hits
    )


def search_record(
    record_id: str, *, index: str, principal: str, question: str, hits: Sequence[Hit],
    timings: dict[str, float], generation: int | None, embedding_model: str | None,
    embedding: Sequence[float] | None,
) -> AnswerRecord:
    return AnswerRecord(
        id=record_id, created_at=datetime.now(UTC), kind="search", index=index,
        principal=principal, question=question, passages=passages_of(hits),
        timings=dict(timings), latency_ms=timings.get("total"), index_generation=generation,
        top_score=top_score(hits), embedding_model=embedding_model,
        query_embedding=embedding,
    )


def ask_record(
    record_id: str, *, index: str, principal: str, answer: Answer, generation: int | None,
    embedding_model: str | None, embedding: Sequence[float] | None,
) -> AnswerRecord:
    timings = dict(answer.timings_ms)
    return AnswerRecord(
        id=record_id, created_at=datetime.now(UTC), kind="ask", index=index,
        principal=principal, question=answer.question, passages=passages_of(answer.hits),
        answer=answer.text,
        citations=tuple({"n": c.n, "chunk_id": c.hit.chunk_id, "uri": c.hit.uri,
                         "support": c.support} for c in answer.citations),
        groundedness=answer.groundedness, confidence=answer.confidence,
        abstained=answer.abstained, degraded=answer.degraded,
        degraded_reason=answer.degraded_reason, answerer=answer.answerer, timings=timings,
        latency_ms=timings.get("total"), provider=answer.provider, model=answer.model,
        prompt_id=answer.prompt_id, prompt_hash=answer.prompt_hash,
        index_generation=generation, cost=answer.cost,
        usage=record_usage(answer), cached=answer.cached,
        top_score=top_score(answer.hits), embedding_model=embedding_model,
        query_embedding=embedding,
    )


def record_usage(answer: Answer) -> dict[str, Any] | None:
    """The record's ``usage``: the answer's tokens plus, under ``budget``, the budget scopes
    it was charged to or the one that was exhausted (``llm/budgets.py``)."""
    usage: dict[str, Any] = dict(answer.usage) if answer.usage else {}
    if answer.budget:
        usage["budget"] = dict(answer.budget)
    return usage or None


class RecordWriter:
    """Bounded queue + one background task writing records to the store (a
    ``stores.batch_writer.BatchWriter``: a record the store refuses is dead-lettered, the rest
    of its batch is stored)."""

    def __init__(
        self, insert: Callable[[Sequence[AnswerRecord]], Any], redact: Callable[[str], str],
        *, queue_size: int = 1000, drain_timeout_s: float = 10.0,
        embed: Callable[[str], Iterable[float]] | None = None,
        retry_delay_s: float = 0.5,
        on_dead_letter: Callable[[str, str], None] | None = None,
    ) -> None:
        """``insert`` is the store's async ``insert_records``; ``redact`` a blocking text
        redactor; ``embed`` (blocking) fills in a missing query embedding;
        ``on_dead_letter(writer, code)`` counts a record the store refused (metrics)."""
        self._redact = redact
        self._embed = embed
        self._drain_timeout_s = drain_timeout_s
        self._writer: BatchWriter[AnswerRecord] = BatchWriter(
            "records", insert, prepare=self._prepare, batch_size=BATCH,
            queue_size=queue_size, retries=RETRIES, retry_delay_s=retry_delay_s,
            on_dead_letter=on_dead_letter, describe=_describe)

    @property
    def running(self) -> bool:
        return self._writer.running

    @property
    def written(self) -> int:
        return self._writer.written

    @property
    def dropped(self) -> int:
        return self._writer.dropped

    @property
    def failed(self) -> int:
        """Records dead-lettered (refused by the store, or the store down past the retries)."""
        return self._writer.failed

    def start(self) -> None:
        self._writer.start()

    def submit(self, record: AnswerRecord) -> bool:
        """Queue a record; False (and counted in ``dropped``) when it cannot be queued."""
        return self._writer.offer(record)

    @property
    def pending(self) -> int:
        return self._writer.pending

    async def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every record queued so far has been written (or dead-lettered)."""
        await self._writer.flush(timeout_s)

    async def stop(self) -> None:
        await self._writer.close(self._drain_timeout_s)

    def _prepare(self, record: AnswerRecord) -> AnswerRecord:
        """Redact the question and answer (PII-safe storage, whatever the index's PII policy);
        embed a query that came without a vector (from the raw question, never stored)."""
        changes: dict[str, Any] = {"question": self._redact(record.question)}
        if record.answer:
            changes["answer"] = self._redact(record.answer)
        if record.query_embedding is None and self._embed is not None:
            changes["query_embedding"] = [float(v) for v in self._embed(record.question)]
        return replace(record, **changes)


def _describe(record: AnswerRecord) -> dict[str, Any]:
    """What a dead-lettered record's log line names: never the question or the answer."""
    return {"id": record.id, "kind": record.kind, "index": record.index,
            "created_at": record.created_at.isoformat()}
