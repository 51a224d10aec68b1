"""Retry policy of failed documents: backoff doubling, bounded attempts, then dead letter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from groundwire.sources.retries import RetryPolicy

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_backoff_doubles_until_dead_letter() -> None:
    policy = RetryPolicy(base_s=60, max_attempts=3)
    failing = {"a.md": ("parse.empty", "no text")}
    first = policy.update({}, failing, retried=False, now=T0)
    assert first["a.md"]["attempts"] == 1 and not first["a.md"]["dead"]
    assert first["a.md"]["next_at"] == (T0 + timedelta(seconds=60)).isoformat()
    assert not policy.due(first, T0 + timedelta(seconds=59))
    assert policy.due(first, T0 + timedelta(seconds=60))
    # a sync that was not a retry does not count an attempt nor move the retry
    same = policy.update(first, failing, retried=False, now=T0 + timedelta(seconds=10))
    assert same["a.md"]["attempts"] == 1 and same["a.md"]["next_at"] == first["a.md"]["next_at"]
    t1 = T0 + timedelta(seconds=61)
    second = policy.update(first, failing, retried=True, now=t1)
    assert second["a.md"]["attempts"] == 2
    assert second["a.md"]["next_at"] == (t1 + timedelta(seconds=120)).isoformat()
    third = policy.update(second, failing, retried=True, now=t1 + timedelta(seconds=121))
    assert third["a.md"]["dead"] and third["a.md"]["code"] == "parse.empty"
    assert not policy.due(third, T0 + timedelta(days=30))
    assert policy.next_retry(third) is None


def test_a_document_that_succeeds_leaves_the_list() -> None:
    policy = RetryPolicy()
    first = policy.update({}, {"a.md": ("read.io_error", "x")}, retried=False, now=T0)
    assert policy.update(first, {}, retried=True, now=T0) == {}
