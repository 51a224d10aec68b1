"""Ingest throughput against raw model encoding of the same chunks.

Ingests the first N documents of a dataset's corpus into a fresh embedded PostgreSQL (cold: every
chunk embedded), re-ingests it (warm: nothing changed), then encodes exactly the same chunk texts
with the bare model. The gap between the cold ingest and the raw encode is the pipeline's own
cost (reading, parsing, chunking, hashing, database writes).

    .venv/bin/python benchmarks/ingest_throughput.py \
        [--dataset ../shared/data/scifact] [--docs 1000] \
        [--provider sentence-transformers --provider onnx]

``--provider`` (repeatable; default: the configured ``embedding.provider``) runs each
embedder in turn on the same documents, each in its own fresh database, and reports
``ingest_over_raw`` = cold ingest seconds ÷ raw encode seconds of the same chunks (issue 23:
target ≤ 1.05). The onnx provider needs a prepared export (``groundwire embedder export``).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DATA, report

from groundwire.bootstrap import build_app
from groundwire.settings import load_settings


async def run(corpus: Path, data_dir: Path, provider: str | None = None) -> dict[str, Any]:
    overrides: dict[str, Any] = {"data_dir": data_dir}
    if provider:
        overrides["embedding"] = {"provider": provider}
    settings = load_settings(**overrides)
    async with build_app(settings) as gw:
        gw.retriever.embedder.encode_query("warm up")  # load the model outside the timing
        t0 = time.perf_counter()
        cold = await gw.ingest_path(corpus, index="bench")
        cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = await gw.ingest_path(corpus, index="bench")
        warm_s = time.perf_counter() - t0
        _, chunks = await gw.store.keyword_corpus("bench")
        texts = list(dict.fromkeys(c.search_text for c in chunks))
        t0 = time.perf_counter()
        gw.retriever.embedder.encode_passages(texts)
        encode_s = time.perf_counter() - t0
    return {
        "provider": settings.embedding.provider,
        "documents": cold.indexed, "chunks": len(chunks),
        "chunks_embedded": cold.chunks_embedded, "cold_ingest_s": round(cold_s, 2),
        "warm_ingest_s": round(warm_s, 2), "warm_chunks_embedded": warm.chunks_embedded,
        "raw_encode_s": round(encode_s, 2),
        "ingest_chunks_per_s": round(len(chunks) / cold_s, 1),
        "raw_encode_chunks_per_s": round(len(texts) / encode_s, 1),
        "pipeline_overhead_pct": round(100 * (cold_s - encode_s) / cold_s, 1),
        "ingest_over_raw": round(cold_s / encode_s, 3),
        "warm_vs_cold_pct": round(100 * warm_s / cold_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=DATA / "scifact")
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--provider", action="append",
                        help="embedding.provider to run (repeat to compare; default: configured)")
    args = parser.parse_args()
    source = next(p for p in (args.dataset / "corpus.jsonl", args.dataset / "corpus.jsonl.gz")
                  if p.exists())
    opener = gzip.open if source.suffix == ".gz" else open
    with tempfile.TemporaryDirectory(prefix="gw-") as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        with opener(source, "rt") as src, corpus.open("w") as dst:
            for i, line in enumerate(src):
                if i >= args.docs:
                    break
                json.loads(line)
                dst.write(line)
        rows = [asyncio.run(run(corpus, Path(tmp) / f"data-{i}", provider))
                for i, provider in enumerate(args.provider or [None])]
    report("ingest_throughput", {"dataset": args.dataset.name, "runs": rows}, rows)


if __name__ == "__main__":
    main()
