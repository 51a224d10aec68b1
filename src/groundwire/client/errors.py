"""The client's one exception: an API error answer, with the server's stable code."""

from __future__ import annotations

import json
from typing import Any

import httpx


class GroundwireAPIError(Exception):
    """The API answered with an error. ``code`` is the server's stable code
    (``auth.invalid_key``, ``not_found``, ``rate_limited``, ``request.invalid``, ...; see the
    API reference), ``status`` the HTTP status, ``message`` the server's explanation,
    ``request_id`` the ``X-Request-ID`` to quote in a report, ``retry_after`` the seconds the
    server asked to wait (429/503), ``details`` any structured detail (validation errors)."""

    def __init__(self, *, code: str, status: int, message: str, request_id: str | None = None,
                 details: Any = None, retry_after: float | None = None) -> None:
        super().__init__(f"[{code}] {message} (HTTP {status})")
        self.code = code
        self.status = status
        self.message = message
        self.request_id = request_id
        self.details = details
        self.retry_after = retry_after

    @classmethod
    def from_response(cls, response: httpx.Response) -> GroundwireAPIError:
        """Read the ``{"error": {code, message, request_id, details}}`` body; a body of
        another shape (a proxy's page) becomes code ``http.<status>``."""
        from groundwire.client.retry import retry_after

        error: Any = None
        try:
            error = response.json().get("error")
        except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
            error = None
        if not isinstance(error, dict) or not isinstance(error.get("code"), str):
            error = {"code": f"http.{response.status_code}",
                     "message": response.text[:500] or response.reason_phrase}
        return cls(code=error["code"], status=response.status_code,
                   message=str(error.get("message", "")),
                   request_id=error.get("request_id") or response.headers.get("x-request-id"),
                   details=error.get("details"), retry_after=retry_after(response))

    @classmethod
    def from_event(cls, data: Any, response: httpx.Response) -> GroundwireAPIError:
        """An ``error`` event of a stream that had already begun (HTTP status 200)."""
        error = data.get("error", {}) if isinstance(data, dict) else {}
        return cls(code=str(error.get("code", "internal")), status=response.status_code,
                   message=str(error.get("message", "the stream failed")),
                   request_id=response.headers.get("x-request-id"))
