"""Workflow events, deliveries and review decisions on PostgreSQL (mixed into
``PostgresStore``); tables from migration ``0014_workflows.sql``. Contract: the
``WorkflowStore`` port (``stores/ports/workflows.py``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from psycopg.rows import dict_row

from groundwire.errors import InvalidRequest
from groundwire.stores.ports.workflows import WORKFLOW_EVENT_FIELDS

_EVENT_COLUMNS = (
    "id, workflow, idempotency_key, tenant, state, event, question, draft, answer, confidence,"
    " reply, claimed_by, claimed_at, decided_by, decided_at, edit_distance, created_at,"
    " drafted_at, updated_at")
_JSON_FIELDS = frozenset({"answer"})


class PostgresWorkflows:
    """Needs ``self._connection()`` from PostgresStore."""

    _connection: Callable[[], Any]

    async def _workflow_rows(self, sql: str, params: Any) -> list[dict[str, Any]]:
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(sql, params)
            return list(await cur.fetchall()) if cur.description else []

    async def add_workflow_event(self, workflow: str, key: str, tenant: str,
                                 event: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        rows = await self._workflow_rows(
            f"INSERT INTO workflow_events (id, workflow, idempotency_key, tenant, event)"
            f" VALUES (%s, %s, %s, %s, %s::jsonb)"
            f" ON CONFLICT (workflow, idempotency_key) DO NOTHING RETURNING {_EVENT_COLUMNS}",
            [uuid.uuid4().hex, workflow, key, tenant, json.dumps(event)])
        if rows:
            return rows[0], True
        existing = await self._workflow_rows(
            f"SELECT {_EVENT_COLUMNS} FROM workflow_events"
            f" WHERE workflow = %s AND idempotency_key = %s", [workflow, key])
        return existing[0], False

    async def workflow_event(self, event_id: str) -> dict[str, Any] | None:
        rows = await self._workflow_rows(
            f"SELECT {_EVENT_COLUMNS} FROM workflow_events WHERE id = %s", [event_id])
        return rows[0] if rows else None

    async def list_workflow_events(self, workflow: str, *, state: str | None = None,
                                   limit: int = 100, offset: int = 0
                                   ) -> list[dict[str, Any]]:
        return await self._workflow_rows(
            f"SELECT {_EVENT_COLUMNS} FROM workflow_events WHERE workflow = %(w)s"
            f" AND (%(s)s::text IS NULL OR state = %(s)s)"
            f" ORDER BY created_at DESC, id LIMIT %(l)s OFFSET %(o)s",
            {"w": workflow, "s": state, "l": limit, "o": offset})

    async def update_workflow_event(self, event_id: str, fields: dict[str, Any], *,
                                    expect_states: tuple[str, ...] | None = None
                                    ) -> dict[str, Any] | None:
        unknown = sorted(set(fields) - WORKFLOW_EVENT_FIELDS)
        if unknown or not fields:
            raise InvalidRequest(f"cannot update workflow event columns {unknown}")
        names = sorted(fields)
        sets = ", ".join(f"{n} = %s" + ("::jsonb" if n in _JSON_FIELDS else "")
                         for n in names)  # names come from the allow-list above
        values = [json.dumps(fields[n]) if n in _JSON_FIELDS else fields[n] for n in names]
        rows = await self._workflow_rows(
            f"UPDATE workflow_events SET {sets}, updated_at = now() WHERE id = %s"
            f" AND (%s::text[] IS NULL OR state = ANY(%s::text[])) RETURNING {_EVENT_COLUMNS}",
            [*values, event_id, list(expect_states) if expect_states else None,
             list(expect_states) if expect_states else None])
        return rows[0] if rows else None

    async def claim_workflow_event(self, event_id: str, actor: str
                                   ) -> dict[str, Any] | None:
        rows = await self._workflow_rows(
            f"UPDATE workflow_events SET claimed_by = %s, claimed_at = now(), updated_at = now()"
            f" WHERE id = %s AND state = 'review' AND (claimed_by IS NULL OR claimed_by = %s)"
            f" RETURNING {_EVENT_COLUMNS}", [actor, event_id, actor])
        return rows[0] if rows else None

    async def add_workflow_delivery(self, event_id: str, attempt: int, *, ok: bool,
                                    status: int | None, error: str | None,
                                    ms: float) -> None:
        await self._workflow_rows(
            "INSERT INTO workflow_deliveries (event_id, attempt, ok, status, error, ms)"
            " VALUES (%s, %s, %s, %s, %s, %s)", [event_id, attempt, ok, status, error, ms])

    async def workflow_deliveries(self, event_id: str) -> list[dict[str, Any]]:
        return await self._workflow_rows(
            "SELECT attempt, ok, status, error, ms, at FROM workflow_deliveries"
            " WHERE event_id = %s ORDER BY id", [event_id])

    async def add_workflow_decision(self, event_id: str, action: str, actor: str,
                                    detail: dict[str, Any]) -> None:
        await self._workflow_rows(
            "INSERT INTO workflow_decisions (event_id, action, actor, detail)"
            " VALUES (%s, %s, %s, %s::jsonb)", [event_id, action, actor, json.dumps(detail)])

    async def workflow_decisions(self, event_id: str) -> list[dict[str, Any]]:
        return await self._workflow_rows(
            "SELECT action, actor, detail, at FROM workflow_decisions"
            " WHERE event_id = %s ORDER BY id", [event_id])

    async def workflow_stats(self, workflow: str) -> dict[str, Any]:
        states = await self._workflow_rows(
            "SELECT state, count(*) AS n FROM workflow_events WHERE workflow = %s"
            " GROUP BY state", [workflow])
        decided = (await self._workflow_rows(
            "SELECT count(*) FILTER (WHERE d.action = 'approve') AS approved,"
            " count(*) FILTER (WHERE d.action = 'reject') AS rejected,"
            " count(*) FILTER (WHERE d.action = 'auto') AS auto_delivered,"
            " avg(e.edit_distance) FILTER (WHERE d.action = 'approve') AS mean_edit_distance,"
            " avg(extract(epoch FROM e.decided_at - e.drafted_at))"
            "   FILTER (WHERE d.action IN ('approve', 'reject')) AS mean_decision_s"
            " FROM workflow_decisions d JOIN workflow_events e ON e.id = d.event_id"
            " WHERE e.workflow = %s", [workflow]))[0]
        deliveries = (await self._workflow_rows(
            "SELECT count(*) FILTER (WHERE d.ok) AS ok, count(*) FILTER (WHERE NOT d.ok)"
            " AS failed FROM workflow_deliveries d JOIN workflow_events e"
            " ON e.id = d.event_id WHERE e.workflow = %s", [workflow]))[0]
        reviewed = int(decided["approved"]) + int(decided["rejected"])
        return {
            "events": {r["state"]: int(r["n"]) for r in states},
            "approved": int(decided["approved"]),
            "rejected": int(decided["rejected"]),
            "auto_delivered": int(decided["auto_delivered"]),
            "approval_rate": (int(decided["approved"]) / reviewed) if reviewed else None,
            "mean_edit_distance": _float(decided["mean_edit_distance"]),
            "mean_decision_s": _float(decided["mean_decision_s"]),
            "deliveries": {"ok": int(deliveries["ok"]), "failed": int(deliveries["failed"])},
        }


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
