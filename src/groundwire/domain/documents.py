"""What flows through ingestion: a source item, its parsed form, its chunks, its stored record."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from groundwire.domain.access import Permissions


def content_hash(data: bytes | str) -> str:
    """Deterministic id for content (P2): sha256 hex of the UTF-8 bytes."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


class DocumentState(StrEnum):
    """Lifecycle of a document record. Only ``indexed`` documents are ever searchable."""

    PENDING = "pending"
    INDEXED = "indexed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One document as a connector found it, before parsing.

    ``uri`` is stable across runs (it identifies the document within its index);
    ``read`` returns the raw bytes lazily so unchanged items can be skipped cheaply when
    ``fingerprint`` (e.g. a content hash supplied by the connector) already matches.
    Items that already carry their text (records from a JSONL file) set ``text`` and ``title``.
    """

    uri: str
    media_type: str
    read: Callable[[], bytes]
    modified_at: datetime | None = None
    size: int | None = None
    title: str | None = None
    text: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    # Who may read it, as the source states it (sidecar, record field, push API); None: the
    # parsed document's front matter decides, else ``security.default_readers``.
    permissions: Permissions | None = None
    permissions_error: str | None = None  # the source's permissions could not be read


@dataclass(frozen=True, slots=True)
class Block:
    """A structural unit of a parsed document: a heading (level 1-6) or a body block (level 0)."""

    text: str
    level: int = 0

    @property
    def is_heading(self) -> bool:
        return self.level > 0


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """Text and structure extracted from one source item, before chunking."""

    title: str
    blocks: tuple[Block, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable passage of a document.

    ``char_start``/``char_end`` index into the document's cleaned text (``ParsedDocument.text``)
    and ``text`` is exactly that slice. ``header`` (title and heading path) is prepended to what
    the embedder and the keyword index see (``search_text``), so a passage keeps its context;
    ``content_hash`` hashes ``search_text`` and keys the stored embedding, so identical passages
    are embedded once per model. ``hash_scope`` (the tenant, for every tenant but the default
    one) is mixed into the hash: embeddings are shared within a tenant, never across tenants, so
    an ingest report ("chunks reused") cannot reveal that another tenant holds the same text.
    """

    position: int
    text: str
    header: str
    heading_path: tuple[str, ...]
    char_start: int
    char_end: int
    token_count: int
    hash_scope: str = ""

    @property
    def search_text(self) -> str:
        return passage_text(self.header, self.text)

    @property
    def content_hash(self) -> str:
        if self.hash_scope:
            return content_hash(f"{self.hash_scope}\x00{self.search_text}")
        return content_hash(self.search_text)


def passage_text(header: str, text: str) -> str:
    """What retrievers index for a chunk: its context header, a blank line, its text."""
    return f"{header}\n\n{text}" if header else text


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """A document as the store knows it (its state and, when failed, a stable error code)."""

    id: int
    index: str
    uri: str
    title: str
    content_hash: str | None
    state: DocumentState
    error_code: str | None = None
    error_message: str | None = None
    modified_at: datetime | None = None
    indexed_at: datetime | None = None
    chunk_count: int = 0
    metadata: Mapping[str, Any] = field(default_factory=dict)
    tenant: str = "default"
    readers: tuple[str, ...] = ()
