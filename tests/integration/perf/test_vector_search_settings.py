"""``vector_search`` sets ``hnsw.ef_search`` and ``hnsw.iterative_scan`` for its own
transaction only, in one round trip (issue 23: fewer database round trips per search)."""

from __future__ import annotations

import pytest

from groundwire.domain import Chunk
from groundwire.stores.base import DocumentWrite
from groundwire.stores.postgres.store import PostgresStore

pytestmark = pytest.mark.integration
MODEL = "settings-model"


async def _store(database_url: str, ef_search: int) -> PostgresStore:
    store = PostgresStore(database_url, pool_max=1, ef_search=ef_search)  # one connection
    await store.open()
    await store.ensure_index("i")
    chunks = [Chunk(i, text, "Doc", ("Doc",), 0, len(text), 2)
              for i, text in enumerate(["alpha one", "beta two"])]
    write = DocumentWrite(uri="a", title="a", media_type="text/plain", content_hash="h-a",
                          pipeline_fingerprint="fp", chunks=chunks)
    vectors = {chunks[0].content_hash: [1.0, 0.0, 0.0, 0.0],
               chunks[1].content_hash: [0.0, 1.0, 0.0, 0.0]}
    await store.commit_documents("i", [write], vectors, MODEL)
    return store


async def _show(store: PostgresStore, name: str) -> str:
    async with store._read_connection() as conn:
        row = await (await conn.execute(f"SHOW {name}")).fetchone()
    assert row is not None
    return str(row[0])


async def test_settings_apply_to_the_search_and_do_not_stay_on_the_connection(
    database_url: str,
) -> None:
    store = await _store(database_url, ef_search=123)
    try:
        before = (await _show(store, "hnsw.ef_search"), await _show(store, "hnsw.iterative_scan"))
        hits = await store.vector_search("i", MODEL, [1.0, 0.0, 0.0, 0.0], 2)
        assert [round(score, 3) for _, score in hits] == [1.0, 0.0]
        # SET LOCAL semantics: the pooled connection keeps its own values afterwards
        assert (await _show(store, "hnsw.ef_search"),
                await _show(store, "hnsw.iterative_scan")) == before != ("123", "relaxed_order")
    finally:
        await store.close()


async def test_the_ef_search_value_reaches_the_server(database_url: str) -> None:
    store = await _store(database_url, ef_search=5000)  # pgvector allows 1..1000
    try:
        with pytest.raises(Exception, match="ef_search"):
            await store.vector_search("i", MODEL, [1.0, 0.0, 0.0, 0.0], 2)
    finally:
        await store.close()
