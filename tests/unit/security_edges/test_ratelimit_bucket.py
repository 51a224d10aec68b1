"""Token-bucket arithmetic, decisions and headers (security/ratelimit.py), on in-process
buckets with a fake clock; the PostgreSQL buckets are tested in
tests/integration/security_edges/test_ratelimit_replicas.py."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from groundwire.api.errors import install_error_handlers
from groundwire.errors import ConfigurationError, RateLimited
from groundwire.security.ratelimit import (
    MemoryBuckets,
    RateLimiter,
    RateLimitHeadersMiddleware,
    apply_rate_limit,
    decide,
    refill,
    take,
)
from groundwire.settings import RateLimit, RateLimitSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock, **classes: Any) -> RateLimiter:
    settings = RateLimitSettings(**classes)
    return RateLimiter(MemoryBuckets(clock).take_token, settings)


def test_refill_is_linear_capped_and_never_negative() -> None:
    assert refill(0.0, 30.0, capacity=60, per_second=1.0) == 30.0
    assert refill(10.0, 1000.0, capacity=60, per_second=1.0) == 60.0
    assert refill(5.0, -3.0, capacity=60, per_second=1.0) == 5.0  # clock went backwards
    assert take(0.5, 0.0, capacity=1, per_second=0.1) == (False, 0.5)
    assert take(0.5, 5.0, capacity=1, per_second=0.1) == (True, 0.0)


def test_decision_numbers_and_header_syntax() -> None:
    d = decide(True, 11.4, capacity=60, per_second=1.0, policy="search")
    assert (d.allowed, d.limit, d.remaining, d.reset_s, d.retry_after_s) == (True, 60, 11, 49,
                                                                            None)
    assert d.headers() == {"RateLimit-Policy": '"search";q=60;w=60',
                           "RateLimit": '"search";r=11;t=49'}
    denied = decide(False, 0.25, capacity=10, per_second=0.5, policy="ask")
    assert denied.retry_after_s == 2  # 0.75 token at 0.5/s: 1.5 s, rounded up
    assert denied.remaining == 0 and denied.window_s == 20
    assert denied.headers()["RateLimit-Policy"] == '"ask";q=10;w=20'


async def test_burst_then_refill_per_key_and_class() -> None:
    clock = Clock()
    rl = limiter(clock, ask={"requests_per_minute": 60, "burst": 3})
    got = [await rl.check("acme/ann", "ask") for _ in range(4)]
    assert [d.allowed for d in got] == [True, True, True, False]
    assert [d.remaining for d in got] == [2, 1, 0, 0]
    assert got[-1].retry_after_s == 1
    # other keys and other route classes have their own buckets
    assert (await rl.check("acme/bob", "ask")).allowed
    assert (await rl.check("acme/ann", "search")).allowed
    clock.now += 1.0  # one token back at 1/s
    assert (await rl.check("acme/ann", "ask")).allowed
    assert not (await rl.check("acme/ann", "ask")).allowed
    clock.now += 3600
    d = await rl.check("acme/ann", "ask")
    assert d.allowed and d.remaining == 2  # refilled to the burst, not beyond


async def test_overrides_unlimited_and_unknown_classes() -> None:
    clock = Clock()
    rl = limiter(clock, search={"requests_per_minute": 0},
                 principals={"acme/bot": {"ask": RateLimit(requests_per_minute=1)}})
    for _ in range(50):
        d = await rl.check("acme/ann", "search")
        assert d.allowed and not d.limited and d.headers() == {}
    assert (await rl.check("acme/bot", "ask")).allowed
    assert not (await rl.check("acme/bot", "ask")).allowed  # override: 1 per minute
    assert (await rl.check("acme/ann", "ask")).allowed  # default ask limit for others
    with pytest.raises(ConfigurationError):
        await rl.check("acme/ann", "delete-everything")


def test_overrides_name_known_route_classes_only() -> None:
    with pytest.raises(ValueError, match="unknown route class"):
        RateLimitSettings(principals={"a/b": {"serch": RateLimit(requests_per_minute=1)}})


def _app(rl: RateLimiter) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(RateLimitHeadersMiddleware)

    @app.get("/plain")
    async def plain(request: Request) -> dict[str, str]:
        await apply_rate_limit(request, rl, "acme/ann", "search")
        return {"ok": "yes"}

    @app.get("/stream")
    async def stream(request: Request) -> StreamingResponse:
        await apply_rate_limit(request, "acme/ann", "ask")  # the app's limiter (3-arg form)

        async def body() -> Any:
            yield b"data: 1\n\n"
            yield b"data: 2\n\n"

        return StreamingResponse(body(), media_type="text/event-stream")

    class Gw:
        rate_limiter = rl

    app.state.groundwire = Gw()
    return app


def test_headers_on_success_streaming_and_429() -> None:
    clock = Clock()
    rl = limiter(clock, search={"requests_per_minute": 120, "burst": 2},
                 ask={"requests_per_minute": 60, "burst": 5})
    with TestClient(_app(rl)) as client:
        first = client.get("/plain")
        assert first.status_code == 200
        assert first.headers["RateLimit-Policy"] == '"search";q=2;w=1'
        assert first.headers["RateLimit"] == '"search";r=1;t=1'
        streamed = client.get("/stream")
        assert streamed.status_code == 200 and streamed.text.count("data:") == 2
        assert streamed.headers["RateLimit"] == '"ask";r=4;t=1'
        assert client.get("/plain").status_code == 200
        denied = client.get("/plain")
        assert denied.status_code == 429
        assert denied.headers["Retry-After"] == "1"
        assert denied.headers["RateLimit"] == '"search";r=0;t=1'
        assert denied.json()["error"]["code"] == "rate_limited"


def test_rate_limited_keeps_budget_exceeded_headers_working() -> None:
    from groundwire.errors import BudgetExceeded

    assert BudgetExceeded("spent", retry_after=42).headers == {"Retry-After": "42"}
    err = RateLimited("slow down", retry_after=3, headers={"RateLimit": '"ask";r=0;t=9'})
    assert err.headers == {"RateLimit": '"ask";r=0;t=9', "Retry-After": "3"}
