"""``MonitoringService``: records, feedback, monitors, drift, content gaps and alerts.

Built by ``bootstrap`` and owned by the ``Groundwire`` facade:

* ``start()`` (facade open) starts the record writer; ``stop()`` (facade close) drains it and
  ends any background loop.
* ``record_search`` / ``record_ask`` build a record, queue it (never blocking) and return its
  id — or None when records are off or the queue is full.
* ``start_background()`` (``groundwire serve``) evaluates monitors every
  ``evaluate_interval_s`` and purges records past ``retention_days`` every
  ``purge_interval_s``.
* ``evaluate()`` computes every monitor per index, opens an alert for each newly firing
  monitor and resolves the open alert of each monitor back to ``ok`` (webhook on both).
  ``state()`` computes the same figures with no side effects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from groundwire.domain import Answer, Hit
from groundwire.domain.records import Alert, AnswerRecord, FeedbackEntry
from groundwire.errors import InvalidRequest, NotFound
from groundwire.monitoring.alerts import Webhook
from groundwire.monitoring.export import FORMATS, export_chunks
from groundwire.monitoring.gaps import find_gaps
from groundwire.monitoring.monitors import MonitorResult, drift_monitors, rate_monitors
from groundwire.monitoring.recorder import RecordWriter, ask_record, search_record
from groundwire.settings import MonitoringSettings
from groundwire.stores.base import Store

log = logging.getLogger(__name__)
BUCKETS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "6h": 21600, "1d": 86400}
MAX_BUCKETS = 5000
EXPORT_PAGE = 500
PEER_WRITE_WAIT_S = 3.0  # how long feedback waits for a record another replica still writes


def parse_bucket(bucket: str) -> int:
    if bucket in BUCKETS:
        return BUCKETS[bucket]
    raise InvalidRequest(f"bucket must be one of {', '.join(BUCKETS)}, got {bucket!r}")


def _default_redactor() -> Callable[[str], str]:
    from groundwire.safety.pii import PiiDetector
    from groundwire.safety.redaction import storage_redactor

    # credentials (API keys, tokens, URL passwords) and any e-mail first, then Presidio's PII
    return storage_redactor(PiiDetector().redact)


class MonitoringService:
    def __init__(
        self, store: Store, settings: MonitoringSettings, *, embedding_model: str,
        redact: Callable[[str], str] | None = None,
        embed: Callable[[str], Iterable[float]] | None = None,
        on_dead_letter: Callable[[str, str], None] | None = None,
    ) -> None:
        """``redact`` defaults to ``PiiDetector().redact`` (built lazily, in the writer's
        thread); ``embed`` fills in a query vector a record arrived without;
        ``on_dead_letter(writer, code)`` counts records the store refused (metrics)."""
        self.store = store
        self.settings = settings
        self.embedding_model = embedding_model
        self._redactor = redact
        self.writer = RecordWriter(store.insert_records, self._redact,
                                   queue_size=settings.queue_size, embed=embed,
                                   on_dead_letter=on_dead_letter)
        self.webhook = Webhook(settings.webhook_url, timeout_s=settings.webhook_timeout_s)
        self._tasks: list[asyncio.Task[None]] = []
        self._evaluate_lock = asyncio.Lock()
        self.last_evaluation: dict[str, Any] | None = None

    def _redact(self, text: str) -> str:
        if self._redactor is None:
            self._redactor = _default_redactor()
        return self._redactor(text)

    def warm_redactor(self) -> None:
        """Build the default PII redactor now and run it once (blocking: call it in a worker
        thread), so the Presidio recognizers are not built by the first write after the
        server reports ready (``Groundwire.warm``). An injected ``redact`` is left alone, and
        nothing is built when answer records are off."""
        if self._redactor is None and self.settings.records:
            self._redactor = _default_redactor()
            self._redactor("warm-up: mail a@example.com or call +1 212 555 0100")

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self.settings.records:
            self.writer.start()

    def start_background(self) -> None:
        """Periodic evaluation and retention purge (call once, in the serving process)."""
        if self._tasks:
            return
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._every(self.settings.evaluate_interval_s, self.evaluate),
                             name="monitor-evaluate"),
            loop.create_task(self._every(self.settings.purge_interval_s, self.purge),
                             name="records-purge"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.writer.stop()

    async def _every(self, seconds: float, job: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed round is logged; the loop keeps monitoring
                log.exception("monitoring job failed", extra={"job": job.__name__})

    # ------------------------------------------------------------------ records
    def _new_id(self) -> str | None:
        return str(uuid.uuid4()) if self.settings.records and self.writer.running else None

    def record_search(
        self, *, index: str, principal: str, question: str, hits: Sequence[Hit],
        timings: dict[str, float], generation: int | None, embedding: Any | None,
    ) -> str | None:
        record_id = self._new_id()
        if record_id is None:
            return None
        record = search_record(
            record_id, index=index, principal=principal, question=question, hits=hits,
            timings=timings, generation=generation, embedding_model=self.embedding_model,
            embedding=_floats(embedding),
        )
        return record_id if self.writer.submit(record) else None

    def record_ask(
        self, *, index: str, principal: str, answer: Answer, generation: int | None,
        embedding: Any | None,
    ) -> str | None:
        record_id = self._new_id()
        if record_id is None:
            return None
        record = ask_record(
            record_id, index=index, principal=principal, answer=answer, generation=generation,
            embedding_model=self.embedding_model, embedding=_floats(embedding),
        )
        return record_id if self.writer.submit(record) else None

    async def flush(self) -> None:
        await self.writer.flush(timeout_s=30.0)

    async def record(self, record_id: str, *, wait_for_peers: bool = False) -> AnswerRecord:
        """The stored record (``NotFound`` when unknown). A record still queued in this
        process's writer is flushed first; with ``wait_for_peers`` an unknown id is looked up
        again for up to ``PEER_WRITE_WAIT_S``: behind a load balancer, feedback may reach
        another replica than the answer did while that replica's writer still holds it."""
        found = await self.store.get_record(record_id)
        if found is None:  # maybe still queued or in flight in the writer
            await self.flush()
            found = await self.store.get_record(record_id)
        if found is None and wait_for_peers:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + PEER_WRITE_WAIT_S
            while found is None and loop.time() < deadline:
                await asyncio.sleep(0.1)
                found = await self.store.get_record(record_id)
        if found is None:
            raise NotFound(f"no answer record {record_id!r}")
        return found

    async def purge(self) -> int:
        before = datetime.now(UTC) - timedelta(days=self.settings.retention_days)
        count = await self.store.purge_records(before)
        if count:
            log.info("answer records purged", extra={"records": count})
        return count

    async def export(
        self, fmt: str, *, since: datetime | None = None, until: datetime | None = None,
        index: str | None = None, kind: str | None = None, embedding: bool = False,
    ) -> AsyncIterator[str]:
        """Text chunks of the export, oldest record first."""
        if fmt not in FORMATS:
            raise InvalidRequest(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        if kind not in (None, "search", "ask"):
            raise InvalidRequest("kind must be search or ask")
        await self.flush()

        async def pages() -> AsyncIterator[list[AnswerRecord]]:
            after: tuple[datetime, str] | None = None
            while True:
                page = await self.store.list_records(
                    since=since, until=until, index=index, kind=kind, limit=EXPORT_PAGE,
                    after=after)
                if not page:
                    return
                yield page
                after = (page[-1].created_at, page[-1].id)

        return export_chunks(pages(), fmt, embedding=embedding)

    # ------------------------------------------------------------------ feedback
    async def feedback(
        self, record_id: str, *, helpful: bool, comment: str | None = None,
        expected_passage: str | None = None, principal: str = "anonymous",
    ) -> FeedbackEntry:
        """Feedback on a record (``NotFound`` for an unknown id); the comment is redacted."""
        # Waits for a record still in this process's writer queue, or another replica's.
        await self.record(record_id, wait_for_peers=True)
        safe = await asyncio.to_thread(self._redact, comment) if comment else None
        return await self.store.add_feedback(
            record_id, helpful=helpful, comment=safe, expected_passage=expected_passage,
            principal=principal)

    # ------------------------------------------------------------------ monitors
    async def results(self) -> list[MonitorResult]:
        cfg = self.settings
        now = datetime.now(UTC)
        since = now - timedelta(minutes=cfg.window_minutes)
        aggregates = await self.store.window_aggregates(since, low_score=cfg.low_score)
        indexes = await self.store.record_indexes(now - timedelta(days=cfg.retention_days))
        out: list[MonitorResult] = []
        for index in sorted(set(indexes) | set(aggregates)):
            out.extend(rate_monitors(index, aggregates.get(index, {}), cfg))
            recent = await self.store.recent_queries(index, self.embedding_model,
                                                     2 * cfg.drift_window)
            out.extend(await asyncio.to_thread(drift_monitors, index, recent, cfg))
        return out

    async def state(self) -> dict[str, Any]:
        """Current figures, open alerts and writer counters (no side effects)."""
        monitors = await self.results()
        alerts = await self.store.list_alerts(open_only=True)
        return self._state(monitors, alerts)

    def _state(self, monitors: list[MonitorResult], alerts: list[Alert]) -> dict[str, Any]:
        return {
            "evaluated_at": datetime.now(UTC).isoformat(),
            "window_minutes": self.settings.window_minutes,
            "monitors": [m.as_json() for m in monitors],
            "firing": sorted({f"{m.index}:{m.name}" for m in monitors if m.status == "firing"}),
            "open_alerts": [a.as_json() for a in alerts],
            "records": {"written": self.writer.written, "dropped": self.writer.dropped,
                        "failed": self.writer.failed, "pending": self.writer.pending},
            "webhook": {"configured": bool(self.webhook.url), "sent": self.webhook.sent,
                        "failed": self.webhook.failed},
        }

    async def evaluate(self) -> dict[str, Any]:
        """Evaluate, open/resolve alerts (webhook for each change), return the state with the
        alerts this evaluation opened and resolved."""
        async with self._evaluate_lock:
            await self.flush()
            monitors = await self.results()
            opened, resolved = [], []
            for m in monitors:
                if m.status == "firing":
                    alert = await self.store.open_alert(Alert(
                        monitor=m.name, index=m.index, severity="warning", value=m.value,
                        threshold=m.threshold, message=m.message, details=m.details))
                    if alert is not None:
                        opened.append(alert)
                        log.warning("alert opened", extra={"monitor": m.name,
                                                           "index": m.index, "value": m.value})
                        await self.webhook.send("alert.opened", alert)
                elif m.status == "ok":
                    alert = await self.store.resolve_alert(m.name, m.index)
                    if alert is not None:
                        resolved.append(alert)
                        await self.webhook.send("alert.resolved", alert)
            alerts = await self.store.list_alerts(open_only=True)
            state = self._state(monitors, alerts)
            state["opened"] = [a.as_json() for a in opened]
            state["resolved"] = [a.as_json() for a in resolved]
            self.last_evaluation = state
            return state

    async def alerts(self, *, open_only: bool = False, limit: int = 100) -> list[Alert]:
        return await self.store.list_alerts(open_only=open_only, limit=limit)

    # ------------------------------------------------------------------ gaps, series
    async def gaps(self, *, index: str | None = None, days: float | None = None,
                   closest: Callable[[str, list[float]], Any] | None = None,
                   ) -> list[dict[str, Any]]:
        """Content-gap clusters (biggest first); ``closest(index, centroid)`` (async) lists
        the nearest documents of a cluster."""
        cfg = self.settings
        await self.flush()
        since = datetime.now(UTC) - timedelta(days=days or cfg.gap_days)
        rows = await self.store.gap_candidates(since, low_score=cfg.low_score,
                                               model=self.embedding_model)
        if index is not None:
            rows = [r for r in rows if r["index_name"] == index]
        clusters = await asyncio.to_thread(
            find_gaps, rows, distance=cfg.gap_distance, min_size=cfg.gap_min_size,
            low_score=cfg.low_score)
        out = []
        for cluster in clusters:
            data = cluster.as_json()
            if closest is not None:
                data["closest_documents"] = await closest(cluster.index, cluster.centroid)
            out.append(data)
        return out

    async def timeseries(
        self, metric: str, *, bucket: str = "1h", since: datetime | None = None,
        until: datetime | None = None, index: str | None = None, kind: str | None = None,
    ) -> dict[str, Any]:
        bucket_s = parse_bucket(bucket)
        now = datetime.now(UTC)
        since = since or now - timedelta(days=1)
        end = until or now
        if (end - since).total_seconds() / bucket_s > MAX_BUCKETS:
            raise InvalidRequest(f"more than {MAX_BUCKETS} buckets: widen the bucket")
        await self.flush()
        rows = await self.store.timeseries(
            metric, bucket_s=bucket_s, since=since, until=until, index=index, kind=kind,
            low_score=self.settings.low_score)
        return {
            "metric": metric, "bucket": bucket, "since": since.isoformat(),
            "until": until.isoformat() if until else None, "index": index, "kind": kind,
            "points": [{"t": t.isoformat(), "value": None if v is None else round(v, 6),
                        "count": n} for t, v, n in rows],
        }


def _floats(vector: Any | None) -> list[float] | None:
    if vector is None:
        return None
    return [float(v) for v in vector]
