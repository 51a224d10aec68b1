"""Documents: list and get (readable ones only), push with permissions, change permissions,
delete. Another tenant's document id, or one the caller may not read, is 404 — the same
answer as an id that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query

from groundwire.api.authz import tenant_index
from groundwire.api.convert import document_out
from groundwire.api.deps import get_app, require
from groundwire.api.schemas import (
    DocumentOut,
    DocumentsResponse,
    ErrorResponse,
    IngestReportOut,
    PermissionsBody,
    PushBody,
    PushResponse,
)
from groundwire.app import Groundwire
from groundwire.domain import DocumentState, SourceItem
from groundwire.errors import NotFound
from groundwire.security.principal import Principal

router = APIRouter(prefix="/v1", tags=["documents"])


def _utf8_reader(text: str) -> Callable[[], bytes]:
    """A ``SourceItem.read`` returning ``text`` as UTF-8."""
    return lambda: text.encode("utf-8")


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
    404: {"model": ErrorResponse}, 422: {"model": ErrorResponse},
}


@router.get("/documents", response_model=DocumentsResponse, responses=ERRORS,
            summary="Documents of an index you may read, with state and error code")
async def list_documents(
    index: str = Query("default", max_length=64),
    state: DocumentState | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
    gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("search")),
) -> DocumentsResponse:
    await tenant_index(gw, principal, index)  # unknown or another tenant's: the same 404
    access = principal.access()
    counts, errors = await gw.store.count_documents(index, access)
    docs = await gw.store.list_documents(index, state=state, limit=limit, offset=offset,
                                         access=access)
    access_out, note = None, None
    if principal.is_admin:  # what fail-closed permissions hide from this tenant's users
        from groundwire.security.visibility import access_json, admin_only_note

        physical, _ = await gw.versions.resolve(index)
        summary = await gw.store.access_summary(tenant=principal.tenant, index=physical)
        access_out = access_json(summary)
        note = admin_only_note(summary, tenant=principal.tenant)
    return DocumentsResponse(
        index=index, counts=counts, errors=errors,
        documents=[document_out(d, principal) for d in docs], access=access_out, note=note,
    )


@router.get("/documents/{document_id}", response_model=DocumentOut, responses=ERRORS,
            summary="One document you may read")
async def get_document(
    document_id: int, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("search")),
) -> DocumentOut:
    return document_out(await _readable(gw, document_id, principal), principal)


@router.post("/documents", response_model=PushResponse, responses=ERRORS,
             summary="Push documents (text + permissions) into an index of your tenant")
async def push_documents(
    body: PushBody, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("ingest")),
) -> PushResponse:
    items = [
        SourceItem(
            uri=d.uri, media_type="text/plain", read=_utf8_reader(d.text),
            title=d.title, text=d.text, metadata=dict(d.metadata or {}),
            size=len(d.text.encode("utf-8")),
            permissions=d.permissions.to_domain() if d.permissions is not None else None,
        )
        for d in body.documents
    ]
    report = await gw.ingest_items(items, index=body.index, source=("push", "api"),
                                   delete_missing=False, tenant=principal.tenant)
    by_uri = {d.uri: d for d in await gw.store.documents_by_uri(
        body.index, [d.uri for d in body.documents], tenant=principal.tenant)}
    return PushResponse(
        report=IngestReportOut(**report.as_json()),
        documents=[document_out(by_uri[d.uri], principal) for d in body.documents
                   if d.uri in by_uri],
    )


@router.put("/documents/{document_id}/permissions", response_model=DocumentOut,
            responses=ERRORS, summary="Replace who may read a document (admin)")
async def set_permissions(
    document_id: int, body: PermissionsBody, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("admin")),
) -> DocumentOut:
    doc = await _readable(gw, document_id, principal)
    readers = body.to_domain().readers(principal.tenant)
    await gw.store.set_readers(doc.id, readers)
    await _audit(gw, principal, "document.permissions", str(doc.id),
                 {"uri": doc.uri, "readers": readers})
    return document_out(await _readable(gw, document_id, principal), principal)


@router.delete("/documents/{document_id}", status_code=204, responses=ERRORS,
               summary="Delete a document you may read (ingest scope)")
async def delete_document(
    document_id: int, gw: Groundwire = Depends(get_app),
    principal: Principal = Depends(require("ingest")),
) -> None:
    doc = await _readable(gw, document_id, principal)
    await gw.store.delete_document(doc.id)
    await _audit(gw, principal, "document.delete", str(doc.id), {"uri": doc.uri})


async def _readable(gw: Groundwire, document_id: int, principal: Principal) -> Any:
    doc = await gw.store.get_document(document_id, principal.access())
    if doc is None:
        raise NotFound(f"no document {document_id}")
    return doc


async def _audit(gw: Groundwire, principal: Principal, action: str, target: str,
                 details: dict[str, Any]) -> None:
    audit = getattr(gw, "audit", None)
    if audit is not None:
        await audit.record(tenant=principal.tenant, actor=principal.name, action=action,
                           target=target, details=details)
