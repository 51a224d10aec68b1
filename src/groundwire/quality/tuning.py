"""``groundwire tune``: learn the fusion method and weights of an index from labelled queries.

Both retrievers' candidate lists are fetched once per query; every configuration of the grid
is then scored offline by re-fusing them (milliseconds per configuration). The grid contains
``dense_weight = 0`` (exactly BM25's ranking) so the chosen configuration is never below BM25
alone on the tuning set; ties go to the simpler configuration listed first.
"""

from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path
from typing import IO, Any

import tomli_w

from groundwire.app import Groundwire
from groundwire.domain import SearchRequest
from groundwire.quality.datasets import load_dataset
from groundwire.quality.evaluation import doc_id_of, prepare_index
from groundwire.quality.metrics import ndcg_at
from groundwire.retrieval.fusion import fuse
from groundwire.settings import DEFAULT_CONFIG_FILE, RetrievalTuning, Settings

WEIGHTS = [round(0.05 * i, 2) for i in range(21)]
RRF_KS = [10, 30, 60, 100]
CANDIDATE_DEPTH = 100


def grid() -> list[RetrievalTuning]:
    configs = [RetrievalTuning(fusion="convex", dense_weight=w) for w in WEIGHTS]
    configs += [RetrievalTuning(fusion="rrf", dense_weight=w, rrf_k=k)
                for k in RRF_KS for w in WEIGHTS if 0 < w < 1]
    return configs


async def run_tuning(
    gw: Groundwire,
    root: Path,
    *,
    split: str | None = None,
    index: str | None = None,
    progress: IO[str] | None = sys.stderr,
    configs_out: bool = False,
) -> dict[str, Any]:
    """Score the grid on ``root``'s labelled queries; ``configs_out`` adds every score."""
    dataset = load_dataset(root, split)
    name, ingest_info = await prepare_index(gw, dataset, index, progress)
    started = time.perf_counter()
    query_ids = [q for q in dataset.queries if q in dataset.qrels]
    lists = []
    for qid in query_ids:
        cands = await gw.retriever.candidates(
            SearchRequest(query=dataset.queries[qid], index=name), CANDIDATE_DEPTH
        )
        lists.append((qid, cands.keyword, cands.dense))
    chunk_ids = {cid for _, kw, dn in lists for cid, _ in (*kw, *dn)}
    rows = await gw.store.chunks_by_id(list(chunk_ids))
    doc_of = {cid: doc_id_of(row.uri) for cid, row in rows.items()}

    def score(config: RetrievalTuning) -> float:
        total = 0.0
        for qid, kw, dn in lists:
            fused = fuse(kw, dn, method=config.fusion, dense_weight=config.dense_weight,
                         rrf_k=config.rrf_k)
            ranked = list(dict.fromkeys(doc_of[f.id] for f in fused if f.id in doc_of))
            total += ndcg_at(ranked, dataset.qrels[qid], 10)
        return total / max(len(lists), 1)

    results = [(config, score(config)) for config in grid()]
    bm25 = next(s for c, s in results if c.fusion == "convex" and c.dense_weight == 0)
    dense = next(s for c, s in results if c.fusion == "convex" and c.dense_weight == 1)
    equal_rrf = next(s for c, s in results
                     if c.fusion == "rrf" and c.dense_weight == 0.5 and c.rrf_k == 60)
    best_config, best_score = max(results, key=lambda r: r[1])  # first max wins ties
    top = sorted(results, key=lambda r: -r[1])[:5]
    result: dict[str, Any] = {
        "dataset": dataset.root.name,
        "split": split or "test",
        "index": name,
        "queries": len(lists),
        "baselines": {"bm25": round(bm25, 4), "dense": round(dense, 4),
                      "rrf_equal": round(equal_rrf, 4)},
        "best": {"ndcg@10": round(best_score, 4), "params": best_config.model_dump()},
        "top": [{"ndcg@10": round(s, 4), "params": c.model_dump()} for c, s in top],
        "configs_tried": len(results),
        "seconds": round(time.perf_counter() - started, 2),
        "ingest": ingest_info,
    }
    if configs_out:
        result["configs"] = [{"ndcg@10": round(s, 4), "params": c.model_dump()}
                             for c, s in results]
    return result


def save_tuning(settings: Settings, index: str, params: dict[str, Any]) -> Path:
    """Write ``[retrieval.per_index.<index>]`` into the config file (created if absent).

    The file is rewritten from its parsed form: comments in it are not preserved.
    """
    path = settings.config_file or Path(DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = tomllib.loads(path.read_text()) if path.exists() else {}
    retrieval = data.setdefault("retrieval", {})
    per_index = retrieval.setdefault("per_index", {})
    per_index[index] = {k: v for k, v in RetrievalTuning(**params).model_dump().items()}
    path.write_text(tomli_w.dumps(data))
    return path.resolve()
