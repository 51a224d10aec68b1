"""Audit log export (admin scope): who asked what, which documents were cited and which
permission entry admitted each, and every admin action — of the caller's tenant only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from groundwire.answering.service import AnswerDone, AnswerEvent
from groundwire.api.deps import get_app, require
from groundwire.api.schemas import ErrorResponse
from groundwire.app import Groundwire
from groundwire.domain import Answer, Hit, SearchRequest
from groundwire.safety.redaction import redact_for_storage
from groundwire.security.audit import audit_query, export_lines
from groundwire.security.principal import Principal

router = APIRouter(prefix="/v1", tags=["admin"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
    422: {"model": ErrorResponse}, 429: {"model": ErrorResponse},
}
ACTION = r"^[A-Za-z0-9_.\-]{1,100}(\.\*)?$"


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@router.get(
    "/audit", response_class=StreamingResponse, responses={**ERRORS, 200: {
        "content": {"application/x-ndjson": {}},
        "description": "One audit event per line: {id, at, tenant, actor, action, target, "
                       "details}, oldest first."}},
    summary="Export the audit log of your tenant as JSON lines",
)
async def audit_export(
    principal: Annotated[Principal, Depends(require("admin"))],
    gw: Annotated[Groundwire, Depends(get_app)],
    since: datetime | None = Query(None, description="Only events at or after (ISO 8601)."),
    until: datetime | None = Query(None, description="Only events before (ISO 8601)."),
    action: str | None = Query(None, pattern=ACTION, description="One action (e.g. ask, "
                               "key.create) or a prefix (key.*)."),
) -> StreamingResponse:
    if gw.audit is not None:
        await gw.audit.record(
            tenant=principal.tenant, actor=principal.name, action="audit.export",
            details={"since": since, "until": until, "action": action})
        await gw.audit.flush()  # the export includes everything recorded before it
    lines = export_lines(gw.store.list_audit, tenant=principal.tenant, since=_utc(since),
                         until=_utc(until), action=action)
    return StreamingResponse(lines, media_type="application/x-ndjson", headers={
        "Content-Disposition": 'attachment; filename="audit.jsonl"'})


# ---------------------------------------------------------------------- query audit hooks

async def audit_search(gw: Groundwire, principal: Any, request: SearchRequest,
                       hits: Sequence[Hit], record_id: str | None) -> None:
    """Record a search: who, the question (PII-redacted when stored), the index, and every
    returned passage's document with the permission entry that admitted it."""
    await audit_query(gw.audit, principal, "search", index=request.index,
                      question=redact_for_storage(request.query), hits=hits, record_id=record_id,
                      default_tenant=gw.settings.security.default_tenant)


async def audit_answer(gw: Groundwire, principal: Any, action: str, request: SearchRequest,
                       answer: Answer) -> None:
    """Record an answer (``ask`` / ``chat.completion``): the cited passages' documents and
    the permission entry that admitted each."""
    await audit_query(gw.audit, principal, action, index=request.index,
                      question=redact_for_storage(request.query),
                      hits=[c.hit for c in answer.citations],
                      record_id=answer.record_id, abstained=answer.abstained,
                      answerer=answer.answerer,
                      default_tenant=gw.settings.security.default_tenant)


async def audited(gw: Groundwire, principal: Any, action: str, request: SearchRequest,
                  events: AsyncIterator[AnswerEvent]) -> AsyncIterator[AnswerEvent]:
    """Pass a stream's events through; record the final answer when it comes."""
    async with aclosing(events):  # type: ignore[type-var]
        async for event in events:
            if isinstance(event, AnswerDone):
                await audit_answer(gw, principal, action, request, event.answer)
            yield event
