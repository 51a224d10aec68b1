"""Rate-limit buckets and the audit log on PostgreSQL (mixed into ``PostgresStore``).

Tables from migration ``0006_audit_ratelimit.sql``.

``take_token`` is one statement: an ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` that
computes the refill from the time elapsed since the bucket's last update (database clock, so
replicas with skewed clocks agree), takes one token when at least one is there, and returns
the outcome. The conflicting row is locked for the statement, so concurrent takes on one
bucket from any number of processes serialise: a bucket never hands out more tokens than
``capacity + elapsed * rate``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from groundwire.domain.audit import AuditEvent
from groundwire.errors import StoreUnavailable

# The fill level now: the stored level plus the refill since updated_at, capped at capacity.
# GREATEST(0, ...) because a transaction that started earlier may update after a later one.
_REFILLED = (
    "LEAST(%(capacity)s::float8, b.tokens + %(rate)s::float8"
    " * GREATEST(0, extract(epoch FROM (now() - b.updated_at))))"
)
_TAKE = f"""
INSERT INTO rate_buckets AS b (key, route_class, tokens, allowed, updated_at)
VALUES (%(key)s, %(route_class)s, %(capacity)s::float8 - 1, true, now())
ON CONFLICT (key, route_class) DO UPDATE SET
    tokens = CASE WHEN {_REFILLED} >= 1 THEN {_REFILLED} - 1 ELSE {_REFILLED} END,
    allowed = {_REFILLED} >= 1,
    updated_at = GREATEST(b.updated_at, now())
RETURNING allowed, tokens
"""

_AUDIT_COLUMNS = ("id", "at", "tenant", "actor", "action", "target", "details")


class PostgresSecurityEdges:
    """Requires ``self._connection()`` (provided by ``PostgresStore``)."""

    _connection: Callable[[], Any]  # PostgresStore's pooled-connection factory

    # ------------------------------------------------------------------ rate limits
    async def take_token(
        self, key: str, route_class: str, *, capacity: int, per_second: float
    ) -> tuple[bool, float]:
        try:
            async with self._connection() as conn:
                row = await (await conn.execute(
                    _TAKE, {"key": key, "route_class": route_class,
                            "capacity": float(capacity), "rate": float(per_second)},
                )).fetchone()
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"PostgreSQL unreachable: {exc}") from exc
        assert row is not None
        return bool(row[0]), float(row[1])

    # ------------------------------------------------------------------ audit log
    async def insert_audit(self, events: Sequence[AuditEvent]) -> None:
        if not events:
            return
        rows = [(e.at, e.tenant, e.actor, e.action, e.target,
                 json.dumps(dict(e.details), default=str)) for e in events]
        try:
            async with self._connection() as conn, conn.cursor() as cur:
                await cur.executemany(
                    "INSERT INTO audit_log (at, tenant, actor, action, target, details)"
                    " VALUES (%s, %s, %s, %s, %s, %s::jsonb)", rows)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"PostgreSQL write failed: {exc}") from exc

    async def list_audit(
        self, *, tenant: str | None = None, since: datetime | None = None,
        until: datetime | None = None, action: str | None = None, after_id: int | None = None,
        limit: int = 1000,
    ) -> list[AuditEvent]:
        where: list[str] = ["TRUE"]
        params: dict[str, Any] = {}
        if tenant is not None:
            where.append("tenant = %(tenant)s")
            params["tenant"] = tenant
        if since is not None:
            where.append("at >= %(since)s")
            params["since"] = since
        if until is not None:
            where.append("at < %(until)s")
            params["until"] = until
        if action is not None:
            # "key.*" selects key and every key.<x> action; any other value matches exactly.
            if action.endswith(".*"):
                action = action.removesuffix(".*")
                where.append("(action = %(action)s OR starts_with(action, %(prefix)s))")
                params["prefix"] = action + "."
            else:
                where.append("action = %(action)s")
            params["action"] = action
        if after_id is not None:
            where.append("id > %(after_id)s")
            params["after_id"] = after_id
        params["limit"] = limit
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM audit_log"
                f" WHERE {' AND '.join(where)} ORDER BY id LIMIT %(limit)s", params)
            rows = await cur.fetchall()
        return [AuditEvent(id=r["id"], at=r["at"], tenant=r["tenant"], actor=r["actor"],
                           action=r["action"], target=r["target"], details=r["details"] or {})
                for r in rows]
