"""``/v1/ask`` latency with LLM providers over real HTTP on loopback, including the fallback
path: the primary down with its circuit open while a secondary answers in 800 ms.

Providers are the fault-injecting OpenAI-compatible server of the test suite
(``tests/support/fault_llm.py``) on 127.0.0.1, answering with the best-matching sentence of
the prompt's passages. The corpus is the first ``--paragraphs`` SQuAD dev paragraphs,
ingested into a fresh data dir; questions are those whose gold paragraph is in it.

Scenarios (one ``groundwire serve`` each): extractive only (no providers); a healthy primary
answering at once (answer-layer overhead); the primary hanging / refusing connections with
the secondary answering after 800 ms. The first requests of a "down" scenario open the
primary's circuit (they wait first_token_timeout_s); they are reported apart from the
steady state.

    .venv/bin/python benchmarks/llm_fallback.py [--paragraphs 300] [--requests 60]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from _common import DATA, REPO, free_port, report, wait_ready

sys.path.insert(0, str(REPO / "tests"))

from support.fault_llm import FaultLLMServer  # noqa: E402
from support.llm import grounded_reply, provider  # noqa: E402

from groundwire.quality.metrics import percentile  # noqa: E402

WORK = REPO / ".bench-data" / "llm-fallback"



def prepare(paragraphs: int) -> list[str]:
    squad = DATA / "squad-v1.1-dev"
    rows = [json.loads(line) for line in (squad / "corpus.jsonl").open()][:paragraphs]
    keep = {r["id"] for r in rows}
    gold: dict[str, str] = {}
    for line in (squad / "qrels.tsv").open():
        parts = line.split()
        if len(parts) >= 2 and parts[1] in keep:
            gold[parts[0]] = parts[1]
    questions = [json.loads(line) for line in (squad / "queries.jsonl").open()]
    chosen = [q["text"] for q in questions if q["id"] in gold]
    WORK.mkdir(parents=True, exist_ok=True)
    corpus = WORK / "corpus.jsonl"
    if not corpus.exists():
        corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
        exe = Path(sys.executable).parent / "groundwire"
        subprocess.run([str(exe), "ingest", str(corpus)], env=env({}), check=True,
                       stdout=subprocess.DEVNULL)
    return chosen


def env(extra: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    return {**base, "GROUNDWIRE_DATA_DIR": str(WORK / "data"), "GROUNDWIRE_LOG_LEVEL": "WARNING",
            "GROUNDWIRE_CACHE__ENABLED": "false", **extra}


def run_scenario(name: str, providers: list[dict[str, Any]], questions: list[str],
                 requests: int, warmup: int) -> dict[str, Any]:
    port = free_port()
    exe = Path(sys.executable).parent / "groundwire"
    extra = {"GROUNDWIRE_LLM__PROVIDERS": json.dumps(providers)} if providers else {}
    server = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env(extra), stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        latencies, warm, overhead, degraded, errors = [], [], [], 0, 0
        with httpx.Client(base_url=base, timeout=60) as client:
            for i in range(warmup + requests):
                t0 = time.perf_counter()
                r = client.post("/v1/ask", json={"question": questions[i % len(questions)]})
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    errors += 1
                    continue
                body = r.json()
                if i < warmup:
                    warm.append(ms)
                    continue
                latencies.append(ms)
                degraded += bool(body["degraded"])
                t = body["timings_ms"]
                if body["answerer"] == "llm":
                    overhead.append(t["total"] - t["retrieval"] - t.get("llm", 0.0))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    return {
        "scenario": name, "requests": len(latencies), "errors": errors,
        "degraded": degraded,
        "warmup_max_ms": round(max(warm), 1) if warm else None,
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "answer_layer_overhead_p50_ms": round(percentile(overhead, 0.5), 1) if overhead else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paragraphs", type=int, default=300)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    questions = prepare(args.paragraphs)
    rows = []
    with FaultLLMServer(mode="ok") as primary, FaultLLMServer(mode="ok_slow") as secondary:
        primary.reply = secondary.reply = grounded_reply
        secondary.slow_delay = 0.8
        chain = [provider("primary", primary, first_token_timeout_s=3.0, total_timeout_s=10.0),
                 provider("secondary", secondary, total_timeout_s=10.0)]
        rows.append(run_scenario("extractive only", [], questions, args.requests, 5))
        rows.append(run_scenario("primary healthy", chain, questions, args.requests, 5))
        primary.mode = "hang"
        rows.append(run_scenario("primary hangs, secondary 800 ms", chain, questions,
                                 args.requests, 5))
        primary.mode = "refuse"
        rows.append(run_scenario("primary refuses, secondary 800 ms", chain, questions,
                                 args.requests, 5))
    report("llm_fallback", {"paragraphs": args.paragraphs, "results": rows}, rows)


if __name__ == "__main__":
    main()
