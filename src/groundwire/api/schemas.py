"""Request and response models of the HTTP API (pydantic, boundary only)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uri_prefix: str | None = Field(None, description="Only documents whose uri starts with this.")
    media_type: str | None = Field(None, description="Only documents of this media type.")
    metadata: dict[str, Any] | None = Field(
        None, description="Only documents whose metadata contains all these key/value pairs."
    )


class SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(..., min_length=1, max_length=20000, description="Search query.")
    index: str = Field("default", description="Index name.")
    top_k: int = Field(10, ge=1, le=100, description="Number of hits.")
    filters: Filters = Field(default_factory=Filters)  # type: ignore[arg-type]


class AskBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., min_length=1, max_length=20000, description="The question.")
    index: str = Field("default", description="Index name.")
    filters: Filters = Field(default_factory=Filters)  # type: ignore[arg-type]


class IngestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(..., description="Folder or file on the server's file system.")
    index: str = Field("default", description="Index name.")
    retry_failed: bool = Field(False, description="Re-process documents that failed before.")
    wait: bool = Field(False, description="Block until done and return the report.")


class HitOut(BaseModel):
    uri: str
    title: str
    text: str
    score: float
    heading_path: list[str]
    char_start: int
    char_end: int
    document_id: int
    chunk_id: int
    keyword_rank: int | None
    vector_rank: int | None


class SearchResponse(BaseModel):
    hits: list[HitOut]
    timings_ms: dict[str, float]


class CitationOut(BaseModel):
    n: int = Field(..., description="The number used as [n] in the answer text.")
    uri: str
    title: str
    text: str = Field(..., description="The whole cited passage.")
    quote: str = Field(..., description="The sentence of the passage the answer uses.")
    heading_path: list[str]
    char_start: int
    char_end: int


class AskResponse(BaseModel):
    answer: str
    abstained: bool
    confidence: float
    answerer: str
    citations: list[CitationOut]
    passages: list[HitOut] = Field(..., description="Every passage the answerer read.")
    timings_ms: dict[str, float]


class IngestReportOut(BaseModel):
    documents: dict[str, int]
    chunks_embedded: int
    chunks_reused: int
    errors: dict[str, int]


class IngestJobOut(BaseModel):
    id: str
    index: str
    path: str
    state: Literal["running", "succeeded", "failed"]
    done: int
    total: int
    report: IngestReportOut | None
    error: dict[str, str] | None


class DocumentOut(BaseModel):
    id: int
    uri: str
    title: str
    state: str
    error_code: str | None
    error_message: str | None
    chunks: int
    modified_at: str | None
    indexed_at: str | None


class DocumentsResponse(BaseModel):
    index: str
    counts: dict[str, int]
    errors: dict[str, int]
    documents: list[DocumentOut]


class ErrorBody(BaseModel):
    code: str = Field(..., description="Stable machine-readable code, e.g. request.invalid.")
    message: str
    request_id: str | None = None
    details: Any | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
