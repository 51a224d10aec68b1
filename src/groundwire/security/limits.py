"""Request body size limits (HTTP 413, code ``request.too_large``).

Contract of ``BodyLimitMiddleware`` (ASGI):

* A request whose ``Content-Length`` is over its limit is answered 413 at once, without
  reading the body and without running the endpoint.
* A body sent without ``Content-Length`` (chunked) is counted as it streams in; the read that
  crosses the limit raises, and the client gets the same 413 (the endpoint never sees a
  partial body).
* The limit is ``security.max_body_bytes`` (default 1 MiB), except for write requests (POST,
  PUT, PATCH) under ``UPLOAD_PREFIXES`` (ingest and document uploads), whose limit is
  ``ingest.max_file_mb`` plus ``UPLOAD_ENVELOPE_BYTES`` for multipart/JSON framing — the
  same size the ingest pipeline accepts for one file (``read.too_large``).
* Every 413 has the standard error shape ``{"error": {code, message, request_id, details}}``
  with ``details = {"limit_bytes": N}``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

from groundwire.settings import Settings

UPLOAD_PREFIXES = ("/v1/ingest", "/v1/documents")
UPLOAD_METHODS = frozenset({"POST", "PUT", "PATCH"})
UPLOAD_ENVELOPE_BYTES = 64 * 1024
CODE = "request.too_large"


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` when a streamed body crosses its limit. An HTTPException, so
    FastAPI's body parsing re-raises it (any other exception there becomes a 400) and the
    API's handler answers it in the standard error shape."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_message(limit))
        self.limit = limit


def _message(limit: int) -> str:
    return f"request body is larger than the limit of {limit} bytes"


def body_limit_for(settings: Settings, method: str, path: str) -> int:
    """The body limit of one request (see the module contract)."""
    if method.upper() in UPLOAD_METHODS and path.startswith(UPLOAD_PREFIXES):
        upload = int(settings.ingest.max_file_mb * 1024 * 1024) + UPLOAD_ENVELOPE_BYTES
        return max(upload, settings.security.max_body_bytes)
    return settings.security.max_body_bytes


class BodyLimitMiddleware:
    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit_for(self.settings, scope.get("method", "GET"), scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _reject(scope, send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await _reject(scope, send, limit)


def _content_length(scope: Any) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reject(scope: Any, send: Any, limit: int) -> None:
    state = scope.get("state") or {}
    request_id = state.get("request_id")
    body = json.dumps({"error": {"code": CODE, "message": _message(limit),
                                 "request_id": request_id,
                                 "details": {"limit_bytes": limit}}}).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    if request_id:
        headers.append((b"x-request-id", str(request_id).encode()))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
