"""Contracts of the ``DocumentStore`` (ingest writes) and ``DocumentCatalog`` ports, beyond
those already in ``test_store_contract.py``."""

from __future__ import annotations

import pytest
from store_contract_helpers import MODEL, chunks, commit, vectors, write

from groundwire.domain import Access, DocumentState
from groundwire.errors import NotFound
from groundwire.stores.base import Store

pytestmark = pytest.mark.integration

ALICE = Access(tenant="acme", tokens=frozenset({"t:acme:u:alice"}))


# ---------------------------------------------------------------------- DocumentStore
async def test_ensure_source_returns_one_id_per_source(store: Store) -> None:
    a = await store.ensure_source("i", "folder", "/one")
    assert await store.ensure_source("i", "folder", "/one") == a
    others = {await store.ensure_source("i", "folder", "/two"),
              await store.ensure_source("i", "folder", "/one", tenant="acme"),
              await store.ensure_source("j", "folder", "/one")}
    assert a not in others and len(others) == 3


async def test_a_failing_commit_changes_nothing(store: Store) -> None:
    await commit(store, "i", "a", ["old text"])
    generation = await store.generation("i")
    good = chunks(["new text"])
    bad = chunks(["broken \x00 text"])  # a NUL: no PostgreSQL text column takes it
    with pytest.raises(Exception):  # noqa: B017 - any error, as long as nothing changed
        await store.commit_documents(
            "i", [write("a", good), write("b", bad)], {**vectors(good), **vectors(bad, 1)},
            MODEL)
    _, corpus = await store.keyword_corpus("i")
    assert [c.text for c in corpus] == ["old text"]
    assert [d.uri for d in await store.list_documents("i")] == ["a"]
    assert await store.generation("i") == generation


async def test_mark_pending_adds_unsearchable_documents_and_keeps_known_ones(
    store: Store,
) -> None:
    await commit(store, "i", "a", ["indexed text"])
    await store.mark_pending("i", ["a", "p"])
    known = await store.known_documents("i")
    assert {uri: k.state for uri, k in known.items()} == {
        "a": DocumentState.INDEXED, "p": DocumentState.PENDING}
    _, corpus = await store.keyword_corpus("i")
    assert [c.text for c in corpus] == ["indexed text"]


async def test_known_documents_remember_hash_and_fingerprint(store: Store) -> None:
    await commit(store, "i", "a", ["text"], content_hash="bytes-hash")
    known = (await store.known_documents("i"))["a"]
    assert (known.content_hash, known.pipeline_fingerprint) == ("bytes-hash", "fp")


async def test_mark_failed_of_a_new_uri_records_a_failed_document(store: Store) -> None:
    await store.ensure_index("i")
    await store.mark_failed("i", "bad.pdf", code="parse.pdf_invalid", message="x" * 5000)
    [doc] = await store.list_documents("i")
    assert (doc.uri, doc.state, doc.error_code, doc.chunk_count) == (
        "bad.pdf", DocumentState.FAILED, "parse.pdf_invalid", 0)


async def test_delete_documents_counts_and_moves_the_generation_only_when_it_deletes(
    store: Store,
) -> None:
    await commit(store, "i", "a", ["one"])
    generation = await store.generation("i")
    assert await store.delete_documents("i", ["nope"]) == 0
    assert await store.generation("i") == generation
    assert await store.delete_documents("i", ["a", "nope"]) == 1
    assert await store.generation("i") > generation
    assert await store.list_documents("i") == []


# ---------------------------------------------------------------------- DocumentCatalog
async def test_list_documents_pages_by_uri_and_filters_state_and_access(store: Store) -> None:
    for n, uri in enumerate(["c", "a", "b"]):
        await commit(store, "i", uri, [f"text {uri}"], start=n, tenant="acme",
                     readers=["t:acme:admin"] + (["t:acme:u:alice"] if uri != "b" else []))
    await store.mark_failed("i", "d", code="parse.binary", message="no", tenant="acme",
                            readers=["t:acme:u:alice"])
    assert [d.uri for d in await store.list_documents("i")] == ["a", "b", "c", "d"]
    assert [d.uri for d in await store.list_documents("i", limit=2, offset=1)] == ["b", "c"]
    failed = await store.list_documents("i", state=DocumentState.FAILED)
    assert [d.uri for d in failed] == ["d"]
    assert [d.uri for d in await store.list_documents("i", access=ALICE)] == ["a", "c", "d"]
    other = Access(tenant="other", tokens=frozenset({"t:acme:u:alice"}))
    assert await store.list_documents("i", access=other) == []


