"""Request and response models of the HTTP API (pydantic, boundary only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from groundwire.domain import Permissions

# PostgreSQL text and jsonb cannot hold NUL: strings that reach SQL refuse it (422, not 500).
_NO_NUL = r"^[^\x00]*$"
NoNulStr = Annotated[str, StringConstraints(pattern=_NO_NUL)]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uri_prefix: str | None = Field(None, max_length=2000, pattern=_NO_NUL,
                                   description="Only documents whose uri starts with this.")
    media_type: str | None = Field(None, max_length=200, pattern=_NO_NUL,
                                   description="Only documents of this media type.")
    metadata: dict[NoNulStr, Any] | None = Field(
        None, max_length=50,
        description="Only documents whose metadata contains all these key/value pairs."
    )

    @field_validator("metadata")
    @classmethod
    def _no_nul(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and _has_nul(value):
            raise ValueError("metadata values may not contain NUL (\\u0000)")
        return value


class SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(..., min_length=1, max_length=20000, description="Search query.")
    index: str = Field("default", max_length=64, description="Index name.")
    top_k: int = Field(10, ge=1, le=100, description="Number of hits.")
    filters: Filters = Field(default_factory=Filters)


class AskBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., min_length=1, max_length=20000, description="The question.")
    index: str = Field("default", max_length=64, description="Index name.")
    filters: Filters = Field(default_factory=Filters)
    stream: bool = Field(
        False,
        description="Answer as Server-Sent Events: `token` ({text}) while the model writes, "
        "`restart` ({reason, provider}) when a provider failed mid-answer (discard the text so "
        "far), then `citations`, `verification` and `done` (the whole AskResponse; its "
        "`answer` is the verified text, which may differ from the streamed tokens).",
    )


class IngestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(..., max_length=4096,
                      description="Folder or file on the server's file system.")
    index: str = Field("default", max_length=64, description="Index name.")
    retry_failed: bool = Field(False, description="Re-process documents that failed before.")
    wait: bool = Field(False, description="Block until done and return the report.")


class AssessmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str | None = Field(
        None, max_length=4096, description="Folder, file or JSONL/JSONL.GZ records file on "
        "the server "
        "(assessed before ingestion)."
    )
    index: str | None = Field(None, max_length=64,
                              description="Or: an indexed index to assess.")
    questions: list[Annotated[str, StringConstraints(max_length=2000)]] | None = Field(
        None, max_length=5000,
        description="Questions for the coverage dimension; default: derived from headings.",
    )
    wait: bool = Field(False, description="Block until done and return the report.")


JobStateOut = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class AssessmentJobOut(BaseModel):
    id: str
    target: dict[str, str | None]
    state: JobStateOut
    stage: str = Field(..., description="queued, read, analyse or done.")
    done: int = Field(..., description="Documents processed in the current stage.")
    total: int | None = Field(None, description="Documents in the stage, when known.")
    report: dict[str, Any] | None = Field(
        None, description="The report (schema in docs/assessment.md) once succeeded."
    )
    error: dict[str, str] | None = None
    html_url: str | None = Field(None, description="The self-contained HTML report.")


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
    record_id: str | None = Field(
        None, description="Id of the stored answer record; send it to POST /v1/feedback."
    )


class CitationOut(BaseModel):
    n: int = Field(..., description="The number used as [n] in the answer text.")
    uri: str
    title: str
    text: str = Field(..., description="The whole cited passage.")
    quote: str = Field(..., description="The sentence of the passage the answer uses.")
    heading_path: list[str]
    char_start: int
    char_end: int
    support: float | None = Field(
        None, description="LLM answers: how well this passage supports the sentences citing it."
    )


class SentenceCheckOut(BaseModel):
    text: str
    cited: list[int]
    support: float
    supported: bool
    needs_citation: bool


class AttemptOut(BaseModel):
    provider: str
    outcome: str = Field(..., description='"ok", an llm.* failure code, or skipped.breaker_open')
    ms: float


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    estimated: bool = Field(..., description="True when the provider sent no usage.")


class AskResponse(BaseModel):
    answer: str
    abstained: bool
    confidence: float
    answerer: str = Field(..., description='"llm" or "extractive".')
    citations: list[CitationOut]
    passages: list[HitOut] = Field(..., description="Every passage the answerer read.")
    timings_ms: dict[str, float]
    degraded: bool = Field(
        False, description="An LLM is configured but this is the extractive fallback."
    )
    degraded_reason: str | None = Field(
        None, description="Why, e.g. llm.timeout, llm.http_5xx, budget.exceeded."
    )
    provider: str | None = Field(None, description="The provider that wrote the answer.")
    model: str | None = None
    groundedness: float | None = Field(
        None, description="Share of claim sentences their citations support (LLM answers)."
    )
    verification: list[SentenceCheckOut] = Field(default_factory=list)
    prompt_id: str | None = None
    prompt_hash: str | None = None
    usage: UsageOut | None = None
    cost: float | None = None
    cached: bool = False
    attempts: list[AttemptOut] = Field(default_factory=list)
    record_id: str | None = Field(
        None, description="Id of the stored answer record; send it to POST /v1/feedback."
    )


class IngestReportOut(BaseModel):
    documents: dict[str, int]
    chunks_embedded: int
    chunks_reused: int
    errors: dict[str, int]


class IngestJobOut(BaseModel):
    id: str
    index: str
    path: str
    state: JobStateOut
    done: int
    total: int
    report: IngestReportOut | None
    error: dict[str, str] | None


class JobOut(BaseModel):
    """A background job (GET /v1/jobs/{id}); ``state=failed`` means dead letter: it failed
    its last attempt and waits for POST /v1/jobs/{id}/retry."""

    id: str
    kind: Literal["ingest", "assessment", "version_build", "source_sync", "workflow_event"]
    tenant: str
    owner: str = Field(..., description="The principal that started it.")
    state: JobStateOut
    done: int = Field(..., description="Items processed (documents for an ingest).")
    total: int = Field(..., description="Items known so far (0: not yet known).")
    stage: str = Field("", description="Stage of a multi-stage job (assessment).")
    attempts: int = Field(..., description="Attempts started (retries included).")
    worker: str | None = Field(None, description="host:pid of the worker running it.")
    params: dict[str, Any]
    result: Any = Field(None, description="The job's result once succeeded (an ingest "
                        "report, an assessment report, a version row).")
    error: dict[str, Any] | None = Field(None, description="The last attempt's error.")
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class JobListOut(BaseModel):
    jobs: list[JobOut]


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
    permissions: PermissionsBody | None = Field(
        None, description="Who may read it (shown to the tenant's admins only)."
    )


_NAME = r"^[A-Za-z0-9._@+-]{1,200}$"


class PermissionsBody(BaseModel):
    """Who may read a document. Empty lists and everyone=false: the tenant's admins only."""

    model_config = ConfigDict(extra="forbid")
    users: list[Annotated[str, StringConstraints(pattern=_NAME)]] = Field(
        default_factory=list, max_length=1000)
    groups: list[Annotated[str, StringConstraints(pattern=_NAME)]] = Field(
        default_factory=list, max_length=1000)
    everyone: bool = Field(False, description="Every user of the tenant may read it.")

    def to_domain(self) -> Permissions:
        return Permissions(users=tuple(sorted(set(self.users))),
                           groups=tuple(sorted(set(self.groups))), everyone=self.everyone)


class PushDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uri: str = Field(..., min_length=1, max_length=2000, pattern=_NO_NUL,
                     description="Stable id within your tenant's pushed documents.")
    title: str = Field("", max_length=1000, pattern=_NO_NUL)
    text: str = Field(..., min_length=1, max_length=2_000_000)
    metadata: dict[NoNulStr, NoNulStr | int | float | bool] | None = Field(None, max_length=100)
    permissions: PermissionsBody | None = Field(
        None, description="Who may read it; absent: security.default_readers.")


class PushBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    index: str = Field("default", max_length=64)
    documents: list[PushDocument] = Field(..., min_length=1, max_length=100)


class PushResponse(BaseModel):
    report: IngestReportOut
    documents: list[DocumentOut]


class DocumentsResponse(BaseModel):
    index: str
    counts: dict[str, int]
    errors: dict[str, int]
    documents: list[DocumentOut]
    access: dict[str, Any] | None = Field(
        None, description="For admin keys: this tenant's indexed documents of the index "
        "(`indexed`), how many only the tenant's admins can read (`admin_only`: they state "
        "no readers and `security.default_readers` is empty), and the setting that opens "
        "them (`opened_by`). Absent for other keys.")
    note: str | None = Field(
        None, description="For admin keys, when some documents are readable by admins only: "
        "what hides them and how to open them.")


class ErrorBody(BaseModel):
    code: str = Field(..., description="Stable machine-readable code, e.g. request.invalid.")
    message: str
    request_id: str | None = None
    details: Any | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody
