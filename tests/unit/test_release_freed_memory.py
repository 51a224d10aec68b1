"""``release_freed_memory`` returns the heap freed during start-up to the OS (glibc's
``malloc_trim``), and ``Groundwire.warm`` calls it once, last (issue 23: serving RSS)."""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any

import pytest

from groundwire.app import Groundwire
from groundwire.engine import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim")
def test_freed_small_objects_leave_the_rss() -> None:
    garbage = [bytearray(1000) for _ in range(60_000)]  # ~60 MB of small heap blocks
    pin = bytearray(1000)  # allocated after them: the heap's top stays in use
    del garbage
    released = memory.release_freed_memory()
    assert released is not None and released >= 20 * 2**20, released
    del pin


async def test_warm_releases_freed_memory_after_everything_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    async def engine_warm() -> None:
        calls.append("engine")

    def release() -> int:
        calls.append("release")
        return 0

    monkeypatch.setattr(memory, "release_freed_memory", release)
    app: Any = SimpleNamespace(engine=SimpleNamespace(warm=engine_warm), monitoring=None,
                               audit=None)
    await Groundwire.warm(app)
    assert calls == ["engine", "release"]
