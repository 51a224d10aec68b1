"""The Groundwire MCP server: four tools (``search``, ``ask``, ``get_document``,
``list_sources``) over any transport.

``build_server(resolve, check_index)`` returns an ``mcp`` SDK ``MCPServer``. ``resolve`` turns
the SDK's per-call ``Context`` into the ``Caller`` (app + principal): over HTTP it reads the
principal the mount authenticated (``mcp_http``), over stdio it is the process's one
principal (``mcp_stdio``). A ``GroundwireError`` becomes a tool error whose text starts with
its stable code, e.g. ``[not_found] no index named 'x'``; nothing else about the server leaks.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from groundwire import __version__
from groundwire.errors import GroundwireError
from groundwire.integrations.mcp_models import (
    AskResult,
    DocumentInfo,
    SearchFilters,
    SearchResult,
    SourcesResult,
)
from groundwire.integrations.mcp_tools import Caller, IndexCheck, Tools

T = TypeVar("T")
Resolve = Callable[[Context], Caller]

INSTRUCTIONS = (
    "Groundwire answers questions from an organisation's own documents, with citations. "
    "Use `ask` for a question that needs an answer (it abstains when the documents do not "
    "support one: then say so, do not guess), `search` to find passages, `get_document` for "
    "a document's details, `list_sources` to see which indexes exist. You only ever see "
    "documents your key may read."
)
READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True,
                            openWorldHint=False)

Index = Annotated[str, Field(
    min_length=1, max_length=64, pattern=r"^[a-z0-9._-]+$",
    description="Index name (see list_sources); 'default' when unsure.")]
Filters = Annotated[SearchFilters | None, Field(
    description="Optional: restrict to documents by uri prefix, media type or metadata.")]


async def _coded(work: Awaitable[T]) -> T:
    try:
        return await work
    except GroundwireError as exc:
        raise ToolError(f"[{exc.code}] {exc.message}") from exc


def build_server(resolve: Resolve, check_index: IndexCheck) -> MCPServer[Any]:
    """The MCP server (no I/O; the SDK's logging setup is undone so Groundwire's stays)."""
    tools = Tools(check_index)
    server = _quiet_server()

    @server.tool(name="search", title="Search documents", annotations=READ_ONLY, description=(
        "Hybrid keyword + semantic search over the documents you may read. Returns the best "
        "passages (text, uri, title, headings, score), best first. Use it to find where "
        "something is written; use `ask` to get an answer."))
    async def search(
        query: Annotated[str, Field(min_length=1, max_length=20000,
                                    description="What to look for, in natural language or "
                                    "keywords.")],
        ctx: Context,
        index: Index = "default",
        top_k: Annotated[int, Field(ge=1, le=100, description="How many passages.")] = 10,
        filters: Filters = None,
    ) -> SearchResult:
        return await _coded(tools.search(resolve(ctx), query=query, index=index,
                                         top_k=top_k, filters=filters))

    @server.tool(name="ask", title="Ask a question", annotations=READ_ONLY, description=(
        "Answer a question from the documents you may read. The answer carries inline [n] "
        "markers; `citations` maps each n to the passage and quote that support it. When "
        "the documents do not support an answer, `abstained` is true and `answer` says why: "
        "report that rather than guessing."))
    async def ask(
        question: Annotated[str, Field(min_length=1, max_length=20000,
                                       description="The question, in natural language.")],
        ctx: Context,
        index: Index = "default",
        filters: Filters = None,
    ) -> AskResult:
        return await _coded(tools.ask(resolve(ctx), question=question, index=index,
                                      filters=filters))

    @server.tool(name="get_document", title="Get a document", annotations=READ_ONLY,
                 description=(
        "Details of one document you may read (title, state, passages count, dates, "
        "metadata), by `document_id` (from a search hit or citation) or by `uri` within "
        "`index`. Give exactly one of the two. A document you may not read is 'not found'."))
    async def get_document(
        ctx: Context,
        document_id: Annotated[int | None, Field(ge=1, description="The document's id.")] = None,
        uri: Annotated[str | None, Field(min_length=1, max_length=2000,
                                         description="The document's uri.")] = None,
        index: Index = "default",
    ) -> DocumentInfo:
        return await _coded(tools.get_document(resolve(ctx), document_id=document_id,
                                               uri=uri, index=index))

    @server.tool(name="list_sources", title="List indexes", annotations=READ_ONLY,
                 description=(
        "The indexes you can search and ask (pass one as `index`), each with how many of its "
        "documents you may read."))
    async def list_sources(ctx: Context) -> SourcesResult:
        return await _coded(tools.list_sources(resolve(ctx)))

    return server


def _quiet_server() -> MCPServer[Any]:
    """``MCPServer`` calls ``logging.basicConfig`` with a rich handler; keep the root
    logger as the process configured it (stdout must stay clean for stdio)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return MCPServer(name="groundwire", title="Groundwire", version=__version__,
                         instructions=INSTRUCTIONS)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
