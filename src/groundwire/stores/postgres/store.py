"""``PostgresStore``: the Store protocol on PostgreSQL + pgvector (psycopg 3, async pool).

Vectors live in one ``embeddings`` table keyed by (content hash, model id), stored as
``halfvec`` (half precision: half the bytes of ``vector``, same HNSW recall within noise;
migration 0010). Each model gets a partial HNSW index over ``embedding::halfvec(dim)``
(cosine, ``m`` / ``ef_construction`` from settings), so models of different dimensions coexist
and a model switch never rewrites other models' vectors. Vector search uses pgvector 0.8
iterative index scans so filters (index name, document state, metadata) are applied while
walking the graph and still return ``k`` rows when they match.

Writes are batched: documents are upserted in one pipelined ``executemany``, their old chunks
deleted in one statement, and chunks and embeddings streamed with ``COPY`` — all inside the one
transaction that marks the documents ``indexed`` (P3).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from groundwire.domain import Access, DocumentRecord, DocumentState
from groundwire.errors import InvalidRequest, NotFound, StoreUnavailable
from groundwire.stores.base import (
    DocumentWrite,
    IndexStats,
    KnownDocument,
    PeriodLimit,
    StoredChunk,
)
from groundwire.stores.postgres.migrations import applied_versions, migrate
from groundwire.stores.postgres.principals import PostgresPrincipals
from groundwire.stores.postgres.records import PostgresRecords
from groundwire.stores.postgres.security_edges import PostgresSecurityEdges
from groundwire.stores.postgres.tuning import PostgresTuning
from groundwire.stores.postgres.versions import PostgresVersions


class DatabaseProvider(Protocol):
    """Something that yields a connection URL on open and is released on close."""

    def url(self) -> str: ...

    def release(self) -> None: ...


_CHUNK_COLUMNS = """
    c.id AS chunk_id, c.document_id, d.uri, d.title, d.media_type, c.text, c.header,
    c.heading_path, c.char_start, c.char_end, d.metadata, d.tenant, d.readers
"""

_DOCUMENT_COLUMNS = """
    d.id, d.index_name, d.uri, d.title, d.content_hash, d.state, d.error_code,
    d.error_message, d.modified_at, d.indexed_at, d.metadata, d.tenant, d.readers,
    (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) AS chunk_count
"""


def vector_literal(values: Sequence[float]) -> str:
    """pgvector's text form; avoids per-connection type registration."""
    return "[" + ",".join(f"{float(v):.7g}" for v in values) + "]"


