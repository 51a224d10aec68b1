"""The ingest lock of an index holds across processes: two stores (two replicas' pools) on
one database; while one holds ``index_write_lock("docs")`` the other waits for it, and another
index's lock is free."""

from __future__ import annotations

import asyncio

import pytest

from groundwire.stores.postgres.store import PostgresStore

pytestmark = pytest.mark.integration


async def test_index_write_lock_is_exclusive_across_stores(database_url: str) -> None:
    a = PostgresStore(database_url, pool_min=0, pool_max=1)  # the lock needs no pool slot
    b = PostgresStore(database_url, pool_min=0, pool_max=1)
    await a.open()
    await b.open()
    order: list[str] = []
    try:
        async def second() -> None:
            async with b.index_write_lock("docs"):
                order.append("b")

        async with a.index_write_lock("docs"):
            order.append("a")
            waiting = asyncio.create_task(second())
            async with b.index_write_lock("other"):  # another index: not blocked
                order.append("b-other")
            await asyncio.sleep(0.5)
            assert not waiting.done()  # still waiting for a's lock
            order.append("a-done")
        await asyncio.wait_for(waiting, 30)
        assert order == ["a", "b-other", "a-done", "b"]
        # A cancelled holder releases it.
        holder = asyncio.create_task(_hold(a, "docs"))
        await asyncio.sleep(0.2)
        holder.cancel()
        await asyncio.gather(holder, return_exceptions=True)
        async with b.index_write_lock("docs"):
            pass
    finally:
        await a.close()
        await b.close()


async def _hold(store: PostgresStore, index: str) -> None:
    async with store.index_write_lock(index):
        await asyncio.sleep(3600)
