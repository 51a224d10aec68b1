"""The record writer: redacts before storing, never blocks, drops and counts when full,
retries a failing store and survives one that stays down."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from groundwire.domain.records import AnswerRecord
from groundwire.monitoring.recorder import RecordWriter


def _record(n: int) -> AnswerRecord:
    return AnswerRecord(id=f"id-{n}", created_at=datetime.now(UTC), kind="search",
                        index="default", principal="anonymous", question=f"mail {n}@x.org")


async def test_writes_redacted_batches_and_flushes() -> None:
    stored: list[AnswerRecord] = []

    async def insert(batch):
        stored.extend(batch)

    writer = RecordWriter(insert, lambda text: text.replace("@x.org", "<EMAIL>"),
                          embed=lambda text: [1.0, 2.0])
    writer.start()
    assert all(writer.submit(_record(n)) for n in range(5))
    await writer.flush(5)
    assert [r.question for r in stored] == [f"mail {n}<EMAIL>" for n in range(5)]
    assert stored[0].query_embedding == [1.0, 2.0]  # filled in when missing
    assert writer.written == 5 and writer.dropped == 0
    await writer.stop()
    assert not writer.submit(_record(9)) and writer.dropped == 1  # stopped: dropped


async def test_full_queue_drops_without_blocking_and_failures_are_counted() -> None:
    release = asyncio.Event()
    calls = 0

    async def insert(batch):
        nonlocal calls
        calls += 1
        await release.wait()
        if calls == 1:
            raise RuntimeError("database down")

    writer = RecordWriter(insert, str, queue_size=2, retry_delay_s=0.0)
    writer.start()
    writer.submit(_record(0))
    await asyncio.sleep(0.05)  # the writer took record 0 and waits in insert
    results = [writer.submit(_record(n)) for n in range(1, 6)]
    assert results == [True, True, False, False, False] and writer.dropped == 3
    release.set()
    await writer.flush(5)
    # the failed batch (record 0) is retried once the store answers again: nothing is lost
    assert writer.failed == 0 and writer.written == 3
    await writer.stop()


async def test_a_store_that_stays_down_is_counted_and_the_writer_goes_on() -> None:
    calls = 0

    async def insert(batch):
        nonlocal calls
        calls += 1
        if calls <= 4:  # the first try and its three retries
            raise RuntimeError("database down")

    dead: list[tuple[str, str]] = []
    writer = RecordWriter(insert, str, retry_delay_s=0.0,
                          on_dead_letter=lambda w, code: dead.append((w, code)))
    writer.start()
    writer.submit(_record(0))
    await writer.flush(5)
    assert writer.failed == 1 and dead == [("records", "writer.unavailable")]
    writer.submit(_record(1))
    await writer.flush(5)
    assert writer.written == 1
    await writer.stop()