class PostgresStore(PostgresRecords, PostgresPrincipals, PostgresTuning, PostgresVersions,
                    PostgresSecurityEdges):
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

    async def ensure_source(
        self, index: str, kind: str, location: str, tenant: str = "default"
    ) -> int:
        await self.ensure_index(index)
        async with self._connection() as conn:
            row = await (
                await conn.execute(
                    "INSERT INTO sources (tenant, index_name, kind, location, last_run_at)"
                    " VALUES (%s, %s, %s, %s, now())"
                    " ON CONFLICT (tenant, index_name, kind, location)"
                    " DO UPDATE SET last_run_at = now() RETURNING id",
                    [tenant, index, kind, location],
                )
            ).fetchone()
        return int(row[0])

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

    async def _bump(self, conn: Any, index: str) -> None:
        await conn.execute(
            "UPDATE indexes SET generation = generation + 1, updated_at = now() WHERE name = %s",
            [index],
        )

    # ----------------------------------------------------------------- documents
    async def known_documents(
        self, index: str, source_id: int | None = None
    ) -> dict[str, KnownDocument]:
        async with self._connection() as conn:
            cur = await conn.execute(
                "SELECT uri, id, content_hash, pipeline_fingerprint, state FROM documents"
                " WHERE index_name = %s AND source_id IS NOT DISTINCT FROM %s",
                [index, source_id],
            )
            rows = await cur.fetchall()
        return {
            r[0]: KnownDocument(id=r[1], content_hash=r[2], pipeline_fingerprint=r[3],
                                state=DocumentState(r[4]))
            for r in rows
        }

    async def mark_pending(
        self, index: str, uris: Sequence[str], source_id: int | None = None,
        tenant: str = "default",
    ) -> None:
        """Record newly seen documents as pending (no chunks, never searchable; readable by
        the tenant's admins only until committed)."""
        if not uris:
            return
        async with self._connection() as conn, conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO documents (index_name, source_id, uri, state, tenant, readers)"
                " VALUES (%s, %s, %s, 'pending', %s, %s)"
                " ON CONFLICT (index_name, source_id, uri) DO NOTHING",
                [(index, source_id, uri, tenant, [f"t:{tenant}:admin"]) for uri in uris],
            )

    async def missing_embeddings(self, model_id: str, hashes: Sequence[str]) -> set[str]:
        if not hashes:
            return set()
        async with self._connection() as conn:
            cur = await conn.execute(
                "SELECT h FROM unnest(%s::text[]) AS h WHERE NOT EXISTS"
                " (SELECT 1 FROM embeddings e WHERE e.content_hash = h AND e.model_id = %s)",
                [list(set(hashes)), model_id],
            )
            rows = await cur.fetchall()
        return {r[0] for r in rows}

    async def commit_documents(
        self,
        index: str,
        documents: Sequence[DocumentWrite],
        embeddings: Mapping[str, Sequence[float]],
        model_id: str,
    ) -> None:
        """Atomically store the embeddings, then replace each document's chunks (P3)."""
        if not documents:
            return
        if embeddings:
            dim = len(next(iter(embeddings.values())))
            await self._ensure_model(model_id, dim)
        try:
            async with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
                if embeddings:
                    await _copy_embeddings(cur, embeddings, model_id)
                await self._replace_documents(cur, index, documents)
                await self._bump(conn, index)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"PostgreSQL write failed: {exc}") from exc

    async def _replace_documents(
        self, cur: Any, index: str, documents: Sequence[DocumentWrite]
    ) -> None:
        """Upsert the documents as ``indexed`` (one pipelined batch), then replace their chunks:
        one DELETE, one COPY. The caller's transaction makes it all-or-nothing (P3)."""
        await cur.executemany(
            """
            INSERT INTO documents (index_name, source_id, uri, title, media_type, content_hash,
                pipeline_fingerprint, modified_at, size_bytes, metadata, tenant, readers, state,
                error_code, error_message, indexed_at, updated_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'indexed', NULL, NULL,
                    now(), now())
            ON CONFLICT (index_name, source_id, uri) DO UPDATE SET
                tenant = EXCLUDED.tenant, readers = EXCLUDED.readers,
                title = EXCLUDED.title, media_type = EXCLUDED.media_type,
                content_hash = EXCLUDED.content_hash,
                pipeline_fingerprint = EXCLUDED.pipeline_fingerprint,
                modified_at = EXCLUDED.modified_at, size_bytes = EXCLUDED.size_bytes,
                metadata = EXCLUDED.metadata, state = 'indexed', error_code = NULL,
                error_message = NULL, indexed_at = now(), updated_at = now()
            RETURNING id
            """,
            [(index, doc.source_id, doc.uri, doc.title, doc.media_type, doc.content_hash,
              doc.pipeline_fingerprint, doc.modified_at, doc.size_bytes,
              json.dumps(dict(doc.metadata), default=str), doc.tenant, list(doc.readers))
             for doc in documents],
            returning=True,
        )
        document_ids: list[int] = []
        while True:
            row = await cur.fetchone()
            document_ids.append(int(row[0]))
            if not cur.nextset():
                break
        await cur.execute("DELETE FROM chunks WHERE document_id = ANY(%s)", [document_ids])
        latest = dict(zip(document_ids, documents, strict=True))  # a uri twice: the last wins
        async with cur.copy(
            "COPY chunks (document_id, position, text, header, content_hash, heading_path,"
            " char_start, char_end, token_count) FROM STDIN"
        ) as copy:
            for document_id, doc in latest.items():
                for c in doc.chunks:
                    await copy.write_row(
                        (document_id, c.position, c.text, c.header, c.content_hash,
                         list(c.heading_path), c.char_start, c.char_end, c.token_count)
                    )

    async def mark_failed(
        self,
        index: str,
        uri: str,
        *,
        code: str,
        message: str,
        media_type: str = "",
        content_hash: str | None = None,
        modified_at: datetime | None = None,
        source_id: int | None = None,
        tenant: str = "default",
        readers: Sequence[str] = ("t:default:admin",),
    ) -> None:
        """Record a coded failure. A failed document has no chunks: stale text is never served."""
        async with self._connection() as conn, conn.transaction():
            cur = await conn.execute(
                """
                INSERT INTO documents (index_name, source_id, uri, media_type, content_hash,
                    modified_at, tenant, readers, state, error_code, error_message, updated_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'failed', %s, %s, now())
                ON CONFLICT (index_name, source_id, uri) DO UPDATE SET
                    tenant = EXCLUDED.tenant, readers = EXCLUDED.readers,
                    media_type = EXCLUDED.media_type, content_hash = EXCLUDED.content_hash,
                    modified_at = EXCLUDED.modified_at, state = 'failed',
                    error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message,
                    pipeline_fingerprint = NULL, indexed_at = NULL, updated_at = now()
                RETURNING id
                """,
                [index, source_id, uri, media_type, content_hash, modified_at, tenant,
                 list(readers), code, message[:2000]],
            )
            row = await cur.fetchone()
            deleted = await conn.execute("DELETE FROM chunks WHERE document_id = %s", [row[0]])
            if deleted.rowcount:
                await self._bump(conn, index)

    async def delete_documents(
        self, index: str, uris: Sequence[str], source_id: int | None = None
    ) -> int:
        if not uris:
            return 0
        async with self._connection() as conn, conn.transaction():
            cur = await conn.execute(
                "DELETE FROM documents WHERE index_name = %s AND uri = ANY(%s)"
                " AND source_id IS NOT DISTINCT FROM %s",
                [index, list(uris), source_id],
            )
            count = cur.rowcount
            if count:
                await self._bump(conn, index)
        return count

    async def list_documents(
        self, index: str, *, state: DocumentState | None = None, limit: int = 100,
        offset: int = 0, access: Access | None = None,
    ) -> list[DocumentRecord]:
        where, params = _access_sql(access)
        state_value = state.value if state else None
        params.update(index=index, state=state_value, limit=limit, offset=offset)
        query = sql.SQL(
            "SELECT " + _DOCUMENT_COLUMNS + " FROM documents d WHERE d.index_name = %(index)s"
            " AND (%(state)s::text IS NULL OR d.state = %(state)s) {where}"
            " ORDER BY d.uri, d.id LIMIT %(limit)s OFFSET %(offset)s"
        ).format(where=where)
        async with self._read_connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, params)
            rows = await cur.fetchall()
        return [_document_record(r) for r in rows]

    async def documents_by_uri(
        self, index: str, uris: Sequence[str], *, tenant: str
    ) -> list[DocumentRecord]:
        """The tenant's documents of ``index`` with these uris (any source)."""
        query = (
            "SELECT " + _DOCUMENT_COLUMNS + " FROM documents d WHERE d.index_name = %s"
            " AND d.tenant = %s AND d.uri = ANY(%s) ORDER BY d.id"
        )
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, [index, tenant, list(uris)])
            rows = await cur.fetchall()
        return [_document_record(r) for r in rows]

    async def count_documents(
        self, index: str, access: Access | None = None
    ) -> tuple[dict[str, int], dict[str, int]]:
        where, params = _access_sql(access)
        params["index"] = index
        query = sql.SQL(
            "SELECT d.state, d.error_code, count(*) FROM documents d"
            " WHERE d.index_name = %(index)s {where} GROUP BY 1, 2"
        ).format(where=where)
        async with self._read_connection() as conn:
            rows = await (await conn.execute(query, params)).fetchall()
        by_state = {s.value: 0 for s in DocumentState}
        errors: dict[str, int] = {}
        for state, code, n in rows:
            by_state[state] = by_state.get(state, 0) + n
            if state == "failed":
                errors[code or "unknown"] = errors.get(code or "unknown", 0) + n
        return by_state, dict(sorted(errors.items()))

    async def get_document(
        self, document_id: int, access: Access | None = None
    ) -> DocumentRecord | None:
        where, params = _access_sql(access)
        params["id"] = document_id
        query = sql.SQL(
            "SELECT " + _DOCUMENT_COLUMNS + " FROM documents d WHERE d.id = %(id)s {where}"
        ).format(where=where)
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, params)
            row = await cur.fetchone()
        return _document_record(row) if row else None

    async def set_readers(self, document_id: int, readers: Sequence[str]) -> None:
        async with self._connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    "UPDATE documents SET readers = %s, updated_at = now() WHERE id = %s"
                    " RETURNING index_name",
                    [list(readers), document_id],
                )
            ).fetchone()
            if row is None:
                raise NotFound(f"no document {document_id}")
            await self._bump(conn, row[0])

    async def delete_document(self, document_id: int) -> bool:
        async with self._connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    "DELETE FROM documents WHERE id = %s RETURNING index_name", [document_id]
                )
            ).fetchone()
            if row is not None:
                await self._bump(conn, row[0])
        return row is not None

    async def stats(self, index: str) -> IndexStats:
        async with self._connection() as conn:
            gen = await (
                await conn.execute("SELECT generation FROM indexes WHERE name = %s", [index])
            ).fetchone()
            states = await (
                await conn.execute(
                    "SELECT state, count(*) FROM documents WHERE index_name = %s GROUP BY state",
                    [index],
                )
            ).fetchall()
            errors = await (
                await conn.execute(
                    "SELECT error_code, count(*) FROM documents WHERE index_name = %s"
                    " AND state = 'failed' GROUP BY error_code ORDER BY error_code",
                    [index],
                )
            ).fetchall()
            chunk_row = await (
                await conn.execute(
                    "SELECT count(*), count(DISTINCT c.content_hash) FROM chunks c"
                    " JOIN documents d ON d.id = c.document_id WHERE d.index_name = %s",
                    [index],
                )
            ).fetchone()
        by_state = {s.value: 0 for s in DocumentState}
        by_state.update({s: n for s, n in states})
        return IndexStats(
            name=index,
            generation=int(gen[0]) if gen else 0,
            documents_by_state=by_state,
            errors_by_code={code or "unknown": n for code, n in errors},
            chunks=chunk_row[0] if chunk_row else 0,
            embedded_chunks=chunk_row[1] if chunk_row else 0,
        )

    # ----------------------------------------------------------------- retrieval
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
                f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d"
                " ON d.id = c.document_id WHERE d.index_name = %s AND d.state = 'indexed'"
                " AND (%s::text IS NULL OR d.tenant = %s) ORDER BY c.id",
                [index, tenant, tenant],
            )
            rows = await cur.fetchall()
        return generation, [_stored_chunk(r) for r in rows]

    async def chunks_by_id(
        self, ids: Sequence[int], access: Access | None = None
    ) -> dict[int, StoredChunk]:
        """Rows of searchable chunks; with ``access``, only readable ones. This is the last
        check of every read path: a keyword snapshot older than a permission change can name
        a chunk, but its row is not returned."""
        if not ids:
            return {}
        where, params = _access_sql(access)
        params["ids"] = list(ids)
        query = sql.SQL(
            "SELECT " + _CHUNK_COLUMNS + " FROM chunks c JOIN documents d ON d.id = c.document_id"
            " WHERE c.id = ANY(%(ids)s) AND d.state = 'indexed' {where}"
        ).format(where=where)
        async with self._read_connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, params)
            rows = await cur.fetchall()
        return {r["chunk_id"]: _stored_chunk(r) for r in rows}

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
        where, params = _filter_sql(filters or {})
        access_where, access_params = _access_sql(access)
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
            " {where} ORDER BY {distance} LIMIT %(k)s"
        ).format(distance=distance, where=where)
        params.update(q=vector_literal(vector), model=model_id, index=index, k=k)
        async with self._read_connection() as conn, conn.transaction():
            await conn.execute(
                sql.SQL("SET LOCAL hnsw.ef_search = {}").format(
                    sql.Literal(max(self._ef_search, k))
                )
            )
            await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
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
        access_where, params = _access_sql(access)
        query = sql.SQL(
            "SELECT c.id, 1 - (e.embedding::halfvec({dim}) <=> %(q)s::halfvec({dim}))"
            " FROM chunks c JOIN documents d ON d.id = c.document_id"
            " JOIN embeddings e ON e.content_hash = c.content_hash AND e.model_id = %(model)s"
            " WHERE c.id = ANY(%(ids)s) AND d.index_name = %(index)s AND d.state = 'indexed'"
            "{access}"
        ).format(dim=sql.Literal(dim), access=access_where)
        params.update(q=vector_literal(vector), model=model_id, index=index,
                      ids=[int(i) for i in chunk_ids])
        async with self._read_connection() as conn:
            rows = await (await conn.execute(query, params)).fetchall()
        return {int(r[0]): float(r[1]) for r in rows}

    # ----------------------------------------------------------------- models
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
        index_name = _hnsw_index_name(model_id)
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
                sql.Identifier(_hnsw_index_name(model_id))))
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
            await conn.execute(self._create_hnsw_sql(_hnsw_index_name(model_id), model_id, dim))
        return True

    # ----------------------------------------------------------------- usage / budgets
    async def reserve_usage(self, principal: str, limits: Sequence[PeriodLimit]) -> str | None:
        if not limits:
            return None
        periods = sorted(limit.period for limit in limits)  # fixed lock order: no deadlocks
        async with self._connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO usage_counters (principal, period) SELECT %s, unnest(%s::text[])"
                " ON CONFLICT (principal, period) DO NOTHING",
                [principal, periods],
            )
            rows = await (
                await conn.execute(
                    "SELECT period, requests, tokens, cost FROM usage_counters"
                    " WHERE principal = %s AND period = ANY(%s) ORDER BY period FOR UPDATE",
                    [principal, periods],
                )
            ).fetchall()
            current = {r[0]: (int(r[1]), int(r[2]), float(r[3])) for r in rows}
            for limit in limits:
                requests, tokens, cost = current[limit.period]
                for measure, used, cap in (("requests", requests, limit.requests),
                                           ("tokens", tokens, limit.tokens),
                                           ("cost", cost, limit.cost)):
                    if cap is not None and used >= cap:
                        return f"{limit.period} {measure}"
            await conn.execute(
                "UPDATE usage_counters SET requests = requests + 1, updated_at = now()"
                " WHERE principal = %s AND period = ANY(%s)",
                [principal, periods],
            )
        return None

    async def add_usage(
        self, principal: str, periods: Sequence[str], *, tokens: int, cost: float
    ) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO usage_counters (principal, period, tokens, cost)"
                " SELECT %s, unnest(%s::text[]), %s, %s"
                " ON CONFLICT (principal, period) DO UPDATE SET"
                " tokens = usage_counters.tokens + EXCLUDED.tokens,"
                " cost = usage_counters.cost + EXCLUDED.cost, updated_at = now()",
                [principal, list(periods), tokens, cost],
            )

    async def usage(self, principal: str) -> dict[str, dict[str, float]]:
        async with self._connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT period, requests, tokens, cost FROM usage_counters"
                    " WHERE principal = %s ORDER BY period",
                    [principal],
                )
            ).fetchall()
        return {r[0]: {"requests": r[1], "tokens": r[2], "cost": r[3]} for r in rows}


