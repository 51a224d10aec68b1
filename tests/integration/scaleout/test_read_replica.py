"""Read replica routing on real streaming replication: a hot standby made with pg_basebackup
from the "external" server. Read-only query paths (document lists and counts, vector search,
chunk rows) run on the replica; writes and the generation counter on the primary; the keyword
corpus comes from the replica unless it lags the primary's generation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from support.external_pg import ExternalPostgres, StreamingReplica

from groundwire.bootstrap import build_app
from groundwire.domain import SearchRequest
from groundwire.embedding.fake import FakeEmbedder
from groundwire.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def replica(external_pg: ExternalPostgres) -> Iterator[StreamingReplica]:
    standby = StreamingReplica(external_pg, external_pg.pgdata.parent / "standby").start()
    try:
        yield standby
    finally:
        standby.stop()


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


async def test_reads_go_to_the_replica_and_writes_to_the_primary(
    external_pg: ExternalPostgres, replica: StreamingReplica, tmp_path: Path,
) -> None:
    primary_url = external_pg.create_database("rr")
    replica.wait_caught_up()  # the new database exists on the standby
    settings = Settings(
        database_url=primary_url, data_dir=tmp_path / "data",
        database={"read_url": replica.url_for(primary_url), "application_name": "gw-rr"},
        autotune={"enabled": False},
    )
    corpus = tmp_path / "corpus"
    _write(corpus, "otters.md", "# Otters\n\nSea otters hold hands while they sleep.\n")
    embedder = FakeEmbedder()
    async with build_app(settings, embedder=embedder) as gw:
        store = gw.store
        async with store._read_connection() as conn:  # type: ignore[attr-defined]
            row = await (await conn.execute(
                "SELECT pg_is_in_recovery(), current_setting('application_name')")).fetchone()
        assert row == (True, "gw-rr-read")
        async with store._connection() as conn:  # type: ignore[attr-defined]
            row = await (await conn.execute(
                "SELECT pg_is_in_recovery(), current_setting('application_name')")).fetchone()
        assert row == (False, "gw-rr")

        # Writes reach the primary (the standby is read-only: a write there would fail).
        report = await gw.ingest_path(corpus)
        assert report.indexed == 1
        replica.wait_caught_up()
        request = SearchRequest(query="sea otters sleep", index="default", top_k=3)
        hits, _ = await gw.search(request)
        assert [h.uri for h in hits][:1] == ["otters.md"]

        # Pause replay: the standby now lags; what it serves shows which pool a path uses.
        with psycopg.connect(replica.url(), autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_pause()")
        try:
            _write(corpus, "herons.md", "# Herons\n\nGrey herons stand still in shallow "
                   "water to catch fish.\n")
            assert (await gw.ingest_path(corpus)).indexed == 1
            generation = await store.generation("default")  # primary: moved
            listed = [d.uri for d in await store.list_documents("default")]
            assert listed == ["otters.md"]  # replica: not yet
            counts, _ = await store.count_documents("default")
            assert counts["indexed"] == 1
            vector = embedder.encode_query("grey herons")
            dense = await store.vector_search("default", embedder.model_id, vector, 5)
            dense_rows = await store.chunks_by_id([cid for cid, _ in dense])
            assert {c.uri for c in dense_rows.values()} == {"otters.md"}
            # The keyword corpus never goes back behind the primary's generation: the
            # lagging replica is skipped for it.
            corpus_generation, chunks = await store.keyword_corpus("default")
            assert corpus_generation == generation
            assert {c.uri for c in chunks} == {"otters.md", "herons.md"}
            # A search sees the new document only once its rows reach the replica.
            hits, _ = await gw.search(SearchRequest(query="grey herons fish", index="default",
                                                    top_k=3))
            assert "herons.md" not in [h.uri for h in hits]
        finally:
            with psycopg.connect(replica.url(), autocommit=True) as conn:
                conn.execute("SELECT pg_wal_replay_resume()")
        replica.wait_caught_up()
        assert sorted(d.uri for d in await store.list_documents("default")) == [
            "herons.md", "otters.md"]
        hits, _ = await gw.search(SearchRequest(query="grey herons fish", index="default", top_k=3))
        assert [h.uri for h in hits][:1] == ["herons.md"]


def test_read_url_without_a_primary_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="read_url"):
        Settings(data_dir=tmp_path, database={"read_url": "postgresql://x@h/db"})
