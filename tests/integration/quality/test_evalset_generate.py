"""``evalset generate`` on real PostgreSQL: questions from the index's own chunks with their
documents as qrels, unanswerable questions built from words the corpus lacks, positively rated
answers turned into eval items; the written set is accepted by the contract check."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from groundwire.bootstrap import build_app
from groundwire.domain.records import AnswerRecord
from groundwire.embedding.fake import FakeEmbedder
from groundwire.quality.contract import run_contract
from groundwire.quality.datasets import load_dataset
from groundwire.quality.evalsets import generate_evalset, unanswerable_questions

pytestmark = pytest.mark.integration
GOLDEN = Path(__file__).parents[2] / "data" / "golden"


def _record(question: str, uri: str, *, abstained: bool = False) -> AnswerRecord:
    return AnswerRecord(id=str(uuid.uuid4()), created_at=datetime.now(UTC), kind="ask",
                        index="golden", principal="p", question=question, answer="a",
                        citations=[{"n": 1, "uri": uri, "chunk_id": 1}], abstained=abstained)


async def test_generate_from_index_feedback_and_unanswerable(
    make_settings: Any, tmp_path: Path
) -> None:
    corpus_uri = str((GOLDEN / "corpus.jsonl").resolve())
    liked = _record("which organelle makes ATP", f"{corpus_uri}#d02")
    disliked = _record("lava question", f"{corpus_uri}#d03")
    out = tmp_path / "set"
    settings = make_settings(contract={"eval_sets": [str(out)], "index": "golden",
                                       "targets": {"recall@100": {"min": 0.5}}})
    async with build_app(settings, embedder=FakeEmbedder()) as gw:
        await gw.ingest_path(GOLDEN / "corpus.jsonl", index="golden")
        await gw.store.insert_records([liked, disliked])
        await gw.store.add_feedback(liked.id, helpful=True, comment=None,
                                    expected_passage=None, principal="p")
        await gw.store.add_feedback(disliked.id, helpful=True, comment=None,
                                    expected_passage=None, principal="p")
        await gw.store.add_feedback(disliked.id, helpful=False, comment=None,
                                    expected_passage=None, principal="q")
        info = await generate_evalset(gw.engine, "golden", out, questions=15, unanswerable=5,
                                      seed=3)
        await generate_evalset(gw.engine, "golden", tmp_path / "again", questions=15,
                               unanswerable=5, seed=3)
        report = await run_contract(gw.engine, save=False)

    assert info["questions"] == 16 and info["unanswerable"] == 5
    assert info["by_kind"]["feedback"] == 1  # the disliked record is not an eval item
    assert (out / "queries.jsonl").read_text() == (tmp_path / "again" / "queries.jsonl").read_text()
    dataset = load_dataset(out, need_corpus=False)
    assert dataset.corpus is None and len(dataset.queries) == 16
    corpus_ids = {json.loads(line)["_id"]
                  for line in (GOLDEN / "corpus.jsonl").read_text().splitlines()}
    for qid, relevant in dataset.qrels.items():
        assert set(relevant) <= corpus_ids, qid  # qrels name the index's documents
    feedback_q = [q for q, text in dataset.queries.items() if text == liked.question]
    assert feedback_q and dataset.qrels[feedback_q[0]] == {"d02": 1}
    # 15 generated questions over 20 documents: spread, one per document.
    assert len({next(iter(r)) for q, r in dataset.qrels.items() if q.startswith("g")}) == 15
    corpus_words = set(re.findall(r"[a-z]+", (GOLDEN / "corpus.jsonl").read_text().lower()))
    for text in dataset.unanswerable.values():
        content = set(re.findall(r"[a-z]+", text.lower())) - {
            "what", "is", "the", "policy", "of", "who", "invented", "how", "many", "does",
            "have", "when", "was", "built", "where", "can", "i", "find", "schedule", "why",
            "did", "ban", "s"}
        assert content and not content & corpus_words, text
    # The written set is a valid contract eval set, evaluated against the index itself.
    (measured,) = report["sets"]
    assert measured["index"] == "golden" and measured["queries"] == 16
    assert measured["unanswerable"] == 5 and measured["metrics"]["recall@100"] > 0.5
    assert measured["ingest"] == {}  # nothing was ingested for a set without a corpus


def test_unanswerable_questions_avoid_vocabulary_and_are_deterministic() -> None:
    vocab = {"volcano", "glacier", "penguin"}
    first = unanswerable_questions(vocab, 10, seed=1)
    assert first == unanswerable_questions(vocab, 10, seed=1)
    assert len(set(first)) == 10
    assert not any(w in q.lower() for q in first for w in vocab)
    assert unanswerable_questions(vocab, 10, seed=2) != first


async def test_llm_writes_questions_and_failures_keep_pseudo_questions(
    make_settings: Any, tmp_path: Path
) -> None:
    from support.fault_llm import FaultLLMServer
    from support.llm import provider

    def reply(body: dict[str, Any]) -> str:
        passage = next(m["content"] for m in body["messages"] if m["role"] == "user")
        return f"What does the text say about {passage.split()[0].lower()}?"

    # The second call fails with a 400 (not retried): that chunk keeps its pseudo-question.
    with FaultLLMServer(script=["ok", "400_context_length"], reply=reply) as server:
        settings = make_settings(llm={"providers": [provider("gen", server)]})
        async with build_app(settings, embedder=FakeEmbedder()) as gw:
            await gw.ingest_path(GOLDEN / "corpus.jsonl", index="golden")
            info = await generate_evalset(gw.engine, "golden", tmp_path / "llm", questions=6,
                                          unanswerable=0, feedback=False)
            plain = await generate_evalset(gw.engine, "golden", tmp_path / "plain", questions=6,
                                           unanswerable=0, use_llm=False, feedback=False)
    assert info["questions"] == 6 and plain["by_kind"].get("llm") is None
    written = load_dataset(tmp_path / "llm", need_corpus=False).queries
    llm = [t for t in written.values() if t.startswith("What does the text say about")]
    assert len(llm) == info["by_kind"]["llm"] == 5  # one call failed
    # Same chunks either way: the qrels are identical, only the question texts differ.
    assert load_dataset(tmp_path / "llm", need_corpus=False).qrels == load_dataset(
        tmp_path / "plain", need_corpus=False).qrels
