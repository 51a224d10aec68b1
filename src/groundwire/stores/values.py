"""Values that cross the store ports (``stores/ports.py``): what ingestion writes, what
retrieval reads back, index statistics, tuning records and budget limits. Plain frozen
dataclasses; ``stores/base.py`` re-exports them under their historical import path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from groundwire.domain import Chunk, DocumentState
from groundwire.domain.documents import passage_text


@dataclass(frozen=True, slots=True)
class KnownDocument:
    """What the store remembers of a document to decide whether it changed."""

    id: int
    content_hash: str | None
    pipeline_fingerprint: str | None
    state: DocumentState


@dataclass(frozen=True, slots=True)
class DocumentWrite:
    """A fully processed document ready to be committed with its chunks."""

    uri: str
    title: str
    media_type: str
    content_hash: str
    pipeline_fingerprint: str
    chunks: Sequence[Chunk]
    modified_at: datetime | None = None
    size_bytes: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source_id: int | None = None
    tenant: str = "default"
    readers: Sequence[str] = ("t:default:admin",)
    minhash: bytes | None = None  # MinHash signature (groundwire.minhash.to_bytes), or None


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk row joined with its document, as retrieval returns it."""

    chunk_id: int
    document_id: int
    uri: str
    title: str
    media_type: str
    text: str
    header: str
    heading_path: tuple[str, ...]
    char_start: int
    char_end: int
    metadata: Mapping[str, Any]
    tenant: str = "default"
    readers: tuple[str, ...] = ()

    @property
    def search_text(self) -> str:
        return passage_text(self.header, self.text)


@dataclass(frozen=True, slots=True)
class IndexStats:
    name: str
    generation: int
    documents_by_state: Mapping[str, int]
    errors_by_code: Mapping[str, int]
    chunks: int
    embedded_chunks: int


@dataclass(frozen=True, slots=True)
class IndexTuningRecord:
    """An index's self-tuned retrieval settings (a ``RetrievalTuning`` as a dict) and the
    evidence for them (see ``groundwire/quality/autotune.py``)."""

    index: str
    params: Mapping[str, Any]
    evidence: Mapping[str, Any]
    generation: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PeriodLimit:
    """Limits of one budget period (``None``: unlimited)."""

    period: str  # e.g. "day:2026-11-26", "month:2026-11"
    requests: int | None = None
    tokens: int | None = None
    cost: float | None = None
