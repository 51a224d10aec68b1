"""The store port: what ingestion, retrieval and the edges need from persistence.

Contract (checked by ``tests/contract/test_store_contract.py`` on every implementation):

* ``commit_documents`` is atomic per call: every document in it becomes ``indexed`` with exactly
  the given chunks, replacing any previous version, or nothing changes (P3). Chunks of a
  document are never visible without the document being ``indexed``.
* Embeddings are keyed by ``(content_hash, model_id)``; ``missing_embeddings`` returns the
  hashes with no stored vector for that model, so unchanged text is never embedded twice (P2).
* Every write that changes what is searchable in an index bumps that index's ``generation``;
  derived in-process indexes compare generations to know they are stale (P1).
* A document is identified by (index, source, uri): two folders may both hold ``README.md``.
* ``generation`` of an index that does not exist raises ``NotFound`` (every query asks for
  the generation, so this is also how an unknown index is detected without another query).
* Only documents in state ``indexed`` are returned by ``vector_search`` / ``keyword_corpus``.
* Methods raise ``StoreUnavailable`` when the database cannot be reached.
* Read methods taking ``access`` return only documents it admits (tenant and reader tokens,
  see ``domain/access.py``), filtering *inside* the query: ``vector_search`` still returns
  ``k`` rows when ``k`` readable ones match, however few are readable. ``access=None`` reads
  everything (trusted in-process callers only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from groundwire.domain import Access, Chunk, DocumentRecord, DocumentState
from groundwire.domain.audit import AuditEvent
from groundwire.domain.documents import passage_text
from groundwire.domain.records import Alert, AnswerRecord, FeedbackEntry


@dataclass(frozen=True, slots=True)
class KnownDocument:
    """What the store remembers of a document to decide whether it changed."""

    id: int
    content_hash: str | None
    pipeline_fingerprint: str | None
    state: DocumentState


@dataclass(frozen=True, slots=True)
class DocumentWrite:
    """A fully processed document ready to be committed with its chunks."""

    uri: str
    title: str
    media_type: str
    content_hash: str
    pipeline_fingerprint: str
    chunks: Sequence[Chunk]
    modified_at: datetime | None = None
    size_bytes: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source_id: int | None = None
    tenant: str = "default"
    readers: Sequence[str] = ("t:default:admin",)


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk row joined with its document, as retrieval returns it."""

    chunk_id: int
    document_id: int
    uri: str
    title: str
    media_type: str
    text: str
    header: str
    heading_path: tuple[str, ...]
    char_start: int
    char_end: int
    metadata: Mapping[str, Any]
    tenant: str = "default"
    readers: tuple[str, ...] = ()

    @property
    def search_text(self) -> str:
        return passage_text(self.header, self.text)


@dataclass(frozen=True, slots=True)
class IndexStats:
    name: str
    generation: int
    documents_by_state: Mapping[str, int]
    errors_by_code: Mapping[str, int]
    chunks: int
    embedded_chunks: int


@dataclass(frozen=True, slots=True)
class IndexTuningRecord:
    """An index's self-tuned retrieval settings (a ``RetrievalTuning`` as a dict) and the
    evidence for them (see ``groundwire/quality/autotune.py``)."""

    index: str
    params: Mapping[str, Any]
    evidence: Mapping[str, Any]
    generation: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PeriodLimit:
    """Limits of one budget period (``None``: unlimited)."""

    period: str  # e.g. "day:2026-11-26", "month:2026-11"
    requests: int | None = None
    tokens: int | None = None
    cost: float | None = None


