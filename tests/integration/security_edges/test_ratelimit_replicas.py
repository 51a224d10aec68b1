"""Rate-limit buckets on real PostgreSQL: two ``RateLimiter``s over two stores (two API
replicas, separate connection pools) share one bucket per key, under concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest

from groundwire.security.ratelimit import RateLimiter
from groundwire.settings import RateLimitSettings
from groundwire.stores.postgres.store import PostgresStore

pytestmark = pytest.mark.integration


@pytest.fixture
async def replicas(database_url: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    a = PostgresStore(database_url, pool_min=1, pool_max=6)
    b = PostgresStore(database_url, pool_min=1, pool_max=6)
    await a.open()
    await b.open()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


def _settings(burst: int, per_minute: int) -> RateLimitSettings:
    return RateLimitSettings(ask={"requests_per_minute": per_minute, "burst": burst})


async def test_two_replicas_share_one_bucket_under_concurrency(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = replicas
    limits = _settings(burst=25, per_minute=1)  # refill: one token a minute
    one, two = RateLimiter(a.take_token, limits), RateLimiter(b.take_token, limits)
    calls = [one.check("acme/ann", "ask") for _ in range(30)]
    calls += [two.check("acme/ann", "ask") for _ in range(30)]
    decisions = await asyncio.gather(*calls)
    allowed = [d for d in decisions if d.allowed]
    assert len(allowed) == 25  # not 25 per replica: one bucket
    assert sorted(d.remaining for d in allowed) == list(range(25))
    denied = [d for d in decisions if not d.allowed]
    assert all(d.retry_after_s is not None and 1 <= d.retry_after_s <= 60 for d in denied)
    # another key is untouched by ann's exhaustion, on either replica
    assert (await two.check("acme/bob", "ask")).remaining == 24


async def test_refill_is_computed_from_elapsed_database_time(
    replicas: tuple[PostgresStore, PostgresStore], database_url: str,
) -> None:
    a, b = replicas
    # One token every 10 s: the 100 takes below would have to run for 10 s on a loaded box
    # before a token came back (at one a second, a slow CI box could refill one).
    limits = _settings(burst=100, per_minute=6)
    one, two = RateLimiter(a.take_token, limits), RateLimiter(b.take_token, limits)
    for _ in range(100):
        await one.check("acme/ann", "ask")
    assert not (await two.check("acme/ann", "ask")).allowed
    # Pretend 300 s passed since the bucket's last update (instead of sleeping).
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE rate_buckets SET updated_at = updated_at - interval '300 seconds'")
    d = await two.check("acme/ann", "ask")
    assert d.allowed and d.remaining == 29  # 30 refilled (+ the seconds the test ran), one taken
    # 70.x tokens missing at 0.1/s: 710 s, less the (few) real seconds the test took
    assert 700 <= d.reset_s <= 710
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE rate_buckets SET updated_at = updated_at - interval '1 day'")
    assert (await one.check("acme/ann", "ask")).remaining == 99  # capped at the burst


async def test_limits_changed_between_calls_apply_at_once(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    a, _ = replicas
    generous = RateLimiter(a.take_token, _settings(burst=50, per_minute=1))
    strict = RateLimiter(a.take_token, _settings(burst=3, per_minute=1))
    assert (await generous.check("acme/ann", "ask")).remaining == 49
    d = await strict.check("acme/ann", "ask")  # the stored 49 tokens are capped at 3
    assert d.allowed and d.remaining == 2
