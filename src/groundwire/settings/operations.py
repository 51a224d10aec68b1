"""Sections of running the service: server, database, jobs, monitoring, telemetry."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from groundwire.settings.base import _secret, _Section


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

    store: str = Field(
        "postgres",
        description="Registered store kind (entry point group groundwire.stores); built-in: "
        "postgres (`database_url`, else the embedded server).",
    )
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
