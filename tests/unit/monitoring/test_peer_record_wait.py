"""Feedback behind a load balancer: the record of an answer may still be in *another*
replica's writer when feedback arrives; ``record(..., wait_for_peers=True)`` looks again for a
bounded time, plain ``record`` does not."""

from __future__ import annotations

from typing import Any

import pytest

from groundwire.errors import NotFound
from groundwire.monitoring import service as monitoring_service
from groundwire.monitoring.service import MonitoringService
from groundwire.settings import MonitoringSettings


class PeerWritesLater:
    """A store whose record appears on the ``appears_at``-th lookup (a peer's writer)."""

    def __init__(self, appears_at: int | None) -> None:
        self.appears_at = appears_at
        self.lookups = 0

    async def get_record(self, record_id: str) -> Any:
        self.lookups += 1
        if self.appears_at is not None and self.lookups >= self.appears_at:
            return {"id": record_id}
        return None

    async def insert_records(self, records: Any) -> None:  # the writer's sink (unused)
        raise AssertionError("nothing is written")


def _service(store: PeerWritesLater) -> MonitoringService:
    return MonitoringService(store, MonitoringSettings(), embedding_model="fake-32",  # type: ignore[arg-type]
                             redact=lambda text: text)


async def test_waits_for_a_record_another_replica_is_writing() -> None:
    store = PeerWritesLater(appears_at=4)
    assert await _service(store).record("r1", wait_for_peers=True) == {"id": "r1"}
    assert store.lookups == 4


async def test_without_waiting_an_unwritten_record_is_not_found() -> None:
    store = PeerWritesLater(appears_at=4)
    with pytest.raises(NotFound):
        await _service(store).record("r1")
    assert store.lookups == 2  # once, and once after flushing this process's own writer


async def test_an_unknown_id_is_not_found_after_the_bounded_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(monitoring_service, "PEER_WRITE_WAIT_S", 0.3)
    store = PeerWritesLater(appears_at=None)
    with pytest.raises(NotFound):
        await _service(store).record("nope", wait_for_peers=True)
    assert store.lookups > 2
