"""Serving footprint (issue 23): one ``groundwire serve`` process over a ~14k-chunk index with
``embedding.provider`` sentence-transformers (torch) vs onnx (int8): memory (RSS and PSS of
the server process, from ``/proc/<pid>/smaps_rollup``) after start, after the first query and
after ``--queries`` queries; cold start to the first ``/healthz`` and ``/readyz`` 200; the
first query's latency; and whether ``libtorch`` is mapped into the process.

The index: ``--chunks`` synthetic chunks built like ``benchmarks/scale.py`` (three real
SQuAD/SciFact sentences each, 10 per document) and written straight to the store with
stand-in vectors (scale.py's word vectors, 384-d) under each provider's model id, one data
dir per provider (``.bench-data/footprint-<provider>``, built once, reused). The vectors are
stand-ins, so retrieval *quality* means nothing here; the server does everything it does in
production (BM25 built from the stored chunks at start, the real encoder per query, HNSW
search, fusion). The embedded PostgreSQL is a separate process and is not counted.

The onnx run needs a prepared export (``groundwire embedder export``); ``--cache-home``
points ``XDG_CACHE_HOME`` of the server at it. Providers run one after the other, same box,
same queries: compare the rows of one run.

    .venv/bin/groundwire embedder export          # once, where torch is installed
    .venv/bin/python benchmarks/serving_footprint.py [--chunks 14000] [--queries 200] \
        [--only onnx] [--cache-home ~/.cache]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from _common import REPO, free_port, report

INDEX = "footprint"
PROVIDERS = {  # provider -> the model id its vectors are stored under
    "sentence-transformers": "all-MiniLM-L6-v2",
    "onnx": "all-MiniLM-L6-v2@onnx-int8",
    "onnx-fp32": "all-MiniLM-L6-v2@onnx-fp32",  # the default provider since issue 23
}


def memory(pid: int) -> dict[str, float]:
    """RSS and PSS (MB) of one process from ``/proc/<pid>/smaps_rollup``."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss"):
            values[key.lower() + "_mb"] = round(int(rest.split()[0]) / 1024, 1)
    return values


def torch_mapped(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


async def build(data_dir: Path, model_id: str, n_chunks: int) -> dict[str, Any]:
    """Write ``n_chunks`` synthetic chunks with stand-in vectors into ``data_dir`` once."""
    from scale import WordVectors, _documents, _paragraphs

    from groundwire.stores.postgres.embedded import EmbeddedPostgres
    from groundwire.stores.postgres.store import PostgresStore

    data_dir.mkdir(parents=True, exist_ok=True)
    store = PostgresStore(EmbeddedPostgres(data_dir), pool_max=2)
    await store.open()
    try:
        if INDEX in await store.list_indexes():
            return {"build": "reused", "chunks": (await store.stats(INDEX)).chunks}
        await store.ensure_index(INDEX)
        source = await store.ensure_source(INDEX, "push", "footprint-bench")
        encoder = WordVectors()
        started = time.perf_counter()
        for batch in _documents(n_chunks, _paragraphs()):
            batch = [dataclasses.replace(d, source_id=source) for d in batch]
            chunks = [c for d in batch for c in d.chunks]
            vectors = encoder.encode([c.search_text for c in chunks])
            await store.commit_documents(
                INDEX, batch, {c.content_hash: v for c, v in zip(chunks, vectors, strict=True)},
                model_id)
        return {"build_s": round(time.perf_counter() - started, 1),
                "chunks": (await store.stats(INDEX)).chunks}
    finally:
        await store.close()


def serve_and_measure(provider: str, data_dir: Path, queries: list[str],
                      cache_home: Path | None) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    env.update(GROUNDWIRE_DATA_DIR=str(data_dir), GROUNDWIRE_EMBEDDING__PROVIDER=provider,
               GROUNDWIRE_SECURITY__DEV_MODE="true")
    if cache_home is not None:
        env["XDG_CACHE_HOME"] = str(cache_home)
    exe = Path(sys.executable).parent / "groundwire"
    row: dict[str, Any] = {"provider": provider}
    with (data_dir / "serve.log").open("w") as log:
        started = time.perf_counter()
        server = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port",
                                   str(port)], env=env, stdout=log, stderr=log, cwd=REPO)
        try:
            with httpx.Client(base_url=base, timeout=600) as client:
                for path, key in (("/healthz", "healthz_s"), ("/readyz", "readyz_s")):
                    while True:
                        if server.poll() is not None:
                            raise SystemExit(f"{provider}: server exited; see {log.name}")
                        try:
                            if client.get(path, timeout=5).status_code == 200:
                                break
                        except httpx.TransportError:
                            pass
                        time.sleep(0.1)
                    row[key] = round(time.perf_counter() - started, 2)
                time.sleep(1.0)
                row["after_start"] = memory(server.pid)
                t0 = time.perf_counter()
                client.post("/v1/search", json={"query": queries[0], "index": INDEX}
                            ).raise_for_status()
                row["first_query_ms"] = round((time.perf_counter() - t0) * 1000, 1)
                row["after_first_query"] = memory(server.pid)
                latencies = []
                for q in queries[1:]:
                    t0 = time.perf_counter()
                    client.post("/v1/search", json={"query": q, "index": INDEX}
                                ).raise_for_status()
                    latencies.append((time.perf_counter() - t0) * 1000)
                latencies.sort()
                row["query_p50_ms"] = round(latencies[len(latencies) // 2], 1)
                row[f"after_{len(queries)}_queries"] = memory(server.pid)
                row["libtorch_mapped"] = torch_mapped(server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=14_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--only", choices=list(PROVIDERS), action="append")
    parser.add_argument("--data-root", type=Path, default=REPO / ".bench-data")
    parser.add_argument("--cache-home", type=Path, default=None,
                        help="XDG_CACHE_HOME for the onnx server (default: inherited)")
    args = parser.parse_args()
    from scale import _queries

    queries = _queries(args.queries)
    result: dict[str, Any] = {"chunks_requested": args.chunks, "queries": len(queries),
                              "runs": []}
    rows = []
    for provider in args.only or list(PROVIDERS):
        data_dir = args.data_root / f"footprint-{provider}-{args.chunks}"
        built = asyncio.run(build(data_dir, PROVIDERS[provider], args.chunks))
        run = {**serve_and_measure(provider, data_dir, queries, args.cache_home), **built}
        result["runs"].append(run)
        after = run[f"after_{len(queries)}_queries"]
        rows.append({
            "provider": provider, "chunks": run["chunks"],
            "RSS / PSS MB after start": "{rss_mb} / {pss_mb}".format(**run["after_start"]),
            "after 1st query": "{rss_mb} / {pss_mb}".format(**run["after_first_query"]),
            f"after {len(queries)} queries": "{rss_mb} / {pss_mb}".format(**after),
            "healthz s": run["healthz_s"], "readyz s": run["readyz_s"],
            "1st query ms": run["first_query_ms"], "p50 ms": run["query_p50_ms"],
            "libtorch mapped": run["libtorch_mapped"]})
    report("serving_footprint", result, rows)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
