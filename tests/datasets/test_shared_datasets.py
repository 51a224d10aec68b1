"""Acceptance checks on the shared evaluation data (../shared/data), real model and real
PostgreSQL. Skipped when the data is absent. One embedded server and one data dir serve the
whole module so each corpus is ingested once (SciFact: ~11k chunks, the slowest step).

Floors come from the product's acceptance targets: SciFact nDCG@10 >= 0.715 with the default
configuration (0.736 since 0.2) and >= 0.73 after ``tune --split train``; SQuAD v1.1 dev hit@5
>= 0.94; a tuned configuration is never below BM25 alone on its tuning set. Organisation text
(issue 19): on E-Manual and OR-ShARC the default is not below Groundwire's own keyword-only
ranking nor the reference BM25 of the data READMEs (0.484 / 0.800), E-Manual >= 0.60 and
OR-ShARC >= 0.817 nDCG@10.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from groundwire.bootstrap import build_app
from groundwire.quality.evaluation import run_evaluation
from groundwire.quality.tuning import run_tuning
from groundwire.settings import RetrievalSettings, Settings

# slow: with the data present the module ingests SciFact and SQuAD with the real model (over
# 16 minutes on the 2-core box, measured 2026-11-27), more than the default set's budget; run
# it with `make test-all` or `pytest -m dataset`.
pytestmark = [pytest.mark.dataset, pytest.mark.integration, pytest.mark.slow]
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def shared_db(pg_admin_url: str) -> Any:
    import psycopg

    name = "datasets_module"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_admin_url.replace("/postgres?", f"/{name}?")


@pytest.fixture
async def gw(shared_db: str, real_embedder: Any, tmp_path: Path) -> AsyncIterator[Any]:
    settings = Settings(database_url=shared_db, data_dir=tmp_path)
    async with build_app(settings, embedder=real_embedder) as app:
        yield app


async def test_scifact_default_and_tuned(gw: Any, shared_db: str, real_embedder: Any,
                                         tmp_path: Path) -> None:
    default = await run_evaluation(gw.engine, DATA / "scifact", answer_limit=0, progress=None)
    print("scifact default", default["metrics"], default["latency_ms"])
    assert default["metrics"]["ndcg@10"] >= 0.736

    tuned = await run_tuning(gw.engine, DATA / "scifact", split="train", progress=None)
    print("scifact tune", tuned["baselines"], tuned["best"], tuned["oracle"])
    assert tuned["best"]["ndcg@10"] >= tuned["baselines"]["bm25"]

    index = tuned["index"]
    params = tuned["best"]["params"]
    settings = Settings(database_url=shared_db, data_dir=tmp_path,
                        retrieval=RetrievalSettings(per_index={index: params}))
    async with build_app(settings, embedder=real_embedder) as app:
        after = await run_evaluation(app, DATA / "scifact", answer_limit=0, progress=None)
    print("scifact tuned", after["metrics"], after["retrieval"])
    assert {k: after["retrieval"][k] for k in params} == params
    assert after["retrieval"]["source"] == "per_index"
    assert after["metrics"]["ndcg@10"] >= 0.73


async def test_squad_hit_at_5(gw: Any) -> None:
    result = await run_evaluation(gw.engine, DATA / "squad-v1.1-dev", answer_limit=100,
                                  progress=None)
    print("squad default", result["metrics"], result.get("answer_em"), result.get("answer_f1"))
    assert result["queries"] > 10000
    assert result["metrics"]["hit@5"] >= 0.94


@pytest.mark.parametrize(("name", "reference_bm25", "floor"),
                         [("or-sharc", 0.800, 0.817), ("emanual", 0.484, 0.60)])
async def test_organisation_text_default_beats_keyword_ranking(
        gw: Any, name: str, reference_bm25: float, floor: float) -> None:
    """Fusion must add to the keyword ranking on text where the small embedder is weak (the
    0.1 default scored 0.500 on E-Manual against its own keyword-only 0.575)."""
    default = await run_evaluation(gw.engine, DATA / name, answer_limit=0, progress=None)
    lists = await run_tuning(gw.engine, DATA / name, progress=None)
    print(name, default["metrics"], lists["baselines"])
    ndcg = default["metrics"]["ndcg@10"]
    assert ndcg >= floor
    assert ndcg >= reference_bm25
    assert ndcg >= lists["baselines"]["bm25"]  # Groundwire's own keyword-only ranking
