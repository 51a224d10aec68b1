"""The store: what ingestion, retrieval and the edges need from persistence.

``Store`` combines every narrow port of ``stores/ports.py`` (each with its own contract and
its own suite in ``tests/contract/``); a caller that needs one concern should be typed against
that port. The values crossing the ports live in ``stores/values.py`` and are re-exported here.

Contract (checked by ``tests/contract/`` on every implementation):

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

from typing import Protocol

from groundwire.stores.ports import (
    AlertStore,
    ApiKeyStore,
    AuditReader,
    AuditSink,
    ConversationStore,
    DocumentCatalog,
    DocumentStore,
    IndexCatalog,
    KeywordCorpus,
    Lifecycle,
    MonitoringQueries,
    NearDuplicateCatalog,
    PrincipalStore,
    RateLimitStore,
    RecordStore,
    SourceStore,
    TuningStore,
    UsageStore,
    VectorIndexAdmin,
    VectorSearch,
    VersionStore,
    WorkflowStore,
)
from groundwire.stores.values import (
    DocumentWrite,
    IndexStats,
    IndexTuningRecord,
    KnownDocument,
    PeriodLimit,
    StoredChunk,
)

__all__ = [
    "DocumentWrite", "IndexStats", "IndexTuningRecord", "KnownDocument", "PeriodLimit",
    "Store", "StoredChunk",
]


class Store(
    Lifecycle, IndexCatalog, DocumentStore, DocumentCatalog, KeywordCorpus,
    VectorSearch, VectorIndexAdmin, UsageStore, RateLimitStore, AuditSink, AuditReader,
    RecordStore, MonitoringQueries, AlertStore, PrincipalStore, ApiKeyStore, VersionStore,
    TuningStore, ConversationStore, WorkflowStore, SourceStore, NearDuplicateCatalog, Protocol,
):
    """Persistence for indexes, documents, chunks, embeddings and everything around them:
    every port of ``stores/ports.py`` (see the module contract and each port's)."""
