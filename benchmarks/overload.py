"""Overload: ``/v1/search`` driven at 2x its measured capacity, with admission control on.

A real ``groundwire serve`` on 127.0.0.1 over the first ``--paragraphs`` SQuAD dev paragraphs
(ingested once into ``--work``/data). Three phases, all bounded:

1. **capacity**: ``--clients`` closed-loop clients for ``--calibrate-s`` seconds; capacity =
   completed requests per second.
2. **overload**: open-loop arrivals (a new request every 1/rate seconds, whatever the server
   does) at ``--factor`` x capacity for ``--duration`` seconds (default 60).
3. **recovery**: open-loop arrivals at half the capacity for ``--recovery-s`` seconds.

Per phase it reports the count of each status (only 200 and 503 are acceptable), how many
503s carried ``Retry-After`` and the error code ``server.overloaded``, p50/p95 of admitted
(200) requests, and transport errors; then ``groundwire_requests_shed_total`` from
``/metrics``. Exit status 1 when any other status, a 503 without Retry-After, or a failed
recovery (< 99% 200s) is seen.

    .venv/bin/python benchmarks/overload.py [--duration 60] [--recovery-s 15] \
        [--max-in-flight 16 --queue-size 32 --queue-timeout 2]   # admission.* settings
        [--profile-s 30 --profile-clients 10]   # then: where 10 clients' latency goes
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from _common import DATA, free_port, report, wait_ready

from groundwire.quality.metrics import percentile

EXE = Path(sys.executable).parent / "groundwire"


def _env(work: Path, extra: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    return {**base, "GROUNDWIRE_DATA_DIR": str(work / "data"), "GROUNDWIRE_LOG_LEVEL": "WARNING",
            "GROUNDWIRE_SECURITY__DEV_MODE": "true", **extra}


def prepare(work: Path, paragraphs: int, extra: dict[str, str]) -> list[str]:
    """Ingest the corpus once (an unchanged re-ingest embeds nothing); return queries."""
    squad = DATA / "squad-v1.1-dev"
    rows = [json.loads(line) for line in (squad / "corpus.jsonl").open()][:paragraphs]
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / f"squad-{paragraphs}.jsonl"
    if not corpus.exists():
        corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    subprocess.run([str(EXE), "ingest", str(corpus)], env=_env(work, extra), check=True,
                   stdout=subprocess.DEVNULL)
    keep = {r["id"] for r in rows}
    gold = {p[0] for p in (line.split() for line in (squad / "qrels.tsv").open())
            if len(p) >= 2 and p[1] in keep}
    return [q["text"] for q in map(json.loads, (squad / "queries.jsonl").open())
            if q["id"] in gold]


class Phase:
    def __init__(self, name: str) -> None:
        self.name = name
        self.statuses: Counter[int] = Counter()
        self.latencies_ok: list[float] = []
        self.retry_after = 0
        self.overloaded_code = 0
        self.transport_errors = 0

    async def one(self, client: httpx.AsyncClient, query: str) -> None:
        started = time.perf_counter()
        try:
            response = await client.post("/v1/search", json={"query": query})
        except httpx.TransportError:
            self.transport_errors += 1
            return
        self.statuses[response.status_code] += 1
        if response.status_code == 200:
            self.latencies_ok.append((time.perf_counter() - started) * 1000)
        elif response.status_code == 503:
            self.retry_after += "retry-after" in response.headers
            self.overloaded_code += response.json()["error"]["code"] == "server.overloaded"

    def row(self, seconds: float, rate: float | None) -> dict[str, Any]:
        total = sum(self.statuses.values()) + self.transport_errors
        ok = self.latencies_ok
        return {
            "phase": self.name, "offered_rps": round(rate, 1) if rate else "closed loop",
            "seconds": round(seconds, 1), "requests": total,
            "200": self.statuses[200], "503": self.statuses[503],
            "503_with_retry_after": self.retry_after,
            "other": sum(n for s, n in self.statuses.items() if s not in (200, 503))
            + self.transport_errors,
            "admitted_rps": round(len(ok) / seconds, 1),
            "p50_ms_200": round(percentile(ok, 0.5), 1) if ok else None,
            "p95_ms_200": round(percentile(ok, 0.95), 1) if ok else None,
        }


async def closed_loop(base: str, queries: list[str], clients: int, seconds: float) -> Phase:
    phase = Phase("capacity")
    deadline = time.perf_counter() + seconds

    async def worker(i: int, client: httpx.AsyncClient) -> None:
        j = i
        while time.perf_counter() < deadline:
            await phase.one(client, queries[j % len(queries)])
            j += clients

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await asyncio.gather(*(worker(i, client) for i in range(clients)))
    return phase


async def open_loop(base: str, queries: list[str], name: str, rate: float,
                    seconds: float) -> Phase:
    phase = Phase(name)
    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        tasks = []
        started = time.perf_counter()
        i = 0
        while (now := time.perf_counter() - started) < seconds:
            due = i / rate
            if due > now:
                await asyncio.sleep(due - now)
            tasks.append(asyncio.create_task(phase.one(client, queries[i % len(queries)])))
            i += 1
        await asyncio.gather(*tasks)
    return phase


async def profile(base: str, queries: list[str], clients: int, seconds: float,
                  server_pid: int, out: Path) -> dict[str, Any]:
    """``clients`` closed-loop clients for ``seconds``: where a search's latency goes. Stage
    timings come from the responses (``timings_ms``: embed, keyword, vector, fusion, total of
    the retriever); "outside" is client latency minus the retriever total (HTTP, middleware,
    auth, audit, JSON, waiting for the event loop). With py-spy installed, the server's CPU
    is sampled meanwhile (collapsed stacks in ``out``) and the hottest frames are reported."""
    import shutil

    spy = shutil.which("py-spy", path=str(EXE.parent)) or shutil.which("py-spy")
    recorder = None
    if spy:
        recorder = subprocess.Popen(
            [spy, "record", "--pid", str(server_pid), "--duration", str(int(seconds)),
             "--rate", "200", "--format", "raw", "--nonblocking", "-o", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    latencies: list[float] = []
    stages: dict[str, list[float]] = {}
    deadline = time.perf_counter() + seconds

    async def worker(i: int, client: httpx.AsyncClient) -> None:
        j = i
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            response = await client.post("/v1/search", json={"query": queries[j % len(queries)]})
            ms = (time.perf_counter() - t0) * 1000
            j += clients
            if response.status_code != 200:
                continue
            latencies.append(ms)
            timings = response.json().get("timings_ms", {})
            for stage, value in timings.items():
                stages.setdefault(stage, []).append(float(value))
            stages.setdefault("outside", []).append(ms - float(timings.get("total", 0.0)))

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await asyncio.gather(*(worker(i, client) for i in range(clients)))
    result: dict[str, Any] = {
        "clients": clients, "requests": len(latencies),
        "client_p50_ms": round(percentile(latencies, 0.5), 1),
        "client_p95_ms": round(percentile(latencies, 0.95), 1),
        "stages_ms": {k: {"p50": round(percentile(v, 0.5), 1),
                          "p95": round(percentile(v, 0.95), 1)} for k, v in stages.items()},
    }
    if recorder is not None:
        await asyncio.to_thread(recorder.wait, seconds + 60)
        result["hot_frames"] = hot_frames(out)
    return result


def hot_frames(collapsed: Path, top: int = 15) -> dict[str, Any]:
    """Self and inclusive sample shares by frame from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    if not collapsed.exists():
        return {}
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [re.sub(r" \((?:.*/)?([^/]+:\d+)\)$", r" (\1)", f) for f in stack.split(";")]
        own[frames[-1]] += n
        for frame in {re.sub(r":\d+\)$", ")", f) for f in frames}:
            inclusive[frame] += n
    share = (lambda n: round(100.0 * n / total, 1)) if total else (lambda n: 0.0)
    return {"samples": total,
            "self_pct": {f: share(n) for f, n in own.most_common(top)},
            "inclusive_pct": {f: share(n) for f, n in inclusive.most_common(top * 2)}}


