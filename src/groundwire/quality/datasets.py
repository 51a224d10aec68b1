"""Reading the BEIR-like dataset format (corpus.jsonl[.gz], queries[_split].jsonl,
qrels[_split].tsv with a header, optional answers.jsonl).

Two Groundwire extensions: ``corpus.jsonl`` may be absent (an eval set written from an
existing index by ``groundwire evalset generate``: qrels name that index's document ids, see
``quality.evaluation.doc_id_of``), and ``unanswerable.jsonl`` (``{"id", "text"}`` per line)
lists questions the corpus cannot answer, where the right behaviour is to abstain."""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from groundwire.errors import InvalidRequest


@dataclass(frozen=True, slots=True)
class Dataset:
    root: Path
    corpus: Path | None
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    answers: dict[str, list[str]]
    unanswerable: dict[str, str] = field(default_factory=dict)

    @property
    def default_index(self) -> str:
        name = re.sub(r"[^a-z0-9._-]+", "-", self.root.name.lower()).strip("-")
        return f"eval-{name}"[:64]


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with _open(path) as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def load_dataset(root: Path, split: str | None = None, *, need_corpus: bool = True) -> Dataset:
    """Read a dataset folder; ``need_corpus=False`` accepts a folder without a corpus."""
    root = root.expanduser().resolve()
    if not root.is_dir():
        raise InvalidRequest(f"dataset folder not found: {root}")
    corpus = next((root / n for n in ("corpus.jsonl", "corpus.jsonl.gz") if (root / n).exists()),
                  None)
    if corpus is None and need_corpus:
        raise InvalidRequest(f"{root} has no corpus.jsonl or corpus.jsonl.gz")
    suffix = f"_{split}" if split else ""
    queries_path = root / f"queries{suffix}.jsonl"
    qrels_path = root / f"qrels{suffix}.tsv"
    for needed in (queries_path, qrels_path):
        if not needed.exists():
            raise InvalidRequest(f"dataset file missing: {needed}")
    queries = {str(q.get("id", q.get("_id"))): str(q["text"]) for q in _jsonl(queries_path)}
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader, None)  # header
        for row in reader:
            if len(row) >= 3 and int(row[2]) > 0:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    answers: dict[str, list[str]] = {}
    answers_path = root / "answers.jsonl"
    if answers_path.exists():
        for a in _jsonl(answers_path):
            answers[str(a["query_id"])] = [str(x) for x in a["answers"]]
    unanswerable: dict[str, str] = {}
    unanswerable_path = root / "unanswerable.jsonl"
    if unanswerable_path.exists():
        unanswerable = {str(q.get("id", q.get("_id"))): str(q["text"])
                        for q in _jsonl(unanswerable_path)}
    return Dataset(root, corpus, queries, qrels, answers, unanswerable)
