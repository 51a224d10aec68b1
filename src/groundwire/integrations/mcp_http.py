"""``/mcp`` in ``serve``: the MCP server over the streamable HTTP transport.

``mount_mcp(app, check_index=...)`` adds the endpoint and runs the SDK's session manager in the
application's lifespan (inside the app's own lifespan, so the Groundwire facade is open before
the first MCP request and closed after the last).

* Stateless, JSON responses: every POST is one JSON-RPC exchange served by whichever replica
  receives it (no session held in one process's memory, as ARCHITECTURE.md's replicas need).
* Authentication is the REST API's: ``Authorization: Bearer <key>`` (or dev mode), verified
  here on every request before the SDK sees it; the tools then check scopes, the key's rate
  limit and tenant/permission filtering per call. A bad key gets the API's JSON error shape
  (401 with ``auth.*`` codes). The app's middleware (request id, body limit, dev-mode loopback
  Host check) applies as to any route.
* The SDK's DNS-rebinding Host check is off: keys authenticate every request, and dev mode is
  already confined to loopback Host names by the app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from groundwire.errors import GroundwireError, StoreUnavailable, Unauthenticated
from groundwire.integrations.mcp_server import build_server
from groundwire.integrations.mcp_tools import Caller, IndexCheck
from groundwire.integrations.principals import bearer_token, principal_for

PATH = "/mcp"
PRINCIPAL = "groundwire.mcp.principal"  # ASGI scope key: the authenticated principal


def _caller(ctx: Context) -> Caller:
    request = ctx.request_context.request
    principal = None if request is None else request.scope.get(PRINCIPAL)
    if request is None or principal is None:  # only if the endpoint below was bypassed
        raise Unauthenticated("an API key is required: send 'Authorization: Bearer <key>'",
                              code="auth.missing_key")
    return Caller(gw=request.app.state.groundwire, principal=principal)


class _Endpoint:
    """ASGI endpoint: authenticate, then hand the request to the SDK's session manager of the
    current lifespan (a new one each time the application starts: a manager runs once)."""

    def __init__(self) -> None:
        self.manager: StreamableHTTPSessionManager | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        gw = request.app.state.groundwire
        try:
            token = bearer_token(request.headers.get("authorization"))
            scope[PRINCIPAL] = await principal_for(gw, token)
        except GroundwireError as exc:
            await _error(request, exc)(scope, receive, send)
            return
        assert self.manager is not None, "MCP session manager not running (lifespan)"
        await self.manager.handle_request(scope, receive, send)


def _error(request: Request, exc: GroundwireError) -> JSONResponse:
    status = (401 if isinstance(exc, Unauthenticated)
              else 503 if isinstance(exc, StoreUnavailable) else 500)
    headers = dict(exc.headers)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="groundwire"'
    body = {"error": {"code": exc.code, "message": exc.message,
                      "request_id": getattr(request.state, "request_id", None),
                      "details": None}}
    return JSONResponse(body, status_code=status, headers=headers)


def mount_mcp(app: Starlette, *, check_index: IndexCheck) -> None:
    """Serve MCP at ``/mcp`` on ``app`` (a FastAPI/Starlette app whose lifespan puts the
    Groundwire facade on ``app.state.groundwire``). Not in the OpenAPI description."""
    server = build_server(_caller, check_index)
    endpoint = _Endpoint()
    app.router.routes.append(Route(PATH, endpoint=endpoint, methods=["GET", "POST", "DELETE"]))
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        server.streamable_http_app(  # creates this run's session manager
            stateless_http=True, json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
        endpoint.manager = server.session_manager
        async with inner(application) as state, endpoint.manager.run():
            yield state

    app.router.lifespan_context = lifespan
