"""Label-free self-tuning against BM25, equal-weight fusion and the labelled ``tune``.

For each dataset: ingest (reused across runs), self-tune on pseudo-questions generated from
the corpus (``groundwire.quality.autotune``, one run per seed; the dataset's labels are not
read), then score with the labels only:

* BM25 alone, dense alone, equal-weight convex (the shipped default) and equal-weight RRF;
* the label-free choice of each seed;
* the labelled tuner's choice (``tune``'s rule) on disjoint labelled queries (SciFact: the
  train split; SQuAD: the next ``--limit`` questions after the scored ones);
* the oracle (best grid setting on the scored queries themselves: an upper bound, not a claim);
* query-adaptive weighting (``retrieval.fusion.adaptive_weight``) around the label-free choice,
  with the strength picked on the pseudo-questions, and every strength scored with labels.

    GROUNDWIRE_DATA_DIR=.bench-data/self-tuning .venv/bin/python benchmarks/self_tuning.py \\
        [--dataset ../shared/data/scifact] [--limit 2000] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, report

from groundwire.bootstrap import build_app
from groundwire.domain import SearchRequest
from groundwire.quality.autotune import (
    REFERENCE_CONFIGS,
    autotune,
    collect_lists_cloze,
    configured_default,
    split_questions,
)
from groundwire.quality.datasets import load_dataset
from groundwire.quality.evaluation import doc_id_of, prepare_index
from groundwire.quality.metrics import ndcg_at
from groundwire.quality.pseudo_questions import generate_pseudo_questions
from groundwire.quality.tuning import CANDIDATE_DEPTH, grid, select_configuration
from groundwire.retrieval.fusion import adaptive_weight, fuse
from groundwire.settings import RetrievalTuning, load_settings

STRENGTHS = [0.0, 0.25, 0.5, 1.0]


async def labelled_lists(gw: Any, index: str, queries: dict[str, str], ids: list[str]
                         ) -> list[tuple[str, Any, Any]]:
    out = []
    for qid in ids:
        c = await gw.retriever.candidates(SearchRequest(query=queries[qid], index=index),
                                          CANDIDATE_DEPTH)
        out.append((qid, c.keyword, c.dense))
    return out


def scores(lists: list[tuple[str, Any, Any]], qrels: dict[str, dict[str, int]],
           doc_of: dict[int, str], config: RetrievalTuning, strength: float = 0.0) -> np.ndarray:
    values = []
    for qid, kw, dn in lists:
        w = adaptive_weight(kw, dn, config.dense_weight, strength) if strength else \
            config.dense_weight
        fused = fuse(kw, dn, method=config.fusion, dense_weight=w, rrf_k=config.rrf_k)
        ranked = list(dict.fromkeys(doc_of[f.id] for f in fused if f.id in doc_of))
        values.append(ndcg_at(ranked, qrels[qid], 10))
    return np.array(values)


def _params(c: RetrievalTuning) -> str:
    return f"{c.fusion} w={c.dense_weight}" + (f" k={c.rrf_k}" if c.fusion == "rrf" else "")


async def run_dataset(gw: Any, root: Path, limit: int | None, seeds: list[int]
                      ) -> dict[str, Any]:
    test = load_dataset(root)
    name, ingest = await prepare_index(gw.engine, test, None, None)
    _, chunks = await gw.store.keyword_corpus(name)
    doc_of = {c.chunk_id: doc_id_of(c.uri) for c in chunks}
    pseudo_doc = {c.chunk_id: str(c.document_id) for c in chunks}
    ids = [q for q in test.queries if q in test.qrels]
    if (root / "queries_train.jsonl").exists():
        train = load_dataset(root, "train")
        tune_ids = [q for q in train.queries if q in train.qrels]
        tune_queries, tune_qrels, tune_source = train.queries, train.qrels, "train split"
        scored_ids = ids[:limit] if limit else ids
    else:
        n = limit or len(ids) // 2
        scored_ids, tune_ids = ids[:n], ids[n: 2 * n]
        tune_queries, tune_qrels = test.queries, test.qrels
        tune_source = f"queries {n + 1}-{2 * n} of the test file (disjoint from the scored)"
    t0 = time.perf_counter()
    scored_lists = await labelled_lists(gw, name, test.queries, scored_ids)
    tune_lists = await labelled_lists(gw, name, tune_queries, tune_ids)
    retrieval_s = time.perf_counter() - t0
    default = configured_default(gw.settings.retrieval)

    def label_score(config: RetrievalTuning, strength: float = 0.0) -> float:
        return round(float(scores(scored_lists, test.qrels, doc_of, config, strength).mean()), 4)

    refs = {k: label_score(c) for k, c in REFERENCE_CONFIGS.items()}
    labelled_grid = [(c, scores(tune_lists, tune_qrels, doc_of, c)) for c in grid()]
    label_tuned, _ = select_configuration(labelled_grid, default)
    oracle = max(grid(), key=lambda c: float(scores(scored_lists, test.qrels, doc_of, c).mean()))
    runs = []
    for seed in seeds:
        result = await autotune(gw.engine, name, questions=gw.settings.autotune.questions,
                                seed=seed)
        runs.append({"seed": seed, "params": _params(result.tuning),
                     "promoted": result.promoted, "ndcg@10": label_score(result.tuning),
                     "seconds": result.evidence["seconds"],
                     "held_out_pseudo": result.evidence.get("held_out_ndcg@10"),
                     "reason": result.evidence.get("reason")})
        if seed == seeds[0]:
            base = result.tuning
    # Query-adaptive strength chosen on the held-out pseudo-questions of the first seed.
    pseudo = generate_pseudo_questions(chunks, gw.settings.autotune.questions, seeds[0])
    _, held = split_questions(pseudo, 0.5, seeds[0])
    held_lists = await collect_lists_cloze(gw.engine, name, held, chunks, seed=seeds[0])
    pseudo_rows = [(str(i), item.keyword, item.dense) for i, item in enumerate(held_lists)]
    pseudo_qrels = {str(i): {str(item.question.document_id): 1}
                    for i, item in enumerate(held_lists)}
    adaptive = []
    for strength in STRENGTHS:
        adaptive.append({
            "strength": strength,
            "pseudo_held_out": round(float(scores(pseudo_rows, pseudo_qrels, pseudo_doc, base,
                                                  strength).mean()), 4),
            "labels": label_score(base, strength),
        })
    picked = max(adaptive, key=lambda a: (a["pseudo_held_out"], -a["strength"]))
    return {
        "index": name,
        "scored_queries": len(scored_ids),
        "label_tune_queries": len(tune_ids),
        "label_tune_source": tune_source,
        "baselines": refs,
        "label_tuned": {"params": _params(label_tuned), "ndcg@10": label_score(label_tuned)},
        "oracle": {"params": _params(oracle), "ndcg@10": label_score(oracle)},
        "self_tuned": runs,
        "adaptive": {"base": _params(base), "by_strength": adaptive,
                     "picked_on_pseudo": picked["strength"], "picked_labels": picked["labels"]},
        "retrieval_seconds_labelled": round(retrieval_s, 1),
        "ingest": ingest,
    }


async def run(datasets: list[Path], limit: int | None, seeds: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"datasets": {}}
    async with build_app(load_settings()) as gw:
        for ds in datasets:
            out["datasets"][ds.name] = await run_dataset(gw, ds, limit, seeds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, action="append")
    parser.add_argument("--limit", type=int, default=None,
                        help="score only the first N labelled queries (SQuAD: default half)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    datasets = args.dataset or [DATA / "scifact", DATA / "squad-v1.1-dev"]
    result = asyncio.run(run(datasets, args.limit, args.seeds))
    rows = []
    for name, d in result["datasets"].items():
        b = d["baselines"]
        floor = max(b["bm25"], b["equal_convex"], b["equal_rrf"])
        for r in d["self_tuned"]:
            rows.append({
                "dataset": name, "seed": r["seed"], "bm25": b["bm25"], "dense": b["dense"],
                "equal convex": b["equal_convex"], "equal rrf": b["equal_rrf"],
                "label-tuned": f"{d['label_tuned']['ndcg@10']} ({d['label_tuned']['params']})",
                "self-tuned": f"{r['ndcg@10']} ({r['params']})",
                ">= floor": r["ndcg@10"] >= floor,
                "within 0.01 of label-tuned": r["ndcg@10"] >= d["label_tuned"]["ndcg@10"] - 0.01,
                "oracle": d["oracle"]["ndcg@10"],
            })
    report("self_tuning", result, rows)


if __name__ == "__main__":
    main()
