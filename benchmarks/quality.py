"""Retrieval quality on BEIR-format datasets: every fusion setting scored on each set.

Reports BM25 alone, dense alone, equal-weight RRF, the shipped default, and the best grid
setting per dataset (the latter uses the labels: it is an upper bound, not a claim), plus
``groundwire eval`` metrics for the default configuration.

    GROUNDWIRE_DATA_DIR=.bench-data .venv/bin/python benchmarks/quality.py \
        [--dataset ../shared/data/scifact --dataset ../shared/data/squad-v1.1-dev] [--limit N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from _common import DATA, report

from groundwire.bootstrap import build_app
from groundwire.quality.evaluation import run_evaluation
from groundwire.quality.tuning import run_tuning
from groundwire.settings import RetrievalTuning, load_settings


async def run(datasets: list[Path], limit: int | None) -> dict[str, Any]:
    settings = load_settings()
    default = RetrievalTuning(
        fusion=settings.retrieval.fusion, dense_weight=settings.retrieval.dense_weight,
        rrf_k=settings.retrieval.rrf_k, candidates=settings.retrieval.candidates,
        fill_scores=settings.retrieval.fill_scores,
    )
    out: dict[str, Any] = {"default": default.model_dump(), "datasets": {}}
    async with build_app(settings) as gw:
        for ds in datasets:
            grid = await run_tuning(gw.engine, ds, progress=None, configs_out=True)
            evaluation = await run_evaluation(gw.engine, ds, limit=limit, progress=None)
            out["datasets"][ds.name] = {"grid": grid, "eval": evaluation}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, action="append")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    datasets = args.dataset or [DATA / "scifact", DATA / "squad-v1.1-dev"]
    result = asyncio.run(run(datasets, args.limit))
    rows = []
    for name, data in result["datasets"].items():
        grid, ev = data["grid"], data["eval"]
        rows.append({
            "dataset": name,
            "bm25": grid["baselines"]["bm25"],
            "dense": grid["baselines"]["dense"],
            "rrf equal": grid["baselines"]["rrf_equal"],
            "default": ev["metrics"]["ndcg@10"],
            "best grid (oracle)": grid["best"]["ndcg@10"],
            "hit@5 default": ev["metrics"]["hit@5"],
            "p50 ms": ev["latency_ms"]["p50"],
        })
    # The setting with the best mean nDCG@10 across the datasets: how the default is chosen.
    means: dict[str, list[float]] = {}
    for data in result["datasets"].values():
        for entry in data["grid"].pop("configs"):
            key = json.dumps(entry["params"], sort_keys=True)
            means.setdefault(key, []).append(entry["ndcg@10"])
    ranked = sorted(means.items(), key=lambda kv: -sum(kv[1]) / len(kv[1]))
    result["best_mean_across_datasets"] = [
        {"params": json.loads(key), "ndcg@10": scores} for key, scores in ranked[:8]
    ]
    report("quality", result, rows)


if __name__ == "__main__":
    main()
