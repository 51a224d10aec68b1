"""Search and ask."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from groundwire.api.convert import citation_out, hit_out
from groundwire.api.deps import get_app
from groundwire.api.schemas import AskBody, AskResponse, ErrorResponse, SearchBody, SearchResponse
from groundwire.app import Groundwire
from groundwire.domain import SearchRequest

router = APIRouter(prefix="/v1", tags=["query"])
ERRORS = {422: {"model": ErrorResponse}, 404: {"model": ErrorResponse},
          503: {"model": ErrorResponse}}


@router.post("/search", response_model=SearchResponse, responses=ERRORS,
             summary="Hybrid BM25 + dense search")
async def search(body: SearchBody, gw: Groundwire = Depends(get_app)) -> SearchResponse:
    request = SearchRequest(
        query=body.query, index=body.index, top_k=body.top_k,
        filters=body.filters.model_dump(exclude_none=True),
    )
    hits, timings = await gw.search(request)
    return SearchResponse(hits=[hit_out(h) for h in hits], timings_ms=timings)


@router.post("/ask", response_model=AskResponse, responses=ERRORS,
             summary="Answer a question with inline [n] citations, or abstain")
async def ask(body: AskBody, gw: Groundwire = Depends(get_app)) -> AskResponse:
    request = SearchRequest(
        query=body.question, index=body.index, top_k=10,
        filters=body.filters.model_dump(exclude_none=True),
    )
    answer = await gw.ask(request)
    return AskResponse(
        answer=answer.text, abstained=answer.abstained, confidence=answer.confidence,
        answerer=answer.answerer, citations=[citation_out(c) for c in answer.citations],
        passages=[hit_out(h) for h in answer.hits], timings_ms=dict(answer.timings_ms),
    )
