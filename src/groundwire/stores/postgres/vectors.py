"""Embedding models and their HNSW indexes in ``PostgresStore`` (the ``VectorIndexAdmin``
port and the model registry ingest uses).

Vectors live in one ``embeddings`` table keyed by (content hash, model id), stored as
``halfvec`` (half precision: half the bytes of ``vector``, same HNSW recall within noise;
migration 0010). Each model gets a partial HNSW index over ``embedding::halfvec(dim)``
(cosine, ``m`` / ``ef_construction`` from settings), so models of different dimensions coexist
and a model switch never rewrites other models' vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg import sql

from groundwire.errors import InvalidRequest
from groundwire.stores.postgres.rows import hnsw_index_name


class PostgresVectorIndexes:
    """Mixin: needs ``_connection()``, ``_model_dims``, ``_hnsw_m`` and
    ``_hnsw_ef_construction`` from ``PostgresStore``."""

    _connection: Callable[[], Any]  # PostgresStore's pooled-connection factory
    _model_dims: dict[str, int]
    _hnsw_m: int
    _hnsw_ef_construction: int

    async def _model_dim(self, model_id: str) -> int | None:
        if model_id in self._model_dims:
            return self._model_dims[model_id]
        async with self._connection() as conn:
            row = await (
                await conn.execute("SELECT dim FROM embedding_models WHERE model_id = %s",
                                   [model_id])
            ).fetchone()
        if row:
            self._model_dims[model_id] = int(row[0])
            return int(row[0])
        return None

    async def _ensure_model(self, model_id: str, dim: int) -> None:
        """Register the model and build its partial HNSW index once."""
        known = await self._model_dim(model_id)
        if known is not None:
            if known != dim:
                raise InvalidRequest(f"model {model_id} was stored with {known} dims, got {dim}")
            return
        index_name = hnsw_index_name(model_id)
        async with self._connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [model_id])
            await conn.execute(self._create_hnsw_sql(index_name, model_id, dim))
            await conn.execute(
                "INSERT INTO embedding_models (model_id, dim, index_name) VALUES (%s, %s, %s)"
                " ON CONFLICT (model_id) DO NOTHING",
                [model_id, dim, index_name],
            )
        self._model_dims[model_id] = dim

    def _create_hnsw_sql(self, index_name: str, model_id: str, dim: int) -> sql.Composable:
        return sql.SQL(
            "CREATE INDEX IF NOT EXISTS {name} ON embeddings USING hnsw"
            " ((embedding::halfvec({dim})) halfvec_cosine_ops)"
            " WITH (m = {m}, ef_construction = {efc}) WHERE model_id = {model}"
        ).format(name=sql.Identifier(index_name), dim=sql.Literal(dim),
                 m=sql.Literal(self._hnsw_m), efc=sql.Literal(self._hnsw_ef_construction),
                 model=sql.Literal(model_id))

    async def drop_vector_index(self, model_id: str) -> bool:
        """Drop a model's HNSW index before a bulk load (inserting into a built graph costs far
        more per row than building it once); searches fall back to exact scans meanwhile.
        ``build_vector_index`` restores it. False when the model is unknown."""
        if await self._model_dim(model_id) is None:
            return False
        async with self._connection() as conn:
            await conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(
                sql.Identifier(hnsw_index_name(model_id))))
        return True

    async def build_vector_index(
        self, model_id: str, *, maintenance_work_mem: str | None = None,
        parallel_workers: int | None = None,
    ) -> bool:
        """(Re)build a model's HNSW index if it is missing, with this store's ``m`` and
        ``ef_construction``. ``maintenance_work_mem`` (e.g. ``"4GB"``) lets the graph of a
        large corpus be built in memory; ``parallel_workers`` sets
        ``max_parallel_maintenance_workers``. False when the model is unknown."""
        dim = await self._model_dim(model_id)
        if dim is None:
            return False
        async with self._connection() as conn, conn.transaction():
            if maintenance_work_mem:
                await conn.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(
                    sql.Literal(maintenance_work_mem)))
            if parallel_workers is not None:
                await conn.execute(sql.SQL("SET LOCAL max_parallel_maintenance_workers = {}")
                                   .format(sql.Literal(parallel_workers)))
            await conn.execute(self._create_hnsw_sql(hnsw_index_name(model_id), model_id, dim))
        return True
