"""Versions on real PostgreSQL (fake embedder, two model ids): a candidate with 20-token chunks
fails the contract and is not promoted; a better one is promoted while a client keeps querying
(no failed request, reads switch to the new physical index); rollback restores exactly the
previous results; a new embedding model embeds, going back to the old one embeds nothing.

The corpus is planted so chunk size matters: each document states two facts far apart and each
fact also appears in one other document; a question names both facts, so only a chunk that
holds both (a large chunk) ranks the right document first."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from support.versions_corpus import FILLER, N_DOCS, planted

from groundwire.bootstrap import build_app
from groundwire.domain import SearchRequest
from groundwire.versions.service import build_version, list_versions, promote, rollback

pytestmark = pytest.mark.integration
async def _results(gw: Any, queries: list[str]) -> list[list[tuple[str, str, float]]]:
    out = []
    for q in queries:
        hits, _ = await gw.search(SearchRequest(query=q, index="default", top_k=5))
        out.append([(h.uri, h.text, round(h.score, 9)) for h in hits])
    return out


async def test_build_gate_promote_under_load_rollback_and_model_switch(
    make_settings: Any, tmp_path: Path
) -> None:
    docs, evals = planted(tmp_path)
    settings = make_settings(
        embedding={"provider": "fake"},
        chunking={"max_tokens": 200, "overlap_tokens": 0},
        contract={"eval_sets": [str(evals)], "answer_limit": 5,
                  "targets": {"ndcg@10": {"min": 0.9}, "hit@1": {"min": 0.9}}},
        monitoring={"records": False},
    )
    queries = [f"unit with seals rated pressure {i}" for i in range(3)] + [
        line.split('"text": "')[1].split('"')[0]
        for line in (evals / "queries.jsonl").read_text().splitlines()[:5]]
    async with build_app(settings) as gw:
        first = await gw.ingest_path(docs, index="default")
        assert first.indexed == N_DOCS
        before = await _results(gw, queries)

        # A bad candidate: 20-token chunks. Built beside, fails the contract, not promoted.
        bad = await build_version(gw, "default", {"chunking.max_tokens": 20})
        assert bad["version"] == 2 and bad["physical"] == "default.v2"
        assert bad["ingest"][0]["chunks_embedded"] > 0  # new chunk texts are embedded
        refused = await promote(gw, "default", 2)
        assert refused["promoted"] is False and refused["report"]["passed"] is False
        assert await gw.store.resolve_index("default") == "default"
        assert await _results(gw, queries) == before

        # A better candidate (larger chunks, other fusion weight): promoted under load.
        good = await build_version(gw, "default", {"chunking.max_tokens": 120,
                                                   "retrieval.dense_weight": 0.3})
        stop = asyncio.Event()
        served: list[int] = []
        errors: list[BaseException] = []

        async def client() -> None:
            while not stop.is_set():
                try:
                    hits, _ = await gw.search(
                        SearchRequest(query=queries[len(served) % len(queries)],
                                      index="default", top_k=5))
                    served.append(len(hits))
                except Exception as exc:  # any failed request fails the test
                    errors.append(exc)
                await asyncio.sleep(0)

        clients = [asyncio.create_task(client()) for _ in range(3)]
        await asyncio.sleep(0.2)
        during = len(served)
        promoted = await promote(gw, "default", good["version"])
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.gather(*clients)
        assert promoted["promoted"] is True and promoted["report"]["passed"] is True
        assert not errors and during > 0 and len(served) > during and min(served) > 0
        assert await gw.store.resolve_index("default") == "default.v3"
        _, candidate_chunks = await gw.store.keyword_corpus("default.v3")
        new_ids = {c.chunk_id for c in candidate_chunks}
        hits, _ = await gw.search(SearchRequest(query=queries[3], index="default", top_k=5))
        assert hits and {h.chunk_id for h in hits} <= new_ids  # served by the new version
        after = await _results(gw, queries)
        assert after != before

        # Writes to the logical name go to the live version, with its chunking.
        extra = tmp_path / "extra"
        extra.mkdir()
        (extra / "note.md").write_text("# Note\n\n" + FILLER + " " + FILLER + "\n")
        added = await gw.ingest_path(extra, index="default")
        assert added.indexed == 1
        assert "note.md" in {d.uri for d in await gw.store.list_documents("default.v3")}
        assert "note.md" not in {d.uri for d in await gw.store.list_documents("default")}
        await gw.store.delete_documents("default.v3", ["note.md"],
                                        (await gw.store.index_sources("default.v3"))[-1]["id"])

        # Rollback: exactly the previous results.
        back = await rollback(gw, "default")
        assert back["physical"] == "default" and back["rolled_back_from"] == "default.v3"
        assert await _results(gw, queries) == before

        # Model switch: a new model embeds everything; back to the old model embeds nothing.
        other = await build_version(gw, "default", {"embedding.model": "fake-48"})
        assert other["ingest"][0]["chunks_embedded"] > 0
        again = await build_version(gw, "default", {"embedding.model": "fake-32"})
        assert again["ingest"][0]["chunks_embedded"] == 0
        assert again["ingest"][0]["chunks_reused"] > 0
        listed = await list_versions(gw, "default")

    states = {v["version"]: v["state"] for v in listed["versions"]}
    assert states == {1: "live", 2: "ready", 3: "retired", 4: "ready", 5: "ready"}
    assert listed["live"] == "default" and listed["versions"][1]["contract"]["passed"] is False
    assert len({v["fingerprint"] for v in listed["versions"]}) == 5
