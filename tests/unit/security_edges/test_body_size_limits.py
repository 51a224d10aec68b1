"""Request body limits (security/limits.py): 413 in the standard error shape, checked on
Content-Length before the endpoint runs and on the streamed body; uploads get the ingest
file limit; field limits answer 422."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from groundwire.api.errors import install_error_handlers
from groundwire.security.limits import BodyLimitMiddleware, body_limit_for
from groundwire.settings import Settings


class Body(BaseModel):
    text: str


def _client(settings: Settings) -> tuple[TestClient, list[str]]:
    called: list[str] = []
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, settings=settings)

    @app.middleware("http")
    async def request_id(request: Request, call_next: Any) -> Any:  # as api/app.py does
        request.state.request_id = "rid-1"
        return await call_next(request)

    @app.post("/v1/search")
    async def search(body: Body) -> dict[str, int]:
        called.append("search")
        return {"chars": len(body.text)}

    @app.post("/v1/documents")
    async def push(request: Request) -> dict[str, int]:
        called.append("push")
        return {"bytes": len(await request.body())}

    return TestClient(app), called


@pytest.fixture
def settings() -> Settings:
    return Settings(security={"max_body_bytes": 2048}, ingest={"max_file_mb": 0.01})


def _error(response: Any) -> dict[str, Any]:
    assert response.status_code == 413
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"code", "message", "request_id", "details"}
    assert error["code"] == "request.too_large"
    return error


def test_declared_length_over_the_limit_is_refused_before_the_endpoint(
    settings: Settings,
) -> None:
    client, called = _client(settings)
    response = client.post("/v1/search", json={"text": "x" * 5000})
    error = _error(response)
    assert error["details"] == {"limit_bytes": 2048}
    assert error["request_id"] == "rid-1" and response.headers["x-request-id"] == "rid-1"
    assert called == []
    assert client.post("/v1/search", json={"text": "x" * 1000}).json() == {"chars": 1000}


def test_a_streamed_body_without_length_is_counted(settings: Settings) -> None:
    client, called = _client(settings)

    def chunks(n: int) -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(n):
            yield b"x" * 500
        yield b'"}'

    response = client.post("/v1/search", content=chunks(10),
                           headers={"content-type": "application/json"})
    assert _error(response)["details"] == {"limit_bytes": 2048}
    assert called == []
    ok = client.post("/v1/search", content=chunks(2), headers={"content-type": "application/json"})
    assert ok.status_code == 200 and ok.json() == {"chars": 1000}


def test_uploads_get_the_ingest_file_limit(settings: Settings) -> None:
    limit = body_limit_for(settings, "POST", "/v1/documents")
    assert limit == int(0.01 * 1024 * 1024) + 64 * 1024
    assert body_limit_for(settings, "GET", "/v1/documents") == 2048
    assert body_limit_for(settings, "POST", "/v1/search") == 2048
    client, called = _client(settings)
    assert client.post("/v1/documents", content=b"y" * 20_000).json() == {"bytes": 20_000}
    _error(client.post("/v1/documents", content=b"y" * (limit + 1)))
    assert called == ["push"]


def test_field_limits_answer_422() -> None:
    from pydantic import ValidationError

    from groundwire.api.schemas import AskBody, SearchBody

    with pytest.raises(ValidationError):
        SearchBody(query="q", index="i" * 65)
    with pytest.raises(ValidationError):
        SearchBody(query="q", filters={"uri_prefix": "u" * 2001})
    with pytest.raises(ValidationError):
        AskBody(question="x" * 20001)
