"""``RewriteBudget``: the answer budget (``budgets.*``, ``llm/budgets.py``) applied to LLM
follow-up rewrites.

* A rewrite is not an answer: it counts no request, but its tokens and cost are added to the
  principal's day and month counters like an answer's (estimated when the provider reports
  no usage).
* ``allows()`` reads the counters without changing them: when any budget scope of the caller
  (principal, API key, workflow: ``domain/budgets.py``) has a day or month limit of requests,
  tokens or cost used up, the deterministic rules are used, so an over-budget key causes no
  upstream call for a rewrite either (the answer then follows ``budgets.over_budget`` as
  always).
"""

from __future__ import annotations

from datetime import UTC, datetime

from groundwire.answering.service import LLMAnswering, llm_model
from groundwire.domain.budgets import BudgetScopes
from groundwire.llm.base import Completion, Usage
from groundwire.llm.budgets import answer_cost, periods
from groundwire.stores.ports.access import UsageStore


class RewriteBudget:
    def __init__(self, llm: LLMAnswering, store: UsageStore,
                 principal: BudgetScopes | str) -> None:
        self._llm = llm
        self._store = store
        self._scopes = BudgetScopes(principal) if isinstance(principal, str) else principal

    async def allows(self) -> bool:
        """False when any day or month limit of any budget scope is already reached."""
        day, month = periods(datetime.now(UTC))
        for scope, limits in self._llm.budgets.applicable(self._scopes):
            used = await self._store.usage(scope)
            for period, caps in ((day, (limits.requests_per_day, limits.tokens_per_day,
                                        limits.cost_per_day)),
                                 (month, (limits.requests_per_month, limits.tokens_per_month,
                                          limits.cost_per_month))):
                counters = used.get(period, {})
                for name, cap in zip(("requests", "tokens", "cost"), caps, strict=True):
                    if cap is not None and float(counters.get(name, 0) or 0) >= cap:
                        return False
        return True

    async def record(self, completion: Completion, provider: str | None,
                     prompt_chars: int) -> None:
        """Add the rewrite's tokens and cost to the counters of every budget scope."""
        count = self._llm.count_tokens
        usage = completion.usage or Usage(max(1, prompt_chars // 4), count(completion.text),
                                          estimated=True)
        price = (self._llm.settings.prices.get(completion.model)
                 or self._llm.settings.prices.get(llm_model(self._llm, provider)))
        charged = [scope for scope, _ in self._llm.budgets.applicable(self._scopes)]
        await self._llm.budgets.record(charged, usage, answer_cost(usage, price))
