"""Prometheus metrics of one app, in the app's own ``CollectorRegistry``.

Never the global default registry: tests build many apps in one process, and one process
serves one app. Each replica is scraped on its own ``/metrics`` (no multi-process mode: the
server runs one uvicorn worker).

Contract:

* Stage latencies are *not* timed here: ``observe_stages`` turns the ``timings_ms`` the
  retriever and the answer service already measured into histogram observations, so no
  stage is timed twice.
* Answers are counted once, from the final ``Answer`` (outcome, degraded reason, upstream
  attempts, cache hit or miss, tokens and cost). A cached answer carries the usage of the
  call that produced it; it is counted as a cache hit and adds no tokens, cost or attempts.
* Budget scopes of their own (API keys ``key``, workflows ``workflow``; ``llm/budgets.py``)
  are counted from the answer's ``budget``: requests, tokens and cost charged to each and
  answers degraded because one was exhausted, labelled ``kind`` and ``scope`` (the public key
  id or workflow name, never a secret). Principals are not labelled (one series per user
  would be unbounded); their usage is in the ``usage_counters`` table and the records.
* Query requests shed by admission control (``api/admission.py``) are counted by route
  (``count_shed``; ``groundwire_requests_shed_total``).
* Items the background batch writers dead-letter (``stores/batch_writer.py``) are counted
  by writer and code (``count_dead_letter``; every series exists from the start, at 0).
* Breaker states and index/document gauges are read at scrape time: breaker states from a
  callable (cheap, in memory); index statistics from the store through ``render``'s async
  ``stats`` source, cached ``stats_cache_s`` seconds so scrapes stay cheap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from groundwire.domain.budgets import scope_kind
from groundwire.stores.base import IndexStats

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)
SEARCH_STAGES = ("embed", "keyword", "vector", "fusion", "total")
ASK_STAGES = (
    "embed", "keyword", "vector", "fusion", "retrieval", "answer", "llm_first_token", "llm",
    "verify", "total",
)
BREAKER_STATES = ("closed", "open", "half_open")
DEAD_LETTER_WRITERS = ("audit", "records")
DEAD_LETTER_CODES = ("writer.rejected", "writer.unavailable", "writer.prepare_failed")
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
StatsSource = Callable[[], Awaitable[Sequence[IndexStats]]]


class Metrics:
    """The instruments of one app; ``render`` produces the exposition text."""

    def __init__(self, *, stats_cache_s: float = 5.0) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.requests = Histogram(
            "groundwire_http_request_duration_seconds",
            "HTTP request latency by templated route, method and status class.",
            ["route", "method", "status"], registry=reg, buckets=LATENCY_BUCKETS,
        )
        self.stages = Histogram(
            "groundwire_stage_duration_seconds",
            "Latency of one stage of a search or an answer (from the measured timings_ms).",
            ["operation", "stage"], registry=reg, buckets=LATENCY_BUCKETS,
        )
        self.errors = Counter(
            "groundwire_errors", "Error responses by stable error code.", ["code"],
            registry=reg,
        )
        self.answers = Counter(
            "groundwire_answers", "Answers by outcome: answered, abstained or degraded.",
            ["outcome"], registry=reg,
        )
        self.degraded = Counter(
            "groundwire_answers_degraded",
            "Degraded answers (extractive fallback although an LLM is configured) by reason.",
            ["reason"], registry=reg,
        )
        self.llm_calls = Counter(
            "groundwire_llm_attempts",
            "Upstream LLM attempts by provider and outcome ('ok', an llm.* code, "
            "'skipped.breaker_open').", ["provider", "outcome"], registry=reg,
        )
        self.fallbacks = Counter(
            "groundwire_llm_fallbacks",
            "Attempts that failed or were skipped, so the chain moved on (next provider, "
            "retry or the extractive answer), by provider and reason.",
            ["provider", "reason"], registry=reg,
        )
        self.cache = Counter(
            "groundwire_llm_cache_lookups", "LLM answer cache lookups by result (hit, miss).",
            ["result"], registry=reg,
        )
        self.tokens = Counter(
            "groundwire_llm_tokens", "LLM tokens by provider, model and kind (prompt, "
            "completion).", ["provider", "model", "kind"], registry=reg,
        )
        self.cost = Counter(
            "groundwire_llm_cost", "LLM cost (in the price table's currency) by provider and "
            "model.", ["provider", "model"], registry=reg,
        )
        self.budget_requests = Counter(
            "groundwire_budget_requests", "Answers charged to an API key or workflow budget "
            "(one upstream reservation each), by scope kind (key, workflow) and scope (key "
            "id, workflow name).", ["kind", "scope"], registry=reg,
        )
        self.budget_tokens = Counter(
            "groundwire_budget_tokens", "LLM tokens charged to an API key or workflow budget.",
            ["kind", "scope"], registry=reg,
        )
        self.budget_cost = Counter(
            "groundwire_budget_cost", "LLM cost charged to an API key or workflow budget.",
            ["kind", "scope"], registry=reg,
        )
        self.budget_exhausted = Counter(
            "groundwire_budget_exhausted", "Answers degraded because this budget scope "
            "(principal, key or workflow; principals unlabelled) was exhausted.",
            ["kind", "scope"], registry=reg,
        )
        self.dead_letters = Counter(
            "groundwire_writer_dead_letters",
            "Items a background batch writer (audit, records) could not store, by writer and "
            "code (writer.rejected: the store refused the item; writer.unavailable: the store "
            "stayed down past the retries; writer.prepare_failed: redaction/embedding raised).",
            ["writer", "code"], registry=reg,
        )
        self.shed = Counter(
            "groundwire_requests_shed",
            "Query requests refused with 503 server.overloaded by admission control "
            "(api/admission.py), by route.", ["route"], registry=reg,
        )
        self._state = _ScrapeTimeCollector()
        reg.register(self._state)
        self._stats_cache_s = stats_cache_s
        self._stats_at = float("-inf")
        self._stats_lock = asyncio.Lock()
        for stage in SEARCH_STAGES:
            self.stages.labels("search", stage)
        for stage in ASK_STAGES:
            self.stages.labels("ask", stage)
        for outcome in ("answered", "abstained", "degraded"):
            self.answers.labels(outcome)
        for writer in DEAD_LETTER_WRITERS:
            for code in DEAD_LETTER_CODES:
                self.dead_letters.labels(writer, code)

    # ---------------------------------------------------------------- observations
    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "OTHER"
        self.requests.labels(route, method, f"{status // 100}xx").observe(seconds)

    def observe_stages(self, operation: str, timings_ms: Mapping[str, float]) -> None:
        for stage, ms in timings_ms.items():
            self.stages.labels(operation, stage).observe(ms / 1000.0)

    def count_error(self, code: str) -> None:
        self.errors.labels(code).inc()

    def count_shed(self, route: str) -> None:
        """One request shed by admission control (``declare_shed_routes`` makes the series)."""
        self.shed.labels(route).inc()

    def declare_shed_routes(self, routes: Sequence[str]) -> None:
        """Create each route's shed series at 0, so a scrape shows it before any overload."""
        for route in routes:
            self.shed.labels(route)

    def count_dead_letter(self, writer: str, code: str) -> None:
        self.dead_letters.labels(writer, code).inc()

    def observe_answer(self, answer: Any, *, cache_enabled: bool) -> None:
        """Count one final ``Answer`` (see the module contract)."""
        self.observe_stages("ask", answer.timings_ms)
        if answer.degraded:
            self.answers.labels("degraded").inc()
            self.degraded.labels(answer.degraded_reason or "unknown").inc()
        elif answer.abstained:
            self.answers.labels("abstained").inc()
        else:
            self.answers.labels("answered").inc()
        # The cache is consulted after the extractive evidence gate: an extractive abstention
        # never reaches it, an LLM answer (even "not found") or a degraded one did.
        if cache_enabled and (not answer.abstained or answer.answerer == "llm"):
            self.cache.labels("hit" if answer.cached else "miss").inc()
        if answer.cached:
            return
        self._observe_budget(answer)
        for attempt in answer.attempts:
            provider, outcome = str(attempt.get("provider")), str(attempt.get("outcome"))
            self.llm_calls.labels(provider, outcome).inc()
            if outcome != "ok":
                self.fallbacks.labels(provider, outcome).inc()
        usage = answer.usage
        if usage and answer.provider:
            model = answer.model or ""
            self.tokens.labels(answer.provider, model, "prompt").inc(
                max(0, int(usage.get("prompt_tokens") or 0)))
            self.tokens.labels(answer.provider, model, "completion").inc(
                max(0, int(usage.get("completion_tokens") or 0)))
            self.cost.labels(answer.provider, model).inc(max(0.0, float(answer.cost or 0.0)))

    def _observe_budget(self, answer: Any) -> None:
        budget = answer.budget or {}
        exhausted = budget.get("exhausted")
        if exhausted:
            kind, scope = scope_kind(str(exhausted.get("scope")))
            self.budget_exhausted.labels(kind, "" if kind == "principal" else scope).inc()
        usage = answer.usage or {}
        tokens = max(0, int(usage.get("prompt_tokens") or 0)
                     + int(usage.get("completion_tokens") or 0))
        for counter in budget.get("charged", ()):
            kind, scope = scope_kind(str(counter))
            if kind == "principal":
                continue
            self.budget_requests.labels(kind, scope).inc()
            self.budget_tokens.labels(kind, scope).inc(tokens)
            self.budget_cost.labels(kind, scope).inc(max(0.0, float(answer.cost or 0.0)))

    # ---------------------------------------------------------------- scrape
    async def render(
        self, *, stats: StatsSource | None = None,
        breaker_states: Callable[[], Mapping[str, str]] | None = None,
    ) -> bytes:
        """The Prometheus text exposition. ``stats`` is awaited at most once per
        ``stats_cache_s`` (concurrent scrapes share one refresh); ``breaker_states`` is read
        on every scrape."""
        if stats is not None:
            await self._refresh_stats(stats)
        self._state.breakers = dict(breaker_states()) if breaker_states is not None else {}
        return generate_latest(self.registry)

    async def _refresh_stats(self, stats: StatsSource) -> None:
        if time.monotonic() - self._stats_at < self._stats_cache_s:
            return
        async with self._stats_lock:
            if time.monotonic() - self._stats_at < self._stats_cache_s:
                return
            self._state.indexes = list(await stats())
            self._stats_at = time.monotonic()


