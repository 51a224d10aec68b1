"""Self-tuned retrieval settings per index on PostgreSQL (mixed into ``PostgresStore``).

Table from migration ``0008_index_tuning.sql``: one row per index, replaced on every save, so
every process sees the latest auto-tuning (``Groundwire`` reloads it when it is stale).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from groundwire.stores.base import IndexTuningRecord


class PostgresTuning:
    """Requires ``self._connection()`` (provided by ``PostgresStore``)."""

    _connection: Callable[[], Any]  # PostgresStore's pooled-connection factory

    async def save_index_tuning(
        self, index: str, params: Mapping[str, Any], evidence: Mapping[str, Any],
        generation: int,
    ) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO indexes (name) VALUES (%s) ON CONFLICT (name) DO NOTHING", [index]
            )
            await conn.execute(
                """
                INSERT INTO index_tuning (index_name, params, evidence, generation)
                VALUES (%s, %s::jsonb, %s::jsonb, %s)
                ON CONFLICT (index_name) DO UPDATE SET params = EXCLUDED.params,
                    evidence = EXCLUDED.evidence, generation = EXCLUDED.generation,
                    created_at = now()
                """,
                [index, json.dumps(dict(params)), json.dumps(dict(evidence), default=str),
                 generation],
            )

    async def index_tunings(self) -> dict[str, IndexTuningRecord]:
        async with self._connection() as conn:
            rows = await (await conn.execute(
                "SELECT index_name, params, evidence, generation, created_at FROM index_tuning"
            )).fetchall()
        return {
            r[0]: IndexTuningRecord(index=r[0], params=r[1], evidence=r[2], generation=r[3],
                                    created_at=r[4])
            for r in rows
        }

    async def delete_index_tuning(self, index: str) -> bool:
        async with self._connection() as conn:
            cur = await conn.execute("DELETE FROM index_tuning WHERE index_name = %s", [index])
            return bool(cur.rowcount)
