from __future__ import annotations

from groundwire.retrieval.keyword import Bm25Index, Bm25Params
from groundwire.stores.base import StoredChunk


def chunk(cid: int, text: str, uri: str = "a", media: str = "text/plain",
          meta: dict[str, str] | None = None) -> StoredChunk:
    return StoredChunk(cid, cid, uri, "", media, text, "", (), 0, len(text), meta or {})


CHUNKS = [
    chunk(1, "Installing the server requires Python and PostgreSQL", "docs/install.md"),
    chunk(2, "Pricing plans: the enterprise plan costs more", "docs/pricing.md",
          meta={"team": "sales"}),
    chunk(3, "Running servers in production needs monitoring", "ops/run.md", "text/html"),
]


def test_bm25_ranks_by_stemmed_terms() -> None:
    idx = Bm25Index(1, CHUNKS, Bm25Params())
    hits = idx.search("install server", 10)
    assert [h[0] for h in hits] == [1, 3]
    assert hits[0][1] > hits[1][1] > 0


def test_unknown_terms_give_no_hits() -> None:
    idx = Bm25Index(1, CHUNKS, Bm25Params())
    assert idx.search("zzzqqq", 10) == []
    assert idx.search("the and of", 10) == []


def test_filters_apply_before_ranking() -> None:
    idx = Bm25Index(1, CHUNKS, Bm25Params())
    assert [h[0] for h in idx.search("server", 1, {"uri_prefix": "ops/"})] == [3]
    assert [h[0] for h in idx.search("server", 10, {"media_type": "text/html"})] == [3]
    assert idx.search("server", 10, {"metadata": {"team": "sales"}}) == []
    assert [h[0] for h in idx.search("plan", 10, {"metadata": {"team": "sales"}})] == [2]


def test_empty_index() -> None:
    assert Bm25Index(0, [], Bm25Params()).search("anything", 5) == []


def test_access_mask_is_per_reader_and_tenant_and_reused() -> None:
    from dataclasses import replace

    from groundwire.domain import Access

    chunks = [replace(CHUNKS[0], tenant="a", readers=("t:a:g1",)),
              replace(CHUNKS[1], tenant="a", readers=("t:a:g2",)),
              replace(CHUNKS[2], tenant="b", readers=("t:a:g1",))]  # wrong tenant: never read
    idx = Bm25Index(1, chunks, Bm25Params())
    g1 = Access(tenant="a", tokens=frozenset({"t:a:g1"}))
    assert idx.access_mask(g1).tolist() == [1.0, 0.0, 0.0]
    assert idx.access_mask(Access(tenant="a", tokens=frozenset({"t:a:g2"}))).tolist() == [
        0.0, 1.0, 0.0]
    assert idx.access_mask(Access(tenant="b", tokens=frozenset({"t:a:g1"}))).tolist() == [
        0.0, 0.0, 1.0]
    # an equal reader gets the same cached mask, and nobody can change it in place
    same = idx.access_mask(Access(tenant="a", tokens=frozenset({"t:a:g1"})))
    assert same is idx.access_mask(g1) and not same.flags.writeable
    assert [h[0] for h in idx.search("server", 10, access=g1)] == [1]
