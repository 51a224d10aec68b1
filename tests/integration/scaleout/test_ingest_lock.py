"""The ingest lock of an index holds across processes: two stores (two replicas' pools) on
one database; while one holds ``index_write_lock("docs")`` the other waits for it, and another
index's lock is free.

Every wait is bounded (a broken lock fails, never hangs), and the test proves the second
store is really *blocked on the lock* (its advisory-lock request shows as not granted in
``pg_locks``) before it checks that the second store has not got in: a slow connect alone
cannot make the check pass."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import psycopg
import pytest

from groundwire.stores.postgres.store import PostgresStore

pytestmark = pytest.mark.integration
BOUND_S = 30.0

ADVISORY = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted = %s"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOUND_S
    while not await check():
        if loop.time() > deadline:
            pytest.fail(f"not within {BOUND_S:.0f} s: {what}")
        await asyncio.sleep(0.05)


async def test_index_write_lock_is_exclusive_across_stores(database_url: str) -> None:
    a = PostgresStore(database_url, pool_min=0, pool_max=1)  # the lock needs no pool slot
    b = PostgresStore(database_url, pool_min=0, pool_max=1)
    await a.open()
    await b.open()
    observer = await psycopg.AsyncConnection.connect(database_url, autocommit=True)

    async def advisory(granted: bool) -> int:
        cur = await observer.execute(ADVISORY, [granted])
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    order: list[str] = []
    try:
        async def second() -> None:
            async with b.index_write_lock("docs"):
                order.append("b")

        async with a.index_write_lock("docs"):
            order.append("a")
            assert await advisory(True) == 1
            waiting = asyncio.create_task(second())

            async def other_index() -> None:
                async with b.index_write_lock("other"):  # another index: not blocked
                    order.append("b-other")

            await asyncio.wait_for(other_index(), BOUND_S)
            await _until(lambda: _positive(advisory(False)),
                         "the second store waits for the lock of 'docs'")
            assert not waiting.done(), "the second store got a held lock"
            order.append("a-done")
        await asyncio.wait_for(waiting, BOUND_S)
        assert order == ["a", "b-other", "a-done", "b"]

        # A cancelled holder releases it: hold, see it held, cancel, take it elsewhere.
        holder = asyncio.create_task(_hold(a, "docs"))
        await _until(lambda: _positive(advisory(True)), "the holder takes the lock")
        holder.cancel()
        await asyncio.gather(holder, return_exceptions=True)

        async def take_again() -> None:
            async with b.index_write_lock("docs"):
                pass

        await asyncio.wait_for(take_again(), BOUND_S)
    finally:
        await observer.close()
        await a.close()
        await b.close()


async def _positive(count: Awaitable[int]) -> bool:
    return await count > 0


async def _hold(store: PostgresStore, index: str) -> None:
    async with store.index_write_lock(index):
        await asyncio.sleep(3600)
