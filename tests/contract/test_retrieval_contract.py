"""Contracts of the ``KeywordCorpus``, ``VectorSearch`` and ``VectorIndexAdmin`` ports."""

from __future__ import annotations

import pytest
from store_contract_helpers import MODEL, axis, blend, chunks, commit, write

from groundwire.domain import Access
from groundwire.errors import InvalidRequest, NotFound
from groundwire.stores.base import Store

pytestmark = pytest.mark.integration

ALICE = Access(tenant="acme", tokens=frozenset({"t:acme:u:alice"}))


# ---------------------------------------------------------------------- KeywordCorpus
async def test_keyword_corpus_is_one_generation_in_chunk_id_order(store: Store) -> None:
    await commit(store, "i", "a", ["one", "two"])
    await commit(store, "i", "b", ["three"], start=2)
    await store.mark_pending("i", ["p"])
    await store.mark_failed("i", "f", code="parse.binary", message="x")
    await commit(store, "other", "c", ["elsewhere"], start=3)
    generation, corpus = await store.keyword_corpus("i")
    assert generation == await store.generation("i")
    assert [c.chunk_id for c in corpus] == sorted(c.chunk_id for c in corpus)
    assert sorted(c.text for c in corpus) == ["one", "three", "two"]
    assert {c.uri for c in corpus} == {"a", "b"}


async def test_keyword_corpus_of_a_tenant_has_only_its_chunks(store: Store) -> None:
    await commit(store, "i", "a", ["acme text"], tenant="acme")
    await commit(store, "i", "b", ["other text"], start=1, tenant="other")
    _, corpus = await store.keyword_corpus("i", "acme")
    assert [(c.text, c.tenant) for c in corpus] == [("acme text", "acme")]
    _, everything = await store.keyword_corpus("i")
    assert len(everything) == 2


async def test_index_epoch_is_fixed_per_index_and_survives_generations(store: Store) -> None:
    await store.ensure_index("i")
    await store.ensure_index("j")
    before = await store.index_epoch("i")
    await commit(store, "i", "a", ["one"])  # bumps the generation
    assert await store.index_epoch("i") == before
    assert await store.index_epoch("j") != before
    with pytest.raises(NotFound):
        await store.index_epoch("missing")


# ---------------------------------------------------------------------- VectorSearch
async def _three(store: Store) -> dict[str, int]:
    """Documents a, b, c of index i along axes 0, 1, 2; only b is readable by ALICE."""
    for n, uri in enumerate("abc"):
        readers = ["t:acme:admin"] + (["t:acme:u:alice"] if uri == "b" else [])
        await commit(store, "i", uri, [f"text {uri}"], start=n, tenant="acme", readers=readers)
    _, corpus = await store.keyword_corpus("i")
    return {c.uri: c.chunk_id for c in corpus}


async def test_vector_search_is_best_first_and_at_most_k(store: Store) -> None:
    ids = await _three(store)
    query = blend({0: 0.9, 1: 0.4, 2: 0.1})
    hits = await store.vector_search("i", MODEL, query, 2)
    assert [h[0] for h in hits] == [ids["a"], ids["b"]]
    assert hits[0][1] >= hits[1][1]
    assert len(await store.vector_search("i", MODEL, query, 10)) == 3


async def test_vector_search_applies_access_and_still_fills_k(store: Store) -> None:
    ids = await _three(store)
    hits = await store.vector_search("i", MODEL, axis(0), 1, access=ALICE)
    assert [h[0] for h in hits] == [ids["b"]]


async def test_vector_search_of_an_unknown_model_is_empty_and_a_wrong_dim_refused(
    store: Store,
) -> None:
    await _three(store)
    assert await store.vector_search("i", "never-stored", axis(0), 5) == []
    with pytest.raises(InvalidRequest):
        await store.vector_search("i", MODEL, [1.0, 0.0], 5)


async def test_vector_scores_are_exact_for_the_index_readable_chunks_only(store: Store) -> None:
    ids = await _three(store)
    elsewhere = await commit(store, "other", "x", ["other index"], start=3)
    _, other = await store.keyword_corpus("other")
    wanted = [ids["a"], ids["b"], other[0].chunk_id, 999_999]
    scores = await store.vector_scores("i", MODEL, axis(1), wanted)
    assert set(scores) == {ids["a"], ids["b"]}
    assert scores[ids["b"]] == pytest.approx(1.0, abs=1e-3)
    assert scores[ids["a"]] == pytest.approx(0.0, abs=1e-3)
    assert set(await store.vector_scores("i", MODEL, axis(1), wanted, ALICE)) == {ids["b"]}
    assert await store.vector_scores("i", MODEL, axis(1), []) == {}
    assert elsewhere  # committed to another index: never scored for "i"


async def test_chunks_by_id_returns_searchable_readable_rows_only(store: Store) -> None:
    ids = await _three(store)
    rows = await store.chunks_by_id([ids["a"], ids["b"], 999_999])
    assert set(rows) == {ids["a"], ids["b"]}
    assert (rows[ids["a"]].uri, rows[ids["a"]].text) == ("a", "text a")
    assert set(await store.chunks_by_id([ids["a"], ids["b"]], ALICE)) == {ids["b"]}
    await store.mark_failed("i", "b", code="parse.binary", message="x", tenant="acme")
    assert await store.chunks_by_id([ids["b"]]) == {}


# ---------------------------------------------------------------------- VectorIndexAdmin
async def test_dropping_and_rebuilding_the_vector_index_keeps_results(store: Store) -> None:
    assert await store.drop_vector_index("never-stored") is False
    assert await store.build_vector_index("never-stored") is False
    ids = await _three(store)
    query = blend({0: 0.2, 1: 0.9, 2: 0.5})
    before = await store.vector_search("i", MODEL, query, 3)
    assert await store.drop_vector_index(MODEL) is True
    assert [h[0] for h in await store.vector_search("i", MODEL, query, 3)] == [
        h[0] for h in before]
    assert await store.build_vector_index(MODEL) is True
    after = await store.vector_search("i", MODEL, query, 3)
    assert [h[0] for h in after] == [ids["b"], ids["c"], ids["a"]] == [h[0] for h in before]


async def test_identical_text_in_two_documents_is_one_embedding(store: Store) -> None:
    await store.ensure_index("i")
    a, b = chunks(["same words"]), chunks(["same words"])
    await store.commit_documents("i", [write("a", a), write("b", b)],
                                 {a[0].content_hash: axis(0)}, MODEL)
    assert await store.missing_embeddings(MODEL, [a[0].content_hash]) == set()
    hits = await store.vector_search("i", MODEL, axis(0), 5)
    assert len(hits) == 2
