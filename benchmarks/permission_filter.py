"""Search latency under document permissions: a reader of 1 %, 50 % and 100 % of the index.

Permissions are a pre-filter inside both retrievers (masked BM25, SQL ``WHERE`` inside the
pgvector HNSW scan with iterative scan), so a reader who may see 1 % of the documents must
still get ``top_k`` hits when that many readable ones match. This measures, in process
(``Groundwire.search``, no HTTP), p50/p95 latency and hits returned for:

* ``unfiltered``  — ``access=None`` (trusted in-process callers: CLI, evaluation)
* ``admin``       — a tenant admin (reads every document through the admin token)
* ``readers_100`` / ``readers_50`` / ``readers_1`` — a user whose group admits that share

Corpus: ``--docs`` synthetic one-chunk documents built from SQuAD v1.1 dev paragraphs (real
vocabulary: each document is 3 sentences drawn from two paragraphs); queries are SQuAD
questions. Every returned hit is also checked against the permission rule (``violations``).

The index is built once per ``--data-dir`` (embedded PostgreSQL there) and reused by later runs.
``--embedder fake`` (default: fast to build on a small machine; hashing word vectors, so the
HNSW graph and the filter are exercised as with a real model but the ranking is not
semantic) or ``--embedder default`` (the configured sentence-transformers model).

    .venv/bin/python benchmarks/permission_filter.py [--docs 20000] [--queries 200] \
        [--embedder fake|default] [--data-dir .bench-data/permission_filter]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import time
from pathlib import Path
from typing import Any

from _common import DATA, REPO, report

from groundwire.domain import SearchRequest, SourceItem
from groundwire.domain.access import Permissions
from groundwire.quality.metrics import percentile
from groundwire.security.principal import Principal

TENANT = "bench"
INDEX = "perm"
SHARES = {"readers_100": "g100", "readers_50": "g50", "readers_1": "g1"}


def _groups(i: int) -> tuple[str, ...]:
    """Document i: everyone in g100; every 2nd in g50; every 100th in g1."""
    groups = ["g100"]
    if i % 2 == 0:
        groups.append("g50")
    if i % 100 == 0:
        groups.append("g1")
    return tuple(groups)


def _sentences(corpus: Path) -> list[list[str]]:
    paragraphs = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["text"]
            sents = [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 5]
            if len(sents) >= 2:
                paragraphs.append(sents)
    return paragraphs


def _documents(n: int, paragraphs: list[list[str]]) -> list[SourceItem]:
    rng = random.Random(7)
    items = []
    for i in range(n):
        a, b = paragraphs[i % len(paragraphs)], paragraphs[rng.randrange(len(paragraphs))]
        text = " ".join([*rng.sample(a, 2), rng.choice(b)]) + f" (note {i})"
        items.append(SourceItem(
            uri=f"synthetic/{i:06d}.txt", media_type="text/plain",
            read=lambda t=text: t.encode("utf-8"), title=f"Doc {i}", text=text,
            size=len(text.encode("utf-8")), permissions=Permissions(groups=_groups(i))))
    return items


async def run(args: argparse.Namespace) -> None:
    from groundwire.bootstrap import build_app
    from groundwire.settings import Settings

    overrides: dict[str, Any] = {"data_dir": args.data_dir}
    if args.embedder == "fake":
        overrides["embedding"] = {"provider": "fake"}
    settings = Settings(**overrides)
    paragraphs = _sentences(DATA / "squad-v1.1-dev" / "corpus.jsonl")
    queries = [json.loads(line)["text"] for line in
               (DATA / "squad-v1.1-dev" / "queries.jsonl").read_text().splitlines()]
    queries = random.Random(11).sample(queries, args.queries + 20)
    warmup, measured = queries[:20], queries[20:]
    async with build_app(settings) as gw:
        ingest_s = None
        indexes = await gw.store.list_indexes()
        have = (await gw.stats(INDEX)).chunks if INDEX in indexes else 0
        if have < args.docs:
            docs = _documents(args.docs, paragraphs)
            t0 = time.perf_counter()
            for start in range(0, len(docs), 1000):
                await gw.ingest_items(docs[start:start + 1000], index=INDEX,
                                      source=("push", "bench"), delete_missing=False,
                                      tenant=TENANT)
                print(f"ingested {min(start + 1000, len(docs))}/{len(docs)}", flush=True)
            ingest_s = round(time.perf_counter() - t0, 1)
        stats = await gw.stats(INDEX)
        readers: dict[str, Any] = {"unfiltered": None}
        admin = Principal(tenant=TENANT, user="root", scopes=frozenset({"admin"}))
        readers["admin"] = admin.access()
        for name, group in SHARES.items():
            readers[name] = Principal(tenant=TENANT, user=f"u_{group}",
                                      groups=frozenset({group}),
                                      scopes=frozenset({"search"})).access()
        for access in readers.values():  # per-tenant BM25 index, pools, HNSW pages
            for q in warmup:
                await gw.search(SearchRequest(q, index=INDEX, top_k=args.top_k, access=access))
        # Readers take turns on each query, so drift in machine load hits them alike.
        latencies: dict[str, list[float]] = {name: [] for name in readers}
        returned: dict[str, list[int]] = {name: [] for name in readers}
        violations = dict.fromkeys(readers, 0)
        for q in measured:
            for name, access in readers.items():
                t0 = time.perf_counter()
                hits, _ = await gw.search(SearchRequest(q, index=INDEX, top_k=args.top_k,
                                                        access=access))
                latencies[name].append((time.perf_counter() - t0) * 1000)
                returned[name].append(len(hits))
                group = SHARES.get(name)
                if group is not None:
                    violations[name] += sum(group not in _groups(int(h.uri[10:16]))
                                            for h in hits)
        rows, results = [], {}
        for name in readers:
            group, lat, got = SHARES.get(name), latencies[name], returned[name]
            share = 1.0 if group in (None, "g100") else 0.5 if group == "g50" else 0.01
            results[name] = {
                "readable_share": share,
                "p50_ms": round(percentile(lat, 0.50), 2),
                "p95_ms": round(percentile(lat, 0.95), 2),
                "mean_ms": round(sum(lat) / len(lat), 2),
                "hits_mean": round(sum(got) / len(got), 2),
                "hits_min": min(got),
                "queries_with_k_hits": sum(h == args.top_k for h in got),
                "violations": violations[name],
            }
            rows.append({"reader": name, "readable": f"{share:.0%}",
                         "p50 ms": results[name]["p50_ms"], "p95 ms": results[name]["p95_ms"],
                         "hits min/mean": f"{min(got)}/{results[name]['hits_mean']}",
                         f"queries with {args.top_k} hits":
                             f"{results[name]['queries_with_k_hits']}/{len(measured)}",
                         "violations": violations[name]})
    report("permission_filter", {
        "embedder": settings.embedding.provider if args.embedder == "fake"
        else settings.embedding.model,
        "documents": dict(stats.documents_by_state),
        "chunks": stats.chunks, "queries": len(measured), "top_k": args.top_k,
        "ingest_s": ingest_s, "results": results,
    }, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--embedder", choices=("fake", "default"), default="fake")
    parser.add_argument("--data-dir", type=Path, default=REPO / ".bench-data" / "permission_filter")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
