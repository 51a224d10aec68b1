"""The audit log: who asked what, which documents were cited (and which permission entry
admitted each), and every admin action. Stored in PostgreSQL (``audit_log``, migration 0006).

Contract:

* ``AuditLog.record(tenant=, actor=, action=, target=, details=)`` never drops an event. While
  the writer runs (``start()``, done by the app when it opens) the event goes on a bounded
  in-memory queue and ``record`` returns at once; when the queue is full it waits for room
  (back-pressure, not loss). Without a running writer (CLI, tests) the event is written before
  ``record`` returns.
* The text fields named in ``REDACTED_FIELDS`` of ``details`` (the question, an answer, a
  comment) are PII-redacted (``safety/pii.py``) before they are stored, in a worker thread.
* ``flush()`` returns once everything recorded before the call is stored; ``close()`` flushes
  and stops the writer. The writer is ``stores/batch_writer.py``: a batch the store rejects
  is retried (``RETRIES`` times, with back-off) while the error is transient, then event by
  event, so one event the store refuses (e.g. a NUL in its text) never costs the others of
  its batch; that event is dead-lettered (logged as ``batch_writer.dead_letter`` without its
  details, counted in ``failed`` and in ``groundwire_writer_dead_letters_total``).
* Actions are dotted names: ``search``, ``ask``, ``chat.completion`` (query actions, see
  ``query_details``), ``audit.export``, and the admin actions recorded by the admin routes
  (``key.create``, ``key.revoke``, ``user.*``, ``group.*``, ``document.*``). Exports filter
  by one action or a prefix (``key.*``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from groundwire.domain.audit import AuditEvent
from groundwire.stores.batch_writer import BatchWriter

log = logging.getLogger(__name__)

REDACTED_FIELDS = ("question", "answer", "comment")
BATCH = 500
RETRIES = 3
QUERY_ACTIONS = ("search", "ask", "chat.completion")


Insert = Callable[[Sequence[AuditEvent]], Awaitable[None]]


def _default_redactor() -> Callable[[str], str]:
    from groundwire.safety.pii import PiiDetector

    return PiiDetector().redact


class AuditLog:
    """Buffered, never-dropping audit writer over the store's ``insert_audit`` (a
    ``stores.batch_writer.BatchWriter``: a poison event is isolated and dead-lettered, the
    rest of its batch is stored)."""

    def __init__(
        self, insert: Insert, *, redact: Callable[[str], str] | None = None,
        queue_size: int = 10_000, retry_delay_s: float = 0.5,
        on_dead_letter: Callable[[str, str], None] | None = None,
    ) -> None:
        """``insert`` is the store's async ``insert_audit``; ``redact`` a blocking text
        redactor (default: ``PiiDetector().redact``, built on first use);
        ``on_dead_letter(writer, code)`` counts an event the store refused (metrics)."""
        self._redactor = redact
        self._writer: BatchWriter[AuditEvent] = BatchWriter(
            "audit", insert, prepare=self._prepare, batch_size=BATCH, queue_size=queue_size,
            retries=RETRIES, retry_delay_s=retry_delay_s, on_dead_letter=on_dead_letter,
            describe=_describe)

    # ------------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        return self._writer.running

    @property
    def written(self) -> int:
        return self._writer.written

    @property
    def failed(self) -> int:
        """Events dead-lettered (refused by the store, or the store down past the retries)."""
        return self._writer.failed

    def start(self) -> None:
        self._writer.start()

    async def flush(self) -> None:
        """Wait until every event recorded so far is stored (or dead-lettered)."""
        await self._writer.flush()

    async def close(self) -> None:
        """Flush, then stop the writer. Later ``record`` calls write synchronously."""
        await self._writer.close()

    # ------------------------------------------------------------------ recording
    async def record(
        self, *, tenant: str, actor: str, action: str, target: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        event = AuditEvent(tenant=tenant, actor=actor, action=action, target=target,
                           details=dict(details or {}))
        await self._writer.put(event)  # waits for room when full: never dropped

    def _prepare(self, event: AuditEvent) -> AuditEvent:
        if any(isinstance(event.details.get(k), str) for k in REDACTED_FIELDS):
            details = dict(event.details)
            for key in REDACTED_FIELDS:
                if isinstance(details.get(key), str):
                    details[key] = self._redact(details[key])
            event = replace(event, details=details)
        return event

    def _redact(self, text: str) -> str:
        if self._redactor is None:
            self._redactor = _default_redactor()
        return self._redactor(text)

    def warm_redactor(self) -> None:
        """Build the default PII redactor now and run it once (blocking: call it in a worker
        thread), so the Presidio recognizers are not built by the first write after the
        server reports ready (``Groundwire.warm``). An injected ``redact`` is left alone."""
        if self._redactor is None:
            self._redactor = _default_redactor()
            self._redactor("warm-up: mail a@example.com or call +1 212 555 0100")


def _describe(event: AuditEvent) -> dict[str, Any]:
    """What a dead-lettered event's log line names: who did what, never its details."""
    return {"tenant": event.tenant, "actor": event.actor, "action": event.action,
            "at": event.at.isoformat()}


