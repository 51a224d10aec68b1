"""``/v1/search`` latency over real HTTP on loopback, 1 and 10 concurrent clients.

Starts ``groundwire serve`` on 127.0.0.1 (a free port) over an index that already holds a
dataset's corpus (run ``groundwire eval --dataset DIR`` first with the same data dir), sends a
bounded number of queries from the dataset, and stops the server.

    GROUNDWIRE_DATA_DIR=.bench-data .venv/bin/python benchmarks/search_latency.py \
        [--dataset ../shared/data/scifact] [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from _common import DATA, free_port, report, wait_ready

from groundwire.quality.datasets import load_dataset
from groundwire.quality.metrics import percentile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=DATA / "scifact")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    ds = load_dataset(args.dataset)
    index = ds.default_index
    queries = list(ds.queries.values())
    port = free_port()
    exe = Path(sys.executable).parent / "groundwire"
    server = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env={**os.environ}, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        wait_ready(base, server)
        with httpx.Client(base_url=base, timeout=30) as client:
            for q in queries[:20]:  # warm-up: keyword index, model, connection pool
                client.post("/v1/search", json={"query": q, "index": index})
        for clients in (1, 10):
            latencies: list[float] = []
            errors = 0

            def one(i: int, clients: int = clients, latencies: list[float] = latencies) -> None:
                nonlocal errors
                with httpx.Client(base_url=base, timeout=30) as client:
                    for j in range(i, args.requests, clients):
                        t0 = time.perf_counter()
                        r = client.post("/v1/search",
                                        json={"query": queries[j % len(queries)], "index": index})
                        latencies.append((time.perf_counter() - t0) * 1000)
                        errors += r.status_code != 200

            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(one, range(clients)))
            elapsed = time.perf_counter() - started
            rows.append({
                "clients": clients, "requests": len(latencies), "errors": errors,
                "p50_ms": round(percentile(latencies, 0.5), 1),
                "p95_ms": round(percentile(latencies, 0.95), 1),
                "throughput_rps": round(len(latencies) / elapsed, 1),
            })
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    report("search_latency", {"dataset": ds.root.name, "index": index, "results": rows}, rows)


if __name__ == "__main__":
    main()
