"""Named sources: add, list, get, remove, sync now (``groundwire/sources/service.py``).

Scopes: adding and removing a source needs ``admin``; listing, reading and syncing
``ingest``. Everything is scoped to the key's tenant (another tenant's source is 404).
Server-side reach is the operator's: only an admin key of the operator tenant may give
``env:``/``file:`` references or server paths outside ``security.ingest_roots`` (a ``folder``
path, a local ``git`` repository, a ``sqlite`` file). A sync that cannot list its source
answers 502 ``source.unreachable`` (recorded on the source; nothing was deleted).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from groundwire.api.authz import check_ingest_path, is_operator
from groundwire.api.deps import get_app, require
from groundwire.api.errors import error_response
from groundwire.api.schemas import ErrorResponse
from groundwire.app import Groundwire
from groundwire.errors import Forbidden
from groundwire.security.principal import Principal
from groundwire.sources.errors import SourceUnreachable
from groundwire.sources.reach import refusal
from groundwire.sources.service import SourceService

router = APIRouter(prefix="/v1/sources", tags=["sources"])
_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
    404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}}


class SourceBody(BaseModel):
    name: str = Field(min_length=1, max_length=64, description="a-z, 0-9, '.', '_', '-'")
    type: str = Field(min_length=1, max_length=64, description="Connector: folder, git, "
                      "web, sql, s3, confluence, zendesk or a plug-in's")
    options: dict[str, Any] = Field(default_factory=dict, description="Connector options; "
                                    "credentials only as env:VAR or file:/path")
    index: str = Field("default", min_length=1, max_length=64)
    schedule: str | None = Field(None, max_length=200, description="'every 15m' or cron")


class SourceOut(BaseModel):
    name: str
    type: str
    tenant: str
    index: str
    options: dict[str, Any] = Field(description="Credentials masked")
    schedule: str | None
    next_run_at: str | None
    last_sync_at: str | None
    last_status: str | None = Field(description="ok, failed or unreachable")
    last_error: dict[str, Any] | None
    documents: dict[str, int] = Field(description="This source's documents by state")
    errors: dict[str, int] = Field(description="Failed documents of the last sync by code")
    last_report: dict[str, Any] | None
    retrying: list[dict[str, Any]] = Field(
        default_factory=list, description="Failed documents waiting for a retry (uri, "
        "attempts, next_at, code, message)")
    dead_letter: list[dict[str, Any]] = Field(
        default_factory=list, description="Failed documents out of retries, with their last "
        "error")


class SourceListOut(BaseModel):
    sources: list[SourceOut]


class SourceRemovedOut(BaseModel):
    name: str
    removed: bool
    documents_deleted: int


class SyncOut(BaseModel):
    name: str
    index: str
    status: str
    documents: dict[str, int]
    chunks_embedded: int
    chunks_reused: int
    errors: dict[str, int]
    changes: dict[str, Any]
    dead_letter: list[str] = Field(default_factory=list)


def _references(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_references(v) for v in value.values())
    if isinstance(value, list):
        return any(_references(v) for v in value)
    return isinstance(value, str) and value.startswith(("env:", "file:"))


def _check_reach(body: SourceBody, principal: Principal, gw: Groundwire) -> None:
    if is_operator(gw, principal):
        return
    if _references(body.options):
        raise Forbidden("only an admin key of the operator tenant may give env:/file: "
                        "references")
    options = body.options
    if body.type == "folder" and isinstance(options.get("path"), str):
        check_ingest_path(options["path"], principal, gw)
    if body.type == "git" and isinstance(options.get("repo"), str) \
            and "://" not in options["repo"] and not options["repo"].startswith("git@"):
        check_ingest_path(options["repo"], principal, gw)
    if body.type == "git" and options.get("cache_dir") is not None:
        raise Forbidden("only the operator may choose a git cache_dir")
    reason = refusal(body.type, options)
    if reason is not None:  # the server's own reach: sources/reach.py
        raise Forbidden(f"only the operator may add a source that reaches {reason}")


@router.post("", status_code=201, response_model=SourceOut, responses=_ERRORS,
             summary="Add a named source (synced on demand or on its schedule)")
async def add_source(body: SourceBody, gw: Groundwire = Depends(get_app),
                     principal: Principal = Depends(require("admin"))) -> Any:
    _check_reach(body, principal, gw)
    return await SourceService(gw).add(body.name, body.type, body.options, index=body.index,
                                       tenant=principal.tenant, schedule=body.schedule)


@router.get("", response_model=SourceListOut, responses=_ERRORS,
            summary="This tenant's sources: last sync, documents by state, errors, next run")
async def list_sources(gw: Groundwire = Depends(get_app),
                       principal: Principal = Depends(require("ingest"))) -> Any:
    return {"sources": await SourceService(gw).list_sources(principal.tenant)}


@router.get("/{name}", response_model=SourceOut, responses=_ERRORS,
            summary="One source with its last sync and next run")
async def get_source(name: str, gw: Groundwire = Depends(get_app),
                     principal: Principal = Depends(require("ingest"))) -> Any:
    return await SourceService(gw).get(name, principal.tenant)


@router.delete("/{name}", response_model=SourceRemovedOut, responses=_ERRORS,
               summary="Remove a source and its documents (keep_documents=true keeps them)")
async def remove_source(name: str, keep_documents: bool = False,
                        gw: Groundwire = Depends(get_app),
                        principal: Principal = Depends(require("admin"))) -> Any:
    return await SourceService(gw).remove(name, principal.tenant,
                                          delete_documents=not keep_documents)


@router.post("/{name}/sync", response_model=SyncOut,
             responses={**_ERRORS, 502: {"model": ErrorResponse,
                                         "description": "source.unreachable"}},
             summary="Sync a source now: index changes, remove documents gone at the source")
async def sync_source(name: str, request: Request, gw: Groundwire = Depends(get_app),
                      principal: Principal = Depends(require("ingest"))) -> Any:
    try:
        return await SourceService(gw).sync(name, principal.tenant)
    except SourceUnreachable as exc:
        response: JSONResponse = error_response(request, 502, exc.code, exc.message)
        return response
