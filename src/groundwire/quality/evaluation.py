"""``groundwire eval``: ingest a labelled dataset into a named index (reused across runs: the
second run embeds nothing) and report document-level retrieval metrics, search latency and,
for QA sets, extractive answer EM/F1 on a sample.

``after_ingest`` (the CLI passes the application's ``autotune_if_material``) runs what an
ingest is followed by in the product (the label-free self-tuning after a material change),
so the scores are those a user gets after ingesting the corpus, not those of a setting no
deployment serves. Labels are never seen by it."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import IO, Any

from groundwire.domain import Hit, SearchRequest
from groundwire.engine import IndexEngine
from groundwire.errors import InvalidRequest
from groundwire.quality.datasets import Dataset, load_dataset
from groundwire.quality.metrics import exact_match, f1_score, percentile, retrieval_metrics

AfterIngest = Callable[[str, Any], Awaitable[dict[str, Any] | None]]
"""(index, ingest report) -> a summary of what followed the ingest (None: nothing ran)."""

EVAL_DEPTH = 200  # chunk hits fetched per query, enough for 100 distinct documents


def doc_id_of(uri: str) -> str:
    """Records ingested from corpus.jsonl have uris ``corpus.jsonl#<id>``."""
    return uri.split("#", 1)[1] if "#" in uri else uri


def ranked_documents(hits: Sequence[Hit]) -> list[str]:
    """Chunk hits -> document ids, best chunk first, each document once."""
    return list(dict.fromkeys(doc_id_of(h.uri) for h in hits))


async def prepare_index(engine: IndexEngine, dataset: Dataset, index: str | None,
                        progress: IO[str] | None, after_ingest: AfterIngest | None = None,
                        ) -> tuple[str, dict[str, Any]]:
    """Ingest the dataset's corpus into ``index`` (default ``eval-<folder>``), reusing what is
    stored, then run ``after_ingest`` (its summary under ``autotune``). A dataset without a
    corpus is evaluated against ``index`` as it is (it must exist)."""
    name = index or dataset.default_index
    if dataset.corpus is None:
        await engine.stats(name)  # NotFound when the index does not exist
        return name, {}
    started = time.perf_counter()
    report = await engine.ingest_path(dataset.corpus, index=name)
    info = {**report.as_json(), "seconds": round(time.perf_counter() - started, 2)}
    if progress:
        print(f"index {name}: {info}", file=progress)
    await _require_complete(engine, name, dataset)
    if after_ingest is not None:
        info["autotune"] = await after_ingest(name, report)
        if progress and info["autotune"]:
            print(f"index {name}: auto-tuned {info['autotune']}", file=progress)
    return name, info


async def _require_complete(engine: IndexEngine, name: str, dataset: Dataset) -> None:
    """Raise ``eval.corpus_incomplete`` unless every corpus record of ``dataset`` is indexed
    in ``name``: scores over a partly ingested corpus look like (bad) retrieval quality and
    would be reported as such (an eval once printed nDCG@10 0.0 and exited 0 when every
    record was refused)."""
    stats = await engine.stats(name)
    failed = int(stats.documents_by_state.get("failed", 0))
    indexed = int(stats.documents_by_state.get("indexed", 0))
    if failed or not indexed:
        errors = ", ".join(f"{code}: {n}" for code, n in sorted(stats.errors_by_code.items()))
        raise InvalidRequest(
            f"the corpus of {dataset.root.name} did not ingest completely into index {name!r}"
            f" ({indexed} documents indexed, {failed} failed"
            f"{'; ' + errors if errors else ''}); see `groundwire status --index {name}`",
            code="eval.corpus_incomplete",
        )


async def run_evaluation(
    engine: IndexEngine,
    root: Path,
    *,
    split: str | None = None,
    index: str | None = None,
    limit: int | None = None,
    answer_limit: int = 300,
    progress: IO[str] | None = sys.stderr,
    after_ingest: AfterIngest | None = None,
) -> dict[str, Any]:
    dataset = load_dataset(root, split)
    name, ingest_info = await prepare_index(engine, dataset, index, progress, after_ingest)
    query_ids = [q for q in dataset.queries if q in dataset.qrels]
    if limit:
        query_ids = query_ids[:limit]
    totals: dict[str, float] = {}
    latencies: list[float] = []
    em, f1, answered = 0.0, 0.0, 0
    for i, qid in enumerate(query_ids):
        request = SearchRequest(query=dataset.queries[qid], index=name, top_k=EVAL_DEPTH)
        t0 = time.perf_counter()
        hits, _ = await engine.retriever.search_with_timings(request)
        latencies.append((time.perf_counter() - t0) * 1000)
        for key, value in retrieval_metrics(ranked_documents(hits), dataset.qrels[qid]).items():
            totals[key] = totals.get(key, 0.0) + value
        if qid in dataset.answers and answered < answer_limit:
            answer = engine.answers.answerer.answer(request.query, hits)
            prediction = _answer_text(answer.text)
            em += exact_match(prediction, dataset.answers[qid])
            f1 += f1_score(prediction, dataset.answers[qid])
            answered += 1
        if progress and (i + 1) % 500 == 0:
            print(f"  {i + 1}/{len(query_ids)} queries", file=progress)
    n = max(len(query_ids), 1)
    result: dict[str, Any] = {
        "dataset": str(dataset.root.name),
        "split": split or "test",
        "index": name,
        "queries": len(query_ids),
        "retrieval": effective_retrieval(engine, name),
        "metrics": {k: round(v / n, 4) for k, v in totals.items()},
        "latency_ms": {"p50": round(percentile(latencies, 0.5), 2),
                       "p95": round(percentile(latencies, 0.95), 2)},
        "ingest": ingest_info,
    }
    if answered:
        result["answer_em"] = round(em / answered, 4)
        result["answer_f1"] = round(f1 / answered, 4)
        result["answer_sample"] = answered
    return result


def effective_retrieval(engine: IndexEngine, index: str) -> dict[str, Any]:
    """The retrieval settings a search of ``index`` actually uses (labelled per-index tuning,
    stored self-tuning or the defaults, see ``TuningResolver``), and where they come from."""
    retrieval = engine.settings.retrieval
    return {**engine.tunings(index).model_dump(), "source": engine.tunings.source(index),
            "bm25_k1": retrieval.bm25_k1, "bm25_b": retrieval.bm25_b,
            "phrase_weight": retrieval.phrase_weight,
            "hnsw_ef_search": retrieval.hnsw_ef_search, "fields": "title+headings+text",
            "reranker": None}


def _answer_text(text: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", text)
