"""Overhead of telemetry (metrics + tracing) and answer records on ``/v1/search`` p50.

Two ``groundwire serve`` processes of the same build run side by side on 127.0.0.1 over the
same data dir (they share the embedded PostgreSQL and the index): ``on`` with the defaults
(``telemetry.metrics_enabled``, ``telemetry.tracing_enabled`` and, when the records part is
present, ``monitoring.records``) and ``off`` with all of them disabled. ``--breakdown`` adds
one server per feature alone. Requests alternate between the servers query by query (the
order rotates every query), so load on the shared machine hits every configuration alike;
``/metrics`` is scraped every ``--scrape-every`` requests of the ``on`` server, as Prometheus
would. The run is split into ``--rounds`` blocks; the overhead is reported on the pooled p50,
per block (spread), and as the median of paired differences (the same query sent to a server
and to ``off`` back to back), which drifting load on a shared machine disturbs least.

A second, noise-free figure: the per-request CPU cost of the telemetry code itself, measured
in process (the ASGI middleware around a trivial endpoint that opens the search's stage spans
and observes its stage timings), in microseconds, for each telemetry setting.

The corpus is the first ``--paragraphs`` SQuAD dev paragraphs (``../shared/data``) when
present, else the repository's ``docs/``; queries are SQuAD questions, else fixed questions.

    .venv/bin/python benchmarks/telemetry_overhead.py [--requests 600] [--rounds 6] \
        [--paragraphs 1000] [--breakdown]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from _common import DATA, REPO, free_port, report, wait_ready

from groundwire.quality.metrics import percentile
from groundwire.settings import Settings

WORK = REPO / ".bench-data" / "telemetry-overhead"
FALLBACK_QUERIES = [
    "How do I back up the database?", "What does groundwire tune write?",
    "How are failed documents reported?", "Which embedding model is bundled?",
    "How do I run the server on another port?", "What is the keyword index built from?",
    "How do filters apply before ranking?", "How are exact duplicate passages handled?",
    "How do I upgrade to a new release?", "What happens when a file disappears?",
]



def records_present() -> bool:
    section = Settings.model_fields.get("monitoring")
    annotation = getattr(section, "annotation", None)
    return bool(annotation is not None and "records" in getattr(annotation, "model_fields", {}))


def configurations(breakdown: bool) -> dict[str, dict[str, str]]:
    off = {"GROUNDWIRE_TELEMETRY__METRICS_ENABLED": "false",
           "GROUNDWIRE_TELEMETRY__TRACING_ENABLED": "false"}
    if records_present():
        off["GROUNDWIRE_MONITORING__RECORDS"] = "false"
    configs: dict[str, dict[str, str]] = {"on": {}, "off": off}
    if breakdown:
        for key in off:
            feature = key.split("__")[-1].lower().removesuffix("_enabled")
            configs[f"{feature} only"] = {k: v for k, v in off.items() if k != key}
    return configs


def env(extra: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    return {**base, "GROUNDWIRE_DATA_DIR": str(WORK / "data"), "GROUNDWIRE_LOG_LEVEL": "INFO",
            **extra}


def prepare(paragraphs: int) -> tuple[str, list[str]]:
    """Ingest the corpus once (idempotent); return (corpus description, queries)."""
    exe = Path(sys.executable).parent / "groundwire"
    squad = DATA / "squad-v1.1-dev"
    WORK.mkdir(parents=True, exist_ok=True)
    if squad.exists():
        rows = [json.loads(line) for line in (squad / "corpus.jsonl").open()][:paragraphs]
        corpus = WORK / f"squad-{paragraphs}.jsonl"
        if not corpus.exists():
            corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
        keep = {r["id"] for r in rows}
        gold = {p[0] for p in (line.split() for line in (squad / "qrels.tsv").open())
                if len(p) >= 2 and p[1] in keep}
        queries = [q["text"] for q in map(json.loads, (squad / "queries.jsonl").open())
                   if q["id"] in gold]
        described = f"SQuAD v1.1 dev, first {len(rows)} paragraphs"
    else:
        corpus = REPO / "docs"
        queries = FALLBACK_QUERIES
        described = "repository docs/"
    subprocess.run([str(exe), "ingest", str(corpus)], env=env({}), check=True,
                   stdout=subprocess.DEVNULL)
    return described, queries


def start(name: str, extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    exe = Path(sys.executable).parent / "groundwire"
    log = (WORK / f"server-{name.replace(' ', '-')}.log").open("wb")
    process = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env(extra), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    return process, f"http://127.0.0.1:{port}"



def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def in_process_cost(iterations: int = 20000) -> dict[str, float]:
    """Microseconds per request of the telemetry code (middleware, stage spans, metrics)."""
    import asyncio

    from groundwire.settings import TelemetrySettings
    from groundwire.telemetry import Telemetry
    from groundwire.telemetry.middleware import TelemetryMiddleware

    timings = {"embed": 10.0, "keyword": 3.0, "vector": 5.0, "fusion": 0.2, "total": 20.0}

    async def sent(message: Any) -> None:
        return None

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    def build(telemetry: Telemetry) -> Any:
        async def endpoint(scope: Any, receive: Any, send: Any) -> None:
            tracer = telemetry.tracer
            with tracer.start_as_current_span("retrieval"):
                embed = tracer.start_span("embed")
                for stage in ("keyword", "vector", "fusion"):
                    with tracer.start_as_current_span(stage):
                        pass
                embed.end()
            telemetry.searched(timings)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})

        return TelemetryMiddleware(endpoint, telemetry)

    async def run(settings: TelemetrySettings) -> float:
        app = build(Telemetry.from_settings(settings))
        scope = {"type": "http", "method": "POST", "path": "/v1/search", "headers": []}
        for _ in range(500):
            await app(dict(scope), receive, sent)
        t0 = time.perf_counter()
        for _ in range(iterations):
            await app(dict(scope), receive, sent)
        return (time.perf_counter() - t0) / iterations * 1e6

    variants = {
        "off": TelemetrySettings(metrics_enabled=False, tracing_enabled=False),
        "metrics": TelemetrySettings(tracing_enabled=False),
        "tracing": TelemetrySettings(metrics_enabled=False),
        "metrics+tracing": TelemetrySettings(),
    }
    return {name: round(asyncio.run(run(s)), 1) for name, s in variants.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600, help="Measured per server.")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--paragraphs", type=int, default=1000)
    parser.add_argument("--scrape-every", type=int, default=100)
    parser.add_argument("--breakdown", action="store_true")
    args = parser.parse_args()

    described, queries = prepare(args.paragraphs)
    configs = configurations(args.breakdown)
    servers = {name: start(name, extra) for name, extra in configs.items()}
    names = list(servers)
    latencies: dict[str, list[float]] = {name: [] for name in names}
    errors = 0
    try:
        for process, base in servers.values():
            wait_ready(base, process)
        clients = {name: httpx.Client(base_url=base, timeout=60)
                   for name, (_, base) in servers.items()}
        total = args.warmup + args.requests
        for i in range(total):
            query = queries[i % len(queries)]
            order = names[i % len(names):] + names[: i % len(names)]
            for name in order:
                t0 = time.perf_counter()
                response = clients[name].post("/v1/search", json={"query": query})
                ms = (time.perf_counter() - t0) * 1000
                if response.status_code != 200:
                    errors += 1
                    continue
                if i >= args.warmup:
                    latencies[name].append(ms)
            if i % args.scrape_every == 0:
                clients["on"].get("/metrics")
        for client in clients.values():
            client.close()
    finally:
        for process, _ in servers.values():
            stop(process)

    def p50(values: list[float]) -> float:
        return percentile(values, 0.5)

    base_p50 = p50(latencies["off"])
    block = max(1, args.requests // args.rounds)
    rows = []
    per_round: dict[str, list[float]] = {}
    for name in names:
        rounds = []
        for r in range(args.rounds):
            mine = latencies[name][r * block:(r + 1) * block]
            off = latencies["off"][r * block:(r + 1) * block]
            if mine and off:
                rounds.append((p50(mine) / p50(off) - 1) * 100)
        per_round[name] = rounds
        overhead = (p50(latencies[name]) / base_p50 - 1) * 100
        # Paired: the same query sent to this server and to "off" back to back.
        paired = [a - b for a, b in zip(latencies[name], latencies["off"], strict=False)]
        rows.append({
            "config": name, "requests": len(latencies[name]),
            "p50_ms": round(p50(latencies[name]), 2),
            "p95_ms": round(percentile(latencies[name], 0.95), 2),
            "overhead_p50_pct": round(overhead, 2),
            "paired_median_diff_ms": round(statistics.median(paired), 3) if paired else None,
            "paired_overhead_pct": round(statistics.median(paired) / base_p50 * 100, 2)
            if paired else None,
            "per_round_overhead_pct": [round(x, 1) for x in rounds],
            "round_median_pct": round(statistics.median(rounds), 2) if rounds else None,
            "round_min_max_pct": [round(min(rounds), 1), round(max(rounds), 1)]
            if rounds else None,
        })
    result: dict[str, Any] = {
        "in_process_us_per_request": in_process_cost(),
        "corpus": described, "queries": len(queries), "requests_per_server": args.requests,
        "rounds": args.rounds, "errors": errors, "records_part_present": records_present(),
        "configs": {name: configs[name] for name in names}, "goal_overhead_pct": 5.0,
        "results": rows,
    }
    report("telemetry_overhead", result, [
        {k: v for k, v in row.items() if k != "per_round_overhead_pct"} for row in rows
    ])


if __name__ == "__main__":
    main()
