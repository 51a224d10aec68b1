"""Plain ASGI middleware for every request: the request id, the "a key is required" check and
the dev-mode loopback Host check (``create_app`` installs them).

They were ``@app.middleware("http")`` functions (Starlette's ``BaseHTTPMiddleware``), which run
the rest of the stack in an extra task per layer and re-wrap the response body; under 10
concurrent clients that was a measurable share of the server's CPU (docs/benchmarks.md, "Where
the 10-client ``/v1/search`` p95 goes"). Behaviour is unchanged:

* ``RequestIdMiddleware``: the request id is the caller's ``X-Request-ID`` or a new uuid4 hex;
  it is set on ``request.state.request_id`` before anything inside runs, the response's
  ``X-Request-ID`` header is set to it (replacing one set inside), and one ``request`` log
  line (INFO: request_id, method, path, status, ms until the response started) is written
  per response. An exception raised inside propagates untouched (the ``Exception`` handler in
  api/errors.py answers it and sets the header itself).
* ``KeyRequiredMiddleware``: a request with no ``Authorization`` header to a non-public path
  gets 401 ``auth.missing_key`` with ``WWW-Authenticate`` before anything reads its body; dev
  mode skips the check. The routes' ``require`` dependency verifies keys that are sent.
* ``LoopbackHostMiddleware`` (dev mode only): a request whose ``Host`` is not a loopback
  name gets 403 ``auth.dev_mode_host`` (DNS rebinding, security/hosts.py).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from groundwire.api.errors import error_response
from groundwire.security.hosts import is_loopback_host_header

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("groundwire.api")  # the logger the request line always used


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case bytes), decoded as Starlette does."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _header(scope, b"x-request-id") or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        rid_header = (b"x-request-id", rid.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *(h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"),
                    rid_header]
                if log.isEnabledFor(logging.INFO):
                    log.info("request", extra={
                        "request_id": rid, "method": scope.get("method"),
                        "path": Request(scope).url.path, "status": message["status"],
                        "ms": round((time.perf_counter() - started) * 1000, 2)})
            await send(message)

        await self.app(scope, receive, send_with_id)


class KeyRequiredMiddleware:
    def __init__(self, app: ASGIApp, *, dev_mode: bool,
                 is_public: Callable[[str], bool]) -> None:
        self.app = app
        self.dev_mode = dev_mode
        self.is_public = is_public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.dev_mode or _header(scope, b"authorization"):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if self.is_public(request.url.path):
            await self.app(scope, receive, send)
            return
        response = error_response(
            request, 401, "auth.missing_key",
            "an API key is required: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": 'Bearer realm="groundwire"'})
        await response(scope, receive, send)


class LoopbackHostMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_loopback_host_header(_header(scope, b"host")):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        response = error_response(
            request, 403, "auth.dev_mode_host",
            "dev mode answers only loopback Host names (localhost, 127.0.0.1, [::1]); "
            "serve with API keys (no --dev) to be reached under another name")
        await response(scope, receive, send)
