"""Retrieval reads of ``PostgresStore``: the keyword corpus (``KeywordCorpus`` port) and
dense search (``VectorSearch`` port).

Vector search uses pgvector 0.8 iterative index scans so filters (index name, document state,
metadata) and permissions are applied while walking the HNSW graph and still return ``k``
rows when they match.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from groundwire.domain import Access
from groundwire.errors import InvalidRequest, NotFound
from groundwire.stores.postgres.rows import (
    CHUNK_COLUMNS,
    access_sql,
    filter_sql,
    stored_chunk,
    vector_literal,
)
from groundwire.stores.postgres.vectors import PostgresVectorIndexes
from groundwire.stores.values import StoredChunk


class PostgresSearch(PostgresVectorIndexes):
    """Mixin: needs ``_read_connection()``, ``_read_pool`` and ``_ef_search`` from
    ``PostgresStore``; model dimensions come from ``PostgresVectorIndexes``."""

    _read_connection: Callable[[], Any]  # the replica's when there is one
    _read_pool: AsyncConnectionPool | None
    _ef_search: int
    _include_duplicates: bool  # ingest.near_duplicates.include_in_search

    async def keyword_corpus(
        self, index: str, tenant: str | None = None
    ) -> tuple[int, list[StoredChunk]]:
        """Generation and every searchable chunk (of ``tenant`` when given), read in one
        snapshot (REPEATABLE READ).

        With a read replica the corpus is read there unless the replica's generation of
        ``index`` is behind the primary's (replication lag): then it is read from the primary.
        So a keyword index is never built older than the generation its caller just read on
        the primary (``generation`` is always a primary read), and there is no rebuild loop
        while a replica catches up."""
        if self._read_pool is not None:
            wanted = await self._primary_generation(index)
            found = await self._corpus_snapshot(self._read_connection, index, tenant, wanted)
            if found is not None:
                return found
        found = await self._corpus_snapshot(self._connection, index, tenant, 0)
        assert found is not None  # min_generation 0 always reads
        return found

    async def index_epoch(self, index: str) -> str:
        async with self._connection() as conn:
            row = await (
                await conn.execute("SELECT epoch FROM indexes WHERE name = %s", [index])
            ).fetchone()
        if row is None:
            raise NotFound(f"no index named {index!r}")
        # A corpus with near-duplicates included is another corpus: its snapshots differ.
        return str(row[0]) + ("-dups" if self._include_duplicates else "")

    async def _primary_generation(self, index: str) -> int:
        async with self._connection() as conn:
            row = await (
                await conn.execute("SELECT generation FROM indexes WHERE name = %s", [index])
            ).fetchone()
        return int(row[0]) if row else 0

    async def _corpus_snapshot(
        self, connect: Any, index: str, tenant: str | None, min_generation: int
    ) -> tuple[int, list[StoredChunk]] | None:
        """The corpus read on ``connect()``; None when its generation is below
        ``min_generation`` (a lagging replica)."""
        async with connect() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            row = await (
                await conn.execute("SELECT generation FROM indexes WHERE name = %s", [index])
            ).fetchone()
            generation = int(row[0]) if row else 0
            if generation < min_generation:
                return None
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {CHUNK_COLUMNS} FROM chunks c JOIN documents d"
                " ON d.id = c.document_id WHERE d.index_name = %s AND d.state = 'indexed'"
                " AND (%s::text IS NULL OR d.tenant = %s)" + self._duplicates_sql() +
                " ORDER BY c.id",
                [index, tenant, tenant],
            )
            rows = await cur.fetchall()
        return generation, [stored_chunk(r) for r in rows]

    def _duplicates_sql(self) -> str:
        """Near-duplicates are left out of retrieval unless configured otherwise (the rows
        stay readable by id: answers citing one still resolve)."""
        return "" if self._include_duplicates else " AND d.duplicate_of IS NULL"

    async def chunks_by_id(
        self, ids: Sequence[int], access: Access | None = None
    ) -> dict[int, StoredChunk]:
        """Rows of searchable chunks; with ``access``, only readable ones. This is the last
        check of every read path: a keyword snapshot older than a permission change can name
        a chunk, but its row is not returned."""
        if not ids:
            return {}
        where, params = access_sql(access)
        params["ids"] = list(ids)
        query = sql.SQL(
            "SELECT " + CHUNK_COLUMNS + " FROM chunks c JOIN documents d ON d.id = c.document_id"
            " WHERE c.id = ANY(%(ids)s) AND d.state = 'indexed' {where}"
        ).format(where=where)
        async with self._read_connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, params)
            rows = await cur.fetchall()
        return {r["chunk_id"]: stored_chunk(r) for r in rows}

    async def vector_search(
        self,
        index: str,
        model_id: str,
        vector: Sequence[float],
        k: int,
        filters: Mapping[str, Any] | None = None,
        access: Access | None = None,
    ) -> list[tuple[int, float]]:
        """Top-``k`` chunks by cosine similarity, filters and ``access`` applied inside the
        index scan. When the HNSW scan ends with fewer than ``k`` rows (a very selective
        filter: the iterative scan stops at ``hnsw.max_scan_tuples``), the same query runs as
        an exact scan over the matching documents, so ``k`` readable rows come back whenever
        ``k`` exist."""
        dim = await self._model_dim(model_id)
        if dim is None:
            return []
        if len(vector) != dim:
            raise InvalidRequest(f"query vector has {len(vector)} dims, model {model_id} has {dim}")
        where, params = filter_sql(filters or {})
        access_where, access_params = access_sql(access)
        where = sql.Composed([where, access_where])
        params.update(access_params)
        distance = sql.SQL("(e.embedding::halfvec({dim}) <=> %(q)s::halfvec({dim}))").format(
            dim=sql.Literal(dim)
        )
        query = sql.SQL(
            "SELECT c.id, 1 - {distance} AS score FROM embeddings e"
            " JOIN chunks c ON c.content_hash = e.content_hash"
            " JOIN documents d ON d.id = c.document_id"
            " WHERE e.model_id = %(model)s AND d.index_name = %(index)s AND d.state = 'indexed'"
            + self._duplicates_sql() + " {where} ORDER BY {distance} LIMIT %(k)s"
        ).format(distance=distance, where=where)
        params.update(q=vector_literal(vector), model=model_id, index=index, k=k)
        async with self._read_connection() as conn, conn.transaction():
            # SET LOCAL of both in one round trip (set_config(..., true) is SET LOCAL)
            await conn.execute(
                "SELECT set_config('hnsw.ef_search', %s, true),"
                " set_config('hnsw.iterative_scan', 'relaxed_order', true)",
                (str(max(self._ef_search, k)),))
            rows = await (await conn.execute(query, params)).fetchall()
            if len(rows) < k and (filters or access is not None):
                await conn.execute("SET LOCAL enable_indexscan = off")
                rows = await (await conn.execute(query, params)).fetchall()
        # relaxed_order may return near-sorted rows; the contract is sorted by score.
        return sorted(((int(r[0]), float(r[1])) for r in rows), key=lambda p: -p[1])

    async def vector_scores(
        self,
        index: str,
        model_id: str,
        vector: Sequence[float],
        chunk_ids: Sequence[int],
        access: Access | None = None,
    ) -> dict[int, float]:
        """Exact cosine similarity of ``vector`` to each of ``chunk_ids`` (those of ``index``
        that are indexed, embedded by ``model_id`` and readable under ``access``; others are
        absent). A primary-key lookup, no vector index: a few milliseconds for the hundred
        keyword candidates the hybrid retriever asks about."""
        dim = await self._model_dim(model_id)
        if dim is None or not chunk_ids:
            return {}
        if len(vector) != dim:
            raise InvalidRequest(f"query vector has {len(vector)} dims, model {model_id} has {dim}")
        access_where, params = access_sql(access)
        query = sql.SQL(
            "SELECT c.id, 1 - (e.embedding::halfvec({dim}) <=> %(q)s::halfvec({dim}))"
            " FROM chunks c JOIN documents d ON d.id = c.document_id"
            " JOIN embeddings e ON e.content_hash = c.content_hash AND e.model_id = %(model)s"
            " WHERE c.id = ANY(%(ids)s) AND d.index_name = %(index)s AND d.state = 'indexed'"
            + self._duplicates_sql() + "{access}"
        ).format(dim=sql.Literal(dim), access=access_where)
        params.update(q=vector_literal(vector), model=model_id, index=index,
                      ids=[int(i) for i in chunk_ids])
        async with self._read_connection() as conn:
            rows = await (await conn.execute(query, params)).fetchall()
        return {int(r[0]): float(r[1]) for r in rows}
