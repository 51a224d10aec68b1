"""Throughput and planted-value recall of the shared PII/secret detector
(``groundwire.safety.pii.PiiDetector.find``).

Documents of ~2 KB: SciFact abstracts from ``../shared/data/scifact`` when present (real prose
full of numbers), else synthetic number-dense prose; in both cases every fourth document gets
planted personal data (email, phone, card, IBAN, IP, SSN, a token) so the validating paths run
too. Every planted value must come back (``planted_recall``); ``other_findings`` are the
corpus's own personal data (SciFact abstracts hold real contact e-mails) or false alarms,
listed masked for review. One process, one thread (the assessment runs one detector per
worker process). Reports wall and CPU time: on a shared box the CPU figure is the steadier one.

    .venv/bin/python benchmarks/pii_throughput.py [--docs 2000] [--source auto|synthetic]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time

from _common import DATA, report

from groundwire.safety.pii import PiiDetector

PLANTED = [
    "Contact jane.doe@example.com for details.",
    "Call our office on (415) 555-2671 or +44 20 7946 0958.",
    "Paid with card 4111 1111 1111 1111 on 2024-03-01.",
    "Transfer to IBAN GB82 WEST 1234 5698 7654 32 by Friday.",
    "The server at 203.0.113.42 logged the request.",
    "Employee SSN 536-22-1234 is on file.",
    "Use key AKIAIOSFODNN7EXAMPLE for the bucket.",
]
PLANTED_VALUES = {
    "email": ("jane.doe@example.com",), "phone": ("(415) 555-2671", "+44 20 7946 0958"),
    "payment_card": ("4111 1111 1111 1111",), "iban": ("GB82 WEST 1234 5698 7654 32",),
    "ip_address": ("203.0.113.42",), "national_id": ("536-22-1234",),
    "secret": ("AKIAIOSFODNN7EXAMPLE",),
}
WORDS = (
    "the", "data", "model", "results", "were", "measured", "in", "2019", "across", "12",
    "sites", "with", "95%", "confidence", "intervals", "and", "version", "3.2.1", "of",
    "protocol", "order", "88231", "patients", "table", "4", "figure",
)


def synthetic(rng: random.Random, size: int) -> str:
    out: list[str] = []
    n = 0
    while n < size:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))) + ". "
        out.append(sentence)
        n += len(sentence)
    return "".join(out)


def scifact_texts() -> list[str]:
    path = DATA / "scifact" / "corpus.jsonl.gz"
    if not path.exists():
        return []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


def build_docs(n: int, source: str, size: int = 2000) -> tuple[list[str], str]:
    rng = random.Random(7)
    texts = scifact_texts() if source in ("auto", "scifact") else []
    used = "scifact" if texts else "synthetic"
    docs: list[str] = []
    pool = iter(texts)
    for i in range(n):
        if texts:
            parts: list[str] = []
            while sum(map(len, parts)) < size:
                parts.append(next(pool, None) or rng.choice(texts))
            doc = " ".join(parts)[:size]
        else:
            doc = synthetic(rng, size)[:size]
        if i % 4 == 0:
            doc = doc[: size // 2] + " " + rng.choice(PLANTED) + " " + doc[size // 2:]
        docs.append(doc)
    return docs, used


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--source", choices=("auto", "synthetic", "scifact"), default="auto")
    args = parser.parse_args()
    docs, used = build_docs(args.docs, args.source)

    t0 = time.perf_counter()
    detector = PiiDetector()
    detector.find("warm up: jane@example.com")
    build_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    c0 = time.process_time()
    found = [detector.find(doc) for doc in docs]
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - c0

    findings = 0
    kinds: dict[str, int] = {}
    planted = hit = 0
    others: list[str] = []  # not planted: real PII in the corpus, or false alarms
    for doc, doc_findings in zip(docs, found, strict=True):
        planted += sum(doc.count(v) for values in PLANTED_VALUES.values() for v in values)
        for f in doc_findings:
            findings += 1
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
            if doc[f.start:f.end] in PLANTED_VALUES[f.kind]:
                hit += 1
            else:
                others.append(f"{f.kind}: {f.masked}")
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    result = {
        "source": used,
        "documents": len(docs),
        "mb": round(mb, 2),
        "first_use_s": round(build_s, 2),
        "seconds": round(elapsed, 2),
        "mb_per_s": round(mb / elapsed, 3),
        "docs_per_s": round(len(docs) / elapsed, 1),
        "cpu_seconds": round(cpu, 2),
        "mb_per_cpu_s": round(mb / cpu, 3),
        "docs_per_cpu_s": round(len(docs) / cpu, 1),
        "est_50k_docs_minutes_one_core": round(50_000 / (len(docs) / elapsed) / 60, 1),
        "findings": findings,
        "findings_by_kind": kinds,
        "planted_values": planted,
        "planted_found": hit,
        "planted_recall": round(hit / planted, 3) if planted else None,
        "other_findings": len(others),
        "other_findings_sample": others[:20],
    }
    report("pii_throughput", result, [
        {"source": used, "docs": len(docs), "MB/s": result["mb_per_s"],
         "docs/s": result["docs_per_s"], "docs/CPU-s": result["docs_per_cpu_s"],
         "50k docs (min, 1 core)": result["est_50k_docs_minutes_one_core"]},
    ])


if __name__ == "__main__":
    main()