class _ScrapeTimeCollector(Collector):
    """Gauges whose values are read when scraped: breaker states and index statistics."""

    def __init__(self) -> None:
        self.breakers: dict[str, str] = {}
        self.indexes: list[IndexStats] = []

    def describe(self) -> Iterator[Any]:
        return iter(())  # no fixed families: nothing is collected at registration time

    def collect(self) -> Iterator[GaugeMetricFamily]:
        breaker = GaugeMetricFamily(
            "groundwire_llm_breaker_state",
            "1 for the current circuit-breaker state of each LLM provider, else 0.",
            labels=["provider", "state"],
        )
        for provider, current in sorted(self.breakers.items()):
            for state in BREAKER_STATES:
                breaker.add_metric([provider, state], 1.0 if current == state else 0.0)
        yield breaker
        documents = GaugeMetricFamily(
            "groundwire_index_documents", "Documents per index by ingestion state.",
            labels=["index", "state"],
        )
        errors = GaugeMetricFamily(
            "groundwire_index_document_errors",
            "Failed documents per index by stable error code.", labels=["index", "code"],
        )
        chunks = GaugeMetricFamily(
            "groundwire_index_chunks", "Searchable chunks per index.", labels=["index"]
        )
        embedded = GaugeMetricFamily(
            "groundwire_index_embedded_chunks",
            "Chunks with a stored vector for the index's model.", labels=["index"],
        )
        generation = GaugeMetricFamily(
            "groundwire_index_generation", "The index's generation counter (bumped by every "
            "change to what is searchable).", labels=["index"],
        )
        for s in self.indexes:
            for state, n in sorted(s.documents_by_state.items()):
                documents.add_metric([s.name, str(state)], float(n))
            for code, n in sorted(s.errors_by_code.items()):
                errors.add_metric([s.name, code], float(n))
            chunks.add_metric([s.name], float(s.chunks))
            embedded.add_metric([s.name], float(s.embedded_chunks))
            generation.add_metric([s.name], float(s.generation))
        yield from (documents, errors, chunks, embedded, generation)
