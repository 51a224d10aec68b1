"""What retrieval and answering return, and what an ingest run reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from groundwire.domain.access import Access


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A search over one index. ``filters`` restrict candidates *before* ranking.

    Supported filter keys: ``uri_prefix`` (str), ``media_type`` (str) and
    ``metadata`` (mapping of key to required value, exact match on the document's metadata).
    """

    query: str
    index: str = "default"
    top_k: int = 10
    filters: Mapping[str, Any] = field(default_factory=dict)
    # Who is reading: applied inside both retrievers before ranking. None reads everything and
    # is only for trusted in-process callers (CLI, evaluation); the API always sets it.
    access: Access | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked passage. ``score`` is the fused score (higher is better, comparable within
    one result list only); the per-retriever ranks/scores explain how it got there."""

    chunk_id: int
    document_id: int
    uri: str
    title: str
    text: str
    heading_path: tuple[str, ...]
    char_start: int
    char_end: int
    score: float
    keyword_score: float | None = None
    vector_score: float | None = None
    keyword_rank: int | None = None
    vector_rank: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    admitted_by: str | None = None  # the reader entry that let this reader see it (audit)


@dataclass(frozen=True, slots=True)
class Citation:
    """Inline citation ``[n]`` in an answer, mapped to the passage that supports it."""

    n: int
    hit: Hit
    quote: str
    support: float | None = None  # verified support of the sentences citing it (LLM answers)


@dataclass(frozen=True, slots=True)
class Answer:
    """A grounded answer. When ``abstained`` is true, ``text`` explains why and
    ``citations`` is empty; ``hits`` still lists what was retrieved, for transparency."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    confidence: float
    answerer: str = "extractive"
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    # LLM answers (see answering/service.py); the extractive answerer leaves the defaults.
    degraded: bool = False  # an LLM was configured but the answer is the extractive fallback
    degraded_reason: str | None = None  # e.g. "llm.timeout", "budget.exceeded"
    provider: str | None = None
    model: str | None = None
    groundedness: float | None = None  # share of answer sentences their citations support
    prompt_id: str | None = None
    prompt_hash: str | None = None
    usage: Mapping[str, Any] | None = None  # prompt_tokens, completion_tokens, estimated
    cost: float | None = None
    cached: bool = False
    attempts: tuple[Mapping[str, Any], ...] = ()  # upstream calls: provider, outcome, ms
    verification: tuple[Mapping[str, Any], ...] = ()  # per sentence: text, cited, support, ...
    record_id: str | None = None  # the answer record (monitoring), for feedback
    # passages the injection screen flagged before the prompt (answering/screening.py)
    flagged: tuple[Mapping[str, Any], ...] = ()
    # budget scopes charged ({"charged": [...]}) or the exhausted one ({"exhausted": {scope,
    # limit}}), see llm/budgets.py; None when no budget was consulted (no LLM, cache hit)
    budget: Mapping[str, Any] | None = None


@dataclass(slots=True)
class IngestReport:
    """Counts from one ingest run (mutable while the run is going; returned when done)."""

    indexed: int = 0
    unchanged: int = 0
    failed: int = 0
    deleted: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def record_failure(self, code: str) -> None:
        self.failed += 1
        self.errors[code] = self.errors.get(code, 0) + 1

    def as_json(self) -> dict[str, Any]:
        return {
            "documents": {
                "indexed": self.indexed,
                "unchanged": self.unchanged,
                "failed": self.failed,
                "deleted": self.deleted,
            },
            "chunks_embedded": self.chunks_embedded,
            "chunks_reused": self.chunks_reused,
            "errors": dict(self.errors),
        }
