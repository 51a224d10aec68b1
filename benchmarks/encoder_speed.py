"""Raw encode speed of the embedders on the same passages: torch fp32 (sentence-transformers,
the default) vs ONNX Runtime fp32 vs ONNX Runtime int8 (``embedding.provider = "onnx"``).

Passages: the first ``--passages`` SciFact documents (title + text), cut by each encoder's own
tokenizer at 256 tokens. Queries: the first ``--queries`` SciFact questions, encoded one at a
time with 1 intra-op thread (what a search request does). Also reports how close the ONNX
vectors are to the torch ones (mean and minimum cosine) — retrieval parity is measured
separately with ``groundwire eval`` (docs/benchmarks.md).

    .venv/bin/python benchmarks/encoder_speed.py [--passages 2000] [--queries 200] \
        [--threads 0] [--cache-dir .bench-data/onnx-cache]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import DATA, report

from groundwire.quality.metrics import percentile


def _passages(limit: int) -> list[str]:
    out: list[str] = []
    with gzip.open(DATA / "scifact" / "corpus.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            out.append(f"{row.get('title', '')}\n{row.get('text', '')}".strip())
            if len(out) >= limit:
                break
    return out


def _queries(limit: int) -> list[str]:
    with (DATA / "scifact" / "queries.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle][:limit]


def _measure(name: str, embedder: Any, passages: list[str], queries: list[str]
             ) -> tuple[dict[str, Any], np.ndarray]:
    embedder.encode_passages(passages[:8])  # load + warm up
    embedder.encode_query("warm up")
    started = time.perf_counter()
    vectors = embedder.encode_passages(passages)
    passage_s = time.perf_counter() - started
    latencies = []
    for q in queries:
        t0 = time.perf_counter()
        embedder.encode_query(q)
        latencies.append((time.perf_counter() - t0) * 1000)
    return {
        "encoder": name, "model_id": embedder.model_id,
        "passages_per_s": round(len(passages) / passage_s, 1),
        "query_p50_ms": round(percentile(latencies, 0.5), 2),
        "query_p95_ms": round(percentile(latencies, 0.95), 2),
    }, vectors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=0, help="ingest threads (0: all cores)")
    parser.add_argument("--cache-dir", type=Path, default=Path(".bench-data/onnx-cache"))
    parser.add_argument("--only", choices=("torch", "onnx-fp32", "onnx-int8"), action="append")
    args = parser.parse_args()
    from groundwire.embedding.onnx import OnnxEmbedder
    from groundwire.embedding.sentence_transformers import SentenceTransformerEmbedder

    passages, queries = _passages(args.passages), _queries(args.queries)
    encoders: dict[str, Any] = {
        "torch": lambda: SentenceTransformerEmbedder(
            "all-MiniLM-L6-v2", ingest_threads=args.threads),
        "onnx-fp32": lambda: OnnxEmbedder("all-MiniLM-L6-v2", cache_dir=args.cache_dir,
                                          quantization="fp32", ingest_threads=args.threads),
        "onnx-int8": lambda: OnnxEmbedder("all-MiniLM-L6-v2", cache_dir=args.cache_dir,
                                          quantization="int8", ingest_threads=args.threads),
    }
    rows: list[dict[str, Any]] = []
    reference: np.ndarray | None = None
    for name in args.only or list(encoders):
        row, vectors = _measure(name, encoders[name](), passages, queries)
        if name == "torch":
            reference = vectors
            row["cos_vs_torch_mean"] = row["cos_vs_torch_min"] = 1.0
        elif reference is not None:
            cosines = (vectors * reference).sum(axis=1)
            row["cos_vs_torch_mean"] = round(float(cosines.mean()), 4)
            row["cos_vs_torch_min"] = round(float(cosines.min()), 4)
        rows.append(row)
    report("encoder_speed", {"passages": len(passages), "queries": len(queries),
                             "results": rows}, rows)


if __name__ == "__main__":
    main()
