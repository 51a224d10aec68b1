"""Documents with their states and coded errors."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from groundwire.api.convert import document_out
from groundwire.api.deps import get_app
from groundwire.api.schemas import DocumentsResponse, ErrorResponse
from groundwire.app import Groundwire
from groundwire.domain import DocumentState

router = APIRouter(prefix="/v1", tags=["documents"])


@router.get("/documents", response_model=DocumentsResponse,
            responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
            summary="Documents of an index with state (pending/indexed/failed) and error code")
async def list_documents(
    index: str = Query("default"),
    state: DocumentState | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    gw: Groundwire = Depends(get_app),
) -> DocumentsResponse:
    stats = await gw.stats(index)
    docs = await gw.documents(index, state=state, limit=limit, offset=offset)
    return DocumentsResponse(
        index=index, counts=dict(stats.documents_by_state), errors=dict(stats.errors_by_code),
        documents=[document_out(d) for d in docs],
    )
