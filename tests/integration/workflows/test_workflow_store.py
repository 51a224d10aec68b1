"""The ``WorkflowStore`` port on PostgreSQL: idempotent events (concurrent duplicates create
one), guarded updates, claims, deliveries, decisions and stats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from groundwire.errors import InvalidRequest
from groundwire.stores.postgres.store import PostgresStore

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[PostgresStore]:
    impl = PostgresStore(database_url, pool_max=8)
    await impl.open()
    try:
        yield impl
    finally:
        await impl.close()


async def test_concurrent_duplicates_create_one_event(store: PostgresStore) -> None:
    results = await asyncio.gather(*(
        store.add_workflow_event("wf", "key-1", "default", {"body": "b"}) for _ in range(8)))
    assert sum(created for _, created in results) == 1
    assert len({row["id"] for row, _ in results}) == 1
    other, created = await store.add_workflow_event("other", "key-1", "default", {})
    assert created and other["id"] != results[0][0]["id"]  # keys are per workflow
    assert [r["id"] for r in await store.list_workflow_events("wf")] == [results[0][0]["id"]]


async def test_guarded_updates_claims_and_stats(store: PostgresStore) -> None:
    row, _ = await store.add_workflow_event("wf", "k", "default", {"body": "b"})
    event_id = row["id"]
    with pytest.raises(InvalidRequest):
        await store.update_workflow_event(event_id, {"tenant": "evil"})
    assert await store.claim_workflow_event(event_id, "a") is None  # not in review yet
    drafted = datetime.now(UTC) - timedelta(seconds=30)
    row2 = await store.update_workflow_event(
        event_id, {"state": "review", "draft": "d", "answer": {"citations": []},
                   "drafted_at": drafted}, expect_states=("received",))
    assert row2 is not None and row2["answer"] == {"citations": []}
    assert await store.update_workflow_event(event_id, {"state": "x"},
                                             expect_states=("received",)) is None
    assert (await store.claim_workflow_event(event_id, "alice"))["claimed_by"] == "alice"
    assert await store.claim_workflow_event(event_id, "bob") is None
    assert await store.claim_workflow_event(event_id, "alice") is not None
    await store.update_workflow_event(event_id, {
        "state": "approved", "decided_by": "alice", "decided_at": datetime.now(UTC),
        "edit_distance": 0.25, "reply": "r"}, expect_states=("review",))
    await store.add_workflow_decision(event_id, "approve", "alice", {"edit_distance": 0.25})
    for attempt, ok in ((1, False), (2, True)):
        await store.add_workflow_delivery(event_id, attempt, ok=ok, status=200 if ok else 503,
                                          error=None if ok else "HTTP 503", ms=1.0)
    assert [d["attempt"] for d in await store.workflow_deliveries(event_id)] == [1, 2]
    assert [d["action"] for d in await store.workflow_decisions(event_id)] == ["approve"]
    stats = await store.workflow_stats("wf")
    assert stats["events"] == {"approved": 1} and stats["approval_rate"] == 1.0
    assert stats["mean_edit_distance"] == 0.25 and 29 <= stats["mean_decision_s"] < 120
    assert stats["deliveries"] == {"ok": 1, "failed": 1}
    empty = await store.workflow_stats("none")
    assert empty["approval_rate"] is None and empty["events"] == {}
