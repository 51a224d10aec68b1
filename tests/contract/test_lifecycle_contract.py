"""Contracts of the ``Lifecycle``, ``Generations`` and ``IndexCatalog`` ports."""

from __future__ import annotations

import asyncio

import pytest
from store_contract_helpers import commit

from groundwire.errors import NotFound, StoreUnavailable
from groundwire.stores.base import Store

pytestmark = pytest.mark.integration


# ---------------------------------------------------------------------- Lifecycle
async def test_conninfo_is_refused_before_open_and_a_url_after(unopened_store: Store) -> None:
    with pytest.raises(RuntimeError):
        _ = unopened_store.conninfo
    await unopened_store.open()
    try:
        assert isinstance(unopened_store.conninfo, str) and unopened_store.conninfo
        await unopened_store.ping()
    finally:
        await unopened_store.close()


async def test_open_of_an_unreachable_database_is_store_unavailable(
    unreachable_store: Store,
) -> None:
    with pytest.raises(StoreUnavailable):
        await unreachable_store.open()
    await unreachable_store.close()  # safe after a failed open


async def test_methods_of_a_closed_store_are_store_unavailable(unopened_store: Store) -> None:
    await unopened_store.open()
    await unopened_store.close()
    with pytest.raises(StoreUnavailable):
        await unopened_store.ping()
    with pytest.raises(StoreUnavailable):
        await unopened_store.list_indexes()


# ---------------------------------------------------------------------- Generations
async def test_generation_of_an_unknown_index_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.generation("never-created")


async def test_generation_strictly_increases_with_searchable_writes(store: Store) -> None:
    await store.ensure_index("i")
    seen = [await store.generation("i")]
    await commit(store, "i", "a", ["one"])
    seen.append(await store.generation("i"))
    await commit(store, "i", "a", ["one changed"])
    seen.append(await store.generation("i"))
    await store.mark_failed("i", "a", code="parse.binary", message="gone bad")
    seen.append(await store.generation("i"))
    assert seen == sorted(set(seen)), seen


# ---------------------------------------------------------------------- IndexCatalog
async def test_ensure_index_is_idempotent_and_keeps_the_generation(store: Store) -> None:
    await store.ensure_index("i")
    await commit(store, "i", "a", ["text"])
    before = await store.generation("i")
    await store.ensure_index("i")
    assert await store.generation("i") == before
    assert await store.list_indexes() == ["i"]


async def test_list_indexes_is_sorted_and_scoped_by_tenant(store: Store) -> None:
    for name in ("zeta", "alpha", "mid"):
        await store.ensure_index(name)
    await commit(store, "zeta", "a", ["z"], tenant="acme")
    await commit(store, "alpha", "b", ["a"], tenant="acme")
    await commit(store, "mid", "c", ["m"], tenant="other")
    assert await store.list_indexes() == ["alpha", "mid", "zeta"]
    assert await store.list_indexes("acme") == ["alpha", "zeta"]
    assert await store.list_indexes("nobody") == []


async def test_index_tenancy_says_who_holds_documents(store: Store) -> None:
    await commit(store, "shared", "a", ["a"], tenant="acme")
    await commit(store, "shared", "b", ["b"], tenant="other")
    await commit(store, "own", "c", ["c"], tenant="acme")
    assert await store.index_tenancy("shared", "acme") == (True, True)
    assert await store.index_tenancy("own", "acme") == (True, False)
    assert await store.index_tenancy("own", "other") == (False, True)
    assert await store.index_tenancy("empty", "acme") == (False, False)


async def test_index_write_lock_excludes_holders_of_the_same_index_only(store: Store) -> None:
    events: list[str] = []
    held = asyncio.Event()

    async def first() -> None:
        async with store.index_write_lock("i"):
            events.append("first in")
            held.set()
            await asyncio.sleep(0.3)
            events.append("first out")

    async def second() -> None:
        await held.wait()
        async with store.index_write_lock("i"):
            events.append("second in")

    async def other_index() -> None:
        await held.wait()
        async with store.index_write_lock("j"):
            events.append("other in")

    await asyncio.wait_for(asyncio.gather(first(), second(), other_index()), timeout=20)
    assert events.index("other in") < events.index("first out")
    assert events.index("first out") < events.index("second in")
