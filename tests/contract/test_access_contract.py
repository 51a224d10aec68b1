"""Contracts of the ``UsageStore``, ``RateLimitStore``, ``AuditSink``, ``AuditReader``,
``PrincipalStore`` and ``ApiKeyStore`` ports."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from groundwire.domain.audit import AuditEvent
from groundwire.errors import InvalidRequest, NotFound
from groundwire.stores.base import PeriodLimit, Store

pytestmark = pytest.mark.integration


# ---------------------------------------------------------------------- UsageStore
async def test_reserve_usage_counts_until_a_limit_then_changes_nothing(store: Store) -> None:
    limits = [PeriodLimit("day:2026-11-26", requests=2), PeriodLimit("month:2026-11")]
    assert await store.reserve_usage("p", limits) is None
    assert await store.reserve_usage("p", limits) is None
    assert await store.reserve_usage("p", limits) == "day:2026-11-26 requests"
    usage = await store.usage("p")
    assert usage["day:2026-11-26"]["requests"] == 2
    assert usage["month:2026-11"]["requests"] == 2  # the refused call counted nowhere
    assert await store.reserve_usage("p", []) is None


async def test_add_usage_accumulates_and_token_limits_apply(store: Store) -> None:
    await store.add_usage("p", ["day:d"], tokens=60, cost=0.5)
    await store.add_usage("p", ["day:d"], tokens=40, cost=0.25)
    counters = (await store.usage("p"))["day:d"]
    assert (counters["tokens"], counters["cost"]) == (100, pytest.approx(0.75))
    assert await store.reserve_usage("p", [PeriodLimit("day:d", tokens=100)]) == "day:d tokens"
    assert await store.usage("nobody") == {}


async def test_reserve_usage_is_atomic_under_concurrency(store: Store) -> None:
    limits = [PeriodLimit("day:d", requests=5)]
    outcomes = await asyncio.gather(*(store.reserve_usage("p", limits) for _ in range(12)))
    assert outcomes.count(None) == 5
    assert (await store.usage("p"))["day:d"]["requests"] == 5


async def test_reserve_usage_scopes_is_all_or_nothing_across_scopes(store: Store) -> None:
    """Principal, key and workflow scopes are reserved together: one exhausted scope means
    no counter of any scope moves, and it is named."""
    day = "day:2026-12-03"
    limits = {"t/u": [PeriodLimit(day, requests=10)],
              "key:k1": [PeriodLimit(day, requests=2), PeriodLimit("month:2026-12")],
              "workflow:w": [PeriodLimit(day, cost=1.0)]}
    assert await store.reserve_usage_scopes(limits) is None
    assert await store.reserve_usage_scopes(limits) is None
    assert await store.reserve_usage_scopes(limits) == ("key:k1", f"{day} requests")
    assert (await store.usage("t/u"))[day]["requests"] == 2  # the refusal counted nowhere
    assert (await store.usage("workflow:w"))[day]["requests"] == 2
    assert (await store.usage("key:k1"))["month:2026-12"]["requests"] == 2
    await store.add_usage_scopes(["t/u", "workflow:w"], [day], tokens=7, cost=1.5)
    others = {"t/u": limits["t/u"], "workflow:w": limits["workflow:w"]}
    assert await store.reserve_usage_scopes(others) == ("workflow:w", f"{day} cost")
    assert (await store.usage("t/u"))[day] == {"requests": 2, "tokens": 7, "cost": 1.5}
    assert await store.usage("key:k1") != await store.usage("t/u")  # not added to k1
    assert await store.reserve_usage_scopes({}) is None


async def test_reserve_usage_scopes_holds_under_concurrency(store: Store) -> None:
    limits = {"a/b": [PeriodLimit("day:d", requests=100)], "key:k": [PeriodLimit("day:d",
                                                                                requests=4)]}
    outcomes = await asyncio.gather(*(store.reserve_usage_scopes(limits) for _ in range(10)))
    assert outcomes.count(None) == 4
    assert (await store.usage("a/b"))["day:d"]["requests"] == 4


# ---------------------------------------------------------------------- RateLimitStore
async def test_a_bucket_hands_out_capacity_then_refuses(store: Store) -> None:
    taken = [await store.take_token("k", "ask", capacity=3, per_second=0.001)
             for _ in range(4)]
    assert [t for t, _ in taken] == [True, True, True, False]
    assert taken[0][1] == pytest.approx(2, abs=0.01)
    assert (await store.take_token("k", "search", capacity=1, per_second=0.001))[0] is True


async def test_concurrent_takes_never_exceed_capacity(store: Store) -> None:
    results = await asyncio.gather(*(store.take_token("k", "c", capacity=4, per_second=0.001)
                                     for _ in range(10)))
    assert sum(1 for taken, _ in results if taken) == 4


# ---------------------------------------------------------------------- audit
async def test_audit_events_come_back_in_insertion_order_with_filters(store: Store) -> None:
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    events = [AuditEvent("acme", "alice", "key.create", "k1", {"n": 1}, at=t0),
              AuditEvent("acme", "alice", "key", None, at=t0 + timedelta(hours=1)),
              AuditEvent("other", "bob", "search", None, at=t0 + timedelta(hours=2)),
              AuditEvent("acme", "alice", "keyring.x", None, at=t0 + timedelta(hours=3))]
    await store.insert_audit(events[:2])
    await store.insert_audit(events[2:])
    await store.insert_audit([])
    everything = await store.list_audit()
    assert [e.action for e in everything] == ["key.create", "key", "search", "keyring.x"]
    ids = [e.id for e in everything]
    assert all(isinstance(i, int) for i in ids) and ids == sorted(ids)
    assert everything[0].details == {"n": 1} and everything[0].target == "k1"
    assert [e.action for e in await store.list_audit(action="key.*")] == ["key.create", "key"]
    assert [e.action for e in await store.list_audit(action="key")] == ["key"]
    assert [e.actor for e in await store.list_audit(tenant="other")] == ["bob"]
    window = await store.list_audit(since=t0 + timedelta(hours=1), until=t0 + timedelta(hours=3))
    assert [e.action for e in window] == ["key", "search"]
    page = await store.list_audit(after_id=ids[1], limit=1)
    assert [e.id for e in page] == [ids[2]]


# ---------------------------------------------------------------------- PrincipalStore
async def test_principals_are_idempotent_sorted_and_tenant_scoped(store: Store) -> None:
    for _ in range(2):
        await store.ensure_tenant("acme")
        await store.ensure_user("acme", "zoe")
        await store.ensure_user("acme", "alice")
        await store.ensure_group("acme", "ops")
        await store.ensure_group("acme", "dev")
        await store.add_member("acme", "ops", "alice")
        await store.add_member("acme", "dev", "alice")
    await store.ensure_user("other", "alice")
    tenants = await store.list_tenants()  # an implementation may seed a default tenant
    assert tenants == sorted(tenants) and {"acme", "other"} <= set(tenants)
    assert [u["name"] for u in await store.list_users("acme")] == ["alice", "zoe"]
    users = {u["name"]: u["groups"] for u in await store.list_users("acme")}
    assert users == {"alice": ["dev", "ops"], "zoe": []}
    groups = {g["name"]: g["members"] for g in await store.list_groups("acme")}
    assert groups == {"dev": ["alice"], "ops": ["alice"]}
    assert await store.user_groups("acme", "alice") == ["dev", "ops"]
    assert await store.user_groups("other", "alice") == []


async def test_membership_changes_and_deletions_report_what_happened(store: Store) -> None:
    await store.ensure_user("acme", "alice")
    await store.ensure_group("acme", "ops")
    with pytest.raises(NotFound):
        await store.add_member("acme", "ops", "nobody")
    with pytest.raises(NotFound):
        await store.add_member("acme", "nogroup", "alice")
    await store.add_member("acme", "ops", "alice")
    assert await store.remove_member("acme", "ops", "alice") is True
    assert await store.remove_member("acme", "ops", "alice") is False
    assert await store.delete_group("acme", "ops") is True
    assert await store.delete_group("acme", "ops") is False
    assert await store.delete_user("other", "alice") is False
    assert await store.delete_user("acme", "alice") is True


# ---------------------------------------------------------------------- ApiKeyStore
async def _key(store: Store, key_id: str, user: str = "alice", tenant: str = "acme") -> None:
    await store.insert_key(key_id=key_id, tenant=tenant, user=user, name=f"name-{key_id}",
                           secret_hash=f"hash-{key_id}", scopes=["read"], expires_at=None)


async def test_keys_need_their_user_and_never_list_the_secret(store: Store) -> None:
    with pytest.raises(InvalidRequest):
        await _key(store, "k0")
    await store.ensure_user("acme", "alice")
    await store.ensure_group("acme", "ops")
    await store.add_member("acme", "ops", "alice")
    await _key(store, "k1")
    await store.ensure_user("other", "bob")
    await _key(store, "k2", "bob", "other")
    listed = await store.list_keys("acme")
    assert [k["id"] for k in listed] == ["k1"]
    assert all("secret_hash" not in k for k in await store.list_keys())
    assert {k["id"] for k in await store.list_keys()} == {"k1", "k2"}
    auth = await store.key_for_auth("k1")
    assert auth is not None
    assert (auth["secret_hash"], auth["user"], list(auth["groups"])) == ("hash-k1", "alice",
                                                                        ["ops"])
    assert await store.key_for_auth("missing") is None


async def test_revoke_key_is_tenant_scoped_and_once(store: Store) -> None:
    await store.ensure_user("acme", "alice")
    await _key(store, "k1")
    assert await store.revoke_key("k1", "other") is False
    assert await store.revoke_key("k1", "acme") is True
    assert await store.revoke_key("k1") is False
    [row] = await store.list_keys("acme")
    assert row["revoked_at"] is not None


async def test_deleting_a_user_deletes_its_keys(store: Store) -> None:
    await store.ensure_user("acme", "alice")
    await _key(store, "k1")
    assert await store.delete_user("acme", "alice") is True
    assert await store.key_for_auth("k1") is None
