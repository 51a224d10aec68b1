"""``FollowupRewriter``: the standalone query of a turn, by the LLM chain when one is
configured, else (or when it fails) by the deterministic rules of ``rewrite.py``.

Contract of ``await rewriter.rewrite(question, history)``:

* ``history`` is the earlier exchanges, oldest first (each the question as asked, the
  standalone query used for it when known, and the answer); empty on a first turn, where the
  question is returned unchanged and no model is called.
* With a chain, the model gets the last ``LLM_TURNS`` exchanges (answers cut to
  ``ANSWER_CHARS``) and returns one line; a failed chain, an empty or over-long reply falls
  back to the rules (method ``rules``). The reply only becomes a *search query*: retrieval
  still runs with the caller's own permissions, so a passage quoted in an earlier answer cannot
  widen what is read.
* With a ``budget``, a caller whose answer budget is used up gets the rules (no upstream
  call), and a rewrite's tokens and cost count against it (``budget.py``).
* The rules see the previous turn's standalone query (recomputed along the history when it is
  not given), so a chain of follow-ups keeps the first question's subject.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from groundwire.conversations.rewrite import (
    MAX_QUERY_CHARS,
    METHOD_NONE,
    Rewrite,
    rewrite_followup,
)
from groundwire.llm.base import Completion
from groundwire.llm.chain import ChainOutcome

log = logging.getLogger(__name__)
METHOD_LLM = "llm"
LLM_TURNS = 3
ANSWER_CHARS = 600
MAX_TOKENS = 96
SYSTEM_PROMPT = (
    "You rewrite the user's last question into one standalone search query for a document "
    "search engine. Resolve pronouns and ellipsis from the conversation (name the subject "
    "explicitly), keep every specific term of the question, add nothing else, do not answer "
    "it. If the question already stands on its own, repeat it unchanged. Reply with the query "
    "only, on one line."
)


@dataclass(frozen=True, slots=True)
class Exchange:
    """An earlier turn: ``question`` as asked, ``standalone`` the query used for it (None:
    unknown, e.g. a chat completion's earlier messages), ``answer`` the reply shown."""

    question: str
    answer: str = ""
    standalone: str | None = None


class Chain(Protocol):
    """What the rewriter needs of ``llm.chain.FallbackChain``."""

    def run(self, messages: Sequence[dict[str, str]], *, stream: bool,
            max_tokens: int | None = None) -> AsyncIterator[object]: ...


class Budget(Protocol):
    """What the rewriter needs of ``budget.RewriteBudget``."""

    async def allows(self) -> bool: ...

    async def record(self, completion: Completion, provider: str | None,
                     prompt_chars: int) -> None: ...


class FollowupRewriter:
    def __init__(self, chain: Chain | None = None, budget: Budget | None = None) -> None:
        """``chain``: the application's LLM fallback chain, None for the rules only;
        ``budget``: the caller's answer budget (an exhausted one means the rules, no call;
        a rewrite's tokens and cost are recorded in it)."""
        self._chain = chain
        self._budget = budget

    @property
    def uses_llm(self) -> bool:
        return self._chain is not None

    async def rewrite(self, question: str, history: Sequence[Exchange]) -> Rewrite:
        question = " ".join(question.split())
        if not history:
            return Rewrite(question, METHOD_NONE)
        if self._chain is not None and (self._budget is None or await self._budget.allows()):
            rewritten = await self._llm(question, history)
            if rewritten is not None:
                return rewritten
        return rewrite_followup(question, previous_standalone(history))

    async def _llm(self, question: str, history: Sequence[Exchange]) -> Rewrite | None:
        assert self._chain is not None
        messages = [{"role": "system", "content": SYSTEM_PROMPT}]
        for exchange in history[-LLM_TURNS:]:
            messages.append({"role": "user", "content": exchange.question})
            if exchange.answer:
                messages.append({"role": "assistant", "content": exchange.answer[:ANSWER_CHARS]})
        messages.append({"role": "user", "content": f"Rewrite this question: {question}"})
        outcome: ChainOutcome | None = None
        events = self._chain.run(messages, stream=False, max_tokens=MAX_TOKENS)
        async for item in events:
            if isinstance(item, ChainOutcome):
                outcome = item
        if outcome is None or outcome.completion is None:
            log.info("followup_rewrite_fallback",
                     extra={"reason": outcome.failure_reason if outcome else "none"})
            return None
        if self._budget is not None:
            await self._budget.record(outcome.completion, outcome.provider,
                                      sum(len(m["content"]) for m in messages))
        lines = [line.strip().strip('"').strip() for line in outcome.completion.text.splitlines()]
        query = next((line for line in lines if line), "")
        if not query or len(query) > MAX_QUERY_CHARS:
            return None
        return Rewrite(query, METHOD_LLM)


def previous_standalone(history: Sequence[Exchange]) -> str | None:
    """The standalone query of the last exchange: as recorded, else the rules' rewrite of
    the questions in order."""
    previous: str | None = None
    for exchange in history:
        previous = exchange.standalone or rewrite_followup(exchange.question, previous).query
    return previous
