"""Per-key rate limits: a token bucket per (key, route class) whose state lives in PostgreSQL,
so the limit holds across API replicas and restarts.

Contract:

* ``RateLimiter.check(key, route_class)`` takes one token from the bucket configured for the
  key and route class (``security.rate_limit``: ``search``, ``ask``, ``ingest``, ``admin``;
  per-principal overrides) and returns a ``RateDecision``. A bucket holds ``burst`` tokens
  (default: ``requests_per_minute``), starts full and refills continuously at
  ``requests_per_minute / 60`` tokens a second. ``requests_per_minute = 0`` disables the
  limit: always allowed, no store call, no headers.
* The take is one atomic statement in the store (``Store.take_token``): concurrent requests of
  one key on any number of replicas never get more than ``burst + elapsed * rate`` tokens.
* ``apply_rate_limit(request, key, route_class)`` (called by the auth dependency) stores the
  decision on ``request.state.rate_limit`` and raises ``RateLimited`` (HTTP 429 with
  ``Retry-After``) when the bucket is empty; ``RateLimitHeadersMiddleware`` adds the
  ``RateLimit-Policy`` and ``RateLimit`` headers (IETF httpapi-ratelimit-headers draft
  syntax) to every response of a request that has a decision, streaming ones included.

Header values: ``RateLimit-Policy: "<class>";q=<burst>;w=<seconds to refill a full bucket>``
and ``RateLimit: "<class>";r=<whole tokens left>;t=<seconds until the bucket is full>``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from groundwire.errors import ConfigurationError, RateLimited
from groundwire.settings import RATE_LIMIT_CLASSES, RateLimitSettings

Take = Callable[..., Awaitable[tuple[bool, float]]]  # Store.take_token
STATE_KEY = "rate_limit"


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The outcome of one ``check``. ``limit`` is the bucket capacity (0: unlimited);
    ``remaining`` whole tokens left; ``reset_s`` seconds until the bucket is full again;
    ``retry_after_s`` (denied only) seconds until one token is back."""

    allowed: bool
    limit: int
    remaining: int
    reset_s: int
    retry_after_s: int | None
    policy: str = "default"
    window_s: int = 60

    @property
    def limited(self) -> bool:
        return self.limit > 0

    def headers(self) -> dict[str, str]:
        """``RateLimit-Policy`` and ``RateLimit`` (empty when the route is unlimited)."""
        if not self.limited:
            return {}
        return {
            "RateLimit-Policy": f'"{self.policy}";q={self.limit};w={self.window_s}',
            "RateLimit": f'"{self.policy}";r={self.remaining};t={self.reset_s}',
        }


UNLIMITED = RateDecision(allowed=True, limit=0, remaining=0, reset_s=0, retry_after_s=None)


def refill(tokens: float, elapsed_s: float, *, capacity: int, per_second: float) -> float:
    """The bucket level after ``elapsed_s`` seconds (the arithmetic the store runs in SQL)."""
    return min(float(capacity), tokens + per_second * max(0.0, elapsed_s))


def take(tokens: float, elapsed_s: float, *, capacity: int, per_second: float
         ) -> tuple[bool, float]:
    """Refill, then take one token if there is one: (taken, level after)."""
    level = refill(tokens, elapsed_s, capacity=capacity, per_second=per_second)
    return (True, level - 1.0) if level >= 1.0 else (False, level)


def decide(allowed: bool, tokens_left: float, *, capacity: int, per_second: float,
           policy: str) -> RateDecision:
    """A ``RateDecision`` from the store's answer (whole seconds, rounded up)."""
    tokens_left = max(0.0, tokens_left)
    reset_s = math.ceil(max(0.0, capacity - tokens_left) / per_second - 1e-9)
    retry = None if allowed else max(1, math.ceil((1.0 - tokens_left) / per_second - 1e-9))
    return RateDecision(
        allowed=allowed, limit=capacity, remaining=int(math.floor(tokens_left + 1e-9)),
        reset_s=max(0, reset_s), retry_after_s=retry, policy=policy,
        window_s=max(1, math.ceil(capacity / per_second - 1e-9)),
    )


class RateLimiter:
    """Token buckets over the store (``take`` is ``Store.take_token``)."""

    def __init__(self, take: Take, settings: RateLimitSettings) -> None:
        self._take = take
        self.settings = settings

    async def check(self, key: str, route_class: str) -> RateDecision:
        if route_class not in RATE_LIMIT_CLASSES:
            raise ConfigurationError(
                f"unknown rate-limit route class {route_class!r}; known: {RATE_LIMIT_CLASSES}")
        limit = self.settings.for_key(key, route_class)
        if limit.requests_per_minute == 0:
            return UNLIMITED
        per_second = limit.requests_per_minute / 60.0
        capacity = limit.capacity
        allowed, left = await self._take(key, route_class, capacity=capacity,
                                         per_second=per_second)
        return decide(allowed, left, capacity=capacity, per_second=per_second,
                      policy=route_class)


class MemoryBuckets:
    """In-process buckets with the store's contract (``take_token``): for unit tests and a
    single process without PostgreSQL. ``clock`` returns seconds (monotonic)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    async def take_token(self, key: str, route_class: str, *, capacity: int,
                         per_second: float) -> tuple[bool, float]:
        now = self._clock()
        level, at = self._buckets.get((key, route_class), (float(capacity), now))
        allowed, level = take(level, now - at, capacity=capacity, per_second=per_second)
        self._buckets[(key, route_class)] = (level, max(at, now))
        return allowed, level


async def apply_rate_limit(
    request: Any, limiter: RateLimiter | str | None, principal_key: str,
    route_class: str | None = None,
) -> RateDecision:
    """Check the caller's bucket for ``route_class``; keep the decision on
    ``request.state.rate_limit`` (the headers middleware reads it) and raise ``RateLimited``
    when it is empty. Called as ``apply_rate_limit(request, limiter, key, route_class)`` or
    ``apply_rate_limit(request, key, route_class)`` (the limiter is then the app's
    ``gw.rate_limiter``); a no-op returning ``UNLIMITED`` when there is no limiter."""
    if isinstance(limiter, str):  # the three-argument form
        assert route_class is None
        principal_key, route_class = limiter, principal_key
        gw = getattr(request.app.state, "groundwire", None)
        limiter = getattr(gw, "rate_limiter", None)
    assert route_class is not None
    if limiter is None:
        return UNLIMITED
    decision = await limiter.check(principal_key, route_class)
    setattr(request.state, STATE_KEY, decision)
    if not decision.allowed:
        assert decision.retry_after_s is not None
        raise RateLimited(
            f"rate limit for {route_class} requests exceeded; retry in "
            f"{decision.retry_after_s} s",
            retry_after=decision.retry_after_s, headers=decision.headers(),
        )
    return decision


class RateLimitHeadersMiddleware:
    """ASGI middleware: adds ``RateLimit-Policy`` / ``RateLimit`` to the response of every
    request whose decision ``apply_rate_limit`` stored (read when the response starts, which
    for streaming responses is after the endpoint returned)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                decision = scope.get("state", {}).get(STATE_KEY)
                if isinstance(decision, RateDecision) and decision.limited:
                    from starlette.datastructures import MutableHeaders

                    headers = MutableHeaders(scope=message)
                    for name, value in decision.headers().items():
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
