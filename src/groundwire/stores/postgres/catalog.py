"""Reading and administering stored documents in ``PostgresStore`` (the
``DocumentCatalog`` port; its ``access_summary`` is in ``principals.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row

from groundwire.domain import Access, DocumentRecord, DocumentState
from groundwire.errors import NotFound
from groundwire.stores.postgres.duplicates import clear_duplicates_of
from groundwire.stores.postgres.rows import (
    DOCUMENT_COLUMNS,
    access_sql,
    bump_generation,
    document_record,
)
from groundwire.stores.values import IndexStats


class PostgresCatalog:
    """Mixin: needs ``_connection()`` and ``_read_connection()`` from ``PostgresStore``."""

    _connection: Callable[[], Any]  # PostgresStore's pooled-connection factory
    _read_connection: Callable[[], Any]  # the replica's when there is one

    async def list_documents(
        self, index: str, *, state: DocumentState | None = None, limit: int = 100,
        offset: int = 0, access: Access | None = None,
    ) -> list[DocumentRecord]:
        where, params = access_sql(access)
        state_value = state.value if state else None
        params.update(index=index, state=state_value, limit=limit, offset=offset)
        query = sql.SQL(
            "SELECT " + DOCUMENT_COLUMNS + " FROM documents d WHERE d.index_name = %(index)s"
            " AND (%(state)s::text IS NULL OR d.state = %(state)s) {where}"
            " ORDER BY d.uri, d.id LIMIT %(limit)s OFFSET %(offset)s"
        ).format(where=where)
        async with self._read_connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, params)
            rows = await cur.fetchall()
        return [document_record(r) for r in rows]

    async def documents_by_uri(
        self, index: str, uris: Sequence[str], *, tenant: str
    ) -> list[DocumentRecord]:
        """The tenant's documents of ``index`` with these uris (any source)."""
        query = (
            "SELECT " + DOCUMENT_COLUMNS + " FROM documents d WHERE d.index_name = %s"
            " AND d.tenant = %s AND d.uri = ANY(%s) ORDER BY d.id"
        )
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, [index, tenant, list(uris)])
            rows = await cur.fetchall()
        return [document_record(r) for r in rows]

    async def count_documents(
        self, index: str, access: Access | None = None
    ) -> tuple[dict[str, int], dict[str, int]]:
        where, params = access_sql(access)
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
        where, params = access_sql(access)
        params["id"] = document_id
        query = sql.SQL(
            "SELECT " + DOCUMENT_COLUMNS + " FROM documents d WHERE d.id = %(id)s {where}"
        ).format(where=where)
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, params)
            row = await cur.fetchone()
        return document_record(row) if row else None

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
            await clear_duplicates_of(conn, [document_id])  # marks need equal reader sets
            await bump_generation(conn, row[0])

    async def delete_document(self, document_id: int) -> bool:
        async with self._connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    "DELETE FROM documents WHERE id = %s RETURNING index_name", [document_id]
                )
            ).fetchone()
            if row is not None:
                await bump_generation(conn, row[0])
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
