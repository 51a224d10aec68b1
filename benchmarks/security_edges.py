"""Per-request cost of the security edges: the answer output filter (whole answers and
streamed tokens) and a rate-limit check against PostgreSQL (one key sequentially; many keys
concurrently through one small pool). Starts its own embedded PostgreSQL in a temp folder.

    .venv/bin/python benchmarks/security_edges.py [--checks 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import report

from groundwire.safety.output_filter import OutputFilter, StreamingOutputFilter

ANSWER = ("The Team plan costs 12 US dollars per user per month, billed annually [2]. "
          "Annual subscriptions can be cancelled within 30 days for a full refund [1]. "
          "See [the pricing page](https://docs.example.com/pricing) for details. ") * 6


def filter_costs(repeats: int = 2000) -> dict[str, Any]:
    f = OutputFilter(["docs.example.com"])
    started = time.perf_counter()
    for _ in range(repeats):
        f.filter(ANSWER)
    per_answer_ms = (time.perf_counter() - started) / repeats * 1e3
    tokens = [w + " " for w in ANSWER.split(" ")]
    started = time.perf_counter()
    for _ in range(50):
        stream = StreamingOutputFilter(f)
        for token in tokens:
            stream.feed(token)
        stream.flush()
    per_token_us = (time.perf_counter() - started) / 50 / len(tokens) * 1e6
    return {"answer_chars": len(ANSWER), "filter_ms_per_answer": round(per_answer_ms, 3),
            "tokens": len(tokens), "stream_us_per_token": round(per_token_us, 1)}


async def bucket_costs(checks: int) -> dict[str, Any]:
    from groundwire.security.ratelimit import RateLimiter
    from groundwire.settings import RateLimitSettings
    from groundwire.stores.postgres.embedded import start_embedded_server
    from groundwire.stores.postgres.store import PostgresStore

    root = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    server = start_embedded_server(root / "pgdata")
    try:
        store = PostgresStore(server.get_uri(), pool_max=4)
        await store.open()
        limits = RateLimitSettings(search={"requests_per_minute": 10**6})
        limiter = RateLimiter(store.take_token, limits)
        for _ in range(50):
            await limiter.check("bench/warm", "search")
        latencies = []
        for _ in range(checks):
            t0 = time.perf_counter()
            await limiter.check("bench/ann", "search")
            latencies.append((time.perf_counter() - t0) * 1e3)
        latencies.sort()
        started = time.perf_counter()
        await asyncio.gather(*[limiter.check(f"bench/u{i % 20}", "search")
                               for i in range(2 * checks)])
        rate = 2 * checks / (time.perf_counter() - started)
        await store.close()
    finally:
        server.cleanup()
    return {"check_p50_ms": round(latencies[len(latencies) // 2], 3),
            "check_p95_ms": round(latencies[int(len(latencies) * 0.95)], 3),
            "concurrent_checks_per_s": round(rate)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=1000)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    result = {**filter_costs(), **asyncio.run(bucket_costs(args.checks))}
    result["load_avg_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    report("security_edges", result, [])


if __name__ == "__main__":
    main()
