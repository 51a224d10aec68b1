"""Usage counters per scope and period in ``PostgresStore`` (the ``UsageStore`` port, used by
``llm/budgets.py``). A scope is a principal ``<tenant>/<user>``, ``key:<id>`` or
``workflow:<name>``; every scope has its own rows in ``usage_counters`` (column
``principal``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from groundwire.stores.values import PeriodLimit


class PostgresUsage:
    """Mixin: needs ``_connection()`` from ``PostgresStore``."""

    _connection: Callable[[], Any]  # PostgresStore's pooled-connection factory

    async def reserve_usage(self, principal: str, limits: Sequence[PeriodLimit]) -> str | None:
        exhausted = await self.reserve_usage_scopes({principal: limits})
        return None if exhausted is None else exhausted[1]

    async def reserve_usage_scopes(
        self, limits: Mapping[str, Sequence[PeriodLimit]]
    ) -> tuple[str, str] | None:
        """All-or-nothing over every scope, in one transaction; rows are locked in a fixed
        (scope, period) order, so concurrent reservations never deadlock."""
        keys = sorted({(scope, limit.period) for scope, checks in limits.items()
                       for limit in checks})
        if not keys:
            return None
        scopes, periods = [k[0] for k in keys], [k[1] for k in keys]
        async with self._connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO usage_counters (principal, period)"
                " SELECT * FROM unnest(%s::text[], %s::text[])"
                " ON CONFLICT (principal, period) DO NOTHING",
                [scopes, periods],
            )
            rows = await (
                await conn.execute(
                    "SELECT c.principal, c.period, c.requests, c.tokens, c.cost"
                    " FROM usage_counters c JOIN unnest(%s::text[], %s::text[]) AS k(s, p)"
                    " ON c.principal = k.s AND c.period = k.p"
                    " ORDER BY c.principal, c.period FOR UPDATE OF c",
                    [scopes, periods],
                )
            ).fetchall()
            current = {(r[0], r[1]): (int(r[2]), int(r[3]), float(r[4])) for r in rows}
            for scope in sorted(limits):
                for limit in limits[scope]:
                    requests, tokens, cost = current[(scope, limit.period)]
                    for measure, used, cap in (("requests", requests, limit.requests),
                                               ("tokens", tokens, limit.tokens),
                                               ("cost", cost, limit.cost)):
                        if cap is not None and used >= cap:
                            return scope, f"{limit.period} {measure}"
            await conn.execute(
                "UPDATE usage_counters c SET requests = c.requests + 1, updated_at = now()"
                " FROM unnest(%s::text[], %s::text[]) AS k(s, p)"
                " WHERE c.principal = k.s AND c.period = k.p",
                [scopes, periods],
            )
        return None

    async def add_usage(
        self, principal: str, periods: Sequence[str], *, tokens: int, cost: float
    ) -> None:
        await self.add_usage_scopes([principal], periods, tokens=tokens, cost=cost)

    async def add_usage_scopes(
        self, scopes: Sequence[str], periods: Sequence[str], *, tokens: int, cost: float
    ) -> None:
        keys = sorted({(scope, period) for scope in scopes for period in periods})
        if not keys:
            return
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO usage_counters (principal, period, tokens, cost)"
                " SELECT s, p, %s, %s FROM unnest(%s::text[], %s::text[]) AS k(s, p)"
                " ON CONFLICT (principal, period) DO UPDATE SET"
                " tokens = usage_counters.tokens + EXCLUDED.tokens,"
                " cost = usage_counters.cost + EXCLUDED.cost, updated_at = now()",
                [tokens, cost, [k[0] for k in keys], [k[1] for k in keys]],
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