# ---------------------------------------------------------------------- query events

def principal_identity(principal: Any, default_tenant: str = "default") -> tuple[str, str]:
    """(tenant, actor) of a request's principal: a ``security.principal.Principal`` gives its
    tenant and ``tenant/user`` name; a plain string (the pre-auth key hash or ``anonymous``)
    is the actor in ``default_tenant``."""
    tenant = getattr(principal, "tenant", None)
    name = getattr(principal, "name", None)
    if isinstance(tenant, str) and isinstance(name, str):
        return tenant, name
    return default_tenant, str(principal)


def cited_entries(hits: Sequence[Any]) -> list[dict[str, Any]]:
    """Per cited/returned passage: document id, chunk id, uri and the permission entry that
    admitted it (``hit.admitted_by`` when retrieval sets it, else None)."""
    return [
        {"document_id": h.document_id, "chunk_id": h.chunk_id, "uri": h.uri,
         "admitted_by": getattr(h, "admitted_by", None)}
        for h in hits
    ]


def query_details(
    *, index: str, question: str, hits: Sequence[Any], record_id: str | None = None,
    abstained: bool | None = None, answerer: str | None = None,
) -> dict[str, Any]:
    """``details`` of a search/ask/chat.completion event: the question (redacted when stored),
    the index, and the cited documents (for a search: the returned hits)."""
    details: dict[str, Any] = {"index": index, "question": question,
                               "cited": cited_entries(hits)}
    if record_id is not None:
        details["record_id"] = record_id
    if abstained is not None:
        details["abstained"] = abstained
    if answerer is not None:
        details["answerer"] = answerer
    return details


async def audit_query(
    audit: AuditLog | None, principal: Any, action: str, *, index: str, question: str,
    hits: Sequence[Any], default_tenant: str = "default", **extra: Any,
) -> None:
    """Record one query action (no-op when the app has no audit log)."""
    if audit is None:
        return
    tenant, actor = principal_identity(principal, default_tenant)
    await audit.record(tenant=tenant, actor=actor, action=action, target=index,
                       details=query_details(index=index, question=question, hits=hits,
                                             **extra))


async def export_lines(
    list_audit: Callable[..., Awaitable[Sequence[AuditEvent]]], *, tenant: str | None = None,
    since: datetime | None = None, until: datetime | None = None, action: str | None = None,
    page: int = 500,
) -> AsyncIterator[str]:
    """Audit events as JSON lines (oldest first), read from the store a page at a time;
    ``list_audit`` is the store's method."""
    import json

    after: int | None = None
    while True:
        events = await list_audit(tenant=tenant, since=since, until=until, action=action,
                                  after_id=after, limit=page)
        if not events:
            return
        yield "".join(json.dumps(e.as_json(), ensure_ascii=False, default=str) + "\n"
                      for e in events)
        after = events[-1].id
        if len(events) < page:
            return
