"""Search and ask."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from groundwire.answering.service import AnswerDelta, AnswerDone, AnswerEvent, AnswerRestart
from groundwire.api.authz import tenant_index
from groundwire.api.convert import answer_out, hit_out
from groundwire.api.deps import get_app, require
from groundwire.api.routes.audit import audit_answer, audit_search, audited
from groundwire.api.schemas import AskBody, AskResponse, ErrorResponse, SearchBody, SearchResponse
from groundwire.api.sse import primed_stream, sse
from groundwire.app import Groundwire
from groundwire.domain import SearchRequest
from groundwire.security.principal import Principal

router = APIRouter(prefix="/v1", tags=["query"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
    422: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
    503: {"model": ErrorResponse},
}
ASK_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    429: {"model": ErrorResponse, "description": "Budget exhausted "
          "(budgets.over_budget = reject); Retry-After says when it resets."},
}


@router.post("/search", response_model=SearchResponse, responses=ERRORS,
             summary="Hybrid BM25 + dense search")
async def search(
    body: SearchBody, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("search")),
) -> SearchResponse:
    await tenant_index(gw, principal, body.index)
    request = SearchRequest(
        query=body.query, index=body.index, top_k=body.top_k,
        filters=body.filters.model_dump(exclude_none=True), access=principal.access(),
    )
    hits, timings, record_id = await gw.search_recorded(request, principal=principal.name)
    await audit_search(gw, principal, request, hits, record_id)
    return SearchResponse(hits=[hit_out(h) for h in hits], timings_ms=timings,
                          record_id=record_id)


@router.post(
    "/ask", response_model=AskResponse, responses={
        **ASK_ERRORS, 200: {"content": {"text/event-stream": {}},
                            "description": "AskResponse, or an SSE stream when stream=true."}},
    summary="Answer a question with inline [n] citations, or abstain",
)
async def ask(
    body: AskBody, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("ask")),
) -> AskResponse | StreamingResponse:
    await tenant_index(gw, principal, body.index)
    request = SearchRequest(
        query=body.question, index=body.index, top_k=10,
        filters=body.filters.model_dump(exclude_none=True), access=principal.access(),
    )
    if body.stream:
        return await primed_stream(_ask_frames(audited(
            gw, principal, "ask", request, gw.ask_stream(request, principal=principal.name,
                                                budget=principal.budget()))))
    answer = await gw.ask(request, principal=principal.name, budget=principal.budget())
    await audit_answer(gw, principal, "ask", request, answer)
    return answer_out(answer)


async def _ask_frames(events: AsyncIterator[AnswerEvent]) -> AsyncIterator[str]:
    async for event in events:
        if isinstance(event, AnswerDelta):
            yield sse({"text": event.text}, event="token")
        elif isinstance(event, AnswerRestart):
            yield sse({"reason": event.reason, "provider": event.provider}, event="restart")
        elif isinstance(event, AnswerDone):
            out = answer_out(event.answer)
            yield sse({"citations": [c.model_dump() for c in out.citations]}, event="citations")
            yield sse({"groundedness": out.groundedness,
                       "sentences": [v.model_dump() for v in out.verification]},
                      event="verification")
            yield sse(out.model_dump(), event="done")
