"""The ingest write side of ``PostgresStore`` (the ``DocumentStore`` port): sources, change
detection and the atomic commit of documents with their chunks and embeddings (P2, P3).

Writes are batched: documents are upserted in one pipelined ``executemany``, their old chunks
deleted in one statement, and chunks and embeddings streamed with ``COPY``, all inside the one
transaction that marks the documents ``indexed`` (P3).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg

from groundwire.domain import DocumentState
from groundwire.errors import StoreUnavailable
from groundwire.stores.postgres.duplicates import (
    PostgresDuplicates,
    clear_duplicates_of,
    minhash_columns,
)
from groundwire.stores.postgres.rows import bump_generation, vector_literal
from groundwire.stores.postgres.vectors import PostgresVectorIndexes
from groundwire.stores.values import DocumentWrite, KnownDocument


class PostgresDocuments(PostgresVectorIndexes, PostgresDuplicates):
    """Mixin: needs ``_connection()`` and ``ensure_index`` from ``PostgresStore``; registers
    embedding models through ``PostgresVectorIndexes``, marks near-duplicates through
    ``PostgresDuplicates``."""

    ensure_index: Callable[[str], Awaitable[None]]

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
        *,
        duplicate_threshold: float | None = None,
        duplicates_by_ingest_order: bool = False,
    ) -> None:
        """Atomically store the embeddings, then replace each document's chunks (P3) and
        recompute their near-duplicate marks (``duplicates.py``; no threshold: cleared)."""
        if not documents:
            return
        if embeddings:
            dim = len(next(iter(embeddings.values())))
            await self._ensure_model(model_id, dim)
        try:
            async with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
                if embeddings:
                    await _copy_embeddings(cur, embeddings, model_id)
                ids = await self._replace_documents(cur, index, documents)
                await self._mark_near_duplicates(cur, index, ids, duplicate_threshold,
                                                 duplicates_by_ingest_order)
                await bump_generation(conn, index)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"PostgreSQL write failed: {exc}") from exc

    async def _replace_documents(
        self, cur: Any, index: str, documents: Sequence[DocumentWrite]
    ) -> list[int]:
        """Upsert the documents as ``indexed`` (one pipelined batch), then replace their chunks:
        one DELETE, one COPY; returns the documents' ids. The caller's transaction makes it
        all-or-nothing (P3)."""
        await cur.executemany(
            """
            INSERT INTO documents (index_name, source_id, uri, title, media_type, content_hash,
                pipeline_fingerprint, modified_at, size_bytes, metadata, tenant, readers, state,
                error_code, error_message, indexed_at, updated_at, minhash, minhash_bands)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'indexed', NULL, NULL,
                    now(), now(), %s, %s)
            ON CONFLICT (index_name, source_id, uri) DO UPDATE SET
                tenant = EXCLUDED.tenant, readers = EXCLUDED.readers,
                title = EXCLUDED.title, media_type = EXCLUDED.media_type,
                content_hash = EXCLUDED.content_hash,
                pipeline_fingerprint = EXCLUDED.pipeline_fingerprint,
                modified_at = EXCLUDED.modified_at, size_bytes = EXCLUDED.size_bytes,
                metadata = EXCLUDED.metadata, state = 'indexed', error_code = NULL,
                error_message = NULL, indexed_at = now(), updated_at = now(),
                minhash = EXCLUDED.minhash, minhash_bands = EXCLUDED.minhash_bands
            RETURNING id
            """,
            [(index, doc.source_id, doc.uri, doc.title, doc.media_type, doc.content_hash,
              doc.pipeline_fingerprint, doc.modified_at, doc.size_bytes,
              json.dumps(dict(doc.metadata), default=str), doc.tenant, list(doc.readers),
              *minhash_columns(doc.minhash, index, doc.tenant))
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
        return list(latest)

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
            await clear_duplicates_of(conn, [row[0]])  # its duplicates are searchable again
            if deleted.rowcount:
                await bump_generation(conn, index)

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
                await bump_generation(conn, index)
        return count



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
