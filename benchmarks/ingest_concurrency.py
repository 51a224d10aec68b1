"""Ingest throughput with 1 vs 2 concurrent ingest processes on one database.

The corpus (the first ``--docs`` SciFact abstracts, real model embeddings) is split into two
JSONL files. ``1 process`` runs one ``groundwire ingest`` over both files; ``2 processes,
2 indexes`` runs two ``groundwire ingest`` processes at once, one file each, into two indexes
of the same database (the embedded server of one data dir, shared by both processes);
``2 processes, 1 index`` does the same into one index (ingests of one index take its advisory
lock, so they run one after the other). Each configuration starts from a fresh data dir;
chunks/s is chunks stored / wall time of the ingest command(s), model load included (it is per
process, as a worker pays it once).

    nice -n 10 .venv/bin/python benchmarks/ingest_concurrency.py [--docs 600]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import DATA, REPO, report


def _split(root: Path, docs: int) -> list[Path]:
    rows = []
    with gzip.open(DATA / "scifact" / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            rows.append(line)
            if len(rows) == docs:
                break
    parts = []
    for i in range(2):
        folder = root / f"part{i}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "corpus.jsonl").write_text("".join(rows[i::2]), encoding="utf-8")
        parts.append(folder)
    return parts


def _ingest(folders: list[Path], data_dir: Path, together: bool,
            same_index: bool) -> tuple[float, int]:
    exe = str(Path(sys.executable).parent / "groundwire")
    env = {**os.environ, "GROUNDWIRE_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    if together:
        procs = [subprocess.Popen([exe, "ingest", str(f), "--index",
                                   "bench0" if same_index else f"bench{i}", "--json"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                 for i, f in enumerate(folders)]
    else:
        parent = folders[0].parent
        procs = [subprocess.Popen([exe, "ingest", str(parent), "--index", "bench0", "--json"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)]
    outs = [p.communicate()[0] for p in procs]
    elapsed = time.perf_counter() - started
    if any(p.returncode for p in procs):
        raise SystemExit(f"ingest failed: {[p.returncode for p in procs]}")
    del outs
    chunks = 0
    for index in ("bench0", "bench1"):
        status = subprocess.run([exe, "status", "--index", index, "--json"], env=env,
                                capture_output=True, text=True)
        if status.returncode == 0:
            chunks += int(json.loads(status.stdout).get("chunks", 0))
    return elapsed, chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--root", type=Path, default=REPO / ".bench-data" / "ingest_concurrency")
    args = parser.parse_args()
    shutil.rmtree(args.root, ignore_errors=True)
    folders = _split(args.root / "corpus", args.docs)
    rows, results = [], {}
    configs = (("1 process", False, True), ("2 processes, 2 indexes", True, False),
               ("2 processes, 1 index", True, True))
    for name, together, same_index in configs:
        elapsed, chunks = _ingest(folders, args.root / re.sub(r"\W+", "_", name), together,
                                  same_index)
        results[name] = {"s": round(elapsed, 1), "chunks": chunks,
                         "chunks_per_s": round(chunks / elapsed, 1)}
        rows.append({"config": name, "chunks": chunks, "wall s": round(elapsed, 1),
                     "chunks/s": results[name]["chunks_per_s"]})
        print(json.dumps({name: results[name]}), flush=True)
    report("ingest_concurrency", {"docs": args.docs, "cpus": os.cpu_count(),
                                  "results": results}, rows)


if __name__ == "__main__":
    main()
