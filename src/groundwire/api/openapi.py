"""The OpenAPI document, completed with the error responses every secured operation can give.

Authentication, scopes, rate limits and body limits are applied by dependencies and
middleware, not by each route, so FastAPI cannot see the answers they produce. ``install``
wraps ``app.openapi`` so the served schema documents them (found by Schemathesis,
tests/integration/security/test_schemathesis_api.py):

* every operation with a security requirement: 401 (missing/invalid key), 403 (scope, tenant
  or operator), 429 (rate limit);
* every operation with a request body: 400 (a body that cannot be parsed, e.g. not UTF-8)
  and 413 (``security.max_body_bytes`` / upload limits).

Each is the standard error body (``ErrorResponse``). Responses a route documents itself are
kept as they are.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

SECURED = {
    "401": "Missing, malformed, unknown, revoked or expired API key.",
    "403": "The key lacks the scope, tenant or operator rights this operation needs.",
    "429": "Rate limit of this key exceeded (see the Retry-After header).",
}
WITH_BODY = {
    "400": "The request body could not be parsed.",
    "413": "The request body is larger than the configured limit.",
}
ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def complete(spec: dict[str, Any]) -> dict[str, Any]:
    """Add the responses above to ``spec`` in place; return it."""
    for methods in spec.get("paths", {}).values():
        for operation in methods.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            extra = dict(SECURED) if operation.get("security") else {}
            if "requestBody" in operation:
                extra.update(WITH_BODY)
            for code, description in extra.items():
                responses.setdefault(code, {
                    "description": description,
                    "content": {"application/json": {"schema": ERROR_REF}},
                })
    return spec


def install(app: FastAPI) -> None:
    """Serve the completed schema from ``app.openapi()`` (built once, then cached)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
