"""Index versions and aliases on PostgreSQL (mixed into ``PostgresStore``); tables from
migration ``0007_index_versions.sql``. Also the positive-feedback query of eval-set
generation. See ``groundwire/versions/`` for the flow."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from psycopg.rows import dict_row

from groundwire.errors import InvalidRequest, NotFound

_VERSION_COLUMNS = ("logical, version, physical, config, fingerprint, overrides, state,"
                    " contract, created_at, promoted_at")


class PostgresVersions:
    """Needs ``self._connection()`` from PostgresStore."""

    _connection: Callable[[], Any]

    async def resolve_index(self, name: str) -> str:
        """The physical index a logical name points at (the name itself without an alias)."""
        async with self._connection() as conn:
            row = await (await conn.execute(
                "SELECT physical FROM index_aliases WHERE logical = %s", [name])).fetchone()
        return str(row[0]) if row else name

    async def alias(self, logical: str) -> dict[str, Any] | None:
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute("SELECT logical, physical, previous, generation, updated_at"
                              " FROM index_aliases WHERE logical = %s", [logical])
            return await cur.fetchone()

    async def list_versions(self, logical: str) -> list[dict[str, Any]]:
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_VERSION_COLUMNS} FROM index_versions"
                              " WHERE logical = %s ORDER BY version", [logical])
            return list(await cur.fetchall())

    async def get_version(self, logical: str, version: int) -> dict[str, Any]:
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_VERSION_COLUMNS} FROM index_versions"
                              " WHERE logical = %s AND version = %s", [logical, version])
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"no version {version} of index {logical!r}")
        return dict(row)

    async def register_version(
        self, logical: str, physical: str, config: dict[str, Any], fingerprint: str,
        overrides: dict[str, Any], *, state: str = "building",
    ) -> int:
        """Add the next version of ``logical`` (its physical index is created); returns its
        number. The first registration of a logical name also creates its alias."""
        async with self._connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"v:{logical}"])
            await conn.execute("INSERT INTO indexes (name) VALUES (%s) ON CONFLICT DO NOTHING",
                               [physical])
            row = await (await conn.execute(
                "SELECT coalesce(max(version), 0) + 1 FROM index_versions WHERE logical = %s",
                [logical])).fetchone()
            number = int(row[0])
            await conn.execute(
                "INSERT INTO index_versions (logical, version, physical, config, fingerprint,"
                " overrides, state) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [logical, number, physical, json.dumps(config), fingerprint,
                 json.dumps(overrides), state])
            await conn.execute(
                "INSERT INTO index_aliases (logical, physical) VALUES (%s, %s)"
                " ON CONFLICT (logical) DO NOTHING", [logical, physical])
        return number

    async def set_version_state(self, logical: str, version: int, state: str,
                                contract: dict[str, Any] | None = None) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "UPDATE index_versions SET state = %s, contract = coalesce(%s::jsonb, contract)"
                " WHERE logical = %s AND version = %s",
                [state, json.dumps(contract) if contract is not None else None, logical,
                 version])

    async def flip_alias(self, logical: str, physical: str, *, expect: str | None = None) -> str:
        """Point ``logical`` at ``physical`` in one transaction (readers see the old or the
        new target, never neither); the old target becomes ``previous`` and is returned.
        ``expect``: refuse (InvalidRequest) unless the alias still points there."""
        async with self._connection() as conn, conn.transaction():
            row = await (await conn.execute(
                "SELECT physical FROM index_aliases WHERE logical = %s FOR UPDATE",
                [logical])).fetchone()
            if row is None:
                raise NotFound(f"index {logical!r} has no versions")
            current = str(row[0])
            if expect is not None and current != expect:
                raise InvalidRequest(f"{logical!r} now points at {current!r}, not {expect!r}")
            await conn.execute(
                "UPDATE index_aliases SET physical = %s, previous = %s,"
                " generation = generation + 1, updated_at = now() WHERE logical = %s",
                [physical, current, logical])
            await conn.execute(
                "UPDATE index_versions SET state = CASE WHEN physical = %s THEN 'live'"
                " WHEN state = 'live' THEN 'retired' ELSE state END,"
                " promoted_at = CASE WHEN physical = %s THEN now() ELSE promoted_at END"
                " WHERE logical = %s", [physical, physical, logical])
        return current

    async def positive_feedback_records(self, index: str) -> list[tuple[str, list[str], str]]:
        """(question, cited uris, expected passage or '') of answered asks on ``index`` with
        helpful feedback and no unhelpful feedback, oldest first."""
        async with self._connection() as conn:
            rows = await (await conn.execute(
                "SELECT r.question, r.citations, max(coalesce(f.expected_passage, ''))"
                " FROM answer_records r JOIN feedback f ON f.record_id = r.id"
                " WHERE r.index_name = %s AND r.kind = 'ask' AND NOT r.abstained AND f.helpful"
                " AND NOT EXISTS (SELECT 1 FROM feedback g WHERE g.record_id = r.id"
                " AND NOT g.helpful)"
                " GROUP BY r.id, r.question, r.citations, r.created_at ORDER BY r.created_at",
                [index])).fetchall()
        return [(str(q), [str(c.get("uri")) for c in (cites or []) if c.get("uri")], str(e))
                for q, cites, e in rows]

    async def route_index(self, name: str) -> tuple[str, dict[str, Any] | None]:
        """One round trip per request: the physical index ``name`` resolves to, and the
        version row of that physical index (None when it is not a version)."""
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT p.physical, v.logical, v.version, v.overrides, v.config, v.fingerprint"
                " FROM"
                " (SELECT coalesce((SELECT physical FROM index_aliases WHERE logical = %s), %s)"
                " AS physical) p LEFT JOIN index_versions v ON v.physical = p.physical",
                [name, name])
            row = await cur.fetchone()
        assert row is not None
        version = None if row["version"] is None else {
            "logical": row["logical"], "version": row["version"], "physical": row["physical"],
            "overrides": row["overrides"] or {}, "config": row["config"],
            "fingerprint": row["fingerprint"]}
        return str(row["physical"]), version

    async def index_sources(self, index: str) -> list[dict[str, Any]]:
        """Sources of an index as plain rows (kind, location and, with permissions, tenant)."""
        async with self._connection() as conn:
            rows = await (await conn.execute(
                "SELECT to_jsonb(s) FROM sources s WHERE index_name = %s ORDER BY id",
                [index])).fetchall()
        return [dict(r[0]) for r in rows]
