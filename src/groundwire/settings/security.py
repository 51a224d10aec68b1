"""Sections of security: rate limits, PII policy, who may read what."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from groundwire.settings.base import _Section


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
