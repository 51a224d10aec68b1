"""One background batch writer over a store's batch insert, shared by the audit log
(``security/audit.py``) and the answer records (``monitoring/recorder.py``).

Contract of ``BatchWriter``:

* ``put(item)`` waits for room in the bounded queue (back-pressure, never loss);
  ``offer(item)`` never blocks: False (and counted in ``dropped``) when the queue is full or
  the writer is not running. Without a running writer, ``write_now(items)`` writes in the
  caller's task with the same isolation as the background task.
* The task takes up to ``batch_size`` items off the queue, runs ``prepare`` on each one in a
  worker thread (redaction, embedding: CPU work) and inserts the batch with one call.
* **Poison isolation.** A batch the store refuses is retried whole (``retries`` times with
  exponential back-off) only while the error is *transient* (store unreachable, timeout);
  then — or at once when the error is *permanent* (``is_permanent``: the store refused the
  data, e.g. a NUL in a text value) — every item is inserted on its own, so one bad item
  never takes the other items of its batch with it. An item that still fails (permanently,
  or transiently ``retries`` more times), or whose ``prepare`` raised, is **dead-lettered**:
  logged once at ERROR as ``batch_writer.dead_letter`` with a stable ``code``
  (``writer.rejected``, ``writer.unavailable``, ``writer.prepare_failed``), the writer's
  name, the exception's class and SQLSTATE and the item's ``describe`` fields — never the
  exception message or the item's text, which may quote the rejected value — counted in
  ``failed`` and reported to ``on_dead_letter(writer, code)`` (the Prometheus counter
  ``groundwire_writer_dead_letters_total``). The writer goes on.
* When items fail transiently one by one, the rest of that batch is dead-lettered as
  ``writer.unavailable`` without further tries (a store that is down does not hold the queue
  for ``retries`` back-offs per item).
* ``flush(timeout_s)`` returns once everything queued before the call is stored or
  dead-lettered; ``close(timeout_s)`` flushes (bounded when a timeout is given) and stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

REJECTED = "writer.rejected"
UNAVAILABLE = "writer.unavailable"
PREPARE_FAILED = "writer.prepare_failed"
CODES = (REJECTED, UNAVAILABLE, PREPARE_FAILED)

# SQLSTATE classes of errors that retrying the same row cannot fix: data exception (22:
# NUL / untranslatable character, value too long, bad encoding), integrity constraint (23),
# syntax error or access rule violation (42).
_PERMANENT_CLASSES = frozenset({"22", "23", "42"})


def is_permanent(exc: BaseException) -> bool:
    """True when the store refused the data itself, so the same item will fail again."""
    if isinstance(exc, (ValueError, TypeError, UnicodeError)):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency of the store
        psycopg = None  # type: ignore[assignment]
    if psycopg is not None and isinstance(
        exc, (psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError,
              psycopg.NotSupportedError)
    ):
        return True  # includes client-side refusals (a NUL in a text parameter: no SQLSTATE)
    sqlstate = getattr(exc, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate[:2] in _PERMANENT_CLASSES


class BatchWriter(Generic[T]):
    """Bounded queue + one background task inserting batches, isolating poison items."""

    def __init__(
        self, name: str, insert: Callable[[Sequence[T]], Awaitable[Any]], *,
        prepare: Callable[[T], T] | None = None, batch_size: int = 200,
        queue_size: int = 1000, retries: int = 3, retry_delay_s: float = 0.5,
        on_dead_letter: Callable[[str, str], None] | None = None,
        describe: Callable[[T], Mapping[str, Any]] | None = None,
        permanent: Callable[[BaseException], bool] = is_permanent,
    ) -> None:
        """``name`` labels logs and the metric; ``insert`` is the store's async batch
        insert; ``prepare`` a blocking per-item transform run in a worker thread;
        ``describe`` the item's loggable identifiers (no free text) for a dead letter."""
        self.name = name
        self._insert = insert
        self._prepare = prepare
        self._batch_size = batch_size
        self._queue_size = queue_size
        self._retries = retries
        self._retry_delay_s = retry_delay_s
        self._on_dead_letter = on_dead_letter
        self._describe = describe
        self._permanent = permanent
        self._queue: asyncio.Queue[T] | None = None
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.failed = 0  # dead-lettered
        self.dropped = 0  # refused by ``offer``

    # ------------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def pending(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    def start(self) -> None:
        if self.running:
            return
        self._queue = asyncio.Queue(maxsize=self._queue_size)
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every item queued so far is stored or dead-lettered."""
        if self._queue is None or not self.running:
            return
        await asyncio.wait_for(self._queue.join(), timeout_s)

    async def close(self, timeout_s: float | None = None) -> None:
        """Flush (at most ``timeout_s`` when given), then stop the task."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await self.flush(timeout_s)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        self._queue = None

    # ------------------------------------------------------------------ queueing
    async def put(self, item: T) -> None:
        """Queue ``item``, waiting for room; writes it at once when no writer runs."""
        if self._queue is not None and self.running:
            await self._queue.put(item)
            return
        await self.write_now([item])

    def offer(self, item: T) -> bool:
        """Queue ``item`` without waiting; False (counted in ``dropped``) when impossible."""
        if self._queue is None or not self.running:
            self.dropped += 1
            return False
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            batch = [await queue.get()]
            while len(batch) < self._batch_size and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self.write_now(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never expected (write_now isolates); keep the task
                self._dead_letter_all(batch, UNAVAILABLE, exc)
            finally:
                for _ in batch:
                    queue.task_done()

    # ------------------------------------------------------------------ writing
    async def write_now(self, items: Sequence[T]) -> None:
        """Prepare and insert ``items``, isolating the ones the store refuses."""
        prepared, refused = await asyncio.to_thread(self._prepare_all, list(items))
        for item, exc in refused:
            self._dead_letter(item, PREPARE_FAILED, exc)
        if not prepared:
            return
        error = await self._insert_with_retries(prepared)
        if error is None:
            self.written += len(prepared)
            return
        if len(prepared) == 1:
            self._dead_letter(prepared[0], REJECTED if self._permanent(error) else UNAVAILABLE,
                              error)
            return
        await self._one_by_one(prepared)

    def _prepare_all(self, items: list[T]) -> tuple[list[T], list[tuple[T, Exception]]]:
        """(prepared items, (item, error) of those ``prepare`` raised on); in a thread."""
        if self._prepare is None:
            return items, []
        out, refused = [], []
        for item in items:
            try:
                out.append(self._prepare(item))
            except Exception as exc:  # one item's redaction/embedding must not sink the batch
                refused.append((item, exc))
        return out, refused

    async def _insert_with_retries(self, items: Sequence[T]) -> BaseException | None:
        """None once inserted; else the last error (permanent at once, transient after
        ``retries`` retries with back-off)."""
        for attempt in range(self._retries + 1):
            try:
                await self._insert(items)
                return None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # classified below: permanent, or retried
                if self._permanent(exc) or attempt == self._retries:
                    return exc
                await asyncio.sleep(self._retry_delay_s * (2 ** attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _one_by_one(self, items: Sequence[T]) -> None:
        for position, item in enumerate(items):
            error = await self._insert_with_retries([item])
            if error is None:
                self.written += 1
            elif self._permanent(error):
                self._dead_letter(item, REJECTED, error)
            else:  # the store is down, not the item bad: do not wait per remaining item
                self._dead_letter_all(items[position:], UNAVAILABLE, error)
                return

    # ------------------------------------------------------------------ dead letters
    def _dead_letter_all(self, items: Sequence[T], code: str, exc: BaseException) -> None:
        for item in items:
            self._dead_letter(item, code, exc)

    def _dead_letter(self, item: T, code: str, exc: BaseException) -> None:
        self.failed += 1
        fields: dict[str, Any] = {}
        if self._describe is not None:
            with contextlib.suppress(Exception):
                fields = dict(self._describe(item))
        # Never the exception message or a traceback: PostgreSQL quotes the refused value
        # (e.g. "JSON data, line 1: ...") and the item may hold a question or an answer.
        log.error("batch_writer.dead_letter", extra={
            "code": code, "writer": self.name, "error": type(exc).__name__,
            "sqlstate": getattr(exc, "sqlstate", None), "item": fields})
        if self._on_dead_letter is not None:
            with contextlib.suppress(Exception):
                self._on_dead_letter(self.name, code)
