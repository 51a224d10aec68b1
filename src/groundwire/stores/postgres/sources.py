"""Named sources on PostgreSQL (mixed into ``PostgresStore``); table from migration
``0012_sources.sql``. The port's contract is in ``stores/ports/sources.py``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from groundwire.errors import InvalidRequest, NotFound

_COLUMNS = ("tenant, name, type, options, index_name, schedule, next_run_at, cursor,"
            " last_sync_at, last_status, last_error, last_report, created_at, updated_at")


class PostgresSources:
    """Needs ``self._connection()`` from PostgresStore."""

    _connection: Callable[[], Any]

    async def insert_source(
        self, *, tenant: str, name: str, type: str, options: dict[str, Any], index: str,
        schedule: str | None, next_run_at: datetime | None,
    ) -> dict[str, Any]:
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            try:
                await cur.execute(
                    "INSERT INTO named_sources (tenant, name, type, options, index_name,"
                    " schedule, next_run_at) VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s)"
                    f" RETURNING {_COLUMNS}",
                    [tenant, name, type, json.dumps(options), index, schedule, next_run_at])
            except psycopg.errors.UniqueViolation as exc:
                raise InvalidRequest(f"a source named {name!r} exists already",
                                     code="source.exists") from exc
            row = await cur.fetchone()
        assert row is not None
        return dict(row)

    async def get_source(self, tenant: str, name: str) -> dict[str, Any]:
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_COLUMNS} FROM named_sources"
                              " WHERE tenant = %s AND name = %s", [tenant, name])
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"no source named {name!r}")
        return dict(row)

    async def list_sources(self, tenant: str | None) -> list[dict[str, Any]]:
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_COLUMNS} FROM named_sources"
                              " WHERE %(t)s::text IS NULL OR tenant = %(t)s"
                              " ORDER BY name, tenant", {"t": tenant})
            return [dict(r) for r in await cur.fetchall()]

    async def delete_source(self, tenant: str, name: str) -> bool:
        async with self._connection() as conn:
            cur = await conn.execute(
                "DELETE FROM named_sources WHERE tenant = %s AND name = %s", [tenant, name])
            return bool(cur.rowcount)

    async def record_sync(
        self, tenant: str, name: str, *, status: str, error: dict[str, Any] | None,
        report: dict[str, Any] | None, cursor: dict[str, Any] | None,
        next_run_at: datetime | None,
    ) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "UPDATE named_sources SET last_status = %s, last_error = %s::jsonb,"
                " last_report = COALESCE(%s::jsonb, last_report),"
                " cursor = COALESCE(%s::jsonb, cursor), next_run_at = %s,"
                " last_sync_at = now(), updated_at = now() WHERE tenant = %s AND name = %s",
                [status, json.dumps(error) if error is not None else None,
                 json.dumps(report) if report is not None else None,
                 json.dumps(cursor) if cursor is not None else None, next_run_at,
                 tenant, name])

    async def claim_due_sources(
        self, now: datetime, next_run: Callable[[dict[str, Any]], datetime | None],
    ) -> list[dict[str, Any]]:
        claimed = []
        async with self._connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {_COLUMNS} FROM named_sources WHERE next_run_at <= %s"
                              " ORDER BY next_run_at FOR UPDATE SKIP LOCKED", [now])
            for row in await cur.fetchall():
                await conn.execute(
                    "UPDATE named_sources SET next_run_at = %s, updated_at = now()"
                    " WHERE tenant = %s AND name = %s",
                    [next_run(dict(row)), row["tenant"], row["name"]])
                claimed.append(dict(row))
        return claimed
