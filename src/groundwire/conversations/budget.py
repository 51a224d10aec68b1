"""``RewriteBudget``: the answer budget (``budgets.*``, ``llm/budgets.py``) applied to LLM
follow-up rewrites.

* A rewrite is not an answer: it counts no request, but its tokens and cost are added to the
  principal's day and month counters like an answer's (estimated when the provider reports
  no usage).
* ``allows()`` reads the counters without changing them: a principal whose day or month
  requests, tokens or cost are used up gets the deterministic rules, so an over-budget key
  causes no upstream call for a rewrite either (the answer then follows ``budgets.over_budget``
  as always).
"""

from __future__ import annotations

from datetime import UTC, datetime

from groundwire.answering.service import LLMAnswering, llm_model
from groundwire.llm.base import Completion, Usage
from groundwire.llm.budgets import answer_cost, periods
from groundwire.stores.ports.access import UsageStore


class RewriteBudget:
    def __init__(self, llm: LLMAnswering, store: UsageStore, principal: str) -> None:
        self._llm = llm
        self._store = store
        self._principal = principal

    async def allows(self) -> bool:
        """False when any day or month limit of the principal is already reached."""
        limits = self._llm.budgets.limits_for(self._principal)
        day, month = periods(datetime.now(UTC))
        used = await self._store.usage(self._principal)
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
        """Add the rewrite's tokens and cost to the principal's counters."""
        count = self._llm.count_tokens
        usage = completion.usage or Usage(max(1, prompt_chars // 4), count(completion.text),
                                          estimated=True)
        price = (self._llm.settings.prices.get(completion.model)
                 or self._llm.settings.prices.get(llm_model(self._llm, provider)))
        await self._llm.budgets.record(self._principal, usage, answer_cost(usage, price))
