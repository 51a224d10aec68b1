"""What the MCP tools do, transport-free: each takes the caller (app + principal) and
returns a result model. Every read goes through the principal's ``Access`` exactly like the
REST routes (``/v1/search``, ``/v1/ask``, ``/v1/documents``): the index name is checked by
the same tenant rule (``IndexCheck``, ``api/authz.tenant_index`` in practice), the scope is
checked and the key's rate limit applied per call, and searches and answers are audited.
Errors are ``GroundwireError``s with their stable codes; ``mcp_server`` turns them into tool
errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from groundwire.app import Groundwire, check_index_name
from groundwire.domain import SearchRequest
from groundwire.errors import InvalidRequest, NotFound
from groundwire.integrations.mcp_models import (
    AskResult,
    DocumentInfo,
    SearchFilters,
    SearchResult,
    SourceInfo,
    SourcesResult,
    ask_result,
    document_info,
    passage,
)
from groundwire.integrations.principals import admit
from groundwire.safety.redaction import redact_for_storage
from groundwire.security.audit import audit_query
from groundwire.security.principal import Principal

SHARED_INDEX = "default"  # every tenant may use it (api/authz.py)

IndexCheck = Callable[[Groundwire, Principal, str], Awaitable[object]]
"""``(gw, principal, index)``: raise ``NotFound`` unless the caller's tenant may use the index
(the REST API's rule, passed in by the edge that mounts the tools)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The application serving a tool call and the principal it acts for."""

    gw: Groundwire
    principal: Principal


def _text(value: str, what: str) -> str:
    """PostgreSQL cannot store NUL: refuse it as the REST API does (api/text_guard.py)."""
    if "\x00" in value:
        raise InvalidRequest(f"{what} may not contain NUL (\\u0000)",
                             code="request.invalid_character")
    return value


def _filters(filters: SearchFilters | None) -> dict[str, Any]:
    if filters is None:
        return {}
    out = filters.model_dump(exclude_none=True)
    for key, value in out.items():
        _text(str(value), f"filters.{key}")
    return out


class Tools:
    """The four tools' behaviour. ``check_index`` is the tenant rule for index names."""

    def __init__(self, check_index: IndexCheck) -> None:
        self._check_index = check_index

    async def search(self, caller: Caller, *, query: str, index: str, top_k: int,
                     filters: SearchFilters | None) -> SearchResult:
        gw, principal = caller.gw, caller.principal
        await admit(gw, principal, "search")
        await self._check_index(gw, principal, index)
        request = SearchRequest(query=_text(query, "query"), index=index, top_k=top_k,
                                filters=_filters(filters), access=principal.access())
        hits, _, record_id = await gw.search_recorded(request, principal=principal.name)
        await audit_query(gw.audit, principal, "search", index=index,
                          question=redact_for_storage(query), hits=hits, record_id=record_id,
                          default_tenant=gw.settings.security.default_tenant)
        return SearchResult(index=index, hits=[passage(h) for h in hits], record_id=record_id)

    async def ask(self, caller: Caller, *, question: str, index: str,
                  filters: SearchFilters | None) -> AskResult:
        gw, principal = caller.gw, caller.principal
        await admit(gw, principal, "ask")
        await self._check_index(gw, principal, index)
        request = SearchRequest(query=_text(question, "question"), index=index, top_k=10,
                                filters=_filters(filters), access=principal.access())
        answer = await gw.ask(request, principal=principal.name, budget=principal.budget())
        await audit_query(gw.audit, principal, "ask", index=index,
                          question=redact_for_storage(question),
                          hits=[c.hit for c in answer.citations], record_id=answer.record_id,
                          abstained=answer.abstained, answerer=answer.answerer,
                          default_tenant=gw.settings.security.default_tenant)
        return ask_result(answer)

    async def get_document(self, caller: Caller, *, document_id: int | None, uri: str | None,
                           index: str) -> DocumentInfo:
        """By id, or by uri within ``index``. A document the caller may not read and one
        that does not exist are the same ``NotFound``."""
        gw, principal = caller.gw, caller.principal
        await admit(gw, principal, "search")
        if (document_id is None) == (uri is None):
            raise InvalidRequest("give exactly one of document_id or uri")
        if uri is not None:
            await self._check_index(gw, principal, index)
            found = await gw.store.documents_by_uri(index, [_text(uri, "uri")],
                                                    tenant=principal.tenant)
            if not found:
                raise NotFound(f"no document {uri!r} in index {index!r}")
            document_id = found[0].id
        assert document_id is not None
        doc = await gw.store.get_document(document_id, principal.access())
        if doc is None:
            raise NotFound(f"no document {uri!r} in index {index!r}" if uri is not None
                           else f"no document {document_id}")
        return document_info(doc)

    async def list_sources(self, caller: Caller) -> SourcesResult:
        """The indexes the caller's tenant holds documents in, and ``default``, with the
        number of documents the caller may read in each."""
        gw, principal = caller.gw, caller.principal
        await admit(gw, principal, "search")
        names = sorted({*await gw.store.list_indexes(principal.tenant), SHARED_INDEX})
        access = principal.access()
        sources = []
        for name in names:
            check_index_name(name)
            counts, _ = await gw.store.count_documents(name, access)
            sources.append(SourceInfo(index=name, readable_documents=counts.get("indexed", 0),
                                      counts=dict(counts)))
        return SourcesResult(sources=sources)
