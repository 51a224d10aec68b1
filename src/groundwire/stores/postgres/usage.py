"""Usage counters per principal and period in ``PostgresStore`` (the ``UsageStore`` port,
used by ``llm/budgets.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from groundwire.stores.values import PeriodLimit


class PostgresUsage:
    """Mixin: needs ``_connection()`` from ``PostgresStore``."""

    _connection: Callable[[], Any]  # PostgresStore's pooled-connection factory

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
