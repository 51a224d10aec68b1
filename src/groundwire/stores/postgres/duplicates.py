"""Near-duplicate marks in ``PostgresStore``: marking inside ``commit_documents`` and the
``NearDuplicateCatalog`` port.

Each committed document carries its MinHash signature (``documents.minhash``, 4 bytes per
permutation) and LSH band keys (``documents.minhash_bands``, GIN-indexed). Marking, in the
commit's transaction: the committed documents' marks are cleared, and so are the marks
pointing at them (their text changed: those get compared again); then one indexed overlap
query finds the stored, unmarked documents of the same index sharing a band key with any of
them, and ``groundwire.minhash.plan_marks`` decides (same tenant and reader set only, the
strictly newer one kept). A document newly marked hands its own duplicates over to the one
that replaced it. Nothing re-reads any text.

Deleting a kept document clears its duplicates' marks (``ON DELETE SET NULL``); so does
failing it (``clear_duplicates_of``), and ``set_readers`` clears the marks on both sides
(reader sets must be equal). Each of those transactions bumps the index's generation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from psycopg import sql

from groundwire.domain import Access
from groundwire.minhash import Member, band_keys, from_bytes, plan_marks
from groundwire.stores.ports.duplicates import DuplicatePair
from groundwire.stores.postgres.rows import access_sql

_ROW = "SELECT id, tenant, readers, modified_at, indexed_at, minhash, minhash_bands"


def minhash_columns(
    signature: bytes | None, index: str, tenant: str
) -> tuple[bytes | None, list[int] | None]:
    """The ``minhash`` and ``minhash_bands`` values stored for a document's signature; the
    band keys are salted with the index and tenant (documents of other indexes or tenants
    never share a key, so the lookup does not meet them)."""
    if not signature:
        return None, None
    salt = f"{index}\x00{tenant}\x00".encode()
    return signature, band_keys(from_bytes(signature), salt)


class PostgresDuplicates:
    """Mixin: needs ``_connection()`` and ``_read_connection()`` from ``PostgresStore``."""

    _connection: Callable[[], Any]
    _read_connection: Callable[[], Any]

    async def _mark_near_duplicates(
        self, cur: Any, index: str, ids: Sequence[int], threshold: float | None,
        by_ingest_order: bool,
    ) -> None:
        """Recompute the marks of the just-committed documents ``ids`` (see the module
        doc); ``threshold=None``: only clear them."""
        await clear_duplicates_of(cur, ids)
        if threshold is None:
            return
        await cur.execute(_ROW + " FROM documents WHERE id = ANY(%s) AND minhash IS NOT NULL",
                          [list(ids)])
        new_rows = await cur.fetchall()
        if not new_rows:
            return
        keys = sorted({k for r in new_rows for k in r[6]})
        # Candidates through the GIN index, then their rows by primary key. The planner
        # overestimates an overlap with ~1000 keys and scans the table instead (measured:
        # 1.8 s instead of a few ms per batch at 60k documents), hence enable_seqscan off
        # for this one statement. The keys are salted with index and tenant (no other
        # index's or tenant's documents come back).
        await cur.execute("SET LOCAL enable_seqscan = off")
        await cur.execute("SELECT id FROM documents WHERE minhash_bands && %s::bigint[]",
                          [keys])
        candidates = [r[0] for r in await cur.fetchall()]
        await cur.execute("RESET enable_seqscan")
        await cur.execute(
            _ROW + " FROM documents WHERE id = ANY(%s) AND index_name = %s"
            " AND state = 'indexed' AND duplicate_of IS NULL AND minhash IS NOT NULL"
            " AND NOT (id = ANY(%s))", [candidates, index, list(ids)])
        kept_rows = await cur.fetchall()  # may be empty: the batch is compared within too
        marks = plan_marks([_member(r, by_ingest_order) for r in new_rows],
                           [_member(r, by_ingest_order) for r in kept_rows], threshold)
        if not marks:
            return
        pairs = {"dups": list(marks), "kept": list(marks.values())}
        # A newly marked document's own duplicates move to the document that replaced it.
        await cur.execute(
            "UPDATE documents d SET duplicate_of = m.kept FROM unnest(%(dups)s::bigint[],"
            " %(kept)s::bigint[]) AS m(dup, kept) WHERE d.duplicate_of = m.dup", pairs)
        await cur.execute(
            "UPDATE documents d SET duplicate_of = m.kept FROM unnest(%(dups)s::bigint[],"
            " %(kept)s::bigint[]) AS m(dup, kept) WHERE d.id = m.dup", pairs)

    async def count_duplicates(self, index: str, access: Access | None = None) -> int:
        where, params = access_sql(access)
        params["index"] = index
        query = sql.SQL(
            "SELECT count(*) FROM documents d WHERE d.index_name = %(index)s"
            " AND d.state = 'indexed' AND d.duplicate_of IS NOT NULL {where}"
        ).format(where=where)
        async with self._read_connection() as conn:
            row = await (await conn.execute(query, params)).fetchone()
        return int(row[0])

    async def duplicate_pairs(
        self, index: str, access: Access | None = None, limit: int = 100
    ) -> list[DuplicatePair]:
        where, params = access_sql(access)
        params.update(index=index, limit=limit)
        query = sql.SQL(
            "SELECT d.id, d.uri, k.id, k.uri FROM documents d"
            " JOIN documents k ON k.id = d.duplicate_of AND k.tenant = d.tenant"
            " WHERE d.index_name = %(index)s AND d.state = 'indexed' {where}"
            " ORDER BY d.uri, d.id LIMIT %(limit)s"
        ).format(where=where)
        async with self._read_connection() as conn:
            rows = await (await conn.execute(query, params)).fetchall()
        return [DuplicatePair(int(r[0]), r[1], int(r[2]), r[3]) for r in rows]


async def clear_duplicates_of(conn: Any, document_ids: Sequence[int]) -> None:
    """Make the duplicates of ``document_ids`` searchable again (and clear their own marks):
    their kept document is failing, changing readers or going away."""
    await conn.execute(
        "UPDATE documents SET duplicate_of = NULL WHERE duplicate_of = ANY(%(ids)s)"
        " OR (id = ANY(%(ids)s) AND duplicate_of IS NOT NULL)", {"ids": list(document_ids)})


def _member(row: Sequence[Any], by_ingest_order: bool) -> Member:
    """``newness``: the modified time; with ``by_ingest_order`` the time it was (last)
    ingested when the modified time is unknown, then the id."""
    doc_id, tenant, readers, modified_at, indexed_at, signature, bands = row
    when: datetime | None = modified_at
    if by_ingest_order:
        newness: tuple[Any, ...] | None = (when or indexed_at, doc_id)
    else:
        newness = None if when is None else (when,)
    return Member(int(doc_id), newness, (tenant, frozenset(readers or ())), from_bytes(signature),
                  tuple(bands or ()))
