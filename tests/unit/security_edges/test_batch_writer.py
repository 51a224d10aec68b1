"""The shared background batch writer (``stores/batch_writer.py``): one item the store
refuses is dead-lettered — logged with a code, without its text, and counted in the
``groundwire_writer_dead_letters_total`` metric — while every other item of its batch is
stored; a transient failure is retried, not dead-lettered."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence

import psycopg
import pytest

from groundwire.security.audit import AuditEvent, AuditLog
from groundwire.stores.batch_writer import BatchWriter, is_permanent
from groundwire.telemetry.metrics import Metrics

SECRET = "gw_live_TOPSECRET"


class FakeStore:
    """Refuses, like PostgreSQL, a whole batch when any event holds a NUL (all-or-nothing
    ``executemany`` in one transaction)."""

    def __init__(self) -> None:
        self.rows: list[AuditEvent] = []
        self.calls = 0

    async def insert_audit(self, events: Sequence[AuditEvent]) -> None:
        self.calls += 1
        for event in events:
            if "\\u0000" in json.dumps(dict(event.details)):  # what jsonb refuses
                raise psycopg.errors.UntranslatableCharacter(
                    f"unsupported Unicode escape sequence: {event.details}")
        self.rows.extend(events)


def _dead_letters(metrics: Metrics, writer: str, code: str) -> float:
    value = metrics.registry.get_sample_value(
        "groundwire_writer_dead_letters_total", {"writer": writer, "code": code})
    return float(value or 0.0)


async def test_one_poison_event_leaves_the_rest_of_its_batch_stored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FakeStore()
    metrics = Metrics()
    audit = AuditLog(store.insert_audit, redact=lambda text: text, retry_delay_s=0.0,
                     on_dead_letter=metrics.count_dead_letter)
    audit.start()
    caplog.set_level(logging.INFO, logger="groundwire")
    # queued while the writer waits, so they form one batch
    for i in range(20):
        question = f"{SECRET} poison\x00{i}" if i == 7 else f"clean question {i}"
        await audit.record(tenant="acme", actor=f"acme/u{i}", action="search", target="default",
                           details={"question": question, "n": i})
    await audit.record(tenant="acme", actor="acme/admin", action="key.create", target="k1")
    await audit.close()
    stored = [e.details.get("n", e.action) for e in store.rows]
    assert stored == [*(i for i in range(20) if i != 7), "key.create"]
    assert audit.written == 20 and audit.failed == 1
    assert store.calls == 1 + 21  # the batch once (a permanent error: no retry), then each
    assert _dead_letters(metrics, "audit", "writer.rejected") == 1.0
    assert _dead_letters(metrics, "audit", "writer.unavailable") == 0.0
    assert b'groundwire_writer_dead_letters_total{code="writer.rejected",writer="audit"} 1.0' \
        in await metrics.render()
    dead = [r for r in caplog.records if r.getMessage() == "batch_writer.dead_letter"]
    assert len(dead) == 1 and dead[0].levelno == logging.ERROR
    assert dead[0].code == "writer.rejected" and dead[0].writer == "audit"  # type: ignore[attr-defined]
    assert dead[0].item["actor"] == "acme/u7"  # type: ignore[attr-defined]
    logged = "".join(f"{r.getMessage()} {r.__dict__} {r.exc_text}" for r in caplog.records)
    assert SECRET not in logged and "poison" not in logged  # neither the text nor the error


async def test_a_transient_failure_is_retried_not_dead_lettered() -> None:
    calls = 0
    stored: list[int] = []

    async def insert(items: Sequence[int]) -> None:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise psycopg.OperationalError("connection refused")
        stored.extend(items)

    writer: BatchWriter[int] = BatchWriter("test", insert, retry_delay_s=0.0)
    writer.start()
    for i in range(5):
        await writer.put(i)
    await writer.close()
    assert stored == [0, 1, 2, 3, 4] and writer.failed == 0 and calls == 3


async def test_prepare_failure_dead_letters_only_that_item() -> None:
    stored: list[int] = []
    dead: list[tuple[str, str]] = []

    async def insert(items: Sequence[int]) -> None:
        stored.extend(items)

    def prepare(item: int) -> int:
        if item == 3:
            raise RuntimeError("redactor crashed")
        return item * 10

    writer: BatchWriter[int] = BatchWriter(
        "records", insert, prepare=prepare, on_dead_letter=lambda w, c: dead.append((w, c)))
    await writer.write_now([1, 2, 3, 4])  # no running task: written in the caller
    assert stored == [10, 20, 40] and dead == [("records", "writer.prepare_failed")]


async def test_a_store_down_for_good_dead_letters_the_batch_without_per_item_waits() -> None:
    calls = 0

    async def insert(items: Sequence[int]) -> None:
        nonlocal calls
        calls += 1
        raise psycopg.OperationalError("server closed the connection")

    writer: BatchWriter[int] = BatchWriter("audit", insert, retries=2, retry_delay_s=0.0)
    await asyncio.wait_for(writer.write_now(list(range(50))), 5)
    # the batch: 3 tries; then the first item alone: 3 tries; the other 49 are not tried
    assert writer.failed == 50 and writer.written == 0 and calls == 6


def test_permanent_errors_are_the_ones_retrying_cannot_fix() -> None:
    assert is_permanent(psycopg.DataError("PostgreSQL text fields cannot contain NUL"))
    assert is_permanent(psycopg.errors.UntranslatableCharacter("\\u0000"))
    assert is_permanent(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates"))
    assert not is_permanent(psycopg.OperationalError("connection refused"))
    assert not is_permanent(RuntimeError("database down"))
