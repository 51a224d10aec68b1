"""The Store contract of ``groundwire.stores.base`` (ingest, generations, search): run on
every implementation by the ``store`` fixture of ``conftest.py``. The per-port suites are
the other ``test_*_contract.py`` modules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from groundwire.domain import Chunk, DocumentState
from groundwire.stores.base import DocumentWrite

pytestmark = pytest.mark.integration
MODEL = "contract-model"


def _chunks(texts: list[str], header: str = "Doc") -> list[Chunk]:
    out, offset = [], 0
    for i, text in enumerate(texts):
        out.append(Chunk(i, text, header, ("Doc",), offset, offset + len(text), len(text.split())))
        offset += len(text) + 2
    return out


def _vectors(chunks: list[Chunk], dim: int = 8) -> dict[str, list[float]]:
    out = {}
    for c in chunks:
        rng = np.random.default_rng(abs(hash(c.content_hash)) % 2**32)
        v = rng.standard_normal(dim)
        out[c.content_hash] = (v / np.linalg.norm(v)).tolist()
    return out


def _write(uri: str, chunks: list[Chunk], **kw: Any) -> DocumentWrite:
    return DocumentWrite(uri=uri, title=uri, media_type=kw.pop("media_type", "text/plain"),
                         content_hash=f"h-{uri}-{len(chunks)}", pipeline_fingerprint="fp",
                         chunks=chunks, **kw)


class TestStoreContract:
    """``store``: an opened, empty store of each implementation (``conftest.py``)."""

    async def test_commit_makes_document_indexed_with_exactly_its_chunks(self, store: Any) -> None:
        await store.ensure_index("i")
        chunks = _chunks(["alpha one", "beta two"])
        await store.commit_documents("i", [_write("a", chunks)], _vectors(chunks), MODEL)
        docs = await store.list_documents("i")
        assert [(d.uri, d.state, d.chunk_count) for d in docs] == [("a", DocumentState.INDEXED, 2)]
        _, corpus = await store.keyword_corpus("i")
        assert sorted(c.text for c in corpus) == ["alpha one", "beta two"]

    async def test_recommit_replaces_previous_chunks(self, store: Any) -> None:
        await store.ensure_index("i")
        first = _chunks(["old text one", "old text two", "old three"])
        await store.commit_documents("i", [_write("a", first)], _vectors(first), MODEL)
        second = _chunks(["new text"])
        await store.commit_documents("i", [_write("a", second)], _vectors(second), MODEL)
        _, corpus = await store.keyword_corpus("i")
        assert [c.text for c in corpus] == ["new text"]

    async def test_missing_embeddings_reports_only_unstored_hashes(self, store: Any) -> None:
        await store.ensure_index("i")
        chunks = _chunks(["stored"])
        await store.commit_documents("i", [_write("a", chunks)], _vectors(chunks), MODEL)
        stored = chunks[0].content_hash
        assert await store.missing_embeddings(MODEL, [stored, "nope"]) == {"nope"}
        assert await store.missing_embeddings("other-model", [stored]) == {stored}

    async def test_generation_of_unknown_index_is_not_found(self, store: Any) -> None:
        from groundwire.errors import NotFound

        with pytest.raises(NotFound):
            await store.generation("never-created")

    async def test_generation_moves_on_every_searchable_change(self, store: Any) -> None:
        await store.ensure_index("i")
        g0 = await store.generation("i")
        chunks = _chunks(["x text"])
        await store.commit_documents("i", [_write("a", chunks)], _vectors(chunks), MODEL)
        g1 = await store.generation("i")
        await store.delete_documents("i", ["a"])
        g2 = await store.generation("i")
        assert g0 < g1 < g2

    async def test_failed_document_has_no_chunks_and_keeps_its_code(self, store: Any) -> None:
        await store.ensure_index("i")
        chunks = _chunks(["was fine"])
        await store.commit_documents("i", [_write("a", chunks)], _vectors(chunks), MODEL)
        await store.mark_failed("i", "a", code="parse.pdf_invalid", message="truncated")
        docs = await store.list_documents("i", state=DocumentState.FAILED)
        found = [(d.uri, d.error_code, d.chunk_count) for d in docs]
        assert found == [("a", "parse.pdf_invalid", 0)]
        _, corpus = await store.keyword_corpus("i")
        assert corpus == []
        stats = await store.stats("i")
        assert stats.errors_by_code == {"parse.pdf_invalid": 1}

    async def test_pending_documents_are_never_searchable(self, store: Any) -> None:
        await store.ensure_index("i")
        await store.mark_pending("i", ["p"])
        assert (await store.stats("i")).documents_by_state["pending"] == 1
        _, corpus = await store.keyword_corpus("i")
        assert corpus == []

    async def test_vector_search_ranks_by_cosine_within_index_and_filters(self, store: Any) -> None:
        await store.ensure_index("i")
        await store.ensure_index("other")
        chunks_a = _chunks(["first passage"])
        chunks_b = _chunks(["second passage"])
        vec = {chunks_a[0].content_hash: [1.0, 0, 0, 0, 0, 0, 0, 0],
               chunks_b[0].content_hash: [0.6, 0.8, 0, 0, 0, 0, 0, 0]}
        await store.commit_documents(
            "i",
            [_write("docs/a", chunks_a, metadata={"team": "x"}),
             _write("b", chunks_b, media_type="text/html")],
            vec, MODEL,
        )
        chunks_c = _chunks(["elsewhere"])
        await store.commit_documents("other", [_write("c", chunks_c)],
                                     {chunks_c[0].content_hash: [1.0, 0, 0, 0, 0, 0, 0, 0]}, MODEL)
        hits = await store.vector_search("i", MODEL, [1.0, 0, 0, 0, 0, 0, 0, 0], 10)
        rows = await store.chunks_by_id([h[0] for h in hits])
        assert [rows[h[0]].uri for h in hits] == ["docs/a", "b"]
        assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
        # Vectors are stored as halfvec (11-bit mantissa): scores agree to ~1e-3.
        assert hits[1][1] == pytest.approx(0.6, abs=1e-3)
        for filters, expected in [
            ({"uri_prefix": "docs/"}, ["docs/a"]),
            ({"media_type": "text/html"}, ["b"]),
            ({"metadata": {"team": "x"}}, ["docs/a"]),
            ({"metadata": {"team": "y"}}, []),
        ]:
            found = await store.vector_search("i", MODEL, [1.0] + [0.0] * 7, 10, filters)
            rows = await store.chunks_by_id([h[0] for h in found])
            assert [rows[h[0]].uri for h in found] == expected, filters

    async def test_identical_passages_share_one_embedding(self, store: Any) -> None:
        await store.ensure_index("i")
        a, b = _chunks(["same words"]), _chunks(["same words"])
        await store.commit_documents("i", [_write("a", a), _write("b", b)], _vectors(a), MODEL)
        stats = await store.stats("i")
        assert stats.chunks == 2 and stats.embedded_chunks == 1

    async def test_known_documents_scoped_by_source(self, store: Any) -> None:
        s1 = await store.ensure_source("i", "folder", "/one")
        s2 = await store.ensure_source("i", "folder", "/two")
        c1, c2 = _chunks(["one"]), _chunks(["two"])
        await store.commit_documents("i", [_write("a", c1, source_id=s1)], _vectors(c1), MODEL)
        await store.commit_documents("i", [_write("b", c2, source_id=s2)], _vectors(c2), MODEL)
        assert set(await store.known_documents("i", s1)) == {"a"}
        assert set(await store.known_documents("i", s2)) == {"b"}

    async def test_same_uri_in_two_sources_are_two_documents(self, store: Any) -> None:
        s1 = await store.ensure_source("i", "folder", "/one")
        s2 = await store.ensure_source("i", "folder", "/two")
        c1, c2 = _chunks(["from one"]), _chunks(["from two"])
        await store.commit_documents("i", [_write("README.md", c1, source_id=s1)],
                                     _vectors(c1), MODEL)
        await store.commit_documents("i", [_write("README.md", c2, source_id=s2)],
                                     _vectors(c2), MODEL)
        _, corpus = await store.keyword_corpus("i")
        assert sorted(c.text for c in corpus) == ["from one", "from two"]
        assert await store.delete_documents("i", ["README.md"], s1) == 1
        _, corpus = await store.keyword_corpus("i")
        assert [c.text for c in corpus] == ["from two"]

