"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from groundwire.api.authz import SHARED_INDEX, is_operator
from groundwire.api.deps import get_app, require
from groundwire.app import Groundwire
from groundwire.security.principal import Principal

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: store reachable and keyword indexes at the store's generation",
    responses={503: {"description": "Not ready; the body says which check failed."}},
)
async def readyz(gw: Groundwire = Depends(get_app),
                 principal: Principal = Depends(require(None))) -> Any:
    """The per-index checks name indexes: a key outside the operator tenant sees its own
    tenant's (and ``default``), never other tenants' index names (api/authz.py)."""
    report = await gw.readiness()
    if not is_operator(gw, principal) and "indexes" in report["checks"]:
        mine = {*await gw.store.list_indexes(principal.tenant), SHARED_INDEX}
        report["checks"]["indexes"] = {
            name: check for name, check in report["checks"]["indexes"].items() if name in mine}
    return JSONResponse(report, status_code=200 if report["ready"] else 503)
