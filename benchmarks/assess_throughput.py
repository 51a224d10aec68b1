"""Data-readiness assessment throughput: documents/s and peak memory (RSS).

Each corpus is assessed in a fresh child process (so its peak RSS is its own) with
``run_assessment`` on the path, as ``groundwire assess PATH`` does. Corpora: SciFact and
SQuAD dev (../shared/data) and a generated synthetic JSONL.GZ corpus (gzip keeps the file
under ``ingest.max_file_mb``) of ~1 KB documents with
planted exact and near duplicates, PII and stale records.

    .venv/bin/python benchmarks/assess_throughput.py [--synthetic 50000] [--model] \
        [--only scifact|squad|synthetic]

Without ``--model`` token counts are the whitespace estimate and answer support is lexical
(no embedding model is loaded); with it the bundled model counts tokens and scores support.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import DATA, report

_WORDS = [
    "account",
    "access",
    "policy",
    "refund",
    "invoice",
    "customer",
    "service",
    "contract",
    "payment",
    "delivery",
    "report",
    "review",
    "budget",
    "project",
    "team",
    "manager",
    "office",
    "schedule",
    "meeting",
    "training",
    "security",
    "password",
    "network",
    "server",
    "storage",
    "backup",
    "archive",
    "record",
    "request",
    "approval",
    "process",
    "quality",
    "support",
    "product",
    "release",
    "version",
    "update",
    "feature",
    "change",
    "issue",
    "ticket",
    "incident",
    "response",
    "document",
]


def synthetic_corpus(path: Path, n: int, seed: int = 0) -> None:
    """``n`` ~1 KB records; 2% exact copies, 3% near copies, some PII and old records."""
    rng = random.Random(seed)
    previous: list[str] = []
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i in range(n):
            roll = rng.random()
            if previous and roll < 0.02:
                text = rng.choice(previous)
            elif previous and roll < 0.05:
                words = rng.choice(previous).split(" ")
                for j in rng.sample(range(len(words)), 3):
                    words[j] = rng.choice(_WORDS)
                text = " ".join(words)
            else:
                sentences = []
                while sum(len(s) for s in sentences) < 1000:
                    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 16))]
                    sentences.append(" ".join(words).capitalize() + ".")
                text = " ".join(sentences)
                if roll > 0.99:
                    text += f" Contact user{i}@example.com for details."
            if len(previous) < 500:
                previous.append(text)
            elif rng.random() < 0.01:
                previous[rng.randrange(500)] = text
            record = {
                "_id": str(i),
                "title": f"Document {i}",
                "text": text,
                "allowed_groups": "staff" if i % 3 else "",
            }
            if roll > 0.97:
                record["updated_at"] = "2019-01-01"
            fh.write(json.dumps(record) + "\n")


CHILD = r"""
import asyncio, json, resource, sys, time
from pathlib import Path
from groundwire.assess import AssessmentSource, run_assessment
from groundwire.settings import Settings

path, use_model, out = Path(sys.argv[1]), sys.argv[2] == "1", Path(sys.argv[3])
settings = Settings()
embedder = None
if use_model:
    from groundwire.bootstrap import build_embedder
    embedder = build_embedder(settings)
    embedder.count_tokens("warm up")
# Load the detectors outside the timing (Presidio import: a few seconds, once per process).
from groundwire.safety.pii import PiiDetector
PiiDetector().find("warm up a@b.com")
t0 = time.perf_counter()
result = asyncio.run(run_assessment(AssessmentSource.of_path(path), settings, embedder=embedder))
seconds = time.perf_counter() - t0
out.write_text(json.dumps(result), encoding="utf-8")
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"documents": result["counts"]["documents"], "seconds": round(seconds, 2),
                  "peak_rss_mb": round(peak_mb, 1), "counts": result["counts"],
                  "verdict": result["verdict"], "score": result["score"]}))
"""


def measure(name: str, path: Path, use_model: bool, out_dir: Path) -> dict[str, object]:
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"assess-{name}.json"
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), "1" if use_model else "0", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t0
    data = json.loads(done.stdout.strip().splitlines()[-1])
    data["docs_per_s"] = round(data["documents"] / data["seconds"], 1)
    data["process_wall_s"] = round(wall, 1)
    data["report"] = str(out)
    return {"corpus": name, "path": str(path), **data}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic", type=int, default=50_000)
    parser.add_argument("--model", action="store_true")
    parser.add_argument("--only", choices=["scifact", "squad", "synthetic"])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    corpora = {
        "scifact": DATA / "scifact" / "corpus.jsonl.gz",
        "squad": DATA / "squad-v1.1-dev" / "corpus.jsonl",
    }
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "synthetic"):
            synthetic = Path(tmp) / f"synthetic-{args.synthetic}.jsonl.gz"
            synthetic_corpus(synthetic, args.synthetic)
            corpora["synthetic"] = synthetic
        for name, path in corpora.items():
            if args.only and name != args.only:
                continue
            if not path.exists():
                print(f"skipping {name}: {path} not found", file=sys.stderr)
                continue
            results.append(measure(name, path, args.model, args.out))
    rows = [
        {
            "corpus": r["corpus"],
            "documents": r["documents"],
            "seconds": r["seconds"],
            "docs/s": r["docs_per_s"],
            "peak RSS MB": r["peak_rss_mb"],
            "verdict": r["verdict"],
            "score": r["score"],
        }
        for r in results
    ]
    report("assess_throughput", {"model": args.model, "results": results}, rows)


if __name__ == "__main__":
    main()
