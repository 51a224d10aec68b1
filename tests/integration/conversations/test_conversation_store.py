"""The ConversationStore port on the real embedded PostgreSQL: owner scoping (another user's
or tenant's conversation reads as missing), turn numbering under concurrency, ordering,
rename, and delete taking the turns with it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from groundwire.errors import NotFound
from groundwire.stores.ports.conversations import ConversationStore, TurnRow
from groundwire.stores.postgres.store import PostgresStore

pytestmark = pytest.mark.integration
ME = {"tenant": "acme", "owner": "ann"}


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[PostgresStore]:
    store = PostgresStore(database_url, pool_min=0, pool_max=4)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def _turn(question: str) -> TurnRow:
    return TurnRow(seq=0, question=question, rewritten=question + " rewritten",
                   rewriter="rules", answer="an answer [1]", abstained=False,
                   citations=[{"n": 1, "uri": "a.md"}], record_id="rec-1")


async def test_the_store_is_a_conversation_store(store: PostgresStore) -> None:
    assert isinstance(store, ConversationStore)


async def test_other_users_and_tenants_see_nothing(store: PostgresStore) -> None:
    made = await store.create_conversation("conv_1", title="Mine", index="default", **ME)
    assert made.turns == 0 and made.title == "Mine"
    for other in ({"tenant": "acme", "owner": "bob"}, {"tenant": "other", "owner": "ann"}):
        assert await store.list_conversations(**other) == []
        with pytest.raises(NotFound) as missing:
            await store.get_conversation("conv_1", **other)
        with pytest.raises(NotFound) as absent:
            await store.get_conversation("conv_nope", **ME)
        assert str(missing.value).replace("conv_1", "X") == str(absent.value).replace(
            "conv_nope", "X")
        with pytest.raises(NotFound):
            await store.rename_conversation("conv_1", title="stolen", **other)
        with pytest.raises(NotFound):
            await store.conversation_turns("conv_1", **other)
        with pytest.raises(NotFound):
            await store.add_turn("conv_1", _turn("q"), **other)
        assert await store.delete_conversation("conv_1", **other) is False
    assert (await store.get_conversation("conv_1", **ME)).title == "Mine"


async def test_turns_are_numbered_in_order_even_when_concurrent(store: PostgresStore) -> None:
    await store.create_conversation("conv_2", title="t", index="default", **ME)
    stored = await asyncio.gather(*(store.add_turn("conv_2", _turn(f"q{i}"), **ME)
                                    for i in range(6)))
    assert sorted(t.seq for t in stored) == [1, 2, 3, 4, 5, 6]
    turns = await store.conversation_turns("conv_2", **ME)
    assert [t.seq for t in turns] == [1, 2, 3, 4, 5, 6]
    assert turns[0].citations == [{"n": 1, "uri": "a.md"}] and turns[0].record_id == "rec-1"
    last = await store.conversation_turns("conv_2", last=2, **ME)
    assert [t.seq for t in last] == [5, 6]
    assert (await store.get_conversation("conv_2", **ME)).turns == 6


async def test_list_is_most_recent_first_and_rename_and_delete_work(store: PostgresStore) -> None:
    await store.create_conversation("conv_a", title="a", index="default", **ME)
    await store.create_conversation("conv_b", title="b", index="default", **ME)
    await store.add_turn("conv_a", _turn("q"), **ME)  # conv_a is now the most recent
    assert [c.id for c in await store.list_conversations(**ME)] == ["conv_a", "conv_b"]
    assert [c.id for c in await store.list_conversations(limit=1, offset=1, **ME)] == ["conv_b"]
    renamed = await store.rename_conversation("conv_b", title="Renamed", **ME)
    assert renamed.title == "Renamed"
    assert await store.delete_conversation("conv_a", **ME) is True
    assert await store.delete_conversation("conv_a", **ME) is False
    async with store._connection() as conn:  # the turns went with it
        rows = await (await conn.execute(
            "SELECT count(*) FROM conversation_turns WHERE conversation_id = 'conv_a'"
        )).fetchone()
    assert rows[0] == 0