def _hnsw_index_name(model_id: str) -> str:
    return "embeddings_hnsw_" + re.sub(r"[^a-z0-9]+", "_", model_id.lower())[:40]


async def _copy_embeddings(cur: Any, embeddings: Mapping[str, Sequence[float]],
                           model_id: str) -> None:
    """COPY the vectors into a session temp table, then insert the ones not stored yet (another
    ingest may have stored the same passage since ``missing_embeddings``)."""
    await cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS embeddings_load (content_hash text, dim integer,"
        " embedding halfvec) ON COMMIT DELETE ROWS"
    )
    async with cur.copy("COPY embeddings_load (content_hash, dim, embedding) FROM STDIN") as copy:
        for h, v in embeddings.items():
            await copy.write_row((h, len(v), vector_literal(v)))
    await cur.execute(
        "INSERT INTO embeddings (content_hash, model_id, dim, embedding)"
        " SELECT content_hash, %s, dim, embedding FROM embeddings_load"
        " ON CONFLICT DO NOTHING",
        [model_id],
    )


def _stored_chunk(r: Mapping[str, Any]) -> StoredChunk:
    return StoredChunk(
        chunk_id=r["chunk_id"], document_id=r["document_id"], uri=r["uri"], title=r["title"],
        media_type=r["media_type"], text=r["text"], header=r["header"],
        heading_path=tuple(r["heading_path"] or ()), char_start=r["char_start"],
        char_end=r["char_end"], metadata=r["metadata"] or {},
        tenant=r["tenant"], readers=tuple(r["readers"] or ()),
    )