def shed_total(base: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return sum(float(v) for v in re.findall(
        r'^groundwire_requests_shed_total\{route="/v1/search"\} (\S+)$', text, re.M))


async def run(args: argparse.Namespace, base: str, queries: list[str], server_pid: int
              ) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for q in queries[:20]:  # warm-up: keyword index, model, connection pool
            await client.post("/v1/search", json={"query": q})
    t0 = time.perf_counter()
    capacity = await closed_loop(base, queries, args.clients, args.calibrate_s)
    calibrate_s = time.perf_counter() - t0
    rps = len(capacity.latencies_ok) / calibrate_s
    rows = [capacity.row(calibrate_s, None)]
    out: dict[str, Any] = {"capacity_rps": round(rps, 1), "rows": rows}
    if not args.skip_overload:
        shed_before = shed_total(base)
        t0 = time.perf_counter()
        overload = await open_loop(base, queries, "overload", rps * args.factor, args.duration)
        rows.append(overload.row(time.perf_counter() - t0, rps * args.factor))
        out["shed_counter_delta"] = shed_total(base) - shed_before
        t0 = time.perf_counter()
        recovery = await open_loop(base, queries, "recovery", rps * 0.5, args.recovery_s)
        rows.append(recovery.row(time.perf_counter() - t0, rps * 0.5))
    if args.profile_s > 0:
        out["profile"] = await profile(base, queries, args.profile_clients, args.profile_s,
                                       server_pid, args.work / "profile.collapsed")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paragraphs", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=Path(".bench-data/overload"))
    parser.add_argument("--clients", type=int, default=8, help="closed-loop calibration")
    parser.add_argument("--calibrate-s", type=float, default=15.0)
    parser.add_argument("--factor", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--recovery-s", type=float, default=15.0)
    parser.add_argument("--profile-s", type=float, default=0.0,
                        help="then profile this long at --profile-clients (0: skip)")
    parser.add_argument("--profile-clients", type=int, default=10)
    parser.add_argument("--skip-overload", action="store_true",
                        help="only calibrate and profile")
    parser.add_argument("--provider", help="embedding.provider of the server (e.g. onnx; "
                        "use its own --work: the index is embedded with that encoder)")
    parser.add_argument("--max-in-flight", type=int)
    parser.add_argument("--queue-size", type=int)
    parser.add_argument("--queue-timeout", type=float)
    args = parser.parse_args()
    admission = {"GROUNDWIRE_ADMISSION__MAX_IN_FLIGHT": args.max_in_flight,
                 "GROUNDWIRE_ADMISSION__QUEUE_SIZE": args.queue_size,
                 "GROUNDWIRE_ADMISSION__QUEUE_TIMEOUT_S": args.queue_timeout}
    if args.provider:
        admission["GROUNDWIRE_EMBEDDING__PROVIDER"] = args.provider
    extra = {k: str(v) for k, v in admission.items() if v is not None}
    queries = prepare(args.work, args.paragraphs, extra)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (args.work / "server.log").open("wb")
    server = subprocess.Popen([str(EXE), "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=_env(args.work, extra), stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    try:
        wait_ready(base, server)
        result = asyncio.run(run(args, base, queries, server.pid))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    rows = result.pop("rows")
    report("overload", {"paragraphs": args.paragraphs, "admission": extra or "defaults",
                        **result, "results": rows}, rows)
    bad = any(r["other"] for r in rows)
    if len(rows) == 3:
        overload, recovery = rows[1], rows[2]
        bad = bad or (overload["503"] != overload["503_with_retry_after"]
                      or recovery["200"] < 0.99 * recovery["requests"])
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