async def test_count_documents_has_every_state_and_failures_by_code(store: Store) -> None:
    await commit(store, "i", "a", ["a"])
    await store.mark_pending("i", ["p"])
    await store.mark_failed("i", "f1", code="parse.binary", message="x")
    await store.mark_failed("i", "f2", code="parse.binary", message="x")
    by_state, errors = await store.count_documents("i")
    assert set(by_state) == {s.value for s in DocumentState}
    assert (by_state["indexed"], by_state["pending"], by_state["failed"]) == (1, 1, 2)
    assert errors == {"parse.binary": 2}
    by_state, errors = await store.count_documents("i", access=ALICE)
    assert sum(by_state.values()) == 0 and errors == {}


async def test_get_document_hides_unreadable_documents_like_absent_ones(store: Store) -> None:
    await commit(store, "i", "a", ["a"], tenant="acme", readers=["t:acme:admin"])
    [doc] = await store.list_documents("i")
    assert (await store.get_document(doc.id)) is not None
    assert await store.get_document(doc.id, access=ALICE) is None
    assert await store.get_document(doc.id + 1000) is None


async def test_set_readers_replaces_readers_and_moves_the_generation(store: Store) -> None:
    await commit(store, "i", "a", ["a"], tenant="acme", readers=["t:acme:admin"])
    [doc] = await store.list_documents("i")
    generation = await store.generation("i")
    await store.set_readers(doc.id, ["t:acme:u:alice"])
    assert await store.generation("i") > generation
    found = await store.get_document(doc.id, access=ALICE)
    assert found is not None and found.readers == ("t:acme:u:alice",)
    with pytest.raises(NotFound):
        await store.set_readers(doc.id + 1000, ["x"])


async def test_delete_document_says_whether_it_deleted(store: Store) -> None:
    await commit(store, "i", "a", ["a"])
    [doc] = await store.list_documents("i")
    generation = await store.generation("i")
    assert await store.delete_document(doc.id) is True
    assert await store.generation("i") > generation
    assert await store.delete_document(doc.id) is False
    _, corpus = await store.keyword_corpus("i")
    assert corpus == []


async def test_documents_by_uri_is_scoped_to_the_tenant(store: Store) -> None:
    s1 = await store.ensure_source("i", "folder", "/one", tenant="acme")
    s2 = await store.ensure_source("i", "folder", "/two", tenant="acme")
    await commit(store, "i", "a", ["from one"], tenant="acme", source_id=s1)
    await commit(store, "i", "a", ["from two"], start=1, tenant="acme", source_id=s2)
    await commit(store, "i", "b", ["other"], start=2, tenant="other")
    found = await store.documents_by_uri("i", ["a", "b"], tenant="acme")
    assert [d.uri for d in found] == ["a", "a"]
    assert await store.documents_by_uri("i", ["a"], tenant="other") == []


async def test_stats_counts_states_errors_chunks_and_embedded_passages(store: Store) -> None:
    await commit(store, "i", "a", ["one", "two"])
    await store.mark_failed("i", "f", code="parse.binary", message="x")
    stats = await store.stats("i")
    assert stats.name == "i" and stats.generation == await store.generation("i")
    assert set(stats.documents_by_state) == {s.value for s in DocumentState}
    assert stats.documents_by_state["indexed"] == 1
    assert stats.errors_by_code == {"parse.binary": 1}
    assert (stats.chunks, stats.embedded_chunks) == (2, 2)


async def test_access_summary_counts_admin_only_and_readable(store: Store) -> None:
    await commit(store, "i", "a", ["a"], tenant="acme", readers=["t:acme:admin"])
    await commit(store, "i", "b", ["b"], start=1, tenant="acme",
                 readers=["t:acme:admin", "t:acme:u:alice"])
    await commit(store, "j", "c", ["c"], start=2, tenant="other", readers=["t:other:admin"])
    assert await store.access_summary(tenant="acme") == {"indexed": 2, "admin_only": 1}
    assert await store.access_summary(tenant="acme", tokens=["t:acme:u:alice"]) == {
        "indexed": 2, "admin_only": 1, "readable": 1}
    assert (await store.access_summary(index="j"))["indexed"] == 1
    assert (await store.access_summary())["indexed"] == 3
