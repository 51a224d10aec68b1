"""Answer records: built from what a search/ask returned, written in the background.

Contract:

* ``RecordWriter.submit(record)`` never blocks and never raises: the record goes on a bounded
  queue, or — queue full, writer stopped — is dropped and counted in ``dropped``.
* The background task takes batches off the queue, redacts the question with
  ``PiiDetector.redact`` (in a worker thread: Presidio is CPU work) — and the answer text,
  whatever the index's PII policy — and inserts the batch in one
  statement. A failed insert is logged and counted in ``failed``; the writer goes on.
* ``flush()`` waits until everything submitted before the call is stored (or failed).
* ``stop()`` flushes (bounded by ``drain_timeout_s``) and ends the task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from groundwire.domain import Answer, Hit
from groundwire.domain.records import AnswerRecord

log = logging.getLogger(__name__)
BATCH = 200


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
        usage=dict(answer.usage) if answer.usage else None, cached=answer.cached,
        top_score=top_score(answer.hits), embedding_model=embedding_model,
        query_embedding=embedding,
    )


class RecordWriter:
    """Bounded queue + one background task writing records to the store."""

    def __init__(
        self, insert: Callable[[Sequence[AnswerRecord]], Any], redact: Callable[[str], str],
        *, queue_size: int = 1000, drain_timeout_s: float = 10.0,
        embed: Callable[[str], Sequence[float]] | None = None,
    ) -> None:
        """``insert`` is the store's async ``insert_records``; ``redact`` a blocking text
        redactor; ``embed`` (blocking) fills in a missing query embedding."""
        self._insert = insert
        self._redact = redact
        self._embed = embed
        self._queue: asyncio.Queue[AnswerRecord] | None = None
        self._queue_size = queue_size
        self._drain_timeout_s = drain_timeout_s
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.dropped = 0
        self.failed = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self._queue = asyncio.Queue(maxsize=self._queue_size)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="record-writer")

    def submit(self, record: AnswerRecord) -> bool:
        """Queue a record; False (and counted in ``dropped``) when it cannot be queued."""
        if self._queue is None or not self.running:
            self.dropped += 1
            return False
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    @property
    def pending(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    async def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every record queued so far has been written (or failed)."""
        if self._queue is None or not self.running:
            return
        await asyncio.wait_for(self._queue.join(), timeout_s)

    async def stop(self) -> None:
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await self.flush(self._drain_timeout_s)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            batch = [await queue.get()]
            while len(batch) < BATCH and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                safe = await asyncio.to_thread(self._prepare, batch)
                await self._insert(safe)
                self.written += len(batch)
            except asyncio.CancelledError:
                raise
            except Exception:  # the writer outlives any one failed batch (counted, logged)
                self.failed += len(batch)
                log.exception("answer records not stored", extra={"records": len(batch)})
            finally:
                for _ in batch:
                    queue.task_done()

    def _prepare(self, batch: list[AnswerRecord]) -> list[AnswerRecord]:
        """Redact questions and answers (PII-safe storage, whatever the index's PII policy);
        embed queries that came without a vector (from the raw question, never stored)."""
        started = time.perf_counter()
        out = []
        for record in batch:
            changes: dict[str, Any] = {"question": self._redact(record.question)}
            if record.answer:
                changes["answer"] = self._redact(record.answer)
            if record.query_embedding is None and self._embed is not None:
                changes["query_embedding"] = [float(v) for v in self._embed(record.question)]
            out.append(replace(record, **changes))
        log.debug("records prepared", extra={"records": len(batch),
                                             "ms": round((time.perf_counter() - started) * 1e3, 2)})
        return out
