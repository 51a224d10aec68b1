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
        first = await run_evaluation(gw, GOLDEN, progress=None)
        second = await run_evaluation(gw, GOLDEN, progress=None)
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
        result = await run_tuning(gw, GOLDEN, progress=None)
    assert result["best"]["ndcg@10"] >= result["baselines"]["bm25"]
    assert result["oracle"]["ndcg@10"] >= result["best"]["ndcg@10"]
    path = save_tuning(settings, result["index"], result["best"]["params"])
    saved = tomllib.loads(path.read_text())["retrieval"]["per_index"][result["index"]]
    assert saved == result["best"]["params"]
    reloaded = load_settings(path)
    assert reloaded.retrieval.for_index(result["index"]).model_dump() == result["best"]["params"]
