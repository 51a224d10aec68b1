"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from groundwire.api.deps import get_app, require
from groundwire.app import Groundwire

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: store reachable and keyword indexes at the store's generation",
    responses={503: {"description": "Not ready; the body says which check failed."}},
    dependencies=[Depends(require(None))],
)
async def readyz(gw: Groundwire = Depends(get_app)) -> Any:
    report = await gw.readiness()
    return JSONResponse(report, status_code=200 if report["ready"] else 503)
