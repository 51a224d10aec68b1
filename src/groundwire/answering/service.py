"""``AnswerService``: retrieve, then answer — with an LLM when providers are configured,
extractively otherwise or when every provider fails.

The flow of one question (``ask`` and ``ask_stream`` share it):

1. Retrieve the top passages (hybrid search, filters applied before ranking).
2. Run the extractive answerer. It is the *evidence gate*: when even the best sentence is too
   weakly supported it abstains, and no upstream call is made (no cost for questions the corpus
   cannot answer). Otherwise its answer is the ready fallback.
3. No providers configured: return the extractive answer (not degraded).
4. Cache lookup (``llm/cache.py``); a hit is returned with ``cached=True``.
5. Budget check for every scope (``BudgetScopes``: principal, API key, workflow;
   ``llm/budgets.py``) *before* any upstream call; over budget → the extractive answer
   flagged ``degraded`` (reason ``budget.exceeded``) or ``BudgetExceeded`` (HTTP 429), per
   ``budgets.over_budget``. The answer's ``budget`` names the scopes charged or exhausted.
6. Pack the prompt (``llm/prompts.py``) and run the fallback chain (``llm/chain.py``).
7. Verify citations (``answering/verification.py``): invalid ``[n]`` removed, unsupported
   sentences dropped or flagged per ``llm.unsupported``; groundedness and per-citation support
   go on the answer. An answer with nothing supported left falls back to extractive.
8. Every provider failed → the extractive answer, ``degraded=True`` with the last failure code.
9. On the way out (``AnswerGuard``, ``safety/output_filter.py``), for every path: PII is
   redacted where the index's policy is ``redact_answers``, and images, links and URLs to
   hosts not on ``security.output_url_allowlist`` are removed — from the answer text,
   citation quotes and verification sentences, and from streamed tokens before they are sent.

Streaming yields ``AnswerDelta`` (text as the model writes it), ``AnswerRestart`` (a provider
failed after it had produced text: discard what was shown), then one ``AnswerDone`` with the
verified answer, whose text may differ from the streamed text (dropped sentences).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from opentelemetry import trace

from groundwire.answering.base import Answerer
from groundwire.answering.screening import screen_passages
from groundwire.domain import Answer, Citation, Hit, SearchRequest
from groundwire.domain.budgets import BudgetScopes
from groundwire.errors import BudgetExceeded
from groundwire.llm.base import Usage
from groundwire.llm.budgets import BudgetGuard, answer_cost, seconds_until_reset
from groundwire.llm.cache import AnswerCache, cache_key
from groundwire.llm.chain import ChainOutcome, FallbackChain, Restart
from groundwire.llm.prompts import NOT_FOUND_ANSWER, PackedPrompt, PromptTemplate, pack_prompt
from groundwire.retrieval.hybrid import HybridRetriever
from groundwire.safety.output_filter import AnswerGuard, OutputFilter
from groundwire.settings import LLMSettings
from groundwire.stores.base import Store
from groundwire.text import WORD2 as _WORD

log = logging.getLogger(__name__)
ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class AnswerDelta:
    text: str


@dataclass(frozen=True, slots=True)
class AnswerRestart:
    reason: str
    provider: str


@dataclass(frozen=True, slots=True)
class AnswerDone:
    """The final answer; ``query_vector`` is the question's embedding when retrieval made one
    (answer records reuse it instead of embedding the question again)."""

    answer: Answer
    query_vector: Any | None = None


AnswerEvent = AnswerDelta | AnswerRestart | AnswerDone


@dataclass(slots=True)
class LLMAnswering:
    """Everything the LLM path needs (built in bootstrap)."""

    chain: FallbackChain
    verifier: Any  # answering.verification.CitationVerifier
    template: PromptTemplate
    settings: LLMSettings
    budgets: BudgetGuard
    cache: AnswerCache | None
    count_tokens: Callable[[str], int]


class AnswerService:
    def __init__(
        self,
        *,
        retriever: HybridRetriever,
        answerer: Answerer,
        passages: int,
        encode_pool: ThreadPoolExecutor,
        store: Store | None = None,
        llm: LLMAnswering | None = None,
        tracer: trace.Tracer | None = None,
        guard: AnswerGuard | None = None,
    ) -> None:
        """``guard`` sanitizes everything shown (PII policy, output URL filter); default: the
        output filter with an empty allowlist (no external links or images in answers)."""
        self._retriever = retriever
        self.guard = guard or AnswerGuard(OutputFilter())
        self.answerer = answerer
        self._passages = passages
        self._pool = encode_pool
        self._store = store
        self.llm = llm
        # Spans: retrieval (in the retriever), answer, llm (one llm.call child per attempt),
        # verify. This is an async generator, so spans that cover a ``yield`` (llm) are never
        # made current; their children get the parent context explicitly.
        self._tracer = tracer or trace.NoOpTracer()

    async def aclose(self) -> None:
        if self.llm is not None:
            await self.llm.chain.aclose()

    async def ask(self, request: SearchRequest, *, principal: str = ANONYMOUS,
                  budget: BudgetScopes | None = None) -> Answer:
        return (await self.answer(request, principal=principal, budget=budget)).answer

    async def answer(self, request: SearchRequest, *, principal: str = ANONYMOUS,
                     budget: BudgetScopes | None = None) -> AnswerDone:
        """``ask`` with the query vector: the final event of the non-streamed flow.
        ``budget``: the scopes charged (default: ``principal`` alone)."""
        final: AnswerDone | None = None
        run = self._run(request, budget or BudgetScopes(principal), stream=False)
        async for event in self._guarded(request, run):
            if isinstance(event, AnswerDone):
                final = event
        assert final is not None
        return final

    def ask_stream(
        self, request: SearchRequest, *, principal: str = ANONYMOUS,
        budget: BudgetScopes | None = None,
    ) -> AsyncIterator[AnswerEvent]:
        return self._guarded(
            request, self._run(request, budget or BudgetScopes(principal), stream=True))

    async def _guarded(
        self, request: SearchRequest, events: AsyncIterator[AnswerEvent]
    ) -> AsyncIterator[AnswerEvent]:
        """The way out: streamed text is released only once it cannot be (part of) a
        disallowed link, image or URL and is PII-redacted per the index's policy; the final
        answer is sanitized the same way (``safety/output_filter.py``)."""
        from contextlib import aclosing

        loop = asyncio.get_running_loop()
        stream = self.guard.stream(request.index)
        if self.guard.redacts(request.index):  # build the PII detector off the loop, once
            await loop.run_in_executor(self._pool, self.guard.warm)
        async with aclosing(events):  # type: ignore[type-var]
            async for event in events:
                if isinstance(event, AnswerDelta):
                    # Inline, no await: a token is yielded from inside the fallback chain's
                    # timeouts, which must not fire while this generator waits elsewhere.
                    text = stream.feed(event.text)
                    if text:
                        yield AnswerDelta(text)
                elif isinstance(event, AnswerRestart):
                    stream.reset()
                    yield event
                elif isinstance(event, AnswerDone):
                    rest = stream.flush()
                    if rest:
                        yield AnswerDelta(rest)
                    answer = await loop.run_in_executor(
                        self._pool, self.guard.answer, request.index, event.answer)
                    yield AnswerDone(answer, event.query_vector)
                else:
                    yield event

    async def _run(
        self, request: SearchRequest, scopes: BudgetScopes, *, stream: bool
    ) -> AsyncIterator[AnswerEvent]:
        started = time.perf_counter()
        search = replace(request, top_k=max(request.top_k, self._passages))
        retrieval = await self._retriever.retrieve(search)
        hits, timings = retrieval.hits, retrieval.timings_ms
        top = hits[: self._passages]
        timings = dict(timings)
        timings["retrieval"] = timings.pop("total", _ms(started))
        t0 = time.perf_counter()
        loop = asyncio.get_running_loop()
        with self._tracer.start_as_current_span("answer") as span:
            extractive = await loop.run_in_executor(
                self._pool, self.answerer.answer, request.query, top
            )
            span.set_attribute("answer.abstained", extractive.abstained)
        timings["answer"] = _ms(t0)

        def done(answer: Answer, **changes: Any) -> AnswerDone:
            total = {**timings, "total": _ms(started)}
            return AnswerDone(replace(answer, timings_ms=total, **changes),
                              retrieval.query_vector)

        llm = self.llm
        if llm is None or extractive.abstained:
            if stream and not extractive.abstained:
                yield AnswerDelta(extractive.text)
            yield done(extractive)
            return

        key = await self._cache_key(llm, request)
        if key is not None and llm.cache is not None:
            cached = llm.cache.get(key)
            if cached is not None:
                if stream:
                    yield AnswerDelta(cached.text)
                yield done(cached, cached=True)
                return

        # Passages with instruction-like text are excluded from the prompt or moved last
        # (answering/screening.py); none left: the extractive answer, no upstream call.
        screen = await loop.run_in_executor(self._pool, screen_passages, top)
        if not screen.prompt_hits:
            if stream:
                yield AnswerDelta(extractive.text)
            yield done(extractive, degraded=True, degraded_reason="llm.passages_flagged",
                       flagged=screen.flagged)
            return

        reservation = await llm.budgets.reserve(scopes)
        if reservation.limit is not None:
            if llm.budgets.over_budget == "reject":
                from datetime import UTC, datetime

                raise BudgetExceeded(
                    f"budget exhausted: {reservation.exhausted}",
                    retry_after=seconds_until_reset(reservation.limit, datetime.now(UTC)),
                )
            if stream:
                yield AnswerDelta(extractive.text)
            yield done(extractive, degraded=True, degraded_reason="budget.exceeded",
                       budget=reservation.as_json())
            return

        packed = pack_prompt(llm.template, request.query, screen.prompt_hits,
                             context_tokens=llm.settings.context_tokens,
                             count_tokens=llm.count_tokens)
        t0 = time.perf_counter()
        outcome = ChainOutcome(None, None)
        first_token_ms: float | None = None
        llm_span = self._tracer.start_span("llm", attributes={"llm.stream": stream})
        try:
            async for item in llm.chain.run(packed.messages, stream=stream,
                                            parent=trace.set_span_in_context(llm_span)):
                if isinstance(item, ChainOutcome):
                    outcome = item
                elif isinstance(item, Restart):
                    first_token_ms = None
                    yield AnswerRestart(item.reason, item.provider)
                else:
                    if first_token_ms is None:
                        first_token_ms = _ms(t0)
                    yield AnswerDelta(item)
        finally:
            llm_span.set_attribute("llm.provider", outcome.provider or "")
            llm_span.set_attribute("llm.attempts", len(outcome.attempts))
            llm_span.end()
        timings["llm"] = _ms(t0)
        if first_token_ms is not None:
            timings["llm_first_token"] = first_token_ms
        attempts = tuple(
            {"provider": a.provider, "outcome": a.outcome, "ms": a.ms} for a in outcome.attempts
        )
        common: dict[str, Any] = {"attempts": attempts, "prompt_id": llm.template.id,
                  "prompt_hash": llm.template.content_hash, "flagged": screen.flagged,
                  "budget": reservation.as_json()}

        completion = outcome.completion
        if completion is None:
            reason = outcome.failure_reason or "llm.unavailable"
            if stream:
                if first_token_ms is not None:
                    yield AnswerRestart(reason, "extractive")
                yield AnswerDelta(extractive.text)
            yield done(extractive, degraded=True, degraded_reason=reason, **common)
            return

        usage = completion.usage or Usage(
            packed.prompt_tokens_estimate, llm.count_tokens(completion.text), estimated=True
        )
        cost = answer_cost(usage, llm.settings.prices.get(completion.model)
                           or llm.settings.prices.get(llm_model(llm, outcome.provider)))
        await llm.budgets.record(reservation.charged, usage, cost)
        common.update(
            provider=outcome.provider, model=completion.model, cost=round(cost, 8),
            usage={"prompt_tokens": usage.prompt_tokens,
                   "completion_tokens": usage.completion_tokens, "estimated": usage.estimated},
        )

        t0 = time.perf_counter()
        with self._tracer.start_as_current_span("verify"):
            answer = await loop.run_in_executor(
                self._pool, self._verified_answer, request.query, completion.text, packed, llm,
            )
        timings["verify"] = _ms(t0)
        if answer is None:  # nothing the passages support survived verification
            if stream:
                yield AnswerRestart("llm.unsupported", "extractive")
                yield AnswerDelta(extractive.text)
            yield done(extractive, degraded=True, degraded_reason="llm.unsupported", **common)
            return
        answer = replace(answer, **common)
        if key is not None and llm.cache is not None and not answer.degraded:
            llm.cache.put(key, answer)
        yield done(answer)

    async def _cache_key(self, llm: LLMAnswering, request: SearchRequest) -> str | None:
        if llm.cache is None or self._store is None:
            return None
        generation = await self._store.generation(request.index)
        models = ",".join(f"{p.name}:{p.model}" for p in llm.chain.providers)
        return cache_key(
            # Who reads is part of the scope: two readers never share an answer built from
            # passages only one of them may read.
            question=request.query, index=request.index,
            scope={**dict(request.filters), "access": _access_key(request)},
            generation=generation, prompt=f"{llm.template.id}:{llm.template.content_hash}",
            models=models,
        )

    def _verified_answer(
        self, question: str, text: str, packed: PackedPrompt, llm: LLMAnswering
    ) -> Answer | None:
        from groundwire.answering.verification import apply_policy

        hits = packed.hits
        if text.strip().startswith(NOT_FOUND_ANSWER[:30]):
            return Answer(question, NOT_FOUND_ANSWER, True, (), hits, 0.0, answerer="llm")
        verification = llm.verifier.verify(text, [h.text for h in hits])
        final = apply_policy(text, verification, llm.settings.unsupported)
        final = _without_invalid_markers(final, len(hits)).strip()
        claims = [s for s in verification.sentences if s.needs_citation]
        supported = [s for s in claims if s.supported]
        if not final or (claims and not supported):
            return None
        cited = _cited_in(final, len(hits))
        if not cited:
            return None
        citations = tuple(
            Citation(n, hits[n - 1], _quote(hits[n - 1], final),
                     round(float(verification.per_citation.get(n, 0.0)), 4))
            for n in cited
        )
        sentences = tuple(
            {"text": s.text, "cited": list(s.cited), "support": round(float(s.support), 4),
             "supported": bool(s.supported), "needs_citation": bool(s.needs_citation)}
            for s in verification.sentences
        )
        confidence = max((c.support or 0.0) for c in citations)
        return Answer(
            question, final, False, citations, hits, round(confidence, 4), answerer="llm",
            groundedness=round(float(verification.groundedness), 4), verification=sentences,
        )


def llm_model(llm: LLMAnswering, provider: str | None) -> str:
    for p in llm.chain.providers:
        if p.name == provider:
            return p.model
    return ""


def _cited_in(text: str, passages: int) -> list[int]:
    from groundwire.answering.verification import cited_numbers

    seen: list[int] = []
    for n in cited_numbers(text):
        if 1 <= n <= passages and n not in seen:
            seen.append(n)
    return sorted(seen)


_MARKER_GROUP = re.compile(r"\s?\[(\d+(?:\s*,\s*\d+)*)\]")


def _without_invalid_markers(text: str, passages: int) -> str:
    """Every ``[n]`` left must point at a passage that was in the prompt, whatever the policy:
    invalid numbers are removed from marker groups, and empty groups disappear."""

    def keep(match: re.Match[str]) -> str:
        valid = [n for n in re.split(r"\s*,\s*", match.group(1)) if 1 <= int(n) <= passages]
        if not valid:
            return ""
        return match.group(0).split("[")[0] + "[" + ", ".join(valid) + "]"

    return _MARKER_GROUP.sub(keep, text)


def _quote(hit: Hit, answer: str) -> str:
    """The passage sentence sharing the most words with the answer (what the UI highlights)."""
    from groundwire.ingest.chunking import split_sentences

    words = set(_WORD.findall(answer.lower()))
    best, best_overlap = hit.text[:300], -1
    for start, end in split_sentences(hit.text):
        sentence = hit.text[start:end].strip()
        overlap = len(words & set(_WORD.findall(sentence.lower())))
        if overlap > best_overlap:
            best, best_overlap = sentence, overlap
    return best


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)


def _access_key(request: SearchRequest) -> list[str] | str:
    access = request.access
    if access is None or access.unrestricted:
        return "system"
    return [str(access.tenant), *sorted(access.tokens)]
