"""Persisted keyword indexes: a loaded snapshot ranks exactly like the index it was written
from; only an exact (epoch, generation, tenant, parameters) match is ever loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundwire.domain import Access
from groundwire.retrieval.keyword import Bm25Index, Bm25Params
from groundwire.retrieval.keyword_snapshots import KeywordSnapshots, SnapshotKey
from groundwire.stores.base import StoredChunk

WORDS = ["brown", "red", "green", "blue", "brown"]


def corpus(n: int = 60) -> list[StoredChunk]:
    return [StoredChunk(
        chunk_id=100 + i, document_id=i, uri=f"docs/{i % 3}.md", title="t",
        media_type="text/html" if i % 4 == 0 else "text/plain",
        text=f"The quick {WORDS[i % 5]} foxes jumped over fence number {i}", header="Guide",
        heading_path=(), char_start=0, char_end=10, metadata={"team": "a" if i % 2 else "b"},
        tenant="acme" if i % 2 else "other", readers=(f"t:acme:u:{i % 5}", "t:acme:admin"),
    ) for i in range(n)]


def key(generation: int = 3, epoch: str = "e1", tenant: str | None = None,
        params: Bm25Params | None = None) -> SnapshotKey:
    return SnapshotKey("default", tenant, epoch, generation, params or Bm25Params())


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Bm25Index, KeywordSnapshots]:
    built = Bm25Index(3, corpus(), Bm25Params())
    snapshots = KeywordSnapshots(tmp_path)
    snapshots.save(key(), built)
    return built, snapshots


@pytest.mark.parametrize("query", ["brown fox", "fence number 7", "jumping greens", "zebra"])
def test_a_loaded_snapshot_ranks_exactly_like_the_built_index(
        saved: tuple[Bm25Index, KeywordSnapshots], query: str) -> None:
    built, snapshots = saved
    loaded = snapshots.load(key())
    assert loaded is not None and len(loaded) == len(built)
    alice = Access(tenant="acme", tokens=frozenset({"t:acme:u:1"}))
    assert loaded.search(query, 10) == built.search(query, 10)
    assert loaded.search(query, 10, {"uri_prefix": "docs/1"}) == \
        built.search(query, 10, {"uri_prefix": "docs/1"})
    assert loaded.search(query, 10, {"media_type": "text/html", "metadata": {"team": "b"}}) == \
        built.search(query, 10, {"media_type": "text/html", "metadata": {"team": "b"}})
    assert loaded.search(query, 10, None, alice) == built.search(query, 10, None, alice)
    assert loaded.scores_for(query, [100, 101, 159, 999]) == \
        built.scores_for(query, [100, 101, 159, 999])


@pytest.mark.parametrize("other", [
    key(generation=4), key(epoch="e2"), key(tenant="acme"), key(params=Bm25Params(1.2, 0.75)),
])
def test_only_an_exact_match_is_loaded(saved: tuple[Bm25Index, KeywordSnapshots],
                                       other: SnapshotKey) -> None:
    _, snapshots = saved
    assert snapshots.load(other) is None


def test_a_damaged_snapshot_is_not_served(saved: tuple[Bm25Index, KeywordSnapshots]) -> None:
    _, snapshots = saved
    (snapshots.path(key()) / "chunk_ids.npy").unlink()
    assert snapshots.load(key()) is None


def test_a_newer_generation_replaces_the_older_one(
        saved: tuple[Bm25Index, KeywordSnapshots]) -> None:
    _, snapshots = saved
    newer = Bm25Index(4, corpus(70), Bm25Params())
    snapshots.save(key(generation=4), newer)
    assert snapshots.load(key()) is None
    loaded = snapshots.load(key(generation=4))
    assert loaded is not None and len(loaded) == 70
    assert [p.name for p in snapshots.path(key()).parent.iterdir()] == [key(4).name()]


def test_an_empty_index_round_trips(tmp_path: Path) -> None:
    snapshots = KeywordSnapshots(tmp_path)
    snapshots.save(key(), Bm25Index(3, [], Bm25Params()))
    loaded = snapshots.load(key())
    assert loaded is not None and len(loaded) == 0 and loaded.search("anything", 5) == []
