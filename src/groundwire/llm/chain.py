"""The fallback chain: primary → secondary → … ; the caller falls back to the extractive
answer when the chain yields no completion.

Policy (per user request):
* at most ``llm.max_upstream_calls`` upstream calls in all, within ``llm.deadline_s``;
* a provider whose circuit is open is skipped without a call;
* after a failure the chain moves to the next provider. The *same* provider is called again
  only when the failure is retryable, no later provider has a closed or half-open circuit,
  and — for 429 — the server's Retry-After fits in the time left (then the chain waits it;
  other retries back off 0.25 s, 0.5 s, …);
* 400/401/403 are never repeated; 400 (e.g. context length) is the request's fault, so it
  does not count against the provider's circuit, while 401/403 (misconfiguration) do.

``run`` yields text deltas, ``Restart`` when a provider failed after it had already produced
text (the caller discards what it got so far), and finally one ``ChainOutcome``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.context import Context

from groundwire.errors import ProviderError
from groundwire.llm.base import Completion, LLMProvider
from groundwire.llm.breaker import BreakerState, CircuitBreaker
from groundwire.settings import LLMSettings

log = logging.getLogger(__name__)
RETRY_BACKOFF_S = 0.25


@dataclass(frozen=True, slots=True)
class Attempt:
    provider: str
    outcome: str  # "ok", an llm.* error code, or "skipped.breaker_open"
    ms: float


@dataclass(frozen=True, slots=True)
class Restart:
    reason: str
    provider: str


@dataclass(slots=True)
class ChainOutcome:
    completion: Completion | None
    provider: str | None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def upstream_calls(self) -> int:
        return sum(1 for a in self.attempts if not a.outcome.startswith("skipped."))

    @property
    def failure_reason(self) -> str | None:
        """The last upstream failure code; ``llm.breaker_open`` when every provider was
        skipped; None after a success or when nothing was tried."""
        failed = [a.outcome for a in self.attempts if a.outcome.startswith("llm.")]
        if failed:
            return failed[-1]
        if any(a.outcome == "skipped.breaker_open" for a in self.attempts):
            return "llm.breaker_open"
        return None


class FallbackChain:
    def __init__(
        self, providers: Sequence[LLMProvider], settings: LLMSettings,
        *, tracer: trace.Tracer | None = None,
    ) -> None:
        self.providers = list(providers)
        self._settings = settings
        self.breakers = {p.name: CircuitBreaker(settings.breaker) for p in self.providers}
        self._tracer = tracer or trace.NoOpTracer()

    async def aclose(self) -> None:
        for provider in self.providers:
            await provider.aclose()

    def breaker_states(self) -> dict[str, str]:
        return {name: str(b.state) for name, b in self.breakers.items()}

    async def run(
        self, messages: Sequence[dict[str, str]], *, stream: bool,
        max_tokens: int | None = None, parent: Context | None = None,
    ) -> AsyncIterator[str | Restart | ChainOutcome]:
        """``parent``: the trace context of the ``llm.call`` spans (one per attempt, with
        ``llm.provider`` and ``llm.outcome``); default the current context."""
        settings = self._settings
        deadline = time.monotonic() + settings.deadline_s
        outcome = ChainOutcome(None, None)
        for index, provider in enumerate(self.providers):
            breaker = self.breakers[provider.name]
            retries = 0
            while outcome.upstream_calls < settings.max_upstream_calls:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if not breaker.allow():
                    outcome.attempts.append(Attempt(provider.name, "skipped.breaker_open", 0.0))
                    self._tracer.start_span(
                        "llm.call", context=parent,
                        attributes={"llm.provider": provider.name,
                                    "llm.outcome": "skipped.breaker_open"},
                    ).end()
                    break
                started = time.monotonic()
                produced = False
                span = self._tracer.start_span(
                    "llm.call", context=parent, attributes={"llm.provider": provider.name}
                )
                try:
                    completion: Completion | None = None
                    if stream:
                        async for item in provider.stream(
                            messages, max_tokens=max_tokens or settings.max_output_tokens,
                            temperature=settings.temperature, timeout_s=remaining,
                        ):
                            if isinstance(item, Completion):
                                completion = item
                            else:
                                produced = True
                                yield item
                    else:
                        completion = await provider.complete(
                            messages, max_tokens=max_tokens or settings.max_output_tokens,
                            temperature=settings.temperature, timeout_s=remaining,
                        )
                except ProviderError as exc:
                    elapsed = (time.monotonic() - started) * 1000
                    outcome.attempts.append(Attempt(provider.name, exc.code, round(elapsed, 1)))
                    span.set_attribute("llm.outcome", exc.code)
                    span.set_status(trace.StatusCode.ERROR, exc.code)
                    span.end()
                    if exc.code == "llm.context_length":
                        breaker.record_success()  # the endpoint is healthy; our prompt was long
                    else:
                        breaker.record_failure()
                    log.warning("llm_call_failed", extra={"provider": provider.name,
                                                          "code": exc.code})
                    if produced:
                        yield Restart(exc.code, provider.name)
                    wait = self._retry_wait(exc, retries, index, deadline)
                    if wait is None:
                        break
                    retries += 1
                    await asyncio.sleep(wait)
                    continue
                except BaseException:
                    breaker.release_probe()
                    span.set_attribute("llm.outcome", "cancelled")
                    span.end()
                    raise
                assert completion is not None
                span.set_attribute("llm.outcome", "ok")
                span.end()
                breaker.record_success()
                elapsed = (time.monotonic() - started) * 1000
                outcome.attempts.append(Attempt(provider.name, "ok", round(elapsed, 1)))
                outcome.completion = completion
                outcome.provider = provider.name
                yield outcome
                return
            if outcome.upstream_calls >= settings.max_upstream_calls:
                break
        yield outcome

    def _retry_wait(
        self, exc: ProviderError, retries: int, index: int, deadline: float
    ) -> float | None:
        """Seconds to wait before calling the same provider again, or None to move on."""
        if not exc.retryable:
            return None
        later = self.providers[index + 1:]
        if any(self.breakers[p.name].state is not BreakerState.OPEN for p in later):
            return None  # failing over beats waiting
        remaining = deadline - time.monotonic()
        if exc.code == "llm.http_429":
            if exc.retry_after is None or exc.retry_after >= remaining:
                return None
            return exc.retry_after
        wait = RETRY_BACKOFF_S * (2**retries)
        return wait if wait < remaining else None
