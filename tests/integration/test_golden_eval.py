"""A tiny golden eval with the real model and real PostgreSQL: a chunking, embedding or fusion
regression drops these metrics below their floors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from groundwire.bootstrap import build_app
from groundwire.quality.evaluation import run_evaluation
from groundwire.quality.tuning import run_tuning, save_tuning
from groundwire.settings import load_settings

pytestmark = pytest.mark.integration
GOLDEN = Path(__file__).parents[1] / "data" / "golden"


async def test_golden_set_meets_quality_floor(make_settings: Any, real_embedder: Any) -> None:
    async with build_app(make_settings(), embedder=real_embedder) as gw:
        first = await run_evaluation(gw.engine, GOLDEN, progress=None)
        second = await run_evaluation(gw.engine, GOLDEN, progress=None)
    assert first["queries"] == 20
    assert first["metrics"]["ndcg@10"] >= 0.85
    assert first["metrics"]["hit@5"] >= 0.95
    assert first["metrics"]["mrr@10"] >= 0.8
    assert first["ingest"]["documents"]["indexed"] == 20
    # The named index is reused: the second run embeds nothing and scores the same.
    assert second["ingest"]["chunks_embedded"] == 0
    assert second["ingest"]["documents"]["unchanged"] == 20
    assert second["metrics"] == first["metrics"]
    assert set(first["latency_ms"]) == {"p50", "p95"}


async def test_tune_never_below_bm25_and_is_saved(
    make_settings: Any, real_embedder: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = make_settings()
    async with build_app(settings, embedder=real_embedder) as gw:
        result = await run_tuning(gw.engine, GOLDEN, progress=None)
    assert result["best"]["ndcg@10"] >= result["baselines"]["bm25"]
    assert result["oracle"]["ndcg@10"] >= result["best"]["ndcg@10"]
    path = save_tuning(settings, result["index"], result["best"]["params"])
    saved = tomllib.loads(path.read_text())["retrieval"]["per_index"][result["index"]]
    assert saved == result["best"]["params"]
    reloaded = load_settings(path)
    assert reloaded.retrieval.for_index(result["index"]).model_dump() == result["best"]["params"]


async def test_eval_reports_the_settings_actually_in_effect(
    make_settings: Any, real_embedder: Any
) -> None:
    """A stored self-tuning is what retrieval uses, so it is what the report shows (it once
    reported the configured 0.5 while an auto-tuned 0.45 was in effect)."""
    async with build_app(make_settings(), embedder=real_embedder) as gw:
        first = await run_evaluation(gw.engine, GOLDEN, progress=None)
        assert first["retrieval"]["source"] == "default"
        assert first["retrieval"]["dense_weight"] == gw.settings.retrieval.dense_weight
        assert first["retrieval"]["bm25_k1"] == gw.settings.retrieval.bm25_k1
        await gw.store.save_index_tuning(
            first["index"], {"fusion": "convex", "dense_weight": 0.35}, {}, 0)
        await gw.tunings.reload(gw.store)
        second = await run_evaluation(gw.engine, GOLDEN, progress=None)
    assert second["retrieval"]["source"] == "auto"
    assert second["retrieval"]["dense_weight"] == 0.35


async def test_eval_refuses_a_corpus_that_did_not_ingest_completely(
    make_settings: Any, real_embedder: Any, tmp_path: Path
) -> None:
    """Every record refused used to give nDCG@10 0.0 and exit 0: scores over a partial corpus
    are not retrieval quality."""
    from groundwire.errors import InvalidRequest

    root = tmp_path / "broken-set"
    root.mkdir()
    (root / "corpus.jsonl").write_text(
        '{"id": "a", "title": "Alpha", "text": "Alpha facts."}\n{"id": "b", "title": "Beta"}\n')
    (root / "queries.jsonl").write_text('{"id": "q1", "text": "alpha"}\n')
    (root / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\ta\t1\n")
    async with build_app(make_settings(), embedder=real_embedder) as gw:
        with pytest.raises(InvalidRequest) as info:
            await run_evaluation(gw.engine, root, progress=None)
    assert info.value.code == "eval.corpus_incomplete"
    assert "did not ingest completely" in str(info.value)


async def test_eval_self_tunes_after_a_material_ingest_like_the_product(
    make_settings: Any, real_embedder: Any
) -> None:
    """``groundwire eval`` passes the application's ``autotune_if_material``: the first run's
    ingest is material, so the index is self-tuned (labels unseen) before it is scored, and the
    report shows that tuning in effect; the second run ingests nothing and tunes nothing."""
    settings = make_settings(autotune={"min_documents": 5, "questions": 60})
    async with build_app(settings, embedder=real_embedder) as gw:
        async def after_ingest(name: str, report: Any) -> dict[str, Any] | None:
            tuned = await gw.autotune_if_material(name, report)
            return tuned.summary() if tuned is not None else None

        first = await run_evaluation(gw.engine, GOLDEN, progress=None, after_ingest=after_ingest)
        second = await run_evaluation(gw.engine, GOLDEN, progress=None,
                                      after_ingest=after_ingest)
    tuned = first["ingest"]["autotune"]
    assert tuned is not None and tuned["dense_evidence"]["questions"] > 0
    assert first["retrieval"]["source"] == "auto"
    assert first["retrieval"]["dense_weight"] == tuned["params"]["dense_weight"]
    assert second["ingest"]["autotune"] is None  # nothing changed: no re-tune
    assert second["retrieval"]["source"] == "auto"
