"""The MCP tools' argument and result models: their JSON schemas are what an agent reads,
so every field says what it holds. Results carry only what the caller may read."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from groundwire.domain import Answer, DocumentRecord, Hit


class SearchFilters(BaseModel):
    """Restrict the documents searched (applied before ranking)."""

    model_config = ConfigDict(extra="forbid")
    uri_prefix: str | None = Field(
        None, max_length=2000,
        description="Only documents whose uri starts with this, e.g. 'policies/'.")
    media_type: str | None = Field(
        None, max_length=200,
        description="Only documents of this media type, e.g. 'text/markdown'.")
    metadata: dict[str, str | int | float | bool] | None = Field(
        None, max_length=50,
        description="Only documents whose metadata has all these key/value pairs.")


class Passage(BaseModel):
    """One retrieved passage: an exact slice of a document you may read."""

    uri: str = Field(description="The document's uri (pass it to get_document).")
    title: str = Field(description="The document's title.")
    text: str = Field(description="The passage text.")
    score: float = Field(description="Fused relevance score; higher is better, comparable "
                         "within one result list only.")
    heading_path: list[str] = Field(description="Headings above the passage, outermost first.")
    document_id: int = Field(description="The document's id (pass it to get_document).")
    chunk_id: int = Field(description="The passage's id.")


class SearchResult(BaseModel):
    index: str = Field(description="The index searched.")
    hits: list[Passage] = Field(description="Best first; empty when nothing readable matched.")
    record_id: str | None = Field(
        None, description="Id of this query's record (feedback), when records are on.")


class CitationItem(BaseModel):
    n: int = Field(description="The marker number: [n] in the answer text.")
    uri: str
    title: str
    quote: str = Field(description="The passage sentence(s) supporting the claim.")
    text: str = Field(description="The whole cited passage.")
    document_id: int


class AskResult(BaseModel):
    answer: str = Field(description="The answer with inline [n] citation markers; when "
                        "abstained, why no answer was given.")
    abstained: bool = Field(description="True when the documents you may read do not support "
                            "an answer: do not treat `answer` as a fact then.")
    citations: list[CitationItem] = Field(description="The passages the [n] markers cite.")
    confidence: float = Field(description="Evidence support, 0..1.")
    degraded: bool = Field(description="True when an LLM was configured but failed, so this "
                           "is the extractive fallback answer.")
    record_id: str | None = Field(None, description="Id of this answer's record (feedback).")


class DocumentInfo(BaseModel):
    id: int
    index: str
    uri: str
    title: str
    state: str = Field(description="indexed, pending or failed.")
    chunks: int = Field(description="Number of searchable passages.")
    error_code: str | None = Field(None, description="Why ingestion failed (failed only).")
    modified_at: str | None = None
    indexed_at: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class SourceInfo(BaseModel):
    index: str = Field(description="Index name: pass it as `index` to search, ask, "
                       "get_document.")
    readable_documents: int = Field(description="Indexed documents you may read.")
    counts: dict[str, int] = Field(description="Your readable documents by state.")


class SourcesResult(BaseModel):
    sources: list[SourceInfo]


def passage(hit: Hit) -> Passage:
    return Passage(uri=hit.uri, title=hit.title, text=hit.text, score=round(hit.score, 6),
                   heading_path=list(hit.heading_path), document_id=hit.document_id,
                   chunk_id=hit.chunk_id)


def ask_result(answer: Answer) -> AskResult:
    return AskResult(
        answer=answer.text, abstained=answer.abstained, confidence=answer.confidence,
        degraded=answer.degraded, record_id=answer.record_id,
        citations=[CitationItem(n=c.n, uri=c.hit.uri, title=c.hit.title, quote=c.quote,
                                text=c.hit.text, document_id=c.hit.document_id)
                   for c in answer.citations])


def document_info(doc: DocumentRecord) -> DocumentInfo:
    """A document as the tools show it: never its readers (permissions are admin-only
    information in the REST API too)."""
    return DocumentInfo(
        id=doc.id, index=doc.index, uri=doc.uri, title=doc.title, state=doc.state.value,
        chunks=doc.chunk_count, error_code=doc.error_code,
        modified_at=doc.modified_at.isoformat() if doc.modified_at else None,
        indexed_at=doc.indexed_at.isoformat() if doc.indexed_at else None,
        metadata=dict(doc.metadata or {}))
