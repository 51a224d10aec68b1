"""Prompt-injection detectors (``groundwire.safety.injection``): precision/recall on the
labelled snippets in tests/data/safety/injection_snippets.json, false alarms on real prose
(SciFact abstracts and SQuAD paragraphs from ``../shared/data`` when present, which hold no
injections) and throughput of ``find_instructions`` in MB per CPU-second.

    .venv/bin/python benchmarks/injection_detection.py
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable

from _common import DATA, REPO, report

from groundwire.safety.injection import find_hidden_html, find_instructions

FIXTURE = REPO / "tests" / "data" / "safety" / "injection_snippets.json"


def corpus(name: str) -> list[str]:
    for path in (DATA / name / "corpus.jsonl.gz", DATA / name / "corpus.jsonl"):
        if path.exists():
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
                return [json.loads(line)["text"] for line in fh]
    return []


def scores(fn: Callable[[str], list], positive: list[str], negative: list[str]) -> dict:
    tp = sum(bool(fn(x)) for x in positive)
    fp = sum(bool(fn(x)) for x in negative)
    return {"positives": len(positive), "negatives": len(negative), "tp": tp, "fp": fp,
            "precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
            "recall": round(tp / len(positive), 3)}


def main() -> None:
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    result: dict = {
        "instructions": scores(find_instructions, **fixture["instructions"]),
        "hidden_html": scores(find_hidden_html, **fixture["hidden_html"]),
        "corpora": {},
    }
    rows = [{"set": f"fixture {k}", "docs": v["positives"] + v["negatives"],
             "precision": v["precision"], "recall": v["recall"], "false alarms": v["fp"],
             "MB/CPU-s": ""} for k, v in (("instructions", result["instructions"]),
                                          ("hidden_html", result["hidden_html"]))]
    for name in ("scifact", "squad-v1.1-dev"):
        texts = corpus(name)
        if not texts:
            continue
        c0 = time.process_time()
        flagged = sum(bool(find_instructions(t)) for t in texts)
        cpu = time.process_time() - c0
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        result["corpora"][name] = {"documents": len(texts), "mb": round(mb, 2),
                                   "flagged": flagged, "mb_per_cpu_s": round(mb / cpu, 2)}
        rows.append({"set": name, "docs": len(texts), "precision": "", "recall": "",
                     "false alarms": flagged, "MB/CPU-s": round(mb / cpu, 2)})
    report("injection_detection", result, rows)


if __name__ == "__main__":
    main()
