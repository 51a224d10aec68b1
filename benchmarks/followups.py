"""Follow-up questions: retrieval hit@5 of an elliptical second turn, asked as it is and
rewritten by the deterministic follow-up rewriter (``conversations/rewrite.py``).

Conversations are built from SQuAD v1.1 dev (``../shared/data/squad-v1.1-dev``), seeded and
deterministic: a sample of articles; in each, turn 1 is a question naming the article's
subject (its title, the title without a parenthesis or after a comma: "Sky (United Kingdom)"
-> "Sky", "Fresno, California" -> "Fresno"), and turn 2 another question of that article
naming it too, made elliptical by replacing the subject with a pronoun ("the Rhine's" ->
"its", "Kenya" -> "it"). Turn 2's gold paragraph (qrels) is the label; it is used for scoring
only. The corpus is every paragraph of the sampled articles (the other paragraphs of an
article are hard negatives), ingested into index ``bench-followups`` with the configured
(real) embedder; retrieval is the hybrid search the API uses.

Conditions: ``original`` (turn 2 before the subject was removed: the ceiling), ``elliptical``
(the follow-up as a user types it, no rewriting), ``rewritten`` (the rules' standalone query
from turn 1 and the follow-up), and ``turn1`` (turn 1 itself, for reference).

    GROUNDWIRE_DATA_DIR=.bench-data .venv/bin/python benchmarks/followups.py [--n 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from _common import DATA, report

from groundwire.bootstrap import build_app
from groundwire.conversations.rewrite import rewrite_followup
from groundwire.domain import SearchRequest
from groundwire.quality.evaluation import ranked_documents
from groundwire.settings import load_settings

INDEX = "bench-followups"
FUNCTION_WORDS = frozenset({
    "of", "in", "on", "at", "to", "for", "from", "by", "with", "about", "did", "does", "do",
    "was", "is", "were", "are", "has", "have", "had", "can", "could", "would", "will",
    "when", "where", "what", "which", "who", "how", "why", "that", "and", "or", "than",
    "into", "after", "before", "during", "between", "within", "under", "over", "as",
})


def subject_forms(title: str) -> list[str]:
    """Ways a question names the article's subject, longest first."""
    forms = {title, re.sub(r"\s*\(.*?\)", "", title).strip(), title.split(",")[0].strip()}
    return sorted((f for f in forms if f), key=len, reverse=True)


def elide(question: str, forms: list[str]) -> str | None:
    """``question`` with its subject replaced by a pronoun; None when it does not name it."""
    for form in forms:
        pattern = re.compile(rf"(?:\bthe\s+)?\b{re.escape(form)}\b('s)?", re.I)
        match = pattern.search(question)
        if match is None:
            continue
        pronoun = "its" if match.group(1) else "it"
        if match.start() == 0:
            pronoun = pronoun.capitalize()
        before = question[:match.start()].split()
        after = question[match.end():].lstrip()
        if (before and before[-1].lower() not in FUNCTION_WORDS) or after[:1].isupper():
            continue  # inside a longer name ("the oldest pharmacy", "Sky Television")
        elided = question[:match.start()] + pronoun + question[match.end():]
        if any(re.search(rf"\b{re.escape(f)}\b", elided, re.I) for f in forms):
            return None  # named twice: not a clean ellipsis
        return elided
    return None


