"""Migration 0010 on real PostgreSQL: vectors stored by the old schema (``vector`` column, a
partial HNSW index over ``embedding::vector(dim)``) become ``halfvec`` with their values kept,
each model's index is rebuilt over ``embedding::halfvec(dim)``, and the store's vector search
uses it."""

from __future__ import annotations

import psycopg
import pytest

from groundwire.stores.postgres.migrations import available_migrations
from groundwire.stores.postgres.store import PostgresStore

pytestmark = pytest.mark.integration


async def test_0010_converts_vectors_and_rebuilds_the_model_index(database_url: str) -> None:
    before = [m for m in available_migrations() if m.version < 10]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
                     " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        for m in before:
            conn.execute(m.sql.encode())
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                         [m.version, m.name])
        conn.execute("INSERT INTO indexes (name) VALUES ('i')")
        doc = conn.execute("INSERT INTO documents (index_name, uri, state) VALUES"
                           " ('i', 'a', 'indexed') RETURNING id").fetchone()[0]
        for pos, (h, vec) in enumerate([("h1", "[1,0,0]"), ("h2", "[0.6,0.8,0]")]):
            conn.execute("INSERT INTO chunks (document_id, position, text, content_hash,"
                         " char_start, char_end, token_count) VALUES (%s, %s, 't', %s, 0, 1, 1)",
                         [doc, pos, h])
            conn.execute("INSERT INTO embeddings (content_hash, model_id, dim, embedding)"
                         " VALUES (%s, 'm', 3, %s::vector)", [h, vec])
        conn.execute("CREATE INDEX embeddings_hnsw_m ON embeddings USING hnsw"
                     " ((embedding::vector(3)) vector_cosine_ops) WHERE model_id = 'm'")
        conn.execute("INSERT INTO embedding_models (model_id, dim, index_name)"
                     " VALUES ('m', 3, 'embeddings_hnsw_m')")

    store = PostgresStore(database_url)
    await store.open()  # applies 0010
    try:
        with psycopg.connect(database_url) as conn:
            column = conn.execute(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
                " WHERE attrelid = 'embeddings'::regclass AND attname = 'embedding'").fetchone()
            index = conn.execute("SELECT indexdef FROM pg_indexes"
                                 " WHERE indexname = 'embeddings_hnsw_m'").fetchone()
            values = conn.execute("SELECT content_hash, embedding::text FROM embeddings"
                                  " ORDER BY 1").fetchall()
        assert column == ("halfvec",)
        assert index is not None and "halfvec(3)" in index[0]
        assert "halfvec_cosine_ops" in index[0]
        assert values == [("h1", "[1,0,0]"), ("h2", "[0.60009766,0.7998047,0]")]  # float16
        hits = await store.vector_search("i", "m", [1.0, 0.0, 0.0], 10)
        assert [round(score, 3) for _, score in hits] == [1.0, 0.6]
    finally:
        await store.close()
