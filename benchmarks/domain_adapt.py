"""On-box domain adaptation of the embedder: gain on held-out pseudo-questions (what decides
promotion) and on the dataset's labelled queries (reported only), with the wall clock.

For each dataset (already ingested by ``benchmarks/self_tuning.py`` or ``groundwire eval``):
``adapt_and_compare`` fine-tunes all-MiniLM-L6-v2 on pseudo pairs for ``--max-minutes`` and
scores both models on held-out pseudo-questions; then both models are scored on the first
``--limit`` labelled queries over a labelled evaluation pool (every chunk of those queries'
relevant documents plus seeded random distractors, ``--pool`` chunks in all): dense only and
fused with BM25 (restricted to the pool) under the index's retrieval settings. Re-embedding the
whole corpus per model would take minutes per set on 2 cores, hence the pool.

    GROUNDWIRE_DATA_DIR=.bench-data/self-tuning .venv/bin/python benchmarks/domain_adapt.py \\
        [--dataset ../shared/data/scifact] [--max-minutes 6] [--limit 300] [--pool 3000] \\
        [--eval-chunks 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, report

from groundwire.bootstrap import build_app
from groundwire.quality.adaptation import (
    _encode,
    _load,
    _paired_se,
    adapt_and_compare,
    base_model_path,
)
from groundwire.quality.datasets import load_dataset
from groundwire.quality.evaluation import doc_id_of
from groundwire.quality.metrics import ndcg_at
from groundwire.retrieval.fusion import fuse
from groundwire.settings import load_settings


def labelled_scores(model: Any, queries: list[str], qrels: list[dict[str, int]],
                    pool: list[Any], keyword_lists: list[list[tuple[int, float]]],
                    fusion: dict[str, Any]) -> dict[str, np.ndarray]:
    passages = _encode(model, [c.search_text for c in pool])
    vectors = _encode(model, queries)
    ids = [c.chunk_id for c in pool]
    doc_of = {c.chunk_id: doc_id_of(c.uri) for c in pool}
    sims = vectors @ passages.T
    dense_s, fused_s = [], []
    for i, rel in enumerate(qrels):
        top = np.argsort(-sims[i])[:100]
        dense = [(ids[j], float(sims[i, j])) for j in top]
        dense_s.append(ndcg_at(list(dict.fromkeys(doc_of[c] for c, _ in dense)), rel, 10))
        fused = fuse(keyword_lists[i], dense, method=fusion["fusion"],
                     dense_weight=fusion["dense_weight"], rrf_k=fusion["rrf_k"])
        fused_s.append(ndcg_at(list(dict.fromkeys(doc_of[f.id] for f in fused)), rel, 10))
    return {"dense": np.array(dense_s), "fused": np.array(fused_s)}



async def run_dataset(gw: Any, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    data = load_dataset(root)
    index = data.default_index
    _, chunks = await gw.store.keyword_corpus(index)
    if not chunks:
        raise SystemExit(f"index {index} is empty: run benchmarks/self_tuning.py first")
    started = time.perf_counter()
    result, adapted = await adapt_and_compare(
        gw, index, max_minutes=args.max_minutes, questions=args.questions, seed=0,
        eval_chunks=args.eval_chunks, progress=sys.stderr, hard_negatives=args.hard_negatives)
    adapt_wall = time.perf_counter() - started
    ids = [q for q in data.queries if q in data.qrels][: args.limit]
    relevant_docs = {d for q in ids for d in data.qrels[q]}
    pool = [c for c in chunks if doc_id_of(c.uri) in relevant_docs]
    others = [c for c in chunks if doc_id_of(c.uri) not in relevant_docs]
    random.Random(7).shuffle(others)
    pool += others[: max(0, args.pool - len(pool))]
    pool_ids = {c.chunk_id for c in pool}
    bm25 = await gw.keyword.get(index)
    keyword_lists = [[(c, s) for c, s in bm25.search(data.queries[q], 2000, None)
                      if c in pool_ids][:100] for q in ids]
    fusion = gw.tunings(index).model_dump()
    queries = [data.queries[q] for q in ids]
    qrels = [data.qrels[q] for q in ids]
    t0 = time.perf_counter()
    base = await asyncio.to_thread(labelled_scores, _load(base_model_path(gw)), queries, qrels,
                                   pool, keyword_lists, fusion)
    after = await asyncio.to_thread(labelled_scores, adapted, queries, qrels, pool,
                                    keyword_lists, fusion)
    return {
        "index": index,
        "adaptation": result,
        "adapt_wall_seconds": round(adapt_wall, 1),
        "labelled": {"queries": len(ids), "pool_chunks": len(pool),
                     "before": {k: round(float(v.mean()), 4) for k, v in base.items()},
                     "after": {k: round(float(v.mean()), 4) for k, v in after.items()},
                     "gain": {k: round(float(after[k].mean() - base[k].mean()), 4)
                              for k in base},
                     "paired_se": {k: round(_paired_se(after[k], base[k]), 4) for k in base},
                     "seconds": round(time.perf_counter() - t0, 1)},
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    datasets = args.dataset or [DATA / "scifact", DATA / "squad-v1.1-dev"]
    out: dict[str, Any] = {"max_minutes": args.max_minutes, "datasets": {}}
    async with build_app(load_settings()) as gw:
        for ds in datasets:
            out["datasets"][ds.name] = await run_dataset(gw, ds, args)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, action="append")
    parser.add_argument("--max-minutes", type=float, default=6.0)
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--pool", type=int, default=3000)
    parser.add_argument("--eval-chunks", type=int, default=2000,
                        help="pseudo-question evaluation pool (decides promotion)")
    parser.add_argument("--hard-negatives", action="store_true",
                        help="train with one BM25-mined negative per question as well")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    rows = []
    for name, d in result["datasets"].items():
        a, lab = d["adaptation"], d["labelled"]
        rows.append({
            "dataset": name, "steps": a["training"]["steps"],
            "wall s": d["adapt_wall_seconds"],
            "pseudo fused before→after": f"{a['before']['fused']} → {a['after']['fused']}"
                                         f" (SE {a['paired_se_fused']})",
            "pseudo dense before→after": f"{a['before']['dense']} → {a['after']['dense']}",
            "kept": a["kept"],
            "labelled fused before→after": f"{lab['before']['fused']} → {lab['after']['fused']}"
                                           f" (SE {lab['paired_se']['fused']})",
            "labelled dense before→after": f"{lab['before']['dense']} → {lab['after']['dense']}",
        })
    report("domain_adapt", result, rows)


if __name__ == "__main__":
    main()
