"""Sections of the LLM answer flow: providers, breaker, prices, budgets, cache."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from groundwire.settings.base import _secret, _Section


class ProviderSettings(_Section):
    """One LLM provider of the fallback chain; ``type`` names its registered kind. The built-in
    ``openai`` is any OpenAI-compatible chat completions endpoint (OpenAI, Azure OpenAI, vLLM,
    Ollama, llama.cpp server, LM Studio)."""

    name: str = Field(..., min_length=1, description="Name used in answers, logs and metrics.")
    type: str = Field(
        "openai", min_length=1,
        description="Registered LLM provider kind (entry point group groundwire.llm_providers); "
        "built-in: openai (any OpenAI-compatible HTTP API).",
    )
    base_url: str = Field(
        ..., json_schema_extra=_secret("url"),
        description="API root, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1."
    )
    model: str = Field(..., min_length=1, description="Model name sent upstream.")
    api_key: SecretStr | None = Field(
        None, json_schema_extra=_secret("value"), description="Bearer key (never logged)."
    )
    connect_timeout_s: float = Field(3.0, gt=0, le=60, description="TCP/TLS connect timeout.")
    first_token_timeout_s: float = Field(
        10.0, gt=0, le=600, description="Longest wait for the first byte of the answer."
    )
    stall_timeout_s: float = Field(
        10.0, gt=0, le=600, description="Longest silence between two streamed chunks."
    )
    total_timeout_s: float = Field(
        30.0, gt=0, le=3600, description="Longest a single upstream call may take in all."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, json_schema_extra=_secret("value"),
        description="Extra request headers (e.g. api-version for Azure)."
    )
    stream_usage: bool = Field(
        True, description="Ask for token usage in streams (stream_options.include_usage)."
    )


class BreakerSettings(_Section):
    consecutive_failures: int = Field(
        3, ge=1, le=100, description="Open a provider's circuit after this many failures in a row."
    )
    failure_rate: float = Field(
        0.5, gt=0, le=1, description="...or when this share of the recent calls failed."
    )
    window: int = Field(20, ge=2, le=1000, description="Recent calls the failure rate is over.")
    min_calls: int = Field(
        10, ge=1, le=1000, description="Calls in the window before the failure rate counts."
    )
    open_s: float = Field(
        30.0, gt=0, le=3600, description="Seconds an open circuit waits before one probe call."
    )


class Price(_Section):
    input_per_1m: float = Field(0.0, ge=0, description="Price per million prompt tokens.")
    output_per_1m: float = Field(0.0, ge=0, description="Price per million completion tokens.")


class LLMSettings(_Section):
    providers: list[ProviderSettings] = Field(
        default_factory=list,
        description="Fallback chain, tried in order; the extractive answerer is always the "
        "last resort. Empty: answers are extractive. As an environment variable, JSON: "
        "GROUNDWIRE_LLM__PROVIDERS='[{\"name\":\"local\",\"base_url\":...}]'.",
    )
    max_upstream_calls: int = Field(
        3, ge=1, le=10,
        description="Most upstream calls one user request may make, retries included.",
    )
    deadline_s: float = Field(
        30.0, gt=0, le=3600, description="Time budget of one answer across all upstream calls."
    )
    max_output_tokens: int = Field(512, ge=16, le=32768, description="max_tokens sent upstream.")
    temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")
    context_tokens: int = Field(
        3000, ge=200, le=1_000_000, description="Token budget for the passages in the prompt."
    )
    prompt: str = Field("grounded-answer", description="Prompt template id (see docs/api.md).")
    unsupported: Literal["flag", "drop", "off"] = Field(
        "drop",
        description="What to do with answer sentences their cited passages do not support: "
        "drop them, flag them (kept, marked in verification), or off.",
    )
    max_response_mb: float = Field(
        2.0, gt=0, le=100, description="Upstream response bodies larger than this are failures."
    )
    breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    prices: dict[str, Price] = Field(
        default_factory=dict,
        description="Price table by upstream model name, for cost accounting and budgets.",
    )


class BudgetLimits(_Section):
    requests_per_day: int | None = Field(None, ge=0, description="Answers per UTC day.")
    tokens_per_day: int | None = Field(None, ge=0, description="LLM tokens per UTC day.")
    cost_per_day: float | None = Field(None, ge=0, description="LLM cost per UTC day.")
    requests_per_month: int | None = Field(None, ge=0, description="Answers per UTC month.")
    tokens_per_month: int | None = Field(None, ge=0, description="LLM tokens per UTC month.")
    cost_per_month: float | None = Field(None, ge=0, description="LLM cost per UTC month.")


class BudgetSettings(_Section):
    default: BudgetLimits = Field(
        default_factory=BudgetLimits,
        description="Limits for every principal (a tenant's user) without its own entry.",
    )
    principals: dict[str, BudgetLimits] = Field(
        default_factory=dict, description="Limits per principal `<tenant>/<user>` (e.g. "
        "`acme/bob`), overriding the default."
    )
    api_keys: dict[str, BudgetLimits] = Field(
        default_factory=dict, description="Limits per API key, keyed by its public key id "
        "(the first column of `groundwire keys list`; e.g. `[budgets.api_keys.3f9c0a1b2d4e]`),"
        " checked in addition to the key user's principal limits. Keys without an entry have "
        "no budget of their own."
    )
    workflows: dict[str, BudgetLimits] = Field(
        default_factory=dict, description="Limits per workflow, keyed by its name (e.g. "
        "`[budgets.workflows.zendesk-support]`), checked in addition to its service "
        "principal's. Workflows without an entry have no budget of their own."
    )
    over_budget: Literal["degrade", "reject"] = Field(
        "degrade",
        description="Over budget (any scope: principal, API key or workflow): answer "
        "extractively (degraded, no upstream call) or reject with HTTP 429.",
    )



class CacheSettings(_Section):
    enabled: bool = Field(True, description="Cache LLM answers.")
    ttl_s: float = Field(3600.0, gt=0, description="Seconds a cached answer stays valid.")
    max_entries: int = Field(10_000, ge=1, description="Most answers kept (LRU beyond).")
