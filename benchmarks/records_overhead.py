"""Cost of answer records on search latency, in process: the same app answers each query
twice, once through ``Groundwire.search_recorded`` (record built, queued, redacted and
inserted by the background writer) and once through ``Groundwire.search`` with
``monitoring.records`` switched off for that call — alternating, with the order rotating, so
machine load hits both alike. Reports p50/p95 of each and the p50 overhead, plus the writer's
own cost per record (redaction + insert, off the request path) and its counters.

The corpus is the repository's ``docs/`` folder; queries are fixed questions.

    GROUNDWIRE_DATA_DIR=.bench-data/records .venv/bin/python benchmarks/records_overhead.py \
        [--requests 400]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from _common import REPO, report

from groundwire.bootstrap import build_app
from groundwire.domain import SearchRequest
from groundwire.quality.metrics import percentile
from groundwire.settings import load_settings

QUERIES = [
    "How do I back up the database?", "What does groundwire tune write?",
    "How are failed documents reported?", "Which embedding model is bundled?",
    "How do I run the server on another port?", "What is the keyword index built from?",
    "How do filters apply before ranking?", "How are exact duplicate passages handled?",
    "How do I upgrade to a new release?", "What happens when a file disappears?",
]


async def run(requests: int) -> dict[str, Any]:
    settings = load_settings()
    async with build_app(settings) as gw:
        await gw.ingest_path(REPO / "docs", index="bench-docs")
        await gw.warm()
        monitoring = gw.monitor()
        timings: dict[str, list[float]] = {"records_on": [], "records_off": []}
        for i in range(requests):
            query = SearchRequest(QUERIES[i % len(QUERIES)], index="bench-docs", top_k=10)
            order = ("records_on", "records_off") if i % 2 == 0 else ("records_off",
                                                                       "records_on")
            for mode in order:
                monitoring.settings = monitoring.settings.model_copy(
                    update={"records": mode == "records_on"})
                started = time.perf_counter()
                await gw.search_recorded(query)
                timings[mode].append((time.perf_counter() - started) * 1000)
        monitoring.settings = monitoring.settings.model_copy(update={"records": True})
        flush_started = time.perf_counter()
        await monitoring.flush()
        flush_ms = (time.perf_counter() - flush_started) * 1000
        writer = monitoring.writer
        # the writer's own cost per record, measured on a fresh batch
        batch_started = time.perf_counter()
        for i in range(200):
            await gw.search_recorded(SearchRequest(QUERIES[i % len(QUERIES)],
                                                   index="bench-docs"))
        search_ms = (time.perf_counter() - batch_started) * 1000
        drain_started = time.perf_counter()
        await monitoring.flush()
        drain_ms = (time.perf_counter() - drain_started) * 1000
    p50 = {k: percentile(v, 0.5) for k, v in timings.items()}
    p95 = {k: percentile(v, 0.95) for k, v in timings.items()}
    overhead = (p50["records_on"] - p50["records_off"]) / p50["records_off"] * 100
    return {
        "requests_per_mode": requests,
        "p50_ms": {k: round(v, 2) for k, v in p50.items()},
        "p95_ms": {k: round(v, 2) for k, v in p95.items()},
        "p50_overhead_pct": round(overhead, 2),
        "final_flush_ms": round(flush_ms, 1),
        "burst_200_searches_ms": round(search_ms, 1),
        "drain_after_burst_ms": round(drain_ms, 1),
        "writer": {"written": writer.written, "dropped": writer.dropped,
                   "failed": writer.failed},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    result = asyncio.run(run(args.requests))
    rows = [{"mode": k, "p50_ms": result["p50_ms"][k], "p95_ms": result["p95_ms"][k]}
            for k in result["p50_ms"]]
    report("records_overhead", result, rows)


if __name__ == "__main__":
    main()
