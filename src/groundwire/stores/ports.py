"""The store ports: narrow Protocols, one per concern, each stating its contract.

A caller types its dependency as the one port it uses (``KeywordCorpus`` for the BM25 index,
``VersionStore`` for version routing, ...); ``stores.base.Store`` combines every port and is
what a full implementation (``PostgresStore``) satisfies. Each port has a contract suite in
``tests/contract/`` run against every implementation.

Contracts shared by every port:

* Methods raise ``StoreUnavailable`` when the database cannot be reached.
* ``NotFound`` / ``InvalidRequest`` (``groundwire.errors``) are the only other errors a
  caller has to expect, where a method says so.
* Read methods taking ``access`` return only documents it admits (tenant and reader tokens,
  see ``domain/access.py``), filtering *inside* the query; ``access=None`` reads everything
  (trusted in-process callers only).
* Rows returned as ``dict[str, Any]`` (users, keys, versions, aliases, sources) are plain
  database rows whose keys each method's docstring names; callers treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from groundwire.domain import Access, DocumentRecord, DocumentState
from groundwire.domain.audit import AuditEvent
from groundwire.domain.records import Alert, AnswerRecord, FeedbackEntry
from groundwire.stores.values import (
    DocumentWrite,
    IndexStats,
    IndexTuningRecord,
    KnownDocument,
    PeriodLimit,
    StoredChunk,
)

__all__ = [
    "AlertStore", "ApiKeyStore", "AuditReader", "AuditSink", "DocumentCatalog",
    "DocumentStore", "Generations", "IndexCatalog", "KeywordCorpus", "Lifecycle",
    "MonitoringQueries", "PORTS", "PrincipalStore", "RateLimitStore", "RecordStore",
    "TuningStore", "UsageStore", "VectorIndexAdmin", "VectorSearch", "VersionStore",
]


# ---------------------------------------------------------------------- lifecycle, indexes
@runtime_checkable
class Lifecycle(Protocol):
    """Opening and closing the store.

    * ``open`` connects and brings the schema up to date (migrations); a store that cannot
      be reached raises ``StoreUnavailable`` from ``open``, never later from a half-open state.
    * ``close`` releases every connection; it is safe to call after a failed ``open``.
    * ``ping`` returns when every database the store reads from answers, else raises
      ``StoreUnavailable``.
    * ``conninfo``: the primary database's connection URL once open (for clients sharing the
      database with connections of their own, e.g. the job queue); ``RuntimeError`` before.
    """

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> None: ...

    @property
    def conninfo(self) -> str: ...


@runtime_checkable
class Generations(Protocol):
    """The generation counter of an index.

    * Every write that changes what is searchable in an index bumps that index's
      ``generation`` (strictly increases it); derived in-process indexes compare
      generations to know they are stale (P1).
    * ``generation`` of an index that does not exist raises ``NotFound``.
    """

    async def generation(self, index: str) -> int: ...


@runtime_checkable
class IndexCatalog(Generations, Protocol):
    """Index names, their tenancy and the per-index ingest lock.

    * ``ensure_index`` is idempotent; a new index starts at some generation ``g`` that later
      writes only increase.
    * ``list_indexes()`` lists every index, sorted; ``list_indexes(tenant)`` only those
      holding a document of that tenant.
    * ``index_tenancy(index, tenant)`` is (``tenant`` holds a document of ``index``, another
      tenant does).
    * ``index_write_lock(index)`` is held for the block and excludes every other holder of the
      same index's lock, in any process on the same database; other indexes are not blocked.
    """

    async def ensure_index(self, index: str) -> None: ...

    async def list_indexes(self, tenant: str | None = None) -> list[str]: ...

    async def index_tenancy(self, index: str, tenant: str) -> tuple[bool, bool]: ...

    def index_write_lock(self, index: str) -> AbstractAsyncContextManager[None]: ...


# ---------------------------------------------------------------------- documents
@runtime_checkable
class DocumentStore(Generations, Protocol):
    """The ingest write side: sources, change detection, atomic commits (P2, P3).

    * A document is identified by (index, source, uri): two sources may both hold
      ``README.md``. ``ensure_source`` returns the same id for the same (tenant, index, kind,
      location) every time.
    * ``known_documents(index, source_id)`` maps each uri of that source to what is stored.
    * ``mark_pending`` records new uris as ``pending``: no chunks, never searchable.
    * Embeddings are keyed by ``(content_hash, model_id)``; ``missing_embeddings`` returns
      the given hashes with no stored vector for that model (unchanged text is never embedded
      twice).
    * ``commit_documents`` is atomic per call: every document in it becomes ``indexed`` with
      exactly the given chunks, replacing any previous version, or nothing changes. Chunks of
      a document are never visible without the document being ``indexed``. It bumps the
      index's generation.
    * ``mark_failed`` records a coded failure and removes the document's chunks (stale text
      is never served).
    * ``delete_documents`` deletes those uris of one source and returns how many it deleted;
      when that is not 0 the generation moves.
    """

    async def ensure_source(
        self, index: str, kind: str, location: str, tenant: str = "default"
    ) -> int: ...

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


@runtime_checkable
class DocumentCatalog(Protocol):
    """Reading and administering stored documents.

    * ``list_documents`` pages documents of an index ordered by uri (optionally of one
      state), readable under ``access`` only.
    * ``count_documents`` is (documents by state, failed documents by error code) over
      readable documents; every state is a key, 0 when none.
    * ``get_document`` returns the document when it exists *and* ``access`` admits it, else
      None (ids of unreadable documents are indistinguishable from absent ones).
    * ``documents_by_uri``: the tenant's documents of ``index`` with those uris (any source).
    * ``set_readers`` replaces a document's reader tokens and bumps the index generation;
      ``NotFound`` for an unknown id. ``delete_document`` is True when it deleted one.
    * ``stats``: documents by state (every state a key), failed ones by code, chunk rows and
      distinct embedded passages.
    * ``access_summary``: indexed documents (of ``tenant`` / ``index`` when given):
      ``indexed``, ``admin_only`` (readable by their tenant's admins only) and, with
      ``tokens``, ``readable`` by those reader tokens.
    """

    async def list_documents(
        self, index: str, *, state: DocumentState | None = None, limit: int = 100,
        offset: int = 0, access: Access | None = None,
    ) -> list[DocumentRecord]: ...

    async def documents_by_uri(
        self, index: str, uris: Sequence[str], *, tenant: str
    ) -> list[DocumentRecord]: ...

    async def count_documents(
        self, index: str, access: Access | None = None
    ) -> tuple[dict[str, int], dict[str, int]]: ...

    async def get_document(
        self, document_id: int, access: Access | None = None
    ) -> DocumentRecord | None: ...

    async def set_readers(self, document_id: int, readers: Sequence[str]) -> None: ...

    async def delete_document(self, document_id: int) -> bool: ...

    async def stats(self, index: str) -> IndexStats: ...

    async def access_summary(
        self, *, tenant: str | None = None, index: str | None = None,
        tokens: Sequence[str] | None = None,
    ) -> dict[str, int]: ...


# ---------------------------------------------------------------------- retrieval
@runtime_checkable
class KeywordCorpus(Generations, Protocol):
    """What the in-process BM25 index (``retrieval/keyword.py``) is derived from.

    * ``keyword_corpus(index, tenant)`` is (generation, every chunk of an ``indexed``
      document of ``index``, of ``tenant`` when given), read in one snapshot: the chunks are
      exactly those of that generation, in chunk-id order. The generation returned is never
      older than one ``generation(index)`` returned before the call.
    """

    async def keyword_corpus(
        self, index: str, tenant: str | None = None
    ) -> tuple[int, list[StoredChunk]]: ...


@runtime_checkable
class VectorSearch(Protocol):
    """Dense retrieval over stored embeddings.

    * ``vector_search`` returns up to ``k`` (chunk id, cosine similarity) of ``indexed``
      documents of ``index`` embedded by ``model_id``, best first; ``filters`` (``uri_prefix``,
      ``media_type``, ``metadata`` containment) and ``access`` apply inside the scan, so ``k``
      rows come back whenever ``k`` matching readable ones exist. An unknown model gives [];
      a vector of the wrong dimension raises ``InvalidRequest``.
    * ``vector_scores`` is the exact similarity to each given chunk of ``index`` (those
      indexed, embedded and readable; others are absent).
    * ``chunks_by_id`` returns rows of searchable (``indexed``) chunks only, readable ones
      only under ``access``; unknown ids are absent.
    """

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
    ) -> dict[int, float]: ...

    async def chunks_by_id(
        self, ids: Sequence[int], access: Access | None = None
    ) -> dict[int, StoredChunk]: ...


@runtime_checkable
class VectorIndexAdmin(Protocol):
    """Bulk-load maintenance of a model's approximate vector index.

    * ``drop_vector_index`` removes it (searches still answer, exactly); ``build_vector_index``
      (re)builds it. Both return False for a model with no stored vectors, else True; search
      results are the same before a drop and after the rebuild.
    """

    async def drop_vector_index(self, model_id: str) -> bool: ...

    async def build_vector_index(
        self, model_id: str, *, maintenance_work_mem: str | None = None,
        parallel_workers: int | None = None,
    ) -> bool: ...


# ---------------------------------------------------------------------- budgets, rate limits
@runtime_checkable
class UsageStore(Protocol):
    """Usage counters per principal and period (``llm/budgets.py``).

    * ``reserve_usage``: atomically (across processes), when every period's counters are
      below its limits, count one request in each and return None; otherwise change nothing
      and return what is exhausted, e.g. ``"day:2026-11-26 tokens"``.
    * ``add_usage`` adds tokens and cost to each period's counters (creating them).
    * ``usage``: ``{period: {requests, tokens, cost}}`` of one principal.
    """

    async def reserve_usage(
        self, principal: str, limits: Sequence[PeriodLimit]
    ) -> str | None: ...

    async def add_usage(
        self, principal: str, periods: Sequence[str], *, tokens: int, cost: float
    ) -> None: ...

    async def usage(self, principal: str) -> dict[str, dict[str, float]]: ...


@runtime_checkable
class RateLimitStore(Protocol):
    """Token buckets (``security/ratelimit.py``).

    * ``take_token``: atomically (across processes) refill the bucket ``(key, route_class)``
      for the time elapsed since its last use (at ``per_second``, capped at ``capacity``; a
      new bucket starts full) and take one token if there is one. Returns (taken, tokens
      left); a bucket never hands out more than ``capacity + elapsed * per_second`` tokens.
    """

    async def take_token(
        self, key: str, route_class: str, *, capacity: int, per_second: float
    ) -> tuple[bool, float]: ...


# ---------------------------------------------------------------------- audit
@runtime_checkable
class AuditSink(Protocol):
    """Where the audit log writer (``security/audit.py``) appends events.

    * ``insert_audit`` appends the events; ids are assigned in insertion order, so events
      read back by ``list_audit`` come in the order they were inserted.
    """

    async def insert_audit(self, events: Sequence[AuditEvent]) -> None: ...


@runtime_checkable
class AuditReader(Protocol):
    """Reading the audit log back (exports, ``groundwire audit``).

    * ``list_audit``: events by id (insertion order) with ``since <= at < until``, of one
      tenant when given; ``action`` matches exactly, or ``X.*`` matches ``X`` and every
      ``X.<...>``; page with ``after_id`` (the last event's id).
    """

    async def list_audit(
        self, *, tenant: str | None = None, since: datetime | None = None,
        until: datetime | None = None, action: str | None = None, after_id: int | None = None,
        limit: int = 1000,
    ) -> list[AuditEvent]: ...


# ---------------------------------------------------------------------- monitoring
@runtime_checkable
class RecordStore(Protocol):
    """Answer records and their feedback (``monitoring/recorder.py``, eval sets).

    * ``insert_records`` is idempotent by record id.
    * ``get_record``: the record or None. ``list_records``: oldest first, filtered; page with
      ``after`` = the last record's ``(created_at, id)``.
    * ``purge_records(before)`` deletes older records (their feedback with them) and old
      resolved alerts; returns how many records it deleted.
    * ``add_feedback`` raises ``NotFound`` when the record does not exist.
    * ``positive_feedback_records(index)``: (question, cited uris, expected passage or '') of
      answered asks on ``index`` with helpful and no unhelpful feedback, oldest first.
    """

    async def insert_records(self, records: Sequence[AnswerRecord]) -> None: ...

    async def get_record(self, record_id: str) -> AnswerRecord | None: ...

    async def list_records(
        self, *, since: datetime | None = None, until: datetime | None = None,
        index: str | None = None, kind: str | None = None, limit: int = 1000,
        after: tuple[datetime, str] | None = None,
    ) -> list[AnswerRecord]: ...

    async def purge_records(self, before: datetime) -> int: ...

    async def add_feedback(
        self, record_id: str, *, helpful: bool, comment: str | None,
        expected_passage: str | None, principal: str,
    ) -> FeedbackEntry: ...

    async def positive_feedback_records(
        self, index: str
    ) -> list[tuple[str, list[str], str]]: ...


@runtime_checkable
class MonitoringQueries(Protocol):
    """Aggregates over answer records for the monitors (``monitoring/monitors.py``, drift,
    gaps, dashboards).

    * ``record_indexes(since)``: indexes with a record since then, sorted.
    * ``window_aggregates``: per index, counts and rates of the records since ``since``.
    * ``recent_queries(index, model, n)``: the latest ``n`` (top score, query vector) of
      records embedded by ``model``, newest first.
    * ``gap_candidates``: records the corpus did not serve well (abstained, top score below
      ``low_score``, or unhelpful feedback), newest first.
    * ``timeseries``: (bucket start, value or None, count) per bucket, oldest first.
    """

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


@runtime_checkable
class AlertStore(Protocol):
    """Monitor alerts.

    * ``open_alert`` inserts unless (monitor, index) already has an open alert; returns the
      new alert or None. ``resolve_alert`` resolves the open one and returns it (None when
      there was none). ``list_alerts``: newest first, only open ones with ``open_only``.
    """

    async def open_alert(self, alert: Alert) -> Alert | None: ...

    async def resolve_alert(self, monitor: str, index: str) -> Alert | None: ...

    async def list_alerts(
        self, *, open_only: bool = False, since: datetime | None = None, limit: int = 100
    ) -> list[Alert]: ...


# ---------------------------------------------------------------------- principals, keys
@runtime_checkable
class PrincipalStore(Protocol):
    """Tenants, users and groups. Everything is scoped by tenant: no method reads or changes
    another tenant's rows.

    * ``ensure_*`` are idempotent (a user's or group's tenant is created with it).
    * ``delete_user`` / ``delete_group`` / ``remove_member`` are True when something was
      deleted; deleting a user deletes its memberships and keys.
    * ``add_member`` raises ``NotFound`` when the group or the user does not exist.
    * ``list_users`` rows: ``name``, ``created_at``, ``groups`` (sorted);
      ``list_groups`` rows: ``name``, ``created_at``, ``members`` (sorted). ``user_groups``
      and ``list_tenants`` are sorted.
    """

    async def ensure_tenant(self, tenant: str) -> None: ...

    async def list_tenants(self) -> list[str]: ...

    async def ensure_user(self, tenant: str, user: str) -> None: ...

    async def delete_user(self, tenant: str, user: str) -> bool: ...

    async def list_users(self, tenant: str) -> list[dict[str, Any]]: ...

    async def ensure_group(self, tenant: str, group: str) -> None: ...

    async def delete_group(self, tenant: str, group: str) -> bool: ...

    async def list_groups(self, tenant: str) -> list[dict[str, Any]]: ...

    async def add_member(self, tenant: str, group: str, user: str) -> None: ...

    async def remove_member(self, tenant: str, group: str, user: str) -> bool: ...

    async def user_groups(self, tenant: str, user: str) -> list[str]: ...


@runtime_checkable
class ApiKeyStore(Protocol):
    """API keys (``security/keys.py`` mints and verifies them; only hashes are stored).

    * ``insert_key`` raises ``InvalidRequest`` when the user does not exist in the tenant.
    * ``list_keys`` rows (never the secret hash), newest first: ``id``, ``tenant``, ``user``,
      ``name``, ``scopes``, ``created_at``, ``expires_at``, ``revoked_at``, ``last_used_at``.
    * ``revoke_key`` (of ``tenant`` when given) is False when there is no such live key.
    * ``key_for_auth``: the key row with ``secret_hash`` and the user's ``groups``, or None.
    """

    async def insert_key(
        self, *, key_id: str, tenant: str, user: str, name: str, secret_hash: str,
        scopes: Sequence[str], expires_at: datetime | None,
    ) -> None: ...

    async def list_keys(self, tenant: str | None = None) -> list[dict[str, Any]]: ...

    async def revoke_key(self, key_id: str, tenant: str | None = None) -> bool: ...

    async def key_for_auth(self, key_id: str) -> dict[str, Any] | None: ...


# ---------------------------------------------------------------------- versions, tuning
@runtime_checkable
class VersionStore(Protocol):
    """Index versions and the aliases routing a logical index name to a physical index
    (``versions/``).

    * ``resolve_index(name)``: the physical index the alias ``name`` points at, or ``name``
      itself when it has no alias. ``route_index(name)`` is that physical name with the
      version row of that physical index (keys ``logical``, ``version``, ``physical``,
      ``overrides``, ``config``, ``fingerprint``), None when it is not a version.
    * ``register_version`` adds the next version number of ``logical`` (1, 2, ...) and
      creates its physical index; the first one also creates the alias.
    * ``list_versions`` rows by version: ``logical``, ``version``, ``physical``, ``config``,
      ``fingerprint``, ``overrides``, ``state``, ``contract``, ``created_at``,
      ``promoted_at``; ``get_version`` one of them, ``NotFound`` when absent.
    * ``set_version_state`` sets the state (and the contract when given).
    * ``flip_alias`` points ``logical`` at ``physical`` in one step (readers see the old or
      the new target, never neither), makes that version ``live`` and the old live one
      ``retired``; returns the previous target. ``NotFound`` without an alias;
      ``InvalidRequest`` when ``expect`` is given and the alias points elsewhere.
    * ``alias``: row ``logical``, ``physical``, ``previous``, ``generation``, ``updated_at``
      or None. ``index_sources``: the sources of an index as rows (``kind``, ``location``,
      ``tenant``, ...), in creation order.
    """

    async def resolve_index(self, name: str) -> str: ...

    async def route_index(self, name: str) -> tuple[str, dict[str, Any] | None]: ...

    async def alias(self, logical: str) -> dict[str, Any] | None: ...

    async def list_versions(self, logical: str) -> list[dict[str, Any]]: ...

    async def get_version(self, logical: str, version: int) -> dict[str, Any]: ...

    async def register_version(
        self, logical: str, physical: str, config: dict[str, Any], fingerprint: str,
        overrides: dict[str, Any], *, state: str = "building",
    ) -> int: ...

    async def set_version_state(
        self, logical: str, version: int, state: str, contract: dict[str, Any] | None = None
    ) -> None: ...

    async def flip_alias(
        self, logical: str, physical: str, *, expect: str | None = None
    ) -> str: ...

    async def index_sources(self, index: str) -> list[dict[str, Any]]: ...


@runtime_checkable
class TuningStore(Protocol):
    """Self-tuned retrieval settings per index (``quality/autotune.py``).

    * ``save_index_tuning`` replaces the index's tuning (creating the index if needed);
      ``index_tunings`` returns every index's, by name; ``delete_index_tuning`` is True when
      there was one.
    """

    async def save_index_tuning(
        self, index: str, params: Mapping[str, Any], evidence: Mapping[str, Any],
        generation: int,
    ) -> None: ...

    async def index_tunings(self) -> dict[str, IndexTuningRecord]: ...

    async def delete_index_tuning(self, index: str) -> bool: ...


PORTS: tuple[type[Any], ...] = (
    Lifecycle, Generations, IndexCatalog, DocumentStore, DocumentCatalog, KeywordCorpus,
    VectorSearch, VectorIndexAdmin, UsageStore, RateLimitStore, AuditSink, AuditReader,
    RecordStore, MonitoringQueries, AlertStore, PrincipalStore, ApiKeyStore, VersionStore,
    TuningStore,
)
"""Every port; ``stores.base.Store`` combines them all."""
