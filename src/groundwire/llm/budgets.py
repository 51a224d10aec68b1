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

A request may be charged to several scopes (``domain/budgets.py``: the principal, the API key
``key:<id>``, the workflow ``workflow:<name>``). Every scope with limits is reserved in one
transaction, all-or-nothing (``Store.reserve_usage_scopes``): when any is exhausted nothing is
counted and the ``Reservation`` names that scope. Key and workflow scopes without configured
limits are not charged (no counter rows). The principal is always charged, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from groundwire.domain.budgets import BudgetScopes
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


@dataclass(frozen=True, slots=True)
class Reservation:
    """The outcome of ``BudgetGuard.reserve``: ``charged`` holds the counters one request was
    counted in (usage is added to each after the call); when ``scope`` is set, that scope's
    ``limit`` (``"<period> <measure>"``) is exhausted and nothing was counted."""

    charged: tuple[str, ...] = ()
    scope: str | None = None
    limit: str | None = None

    @property
    def exhausted(self) -> str | None:
        return None if self.scope is None else f"{self.scope} {self.limit}"

    def as_json(self) -> dict[str, object]:
        """What an answer (and its record) carries under ``budget``."""
        out: dict[str, object] = {"charged": list(self.charged)}
        if self.scope is not None:
            out["exhausted"] = {"scope": self.scope, "limit": self.limit}
        return out


class BudgetGuard:
    def __init__(self, store: Store, settings: BudgetSettings) -> None:
        self._store = store
        self._settings = settings

    @property
    def over_budget(self) -> str:
        return self._settings.over_budget

    def limits_for(self, principal: str) -> BudgetLimits:
        """A principal's limits (its own entry, else the default)."""
        return self._settings.principals.get(principal, self._settings.default)

    def _limits(self, kind: str, name: str) -> BudgetLimits | None:
        if kind == "key":
            return self._settings.api_keys.get(name)
        if kind == "workflow":
            return self._settings.workflows.get(name)
        return self.limits_for(name)

    def applicable(self, scopes: BudgetScopes | str) -> list[tuple[str, BudgetLimits]]:
        """``(counter name, limits)`` of every scope of ``scopes`` with a budget: always the
        principal; a key or workflow only with its own entry."""
        if isinstance(scopes, str):
            scopes = BudgetScopes(scopes)
        found = ((counter, self._limits(kind, name)) for kind, name, counter in scopes.scopes())
        return [(counter, limits) for counter, limits in found if limits is not None]

    async def reserve(self, scopes: BudgetScopes | str,
                      now: datetime | None = None) -> Reservation:
        """Count one request in every applicable scope, or in none (see ``Reservation``)."""
        day, month = periods(now or datetime.now(UTC))
        checks = {
            name: [PeriodLimit(day, limits.requests_per_day, limits.tokens_per_day,
                               limits.cost_per_day),
                   PeriodLimit(month, limits.requests_per_month, limits.tokens_per_month,
                               limits.cost_per_month)]
            for name, limits in self.applicable(scopes)
        }
        exhausted = await self._store.reserve_usage_scopes(checks)
        if exhausted is not None:
            return Reservation(scope=exhausted[0], limit=exhausted[1])
        return Reservation(charged=tuple(checks))

    async def record(self, charged: Sequence[str] | str, usage: Usage, cost: float,
                     now: datetime | None = None) -> None:
        """Add tokens and cost to each charged scope's day and month counters."""
        day, month = periods(now or datetime.now(UTC))
        scopes = [charged] if isinstance(charged, str) else list(charged)
        await self._store.add_usage_scopes(scopes, [day, month], tokens=usage.total_tokens,
                                           cost=cost)
