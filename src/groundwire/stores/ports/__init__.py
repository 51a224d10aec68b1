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

from typing import Any

from groundwire.stores.ports.access import (
    ApiKeyStore,
    AuditReader,
    AuditSink,
    PrincipalStore,
    RateLimitStore,
    UsageStore,
)
from groundwire.stores.ports.conversations import ConversationStore
from groundwire.stores.ports.documents import (
    DocumentCatalog,
    DocumentStore,
    Generations,
    IndexCatalog,
    Lifecycle,
)
from groundwire.stores.ports.duplicates import DuplicatePair, NearDuplicateCatalog
from groundwire.stores.ports.monitoring import AlertStore, MonitoringQueries, RecordStore
from groundwire.stores.ports.retrieval import KeywordCorpus, VectorIndexAdmin, VectorSearch
from groundwire.stores.ports.sources import SourceStore
from groundwire.stores.ports.versions import TuningStore, VersionStore
from groundwire.stores.ports.workflows import WorkflowStore

__all__ = [
    "AlertStore", "ApiKeyStore", "AuditReader", "AuditSink", "ConversationStore",
    "DocumentCatalog",
    "DocumentStore", "Generations", "IndexCatalog", "KeywordCorpus", "Lifecycle",
    "MonitoringQueries", "PORTS", "PrincipalStore", "RateLimitStore", "RecordStore",
    "TuningStore", "UsageStore", "VectorIndexAdmin", "VectorSearch", "VersionStore",
    "WorkflowStore", "SourceStore", "DuplicatePair", "NearDuplicateCatalog",
]

PORTS: tuple[type[Any], ...] = (
    Lifecycle, Generations, IndexCatalog, DocumentStore, DocumentCatalog, KeywordCorpus,
    VectorSearch, VectorIndexAdmin, UsageStore, RateLimitStore, AuditSink, AuditReader,
    RecordStore, MonitoringQueries, AlertStore, PrincipalStore, ApiKeyStore, VersionStore,
    TuningStore, ConversationStore, WorkflowStore, SourceStore, NearDuplicateCatalog,
)
"""Every port; ``stores.base.Store`` combines them all."""
