"""Contracts of the ``RecordStore``, ``MonitoringQueries`` and ``AlertStore`` ports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from groundwire.domain.records import Alert, AnswerRecord
from groundwire.errors import InvalidRequest, NotFound
from groundwire.stores.base import Store

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _record(minutes: int, *, index: str = "i", kind: str = "ask", **kw: Any) -> AnswerRecord:
    return AnswerRecord(id=str(uuid.uuid4()), created_at=T0 + timedelta(minutes=minutes),
                        kind=kind, index=index, principal="p", question=f"q{minutes}", **kw)


# ---------------------------------------------------------------------- RecordStore
async def test_insert_records_is_idempotent_and_get_reads_back(store: Store) -> None:
    record = _record(0, answer="a", citations=[{"n": 1, "uri": "u", "chunk_id": 1}],
                     top_score=0.5)
    await store.insert_records([record])
    await store.insert_records([record])
    await store.insert_records([])
    assert len(await store.list_records()) == 1
    found = await store.get_record(record.id)
    assert found is not None
    assert (found.id, found.question, found.answer, found.top_score) == (
        record.id, "q0", "a", 0.5)
    assert await store.get_record(str(uuid.uuid4())) is None
    assert await store.get_record("not-a-record-id") is None


async def test_list_records_is_oldest_first_filtered_and_paged(store: Store) -> None:
    records = [_record(2), _record(0, kind="search"), _record(1, index="j"), _record(3)]
    await store.insert_records(records)
    listed = await store.list_records()
    assert [r.question for r in listed] == ["q0", "q1", "q2", "q3"]
    assert [r.question for r in await store.list_records(index="i", kind="ask")] == [
        "q2", "q3"]
    window = await store.list_records(since=T0 + timedelta(minutes=1),
                                      until=T0 + timedelta(minutes=3))
    assert [r.question for r in window] == ["q1", "q2"]
    first = await store.list_records(limit=2)
    rest = await store.list_records(after=(first[-1].created_at, first[-1].id))
    assert [r.question for r in first + rest] == ["q0", "q1", "q2", "q3"]


async def test_purge_records_deletes_older_records_and_their_feedback(store: Store) -> None:
    old, new = _record(0), _record(10)
    await store.insert_records([old, new])
    await store.add_feedback(old.id, helpful=True, comment=None, expected_passage=None,
                             principal="p")
    assert await store.purge_records(T0 + timedelta(minutes=5)) == 1
    assert [r.id for r in await store.list_records()] == [new.id]


async def test_add_feedback_needs_the_record(store: Store) -> None:
    record = _record(0)
    await store.insert_records([record])
    entry = await store.add_feedback(record.id, helpful=False, comment="meh",
                                     expected_passage="x", principal="alice")
    assert (entry.record_id, entry.helpful, entry.comment, entry.principal) == (
        record.id, False, "meh", "alice")
    with pytest.raises(NotFound):
        await store.add_feedback(str(uuid.uuid4()), helpful=True, comment=None,
                                 expected_passage=None, principal="p")


async def test_positive_feedback_records_are_helpful_only_answered_asks(store: Store) -> None:
    cites = [{"n": 1, "uri": "doc/a", "chunk_id": 1}]
    good = _record(0, answer="a", citations=cites)
    mixed = _record(1, answer="a", citations=cites)
    abstained = _record(2, abstained=True)
    later = _record(3, answer="a", citations=cites)
    other = _record(4, index="j", answer="a", citations=cites)
    await store.insert_records([good, mixed, abstained, later, other])
    for record, helpful in [(good, True), (mixed, True), (mixed, False), (abstained, True),
                            (later, True), (other, True)]:
        await store.add_feedback(record.id, helpful=helpful, comment=None,
                                 expected_passage="the passage" if record is later else None,
                                 principal="p")
    assert await store.positive_feedback_records("i") == [
        ("q0", ["doc/a"], ""), ("q3", ["doc/a"], "the passage")]


# ---------------------------------------------------------------------- MonitoringQueries
async def test_monitoring_aggregates(store: Store) -> None:
    now = datetime.now(UTC)
    recent = [AnswerRecord(id=str(uuid.uuid4()), created_at=now - timedelta(minutes=m),
                           kind="ask", index=index, principal="p", question=f"r{m}",
                           top_score=score, embedding_model="m", query_embedding=[float(m), 1.0],
                           abstained=score is None)
              for m, index, score in [(3, "zeta", 0.9), (2, "alpha", 0.1), (1, "alpha", None)]]
    await store.insert_records([_record(0, index="ancient")] + recent)
    since = now - timedelta(hours=1)
    assert await store.record_indexes(since) == ["alpha", "zeta"]
    aggregates = await store.window_aggregates(since, low_score=0.5)
    assert set(aggregates) == {"alpha", "zeta"} and aggregates["alpha"]["records"] == 2
    assert await store.recent_queries("alpha", "m", 5) == [(None, [1.0, 1.0]),
                                                           (0.1, [2.0, 1.0])]
    assert await store.recent_queries("alpha", "m", 1) == [(None, [1.0, 1.0])]
    gaps = await store.gap_candidates(since, low_score=0.5, model="m")
    assert [g["question"] for g in gaps] == ["r1", "r2"]
    series = await store.timeseries("requests", bucket_s=3600, since=since, index="alpha")
    assert sum(count for _, _, count in series) == 2
    assert [b for b, _, _ in series] == sorted(b for b, _, _ in series)
    with pytest.raises(InvalidRequest):
        await store.timeseries("no-such-metric", bucket_s=60, since=since)


# ---------------------------------------------------------------------- AlertStore
def _alert(monitor: str, index: str = "i") -> Alert:
    return Alert(monitor=monitor, index=index, severity="warning", value=0.4, threshold=0.3,
                 message=f"{monitor} high", details={"n": 3})


async def test_one_open_alert_per_monitor_and_index(store: Store) -> None:
    opened = await store.open_alert(_alert("drift"))
    assert opened is not None and opened.id is not None and opened.resolved_at is None
    assert await store.open_alert(_alert("drift")) is None
    assert await store.open_alert(_alert("drift", "j")) is not None
    resolved = await store.resolve_alert("drift", "i")
    assert resolved is not None and resolved.id == opened.id and resolved.resolved_at
    assert await store.resolve_alert("drift", "i") is None
    again = await store.open_alert(_alert("drift"))
    assert again is not None and again.id != opened.id


async def test_list_alerts_newest_first_and_open_only(store: Store) -> None:
    first = await store.open_alert(_alert("a"))
    second = await store.open_alert(_alert("b"))
    assert first is not None and second is not None
    await store.resolve_alert("a", "i")
    assert [a.id for a in await store.list_alerts()] == [second.id, first.id]
    assert [a.id for a in await store.list_alerts(open_only=True)] == [second.id]
    assert len(await store.list_alerts(limit=1)) == 1
