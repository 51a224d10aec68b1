"""How well the extractive answerer abstains: answer rate on answerable questions against
abstention rate on questions the corpus cannot answer, for a sweep of ``answer.min_support``.

Answerable: a QA dataset's questions on its own index (an answer counts as *correct* when it
cites the gold passage). Unanswerable: the same questions asked of another dataset's index
(SQuAD's Wikipedia questions against SciFact's biomedical abstracts). Both indexes must exist
(run ``groundwire eval`` on both datasets with the same data dir first).

    GROUNDWIRE_DATA_DIR=.bench-data .venv/bin/python benchmarks/abstention.py [--n 300]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from _common import DATA, report

from groundwire.bootstrap import build_app
from groundwire.domain import SearchRequest
from groundwire.quality.datasets import load_dataset
from groundwire.quality.evaluation import doc_id_of
from groundwire.settings import load_settings

THRESHOLDS = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]


async def run(qa: Path, other: Path, n: int) -> dict[str, Any]:
    qa_ds, other_ds = load_dataset(qa), load_dataset(other)
    questions = [q for q in qa_ds.queries if q in qa_ds.qrels][:n]
    settings = load_settings()
    inside, outside = [], []
    async with build_app(settings) as gw:
        answerer = gw.answers.answerer
        for qid in questions:
            text = qa_ds.queries[qid]
            for index, sink in ((qa_ds.default_index, inside), (other_ds.default_index, outside)):
                hits, _ = await gw.retriever.search_with_timings(
                    SearchRequest(query=text, index=index, top_k=settings.answer.passages))
                answer = answerer.answer(text, hits)
                cited = {doc_id_of(c.hit.uri) for c in answer.citations}
                gold = bool(cited & set(qa_ds.qrels[qid]))
                sink.append((answer.confidence, gold))
    rows = []
    for t in THRESHOLDS:
        answered = [(c, g) for c, g in inside if c >= t]
        rows.append({
            "min_support": t,
            "answerable_answered": round(len(answered) / len(inside), 3),
            "answered_citing_gold": round(sum(g for _, g in answered) / max(len(answered), 1), 3),
            "unanswerable_abstained": round(sum(c < t for c, _ in outside) / len(outside), 3),
        })
    return {"qa_dataset": qa.name, "other_index": other.name, "questions": len(questions),
            "current_min_support": settings.answer.min_support, "sweep": rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--qa", type=Path, default=DATA / "squad-v1.1-dev")
    parser.add_argument("--other", type=Path, default=DATA / "scifact")
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()
    result = asyncio.run(run(args.qa, args.other, args.n))
    report("abstention", result, result["sweep"])


if __name__ == "__main__":
    main()
