"""Domain values -> API response models."""

from __future__ import annotations

from typing import Any

from groundwire.api.schemas import AskResponse, CitationOut, DocumentOut, HitOut, PermissionsBody
from groundwire.domain import Answer, Citation, DocumentRecord, Hit
from groundwire.security.principal import Principal


def hit_out(hit: Hit) -> HitOut:
    return HitOut(
        uri=hit.uri, title=hit.title, text=hit.text, score=round(hit.score, 6),
        heading_path=list(hit.heading_path), char_start=hit.char_start, char_end=hit.char_end,
        document_id=hit.document_id, chunk_id=hit.chunk_id, keyword_rank=hit.keyword_rank,
        vector_rank=hit.vector_rank,
    )


def citation_out(c: Citation) -> CitationOut:
    return CitationOut(
        n=c.n, uri=c.hit.uri, title=c.hit.title, text=c.hit.text, quote=c.quote,
        heading_path=list(c.hit.heading_path), char_start=c.hit.char_start,
        char_end=c.hit.char_end, support=c.support,
    )


def answer_out(answer: Answer) -> AskResponse:
    usage: Any = dict(answer.usage) if answer.usage else None
    return AskResponse(
        answer=answer.text, abstained=answer.abstained, confidence=answer.confidence,
        answerer=answer.answerer, citations=[citation_out(c) for c in answer.citations],
        passages=[hit_out(h) for h in answer.hits], timings_ms=dict(answer.timings_ms),
        degraded=answer.degraded, degraded_reason=answer.degraded_reason,
        provider=answer.provider, model=answer.model, groundedness=answer.groundedness,
        verification=[dict(v) for v in answer.verification],
        prompt_id=answer.prompt_id, prompt_hash=answer.prompt_hash, usage=usage,
        cost=answer.cost, cached=answer.cached,
        attempts=[dict(a) for a in answer.attempts],
        record_id=answer.record_id,
    )


def document_out(d: DocumentRecord, principal: Principal | None = None) -> DocumentOut:
    """A document as the API shows it; its permissions only to its tenant's admins."""
    show = principal is not None and principal.is_admin and principal.tenant == d.tenant
    return DocumentOut(
        id=d.id, uri=d.uri, title=d.title, state=d.state.value, error_code=d.error_code,
        error_message=d.error_message, chunks=d.chunk_count,
        modified_at=d.modified_at.isoformat() if d.modified_at else None,
        indexed_at=d.indexed_at.isoformat() if d.indexed_at else None,
        permissions=_permissions(d.tenant, d.readers) if show else None,
    )


def _permissions(tenant: str, readers: tuple[str, ...]) -> PermissionsBody:
    prefix = f"t:{tenant}:"
    users = [r[len(prefix) + 5:] for r in readers if r.startswith(prefix + "user:")]
    groups = [r[len(prefix) + 6:] for r in readers if r.startswith(prefix + "group:")]
    return PermissionsBody(users=users, groups=groups, everyone=prefix + "everyone" in readers)
