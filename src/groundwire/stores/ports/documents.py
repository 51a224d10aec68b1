"""Ports of the store's core: its lifecycle, indexes and their generations, the ingest
write side and the document catalog (contracts shared by every port: ``stores/ports``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

from groundwire.domain import Access, DocumentRecord, DocumentState
from groundwire.stores.values import DocumentWrite, IndexStats, KnownDocument


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
      index's generation. With ``duplicate_threshold`` it also recomputes the near-duplicate
      marks of those documents (``duplicate_of``, see ``NearDuplicateCatalog``): one whose
      signature (``DocumentWrite.minhash``) is at least that similar to a strictly newer
      document of the same index, tenant and reader set points at it (newer: the modified
      time; with ``duplicates_by_ingest_order``, else the later-ingested); marks pointing at
      a re-committed document are cleared first. Without a threshold its marks are cleared.
    * ``mark_failed`` records a coded failure and removes the document's chunks (stale text
      is never served).
    * ``delete_documents`` deletes those uris of one source and returns how many it deleted;
      when that is not 0 the generation moves. Deleting or failing a document clears the
      near-duplicate marks pointing at it (they are searchable again).
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
        *,
        duplicate_threshold: float | None = None,
        duplicates_by_ingest_order: bool = False,
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
