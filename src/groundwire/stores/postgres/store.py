"""``PostgresStore``: every store port (``stores/ports.py``) on PostgreSQL + pgvector
(psycopg 3, async pool).

This module holds the lifecycle (connect, migrate, pools, the read replica, the per-index
ingest lock) and the index catalog; the other ports are mixins, one module each:
``documents.py`` (ingest writes), ``catalog.py`` (document reads and admin), ``search.py``
(keyword corpus, vector search), ``vectors.py`` (models and their HNSW indexes),
``usage.py`` (budgets), ``records.py`` (answer records, feedback, alerts), ``principals.py``
(tenants, users, groups, keys), ``versions.py`` (versions and aliases), ``tuning.py``
(self-tuning) and ``security_edges.py`` (rate limits, audit log). Shared SQL fragments and
row converters are in ``rows.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

import psycopg
from psycopg_pool import AsyncConnectionPool

from groundwire.errors import NotFound, StoreUnavailable
from groundwire.stores.postgres.catalog import PostgresCatalog
from groundwire.stores.postgres.conversations import PostgresConversations
from groundwire.stores.postgres.documents import PostgresDocuments
from groundwire.stores.postgres.duplicates import PostgresDuplicates
from groundwire.stores.postgres.migrations import applied_versions, migrate
from groundwire.stores.postgres.principals import PostgresPrincipals
from groundwire.stores.postgres.records import PostgresRecords
from groundwire.stores.postgres.rows import hnsw_index_name, vector_literal
from groundwire.stores.postgres.search import PostgresSearch
from groundwire.stores.postgres.security_edges import PostgresSecurityEdges
from groundwire.stores.postgres.sources import PostgresSources
from groundwire.stores.postgres.tuning import PostgresTuning
from groundwire.stores.postgres.usage import PostgresUsage
from groundwire.stores.postgres.versions import PostgresVersions
from groundwire.stores.postgres.workflows import PostgresWorkflows

if TYPE_CHECKING:
    from groundwire.stores.base import Store

# Kept importable from here (benchmarks/scale.py).
_hnsw_index_name = hnsw_index_name
__all__ = ["DatabaseProvider", "PostgresStore", "vector_literal"]


class DatabaseProvider(Protocol):
    """Something that yields a connection URL on open and is released on close."""

    def url(self) -> str: ...

    def release(self) -> None: ...


class PostgresStore(PostgresDocuments, PostgresCatalog, PostgresSearch, PostgresUsage,
                    PostgresRecords, PostgresPrincipals, PostgresTuning, PostgresVersions,
                    PostgresSecurityEdges, PostgresConversations, PostgresWorkflows,
                    PostgresSources, PostgresDuplicates):
    """Store on PostgreSQL. Construct with a URL; ``open()`` connects and migrates."""

    def __init__(
        self,
        url: str | DatabaseProvider,
        *,
        pool_min: int = 1,
        pool_max: int = 8,
        ef_search: int = 100,
        read_url: str | None = None,
        prepare_threshold: int | None = 5,
        application_name: str = "groundwire",
        hnsw_m: int = 16,
        hnsw_ef_construction: int = 64,
        include_duplicates: bool = False,
    ) -> None:
        """``url`` is a connection URL, or a provider resolved in ``open()`` and released in
        ``close()`` (the embedded server). ``read_url``: a streaming replica of ``url`` for
        the read-only query paths (``_read_connection``; see ``keyword_corpus`` for how the
        replica's lag is handled). ``prepare_threshold=None`` turns prepared statements off
        (pgbouncer transaction pooling); ``application_name`` names the connections in
        ``pg_stat_activity`` (the read pool's with ``-read``)."""
        self._url = url
        self._pool_min = pool_min
        self._pool_max = pool_max
        self._ef_search = ef_search
        self._include_duplicates = include_duplicates  # near-duplicates searched too
        self._read_url = read_url
        self._prepare_threshold = prepare_threshold
        self._application_name = application_name
        self._read_pool: AsyncConnectionPool | None = None
        self._open_url: str | None = None  # the primary's URL once open (a provider's too)
        self._hnsw_m = hnsw_m
        self._hnsw_ef_construction = hnsw_ef_construction
        self._pool: AsyncConnectionPool | None = None
        self._model_dims: dict[str, int] = {}

    # ----------------------------------------------------------------- lifecycle
    async def open(self) -> None:
        """Connect once (failing fast with the server's own error), migrate, open the pool."""
        url = self._url if isinstance(self._url, str) else await asyncio.to_thread(self._url.url)
        self._conninfo = url
        try:
            async with await psycopg.AsyncConnection.connect(
                url, autocommit=True, connect_timeout=10,
                prepare_threshold=self._prepare_threshold,
                application_name=self._application_name[:63],
            ) as conn:
                await migrate(conn)
        except (psycopg.Error, OSError) as exc:
            raise StoreUnavailable(f"cannot open PostgreSQL store: {exc}") from exc
        self._pool = await self._open_pool(url, self._application_name)
        self._open_url = url
        if self._read_url:
            try:
                self._read_pool = await self._open_pool(
                    self._read_url, f"{self._application_name}-read")
                await self._wait_for_replica_schema()
            except (StoreUnavailable, psycopg.Error) as exc:
                await self.close()
                if isinstance(exc, StoreUnavailable):
                    raise
                raise StoreUnavailable(f"read replica unusable: {exc}") from exc

    async def _wait_for_replica_schema(self, timeout_s: float = 60.0) -> None:
        """Wait until the read replica has replayed every migration the primary has (a
        fresh database or an upgrade just migrated the primary): read paths must never meet
        a table the replica does not have yet."""
        async with self._connection() as conn:
            wanted = await applied_versions(conn)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            async with self._read_connection() as conn:
                if wanted <= await applied_versions(conn):
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise StoreUnavailable(
                    f"the read replica (database.read_url) has not replayed the primary's "
                    f"schema migrations within {timeout_s:.0f} s: is it replicating?")
            await asyncio.sleep(0.1)

    async def _open_pool(self, url: str, application_name: str) -> AsyncConnectionPool:
        pool = AsyncConnectionPool(
            url,
            min_size=self._pool_min,
            max_size=self._pool_max,
            open=False,
            kwargs={"autocommit": True, "prepare_threshold": self._prepare_threshold,
                    "application_name": application_name[:63]},
        )
        try:
            await pool.open(wait=True, timeout=15)
        except (psycopg.Error, TimeoutError, OSError) as exc:
            await pool.close()
            raise StoreUnavailable(f"cannot open PostgreSQL connection pool: {exc}") from exc
        return pool

    @property
    def conninfo(self) -> str:
        """The primary's connection URL once open (the embedded server's too): for clients
        that share this database with their own connections (the job queue, jobs/service.py)."""
        url = getattr(self, "_conninfo", None)
        if url is None:
            raise RuntimeError("the store is not open")
        return str(url)

    async def close(self) -> None:
        if self._read_pool is not None:
            await self._read_pool.close()
            self._read_pool = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if not isinstance(self._url, str):
            await asyncio.to_thread(self._url.release)

    def _connection(self) -> Any:
        if self._pool is None:
            raise StoreUnavailable("store is not open")
        return self._pool.connection()

    def _read_connection(self) -> Any:
        """A connection for a read-only query that may lag the primary: the replica's pool
        when ``read_url`` is set, else the primary's."""
        if self._read_pool is None:
            return self._connection()
        return self._read_pool.connection()

    @contextlib.asynccontextmanager
    async def index_write_lock(self, index: str) -> AsyncIterator[None]:
        """Hold ``index``'s ingest lock for the block: ingests of one index run one at a time
        across every process on this database (API replicas, workers, the CLI), not just
        within one. A transaction-scoped advisory lock on a connection of its own to the
        primary (not a pooled one: the ingest itself needs the pool), kept for the block, so it
        also works behind pgbouncer in transaction mode; it is released when the block ends,
        is cancelled, or the process dies (its connection closes). The transaction takes no
        snapshot between statements: it holds back no vacuum."""
        if self._pool is None or self._open_url is None:
            raise StoreUnavailable("store is not open")
        try:
            conn = await psycopg.AsyncConnection.connect(
                self._open_url, autocommit=True, connect_timeout=10,
                prepare_threshold=self._prepare_threshold,
                application_name=f"{self._application_name}-lock"[:63])
        except (psycopg.Error, OSError) as exc:
            raise StoreUnavailable(f"cannot take the ingest lock: {exc}") from exc
        async with conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                               [f"groundwire-ingest:{index}"])
            yield

    async def ping(self) -> None:
        try:
            async with self._connection() as conn:
                await conn.execute("SELECT 1")
            if self._read_pool is not None:
                async with self._read_connection() as conn:
                    await conn.execute("SELECT 1")
        except psycopg.Error as exc:
            raise StoreUnavailable(f"PostgreSQL unreachable: {exc}") from exc

    # ----------------------------------------------------------------- indexes
    async def ensure_index(self, index: str) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO indexes (name) VALUES (%s) ON CONFLICT (name) DO NOTHING", [index]
            )

    async def list_indexes(self, tenant: str | None = None) -> list[str]:
        async with self._connection() as conn:
            if tenant is None:
                cur = await conn.execute("SELECT name FROM indexes ORDER BY name")
            else:
                cur = await conn.execute(
                    "SELECT DISTINCT index_name FROM documents WHERE tenant = %s ORDER BY 1",
                    [tenant],
                )
            rows = await cur.fetchall()
        return [r[0] for r in rows]

    async def index_tenancy(self, index: str, tenant: str) -> tuple[bool, bool]:
        async with self._connection() as conn:
            row = await (await conn.execute(
                "SELECT EXISTS (SELECT 1 FROM documents WHERE index_name = %(i)s"
                " AND tenant = %(t)s), EXISTS (SELECT 1 FROM documents"
                " WHERE index_name = %(i)s AND tenant <> %(t)s)",
                {"i": index, "t": tenant})).fetchone()
        assert row is not None
        return bool(row[0]), bool(row[1])

    async def generation(self, index: str) -> int:
        async with self._connection() as conn:
            row = await (
                await conn.execute("SELECT generation FROM indexes WHERE name = %s", [index])
            ).fetchone()
        if row is None:
            raise NotFound(f"no index named {index!r}")
        return int(row[0])


if TYPE_CHECKING:
    def _satisfies_every_port(store: PostgresStore) -> Store:
        """mypy checks here that ``PostgresStore`` structurally satisfies ``Store`` (every
        port, with its exact signatures)."""
        return store