def build_conversations(root: Path, n: int, articles: int, seed: int
                        ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(conversations, corpus records of the sampled articles)."""
    corpus = [json.loads(line) for line in (root / "corpus.jsonl").open(encoding="utf-8")]
    queries = {q["id"]: q["text"] for q in map(json.loads, (root / "queries.jsonl").open())}
    gold: dict[str, str] = {}
    with (root / "qrels.tsv").open() as fh:
        next(fh)
        for line in fh:
            qid, doc, _ = line.rstrip("\n").split("\t")
            gold[qid] = doc
    title_of = {r["id"]: r["title"] for r in corpus}
    naming: dict[str, list[str]] = defaultdict(list)  # title -> questions naming the subject
    for qid in sorted(queries):
        title = title_of[gold[qid]]
        if elide(queries[qid], subject_forms(title)) is not None:
            naming[title].append(qid)
    rng = random.Random(seed)
    eligible = sorted(t for t, qs in naming.items() if len(qs) >= 2)
    sampled = sorted(rng.sample(eligible, min(articles, len(eligible))))
    by_article = []
    for title in sampled:
        qids = naming[title][:]
        rng.shuffle(qids)
        by_article.append([{
            "article": title, "turn1": queries[first], "original": queries[second],
            "elliptical": elide(queries[second], subject_forms(title)),
            "gold": gold[second], "gold1": gold[first],
        } for first, second in zip(qids[::2], qids[1::2], strict=False)])
    conversations = []  # round robin over the articles, so each contributes about n/articles
    while len(conversations) < n and any(by_article):
        for pairs in by_article:
            if pairs and len(conversations) < n:
                conversations.append(pairs.pop(0))
    rng.shuffle(conversations)
    records = [r for r in corpus if r["title"] in set(sampled)]
    return conversations[:n], records


async def run(root: Path, n: int, articles: int, seed: int, k: int) -> dict[str, Any]:
    conversations, records = build_conversations(root, n, articles, seed)
    settings = load_settings()
    folder = Path(settings.data_dir) / "followups"
    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    rewrite_followup("warm it up", "loads the stop words once")
    rewrite_s = 0.0
    for conv in conversations:
        started = time.perf_counter()
        rewrite = rewrite_followup(conv["elliptical"], conv["turn1"])
        rewrite_s += time.perf_counter() - started
        conv["rewritten"], conv["method"] = rewrite.query, rewrite.method
    async with build_app(settings) as gw:
        started = time.perf_counter()
        ingest = await gw.ingest_path(corpus, index=INDEX)
        ingest_s = time.perf_counter() - started
        ranks: dict[str, list[int | None]] = defaultdict(list)
        for conv in conversations:
            for condition, gold in (("original", "gold"), ("elliptical", "gold"),
                                    ("rewritten", "gold"), ("turn1", "gold1")):
                hits, _ = await gw.search(SearchRequest(query=conv[condition], index=INDEX,
                                                        top_k=10))
                docs = ranked_documents(hits)
                ranks[condition].append(docs.index(conv[gold]) + 1
                                        if conv[gold] in docs else None)
    rows = []
    for condition in ("turn1", "original", "elliptical", "rewritten"):
        found = ranks[condition]
        rows.append({
            "condition": condition,
            f"hit@{k}": round(sum(r is not None and r <= k for r in found) / len(found), 3),
            "hit@1": round(sum(r == 1 for r in found) / len(found), 3),
            "mrr@10": round(sum(1 / r for r in found if r) / len(found), 3),
        })
    return {
        "dataset": root.name, "conversations": len(conversations), "seed": seed,
        "articles": len({c["article"] for c in conversations}), "corpus_paragraphs": len(records),
        "ingest": {**ingest.as_json(), "seconds": round(ingest_s, 1)},
        "detected_followups": sum(c["method"] == "rules" for c in conversations),
        "rewrite_us_per_query": round(rewrite_s / len(conversations) * 1e6, 1),
        "results": rows,
        "examples": [{k2: c[k2] for k2 in ("turn1", "elliptical", "rewritten", "original")}
                     for c in conversations[:5]],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA / "squad-v1.1-dev")
    parser.add_argument("--n", type=int, default=100, help="conversations")
    parser.add_argument("--articles", type=int, default=25, help="articles sampled")
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    result = asyncio.run(run(args.data, args.n, args.articles, args.seed, args.k))
    report("followups", result, result["results"])


if __name__ == "__main__":
    main()