class Store(Protocol):
    """Persistence for indexes, documents, chunks and embeddings (see the module contract)."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> None: ...

    async def ensure_index(self, index: str) -> None: ...

    async def ensure_source(
        self, index: str, kind: str, location: str, tenant: str = "default"
    ) -> int: ...

    async def list_indexes(self, tenant: str | None = None) -> list[str]:
        """Index names; with ``tenant``, only those holding a document of that tenant."""
        ...

    async def access_summary(
        self, *, tenant: str | None = None, index: str | None = None,
        tokens: Sequence[str] | None = None,
    ) -> dict[str, int]:
        """Indexed documents: ``indexed``, ``admin_only`` (readable by their tenant's admins
        only) and, with ``tokens``, ``readable`` by those reader tokens."""
        ...

    async def index_tenancy(self, index: str, tenant: str) -> tuple[bool, bool]:
        """(``tenant`` holds a document of ``index``, another tenant does): what decides
        whether a tenant sees an index at all and whether it has it to itself."""
        ...

    async def generation(self, index: str) -> int: ...

    async def known_documents(
        self, index: str, source_id: int | None = None
    ) -> dict[str, KnownDocument]: ...

    async def mark_pending(
        self, index: str, uris: Sequence[str], source_id: int | None = None,
        tenant: str = "default",
    ) -> None: ...

    async def missing_embeddings(self, model_id: str, hashes: Sequence[str]) -> set[str]: ...

    async def commit_documents(
        self,
        index: str,
        documents: Sequence[DocumentWrite],
        embeddings: Mapping[str, Sequence[float]],
        model_id: str,
    ) -> None: ...

    async def mark_failed(
        self, index: str, uri: str, *, code: str, message: str, media_type: str = "",
        content_hash: str | None = None, modified_at: datetime | None = None,
        source_id: int | None = None, tenant: str = "default",
        readers: Sequence[str] = ("t:default:admin",),
    ) -> None: ...

    async def delete_documents(
        self, index: str, uris: Sequence[str], source_id: int | None = None
    ) -> int: ...

    async def list_documents(
        self, index: str, *, state: DocumentState | None = None, limit: int = 100,
        offset: int = 0, access: Access | None = None,
    ) -> list[DocumentRecord]: ...

    async def documents_by_uri(
        self, index: str, uris: Sequence[str], *, tenant: str
    ) -> list[DocumentRecord]: ...

    async def count_documents(
        self, index: str, access: Access | None = None
    ) -> tuple[dict[str, int], dict[str, int]]:
        """(documents by state, failed documents by error code) over readable documents."""
        ...

    async def get_document(
        self, document_id: int, access: Access | None = None
    ) -> DocumentRecord | None:
        """The document when it exists *and* ``access`` admits it; else None (callers answer
        404 either way, so ids of unreadable documents are indistinguishable from absent ones)."""
        ...

    async def set_readers(self, document_id: int, readers: Sequence[str]) -> None:
        """Replace a document's reader tokens (bumps the index generation)."""
        ...

    async def delete_document(self, document_id: int) -> bool: ...

    async def stats(self, index: str) -> IndexStats: ...

    async def keyword_corpus(
        self, index: str, tenant: str | None = None
    ) -> tuple[int, list[StoredChunk]]:
        """Generation and every searchable chunk (of one tenant, when given)."""
        ...

    async def vector_search(
        self,
        index: str,
        model_id: str,
        vector: Sequence[float],
        k: int,
        filters: Mapping[str, Any] | None = None,
        access: Access | None = None,
    ) -> list[tuple[int, float]]: ...

    async def vector_scores(
        self,
        index: str,
        model_id: str,
        vector: Sequence[float],
        chunk_ids: Sequence[int],
        access: Access | None = None,
    ) -> dict[int, float]:
        """Exact cosine similarity to each given chunk of ``index`` (readable ones only)."""
        ...

    async def chunks_by_id(
        self, ids: Sequence[int], access: Access | None = None
    ) -> dict[int, StoredChunk]: ...

    async def reserve_usage(self, principal: str, limits: Sequence[PeriodLimit]) -> str | None:
        """Atomically (across processes): when every period's counters are below its limits,
        count one request in each and return None; otherwise change nothing and return what
        is exhausted, e.g. ``"day:2026-11-26 tokens"``."""
        ...

    async def add_usage(
        self, principal: str, periods: Sequence[str], *, tokens: int, cost: float
    ) -> None:
        """Add tokens and cost (after the upstream call) to each period's counters."""
        ...

    async def usage(self, principal: str) -> dict[str, dict[str, float]]:
        """Counters by period for one principal: ``{period: {requests, tokens, cost}}``."""
        ...

    # ------------------------------------------------------------------ monitoring
    # Answer records, feedback and alerts (migration 0004; see groundwire/monitoring/).

    async def insert_records(self, records: Sequence[AnswerRecord]) -> None:
        """Store records (idempotent by id)."""
        ...

    async def get_record(self, record_id: str) -> AnswerRecord | None: ...

    async def list_records(
        self, *, since: datetime | None = None, until: datetime | None = None,
        index: str | None = None, kind: str | None = None, limit: int = 1000,
        after: tuple[datetime, str] | None = None,
    ) -> list[AnswerRecord]:
        """Oldest first; page with ``after`` = the last record's ``(created_at, id)``."""
        ...

    async def purge_records(self, before: datetime) -> int:
        """Delete older records (feedback cascades) and old resolved alerts; return count."""
        ...

    async def record_indexes(self, since: datetime) -> list[str]: ...

    async def window_aggregates(
        self, since: datetime, *, low_score: float
    ) -> dict[str, dict[str, Any]]: ...

    async def recent_queries(
        self, index: str, model: str, n: int
    ) -> list[tuple[float | None, list[float]]]: ...

    async def gap_candidates(
        self, since: datetime, *, low_score: float, model: str, limit: int = 5000
    ) -> list[dict[str, Any]]: ...

    async def timeseries(
        self, metric: str, *, bucket_s: int, since: datetime, until: datetime | None = None,
        index: str | None = None, kind: str | None = None, low_score: float = 0.0,
    ) -> list[tuple[datetime, float | None, int]]: ...

    async def add_feedback(
        self, record_id: str, *, helpful: bool, comment: str | None,
        expected_passage: str | None, principal: str,
    ) -> FeedbackEntry:
        """``NotFound`` when the record does not exist."""
        ...

    async def open_alert(self, alert: Alert) -> Alert | None:
        """Insert unless (monitor, index) already has an open alert; the new alert or None."""
        ...

    async def resolve_alert(self, monitor: str, index: str) -> Alert | None: ...

    async def list_alerts(
        self, *, open_only: bool = False, since: datetime | None = None, limit: int = 100
    ) -> list[Alert]: ...

    # ------------------------------------------------------------------ self-tuning
    # Auto-tuned retrieval settings per index (migration 0008; groundwire/quality/autotune.py).

    async def save_index_tuning(
        self, index: str, params: Mapping[str, Any], evidence: Mapping[str, Any],
        generation: int,
    ) -> None:
        """Replace the index's auto-tuning (creating the index row if needed)."""
        ...

    async def index_tunings(self) -> dict[str, IndexTuningRecord]:
        """Every index's auto-tuning, by index name."""
        ...

    async def delete_index_tuning(self, index: str) -> bool:
        """Forget an index's auto-tuning; True when there was one."""
        ...

    # ------------------------------------------------------------------ rate limits, audit
    # Token buckets and the audit log (migration 0006; groundwire/security/ratelimit.py and
    # groundwire/security/audit.py).

    async def take_token(
        self, key: str, route_class: str, *, capacity: int, per_second: float
    ) -> tuple[bool, float]:
        """Atomically (across processes) refill the bucket ``(key, route_class)`` for the time
        elapsed since its last use (at ``per_second``, capped at ``capacity``; a new bucket
        starts full) and take one token if there is one. Returns (taken, tokens left)."""
        ...

    async def insert_audit(self, events: Sequence[AuditEvent]) -> None:
        """Append audit events (ids assigned in insertion order)."""
        ...

    async def list_audit(
        self, *, tenant: str | None = None, since: datetime | None = None,
        until: datetime | None = None, action: str | None = None, after_id: int | None = None,
        limit: int = 1000,
    ) -> list[AuditEvent]:
        """Audit events by id (insertion order), ``since <= at < until``; ``action`` matches
        exactly, or ``X.*`` ``X`` and every ``X.<...>`` action; page with
        ``after_id`` (the last event's id)."""
        ...
