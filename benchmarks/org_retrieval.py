"""Keyword parity and fusion on organisation-style text: what each retrieval change is worth.

For one BEIR-like dataset (ingested with the real model into the real store, reused across
runs) it scores, by document-level nDCG@10 / recall@10 (labels used only to score):

* ``reference bm25s``: bm25s over whole passages (title + text; Lucene k1 1.2, b 0.75,
  English stop words, Snowball stemmer), the baseline the data READMEs report;
* Groundwire's keyword ranking (chunks with their title/heading header) with the previous BM25
  parameters (k1 1.5, b 0.75) and the current defaults (``retrieval.bm25_k1`` / ``bm25_b``);
* dense alone through the HNSW index, as served;
* convex fusion (dense weight 0.5) with a missing candidate scored 0 on the side that did not
  return it (before) and with both sides' real scores filled in (``retrieval.fill_scores``).

Every list comes from the serving code (``Bm25Index``, ``Store.vector_search``,
``Store.vector_scores``, ``fuse``); results collapse identical passages as search does.

    GROUNDWIRE_DATA_DIR=.bench-data .venv/bin/python benchmarks/org_retrieval.py \\
        --dataset ../shared/data/emanual [--split dev] [--limit N]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, report

from groundwire.bootstrap import build_app
from groundwire.domain import SearchRequest
from groundwire.quality.datasets import load_dataset
from groundwire.quality.evaluation import doc_id_of, prepare_index
from groundwire.quality.metrics import retrieval_metrics
from groundwire.retrieval.fusion import Ranked, fuse
from groundwire.retrieval.hybrid import fill_lists
from groundwire.retrieval.keyword import Bm25Index, Bm25Params
from groundwire.settings import load_settings

DEPTH = 100


def reference_bm25(corpus_path: Path, queries: Sequence[str]) -> list[list[str]]:
    """bm25s over whole passages, as the data READMEs' baselines (document ids, best first)."""
    import bm25s
    import Stemmer

    opener: Callable[..., Any] = gzip.open if corpus_path.suffix == ".gz" else open
    with opener(corpus_path, "rt", encoding="utf-8") as fh:
        corpus = [json.loads(line) for line in fh if line.strip()]
    stemmer = Stemmer.Stemmer("english")
    tokens = bm25s.tokenize([f"{c.get('title') or ''} {c['text']}" for c in corpus],
                            stopwords="en", stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index(tokens, show_progress=False)
    q_tokens = bm25s.tokenize(list(queries), stopwords="en", stemmer=stemmer,
                              show_progress=False)
    docs, _ = retriever.retrieve(q_tokens, k=DEPTH, show_progress=False, n_threads=1)
    return [[str(corpus[i].get("id", corpus[i].get("_id"))) for i in row] for row in docs]


async def run(root: Path, split: str | None, limit: int | None) -> dict[str, Any]:
    settings = load_settings()
    dataset = load_dataset(root, split)
    qids = [q for q in dataset.queries if q in dataset.qrels][: limit or None]
    texts = [dataset.queries[q] for q in qids]
    current = Bm25Params(settings.retrieval.bm25_k1, settings.retrieval.bm25_b)
    variants: dict[str, list[list[str]]] = {}
    assert dataset.corpus is not None
    variants["reference bm25s (whole passages, k1 1.2 b 0.75)"] = reference_bm25(
        dataset.corpus, texts)
    async with build_app(settings) as gw:
        index, _ = await prepare_index(gw.engine, dataset, None, None)
        _, chunks = await gw.store.keyword_corpus(index)
        doc_of = {c.chunk_id: doc_id_of(c.uri) for c in chunks}
        text_of = {c.chunk_id: c.text for c in chunks}
        old = Bm25Index(0, chunks, Bm25Params(1.5, 0.75))
        new = Bm25Index(0, chunks, current)
        model = gw.retriever.embedder.model_id

        def documents(ids: Sequence[int]) -> list[str]:
            seen: set[str] = set()
            out: list[str] = []
            for cid in ids:
                if text_of[cid] in seen:  # identical passages collapse, as in search
                    continue
                seen.add(text_of[cid])
                out.append(doc_of[cid])
            return list(dict.fromkeys(out))

        def fused(kw: Ranked, dn: Ranked) -> list[int]:
            return [f.id for f in fuse(kw, dn, method="convex", dense_weight=0.5)]

        rows: dict[str, list[list[str]]] = {k: [] for k in (
            "keyword, k1 1.5 b 0.75 (before)", f"keyword, k1 {current.k1} b {current.b}",
            "dense (HNSW)", "convex 0.5, k1 1.5 b 0.75, missing = 0 (before)",
            f"convex 0.5, k1 {current.k1} b {current.b}, missing = 0",
            f"convex 0.5, k1 {current.k1} b {current.b}, filled (default)")}
        names = list(rows)
        for query in texts:
            vector = gw.retriever.embedder.encode_query(query)
            dn = await gw.store.vector_search(index, model, vector.tolist(), DEPTH)
            kw_old, kw_new = old.search(query, DEPTH), new.search(query, DEPTH)
            rows[names[0]].append(documents([c for c, _ in kw_old]))
            rows[names[1]].append(documents([c for c, _ in kw_new]))
            rows[names[2]].append(documents([c for c, _ in dn]))
            rows[names[3]].append(documents(fused(kw_old, dn)))
            rows[names[4]].append(documents(fused(kw_new, dn)))
            kw_f, dn_f = await fill_lists(gw.store, new, SearchRequest(query=query, index=index),
                                          model, vector, kw_new, dn)
            rows[names[5]].append(documents(fused(kw_f, dn_f)))
        variants.update(rows)
    result: dict[str, Any] = {"dataset": root.name, "split": split or "test",
                              "queries": len(qids), "variants": {}}
    for name, ranked in variants.items():
        per = [retrieval_metrics(r, dataset.qrels[q]) for r, q in zip(ranked, qids, strict=True)]
        result["variants"][name] = {
            k: round(float(np.mean([m[k] for m in per])), 4)
            for k in ("ndcg@10", "recall@10", "recall@100", "hit@5")}
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=DATA / "emanual")
    parser.add_argument("--split", default=None)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    result = asyncio.run(run(args.dataset, args.split, args.limit))
    rows = [{"dataset": result["dataset"], "variant": name, **metrics}
            for name, metrics in result["variants"].items()]
    report("org_retrieval", result, rows)


if __name__ == "__main__":
    main()
