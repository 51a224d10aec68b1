"""Near-duplicates at ingest: which documents of the shared datasets the default marking
would hide, and whether any of them is relevant to a query (qrels are read ONLY to check for
harm, never to tune).

    .venv/bin/python benchmarks/near_duplicates.py [--data ../shared/data] [--thresholds ...]

One tenant, one reader set; the signature is of the record's title and text, exactly as
``ingest`` computes it (``--text-only``: the text alone); marking is
``groundwire.minhash.plan_marks`` in one batch. Two rules for "newer": ``modified`` (the
default setting: the records of one corpus file share its modified time, so none is newer
than another) and ``ingested`` (``newer_by = "modified_then_ingested"``: corpus order is the
ingest order, later = newer). Prints, per dataset, rule and threshold, the documents marked
and how many of them some query's qrels name as relevant.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from groundwire.minhash import NUM_PERM, Member, plan_marks, signature

DATASETS = ("scifact", "squad-v1.1-dev", "emanual", "or-sharc")


def corpus(folder: Path) -> list[dict[str, str]]:
    path = folder / "corpus.jsonl"
    opener = gzip.open if not path.exists() else open
    path = path if path.exists() else folder / "corpus.jsonl.gz"
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        return [json.loads(line) for line in fh if line.strip()]


def relevant(folder: Path) -> set[str]:
    ids: set[str] = set()
    for qrels in folder.glob("qrels*.tsv"):
        for line in qrels.read_text(encoding="utf-8").splitlines()[1:]:
            parts = line.split("\t")
            if len(parts) >= 3 and float(parts[2]) > 0:
                ids.add(parts[1])
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--thresholds", type=float, nargs="+",
                        default=[0.8, 0.85, 0.9, 0.95, 1.0])
    parser.add_argument("--text-only", action="store_true",
                        help="sign the text alone (ingest signs title + text)")
    args = parser.parse_args()
    print(f"| dataset | documents | signatures ({NUM_PERM} perm) | newer by | threshold "
          "| marked | marked and relevant | marking ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name in DATASETS:
        folder = args.data / name
        docs = corpus(folder)
        rel = relevant(folder)
        started = time.perf_counter()
        members = []
        for i, doc in enumerate(docs):
            text = doc.get("text") or ""
            if not args.text_only:
                text = f"{doc.get('title') or ''}\n{text}"
            sig = signature(text)
            if sig is not None:
                members.append(Member(i, (i,), "all", sig))
        sign_s = time.perf_counter() - started
        same_time = [Member(m.id, (0,), m.group, m.signature) for m in members]
        for rule, group in (("modified", same_time), ("ingested", members)):
            for threshold in args.thresholds:
                started = time.perf_counter()
                marks = plan_marks(group, [], threshold)
                ms = (time.perf_counter() - started) * 1000
                harmed = sorted(docs[i]["id"] for i in marks if str(docs[i]["id"]) in rel)
                shown = f"{len(harmed)}{' ' + str(harmed[:5]) if harmed else ''}"
                print(f"| {name} | {len(docs)} | {len(members)} in {sign_s:.1f} s | {rule} "
                      f"| {threshold} | {len(marks)} | {shown} | {ms:.0f} |")


if __name__ == "__main__":
    main()
