"""What the monitoring layer stores: answer records, feedback on them, and alerts.

Standard library only (like the rest of ``domain``). An ``AnswerRecord`` is PII-safe once
written: the question is redacted before it reaches the store (``monitoring/recorder.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """One search or ask as it was served. ``top_score`` is the best dense cosine similarity
    among the returned passages (comparable across queries, unlike the fused score);
    ``query_embedding`` is the query vector of ``embedding_model`` (drift, content gaps)."""

    id: str
    created_at: datetime
    kind: str  # "search" | "ask"
    index: str
    principal: str
    question: str
    passages: Sequence[Mapping[str, Any]] = ()  # chunk_id, document_id, uri, score, ...
    answer: str | None = None
    citations: Sequence[Mapping[str, Any]] = ()  # n, chunk_id, uri, support
    groundedness: float | None = None
    confidence: float | None = None
    abstained: bool = False
    degraded: bool = False
    degraded_reason: str | None = None
    answerer: str | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    latency_ms: float | None = None
    provider: str | None = None
    model: str | None = None
    prompt_id: str | None = None
    prompt_hash: str | None = None
    index_generation: int | None = None
    cost: float | None = None
    usage: Mapping[str, Any] | None = None
    cached: bool = False
    top_score: float | None = None
    embedding_model: str | None = None
    query_embedding: Sequence[float] | None = None

    def as_json(self, *, embedding: bool = False) -> dict[str, Any]:
        """Plain data for export (JSONL/CSV); the embedding only when asked for."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["created_at"] = self.created_at.isoformat()
        data["passages"] = [dict(p) for p in self.passages]
        data["citations"] = [dict(c) for c in self.citations]
        data["timings"] = dict(self.timings)
        data["usage"] = dict(self.usage) if self.usage is not None else None
        if embedding and self.query_embedding is not None:
            data["query_embedding"] = [round(float(v), 6) for v in self.query_embedding]
        else:
            data.pop("query_embedding")
        return data


@dataclass(frozen=True, slots=True)
class FeedbackEntry:
    id: int
    record_id: str
    created_at: datetime
    helpful: bool
    comment: str | None
    expected_passage: str | None
    principal: str


@dataclass(frozen=True, slots=True)
class Alert:
    """A monitor that fired on an index. Open while ``resolved_at`` is None; at most one open
    alert per (monitor, index)."""

    monitor: str
    index: str
    severity: str  # "warning" | "critical"
    value: float | None
    threshold: float | None
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None
    created_at: datetime | None = None
    resolved_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "monitor": self.monitor, "index": self.index,
            "severity": self.severity, "value": self.value, "threshold": self.threshold,
            "message": self.message, "details": dict(self.details),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "state": "open" if self.resolved_at is None else "resolved",
        }
