"""Retrieval ports: the keyword corpus the BM25 index derives from, dense search, and the
maintenance of vector indexes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from groundwire.domain import Access
from groundwire.stores.ports.documents import Generations
from groundwire.stores.values import StoredChunk


# ---------------------------------------------------------------------- retrieval
@runtime_checkable
class KeywordCorpus(Generations, Protocol):
    """What the in-process BM25 index (``retrieval/keyword.py``) is derived from.

    * ``keyword_corpus(index, tenant)`` is (generation, every chunk of an ``indexed``
      document of ``index``, of ``tenant`` when given, not marked as a near-duplicate unless
      the store includes those), read in one snapshot: the chunks are
      exactly those of that generation, in chunk-id order. The generation returned is never
      older than one ``generation(index)`` returned before the call.
    * ``index_epoch(index)`` is an opaque id fixed when the index was created: equal epochs
      and generations mean the same searchable content, also across processes and restarts,
      while a dropped and re-created index (or another database) has another epoch, and so
      does a store configured to search near-duplicates too (``include_duplicates``: its
      corpus differs). ``NotFound`` for an unknown index.
    """

    async def keyword_corpus(
        self, index: str, tenant: str | None = None
    ) -> tuple[int, list[StoredChunk]]: ...

    async def index_epoch(self, index: str) -> str: ...


@runtime_checkable
class VectorSearch(Protocol):
    """Dense retrieval over stored embeddings.

    * ``vector_search`` returns up to ``k`` (chunk id, cosine similarity) of ``indexed``
      documents of ``index`` (near-duplicates left out, as in ``keyword_corpus``) embedded
      by ``model_id``, best first; ``filters`` (``uri_prefix``, ``media_type``, ``metadata``
      containment) and ``access`` apply inside the scan, so ``k`` rows come back whenever
      ``k`` matching readable ones exist. An unknown model gives [];
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
