"""Self-tuning of retrieval per index: read the settings in effect and their evidence, or
re-tune now from pseudo-questions (``groundwire.quality.autotune``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from groundwire.api.authz import index_owned, tenant_index
from groundwire.api.deps import get_app, require
from groundwire.api.schemas import ErrorResponse
from groundwire.app import Groundwire
from groundwire.errors import Forbidden
from groundwire.security.principal import Principal

router = APIRouter(prefix="/v1", tags=["tuning"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
    404: {"model": ErrorResponse}, 422: {"model": ErrorResponse},
}


class TuningOut(BaseModel):
    index: str
    source: str = Field(description="Where the settings in effect come from: per_index "
                        "(labelled tune, config file), auto (self-tuned) or default.")
    params: dict[str, Any] = Field(description="The retrieval settings in effect.")
    auto_params: dict[str, Any] | None = Field(
        None, description="The stored self-tuned settings, if any.")
    auto: dict[str, Any] | None = Field(
        None, description="Evidence of the stored self-tuning: pseudo-question counts, "
        "held-out nDCG@10 of BM25 / dense / equal fusion / default / tuned, reason, index "
        "generation, when.")


@router.get("/indexes/{index}/tuning", response_model=TuningOut, responses=ERRORS,
            summary="Retrieval settings in effect for an index and the self-tuning evidence")
async def get_tuning(index: str, gw: Groundwire = Depends(get_app),
                     principal: Principal = Depends(require("search"))) -> TuningOut:
    """An index the caller's tenant holds documents in (else 404, as for an unknown name).
    The self-tuning evidence is computed over every tenant's documents of the index, so it
    is shown to the operator and to a tenant that has the index to itself only."""
    from groundwire.quality.autotune import tuning_status

    await tenant_index(gw, principal, index)
    status = tuning_status(gw.engine, index)
    if not await index_owned(gw, principal, index):
        status["auto"] = None
    return TuningOut(index=index, **status)


@router.post("/indexes/{index}/tuning/auto", response_model=TuningOut, responses=ERRORS,
             summary="Self-tune an index now from pseudo-questions and store the result")
async def run_autotune(index: str, gw: Groundwire = Depends(get_app),
                       principal: Principal = Depends(require("admin"))) -> TuningOut:
    """Re-tuning changes the ranking of every tenant of the index: the operator may, and a
    tenant admin for an index no other tenant holds documents in (else 403
    ``tuning.shared_index``; 404 for an index the tenant does not hold)."""
    from groundwire.quality.autotune import autotune, save_autotune, tuning_status

    await tenant_index(gw, principal, index)
    if not await index_owned(gw, principal, index):
        raise Forbidden(f"index {index!r} is shared with other tenants: only the operator "
                        "may re-tune it", code="tuning.shared_index")
    result = await autotune(gw.engine, index, questions=gw.settings.autotune.questions)
    await save_autotune(gw.engine, result)
    return TuningOut(index=index, **tuning_status(gw.engine, index))