def _document_record(r: Mapping[str, Any]) -> DocumentRecord:
    return DocumentRecord(
        id=r["id"], index=r["index_name"], uri=r["uri"], title=r["title"],
        content_hash=r["content_hash"], state=DocumentState(r["state"]),
        error_code=r["error_code"], error_message=r["error_message"],
        modified_at=r["modified_at"], indexed_at=r["indexed_at"],
        chunk_count=r["chunk_count"], metadata=r["metadata"] or {},
        tenant=r["tenant"], readers=tuple(r["readers"] or ()),
    )


def _access_sql(access: Access | None) -> tuple[sql.Composable, dict[str, Any]]:
    """The permission pre-filter on ``d`` (documents): same tenant, a shared reader token."""
    if access is None or access.unrestricted:
        return sql.SQL(""), {}
    return (
        sql.SQL(" AND d.tenant = %(acc_tenant)s AND d.readers && %(acc_tokens)s::text[]"),
        {"acc_tenant": access.tenant, "acc_tokens": sorted(access.tokens)},
    )


def _filter_sql(filters: Mapping[str, Any]) -> tuple[sql.Composable, dict[str, Any]]:
    """Translate the SearchRequest filter vocabulary into SQL on ``d`` (documents)."""
    parts: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if filters.get("uri_prefix"):
        parts.append(sql.SQL(" AND d.uri LIKE %(uri_prefix)s"))
        prefix = str(filters["uri_prefix"]).replace("\\", "\\\\").replace("%", "\\%")
        params["uri_prefix"] = prefix.replace("_", "\\_") + "%"
    if filters.get("media_type"):
        parts.append(sql.SQL(" AND d.media_type = %(media_type)s"))
        params["media_type"] = filters["media_type"]
    if filters.get("metadata"):
        parts.append(sql.SQL(" AND d.metadata @> %(metadata)s::jsonb"))
        params["metadata"] = json.dumps(dict(filters["metadata"]))
    return sql.Composed(parts), params
