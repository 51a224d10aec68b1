"""Keyword index start-up: build from chunks vs load a persisted snapshot, and page sharing.

Builds a BM25 index over N chunks (SciFact passages repeated to N, each tagged with its
number; no database: this isolates the index work a process does at start), writes the
snapshot (``retrieval/keyword_snapshots.py``), then in fresh processes: loads it, runs a first
query, and reports RSS and PSS of two processes holding the same snapshot at once (PSS <
RSS when they share the memory-mapped pages).

Run: .venv/bin/python benchmarks/keyword_snapshots.py --chunks 200000
Prints JSON, then a table.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "scifact"

LOADER = r"""
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from groundwire.retrieval.keyword import Bm25Params
from groundwire.retrieval.keyword_snapshots import KeywordSnapshots, SnapshotKey
imported = time.perf_counter()
key = SnapshotKey("bench", None, "bench", 1, Bm25Params())
index = KeywordSnapshots(Path(sys.argv[1])).load(key)
loaded = time.perf_counter()
index.search("protein expression in tumour cells", 10)
first = time.perf_counter()
def mem(field):
    for line in open("/proc/self/smaps_rollup"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
print(json.dumps({"load_s": round(loaded - imported, 3),
                  "first_query_ms": round((first - loaded) * 1000, 1),
                  "rss_mb": mem("Rss"), "pss_mb": mem("Pss")}), flush=True)
if len(sys.argv) > 2:
    sys.stdin.readline()  # hold the maps while the other process measures
"""


def texts(n: int) -> list[str]:
    lines = []
    path = DATA / "corpus.jsonl"
    opener = gzip.open if not path.exists() else open
    path = path if path.exists() else DATA / "corpus.jsonl.gz"
    with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
        for line in f:
            row = json.loads(line)
            lines.append(f"{row.get('title', '')} {row['text']}")
    return [f"{lines[i % len(lines)]} passage {i}" for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=200_000)
    args = parser.parse_args()

    from groundwire.retrieval.keyword import Bm25Index, Bm25Params
    from groundwire.retrieval.keyword_snapshots import KeywordSnapshots, SnapshotKey
    from groundwire.stores.base import StoredChunk

    corpus = [StoredChunk(i, i, f"doc{i}", "", "text/plain", text, "", (), 0, len(text), {},
                          "default", ("t:default:admin",))
              for i, text in enumerate(texts(args.chunks))]
    t0 = time.perf_counter()
    index = Bm25Index(1, corpus, Bm25Params())
    build_s = time.perf_counter() - t0
    root = Path(tempfile.mkdtemp(prefix="gw-kw-bench-"))
    key = SnapshotKey("bench", None, "bench", 1, Bm25Params())
    t0 = time.perf_counter()
    where = KeywordSnapshots(root).save(key, index)
    save_s = time.perf_counter() - t0
    size_mb = sum(p.stat().st_size for p in where.rglob("*") if p.is_file()) / 2**20
    del index, corpus

    one = json.loads(subprocess.run([sys.executable, "-c", LOADER, str(root)],
                                    capture_output=True, text=True, check=True).stdout)
    holders = [subprocess.Popen([sys.executable, "-c", LOADER, str(root), "hold"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for _ in range(2)]
    pair = [json.loads(p.stdout.readline()) for p in holders]  # type: ignore[union-attr]
    for p in holders:
        p.communicate("\n")
    result = {"chunks": args.chunks, "build_s": round(build_s, 2), "save_s": round(save_s, 2),
              "snapshot_mb": round(size_mb, 1), "load": one, "two_processes": pair}
    print(json.dumps(result))
    each = ", ".join(f"{p['rss_mb']} / {p['pss_mb']}" for p in pair)
    print("\n| chunks | build (s) | save (s) | snapshot (MB) | load (s) | first query (ms) "
          "| RSS / PSS one process (MB) | RSS / PSS each of two (MB) |\n"
          "|---|---|---|---|---|---|---|---|\n"
          f"| {args.chunks:,} | {result['build_s']} | {result['save_s']} "
          f"| {result['snapshot_mb']} | {one['load_s']} | {one['first_query_ms']} "
          f"| {one['rss_mb']} / {one['pss_mb']} | {each} |")


if __name__ == "__main__":
    main()
