"""The one place HTTP statuses are chosen for errors; one JSON shape for all of them:
``{"error": {"code", "message", "request_id", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from groundwire.errors import (
    BudgetExceeded,
    ConfigurationError,
    EmbeddingError,
    Forbidden,
    GroundwireError,
    IndexNotReady,
    InvalidRequest,
    NotFound,
    RateLimited,
    RequestTooLarge,
    StoreUnavailable,
    Unauthenticated,
)

log = logging.getLogger(__name__)

STATUS_BY_ERROR: list[tuple[type[GroundwireError], int]] = [
    (InvalidRequest, 422),
    (NotFound, 404),
    (StoreUnavailable, 503),
    (IndexNotReady, 503),
    (EmbeddingError, 500),
    (ConfigurationError, 500),
    (BudgetExceeded, 429),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (RateLimited, 429),
    (RequestTooLarge, 413),
]


def error_response(
    request: Request, status: int, code: str, message: str, details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    telemetry = getattr(request.app.state, "telemetry", None)
    if telemetry is not None:  # every error response passes here: count it by code
        telemetry.error(code)
    body = {
        "error": {
            "code": code,
            "message": message,
            "request_id": getattr(request.state, "request_id", None),
            "details": details,
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GroundwireError)
    async def _groundwire(request: Request, exc: GroundwireError) -> JSONResponse:
        status = next((s for kind, s in STATUS_BY_ERROR if isinstance(exc, kind)), 500)
        headers = {"Retry-After": "5"} if status == 503 else {}
        headers.update(getattr(exc, "headers", None) or {})  # Retry-After, RateLimit, ...
        return error_response(request, status, exc.code, exc.message, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        return error_response(request, 422, "request.invalid", "request validation failed",
                              details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed",
                413: "request.too_large"}.get(exc.status_code, "http_error")
        limit = getattr(exc, "limit", None)  # security/limits.py BodyTooLarge
        details = {"limit_bytes": limit} if limit is not None else None
        return error_response(request, exc.status_code, code, str(exc.detail), details)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Runs outside the request-id middleware (Starlette's ServerErrorMiddleware), so the
        # header is set here too.
        log.exception("unhandled_error", extra={"path": request.url.path})
        rid = getattr(request.state, "request_id", None)
        return error_response(request, 500, "internal", "internal server error",
                              headers={"X-Request-ID": rid} if rid else None)
