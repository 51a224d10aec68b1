"""The request-id, key-required and dev-mode Host checks are plain ASGI middleware
(api/request_middleware.py): same answers as before, and no ``BaseHTTPMiddleware`` layer
(each ran the rest of the stack in an extra task: issue 23's 10-client profile). No database:
these requests never reach the facade."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.middleware.base import BaseHTTPMiddleware


def _app(tmp_path: Path, **values: Any) -> Any:
    from groundwire.api.app import create_app
    from groundwire.settings import Settings

    return create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none",
                               data_dir=tmp_path / "data", **values))


@pytest.mark.parametrize("dev_mode", [False, True])
def test_no_base_http_middleware_layer(tmp_path: Path, dev_mode: bool) -> None:
    app = _app(tmp_path, security={"dev_mode": dev_mode})
    assert not [m for m in app.user_middleware if m.cls is BaseHTTPMiddleware]


def test_request_id_is_echoed_or_made_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(_app(tmp_path), base_url="http://127.0.0.1:8000")
    with caplog.at_level(logging.INFO, logger="groundwire.api"):
        given = client.get("/healthz", headers={"x-request-id": "rid-123"})
        made = client.get("/healthz")
    assert given.headers["x-request-id"] == "rid-123"
    assert len(made.headers["x-request-id"]) == 32 and made.headers.get_list(
        "x-request-id") == [made.headers["x-request-id"]]
    lines = [r for r in caplog.records if r.getMessage() == "request"]
    assert [(r.request_id, r.method, r.path, r.status) for r in lines][:2] == [  # type: ignore[attr-defined]
        ("rid-123", "GET", "/healthz", 200),
        (made.headers["x-request-id"], "GET", "/healthz", 200)]


def test_missing_key_is_refused_with_the_request_id(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path), base_url="http://127.0.0.1:8000")
    r = client.post("/v1/search", json={"query": "q"}, headers={"x-request-id": "rid-9"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="groundwire"'
    assert r.headers["x-request-id"] == "rid-9"
    assert r.json()["error"] == {
        "code": "auth.missing_key", "request_id": "rid-9", "details": None,
        "message": "an API key is required: send 'Authorization: Bearer <key>'"}
    assert client.get("/healthz").status_code == 200  # public without a key


def test_dev_mode_host_refusal_carries_the_request_id(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path, security={"dev_mode": True}),
                        base_url="http://127.0.0.1:8000")
    r = client.get("/healthz", headers={"host": "evil.example", "x-request-id": "rid-7"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "auth.dev_mode_host"
    # outermost, as before: it answers before the request id is assigned
    assert r.json()["error"]["request_id"] is None
