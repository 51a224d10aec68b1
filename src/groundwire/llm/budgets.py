"""Cost accounting and budgets.

Cost = prompt tokens × input price + completion tokens × output price, from the price table
``llm.prices`` (per million tokens, keyed by upstream model name). Token counts come from the
provider's ``usage``; when a provider sends none they are estimated with the embedder's
tokenizer and the answer says ``estimated``.

Budgets (requests, tokens, cost per UTC day and month) are per principal — the API key or
tenant a request is made as — and are checked *before* any upstream call: the request is
counted in the same transaction that checks the limits (``Store.reserve_usage``), so a
principal over budget never causes an upstream call, and the limits hold across API replicas
because the counters live in PostgreSQL. Tokens and cost are added after the call, so one
request may overshoot a token or cost limit by its own size; the next one is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from groundwire.llm.base import Usage
from groundwire.settings import BudgetLimits, BudgetSettings, Price
from groundwire.stores.base import PeriodLimit, Store


def answer_cost(usage: Usage, price: Price | None) -> float:
    if price is None:
        return 0.0
    return (usage.prompt_tokens * price.input_per_1m
            + usage.completion_tokens * price.output_per_1m) / 1_000_000


def periods(now: datetime) -> tuple[str, str]:
    """The (day, month) period keys containing ``now`` (UTC)."""
    now = now.astimezone(UTC)
    return f"day:{now:%Y-%m-%d}", f"month:{now:%Y-%m}"


def seconds_until_reset(exhausted: str, now: datetime) -> int:
    """Seconds until the period named in ``exhausted`` (``"day:..."``/``"month:..."``) ends."""
    now = now.astimezone(UTC)
    if exhausted.startswith("day:"):
        end = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (first + timedelta(days=32)).replace(day=1)
    return max(int((end - now).total_seconds()) + 1, 1)


class BudgetGuard:
    def __init__(self, store: Store, settings: BudgetSettings) -> None:
        self._store = store
        self._settings = settings

    @property
    def over_budget(self) -> str:
        return self._settings.over_budget

    def limits_for(self, principal: str) -> BudgetLimits:
        return self._settings.principals.get(principal, self._settings.default)

    async def reserve(self, principal: str, now: datetime | None = None) -> str | None:
        """Count one request; None when allowed, else what is exhausted (nothing counted)."""
        now = now or datetime.now(UTC)
        day, month = periods(now)
        limits = self.limits_for(principal)
        checks = [
            PeriodLimit(day, limits.requests_per_day, limits.tokens_per_day, limits.cost_per_day),
            PeriodLimit(month, limits.requests_per_month, limits.tokens_per_month,
                        limits.cost_per_month),
        ]
        return await self._store.reserve_usage(principal, checks)

    async def record(self, principal: str, usage: Usage, cost: float,
                     now: datetime | None = None) -> None:
        day, month = periods(now or datetime.now(UTC))
        await self._store.add_usage(principal, [day, month], tokens=usage.total_tokens,
                                    cost=cost)
