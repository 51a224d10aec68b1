"""Answer records on the real PostgreSQL with the real model: what a search and an ask store
(PII redacted), record ids on answers, feedback, export and the retention purge."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from groundwire.domain import SearchRequest
from groundwire.errors import NotFound

pytestmark = pytest.mark.integration

PII_QUESTION = "I am jane.doe@example.com, how often are encryption keys rotated?"


async def _collect(chunks: Any) -> str:
    return "".join([chunk async for chunk in chunks])


async def test_search_and_ask_are_recorded_redacted_with_embeddings(monitored_app: Any) -> None:
    async with monitored_app() as gw:
        hits, timings, search_id = await gw.search_recorded(
            SearchRequest(PII_QUESTION, top_k=5), principal="key:abc")
        answer = await gw.ask(SearchRequest(PII_QUESTION))
        off_topic = await gw.ask(SearchRequest("Who painted the Mona Lisa?"))
        assert search_id and answer.record_id and off_topic.record_id
        assert len({search_id, answer.record_id, off_topic.record_id}) == 3
        monitoring = gw.monitor()
        await monitoring.flush()

        searched = await gw.store.get_record(search_id)
        assert searched is not None and searched.kind == "search"
        assert "jane.doe" not in searched.question and "<EMAIL>" in searched.question
        assert searched.principal == "key:abc" and searched.index == "default"
        assert [p["chunk_id"] for p in searched.passages] == [h.chunk_id for h in hits]
        assert searched.top_score == pytest.approx(
            max(h.vector_score for h in hits if h.vector_score is not None), abs=1e-5)
        assert searched.latency_ms == timings["total"]
        assert searched.index_generation == await gw.store.generation("default")
        assert searched.query_embedding is not None and len(searched.query_embedding) == 384
        # the vector retrieval computed is the one stored (not a second encode)
        expected = gw.retriever.embedder.encode_query(PII_QUESTION)
        assert max(abs(a - float(b)) for a, b in
                   zip(searched.query_embedding, expected, strict=True)) < 1e-5

        asked = await gw.store.get_record(answer.record_id)
        assert asked is not None and asked.kind == "ask" and asked.abstained is False
        assert "<EMAIL>" in asked.question and asked.answer == answer.text
        assert [c["n"] for c in asked.citations] == [c.n for c in answer.citations]
        assert asked.citations[0]["uri"] == "policies/security.md"
        assert set(asked.timings) >= {"retrieval", "answer", "total"}
        assert asked.answerer == "extractive"
        abstained = await gw.store.get_record(off_topic.record_id)
        assert abstained is not None and abstained.abstained is True
        assert abstained.top_score is not None and abstained.top_score < asked.top_score

        # feedback: linked to the record, comment redacted; unknown ids are NotFound
        entry = await monitoring.feedback(answer.record_id, helpful=False,
                                          comment="call me on +1 (415) 555-2671",
                                          expected_passage="policies/security.md")
        assert entry.record_id == answer.record_id and entry.helpful is False
        assert entry.comment is not None and "555-2671" not in entry.comment
        with pytest.raises(NotFound):
            await monitoring.feedback("00000000-0000-0000-0000-000000000000", helpful=True)
        with pytest.raises(NotFound):
            await monitoring.feedback("not-a-uuid", helpful=True)

        # export: JSONL and CSV hold the same records, oldest first, without PII
        jsonl = await _collect(await monitoring.export("jsonl"))
        rows = [json.loads(line) for line in jsonl.splitlines()]
        assert [r["id"] for r in rows] == [search_id, answer.record_id, off_topic.record_id]
        assert "jane.doe" not in jsonl and "query_embedding" not in rows[0]
        only_asks = await _collect(await monitoring.export("csv", kind="ask"))
        table = list(csv.DictReader(io.StringIO(only_asks)))
        assert [r["id"] for r in table] == [answer.record_id, off_topic.record_id]
        assert json.loads(table[0]["citations"])[0]["uri"] == "policies/security.md"
        with_vectors = await _collect(await monitoring.export("jsonl", embedding=True))
        assert len(json.loads(with_vectors.splitlines()[0])["query_embedding"]) == 384


async def test_streamed_answers_are_recorded(monitored_app: Any) -> None:
    from groundwire.answering.service import AnswerDone

    async with monitored_app() as gw:
        events = [e async for e in gw.ask_stream(SearchRequest("What does the Team plan cost?"))]
        done = events[-1]
        assert isinstance(done, AnswerDone) and done.answer.record_id
        await gw.monitor().flush()
        stored = await gw.store.get_record(done.answer.record_id)
        assert stored is not None and stored.kind == "ask" and stored.answer == done.answer.text
        assert stored.query_embedding is not None and len(stored.query_embedding) == 384


async def test_retention_purge_and_dropped_records(monitored_app: Any) -> None:
    async with monitored_app(monitoring={"retention_days": 30, "queue_size": 1}) as gw:
        monitoring = gw.monitor()
        _, _, recent_id = await gw.search_recorded(SearchRequest("refund policy"))
        await monitoring.flush()
        recent = await gw.store.get_record(recent_id)
        assert recent is not None
        old = replace(recent, id="11111111-1111-1111-1111-111111111111",
                      created_at=datetime.now(UTC) - timedelta(days=31))
        await gw.store.insert_records([old])
        await gw.store.add_feedback(old.id, helpful=True, comment=None, expected_passage=None,
                                    principal="anonymous")
        assert await monitoring.purge() == 1
        assert await gw.store.get_record(old.id) is None
        assert await gw.store.get_record(recent_id) is not None

        # a full queue drops (and counts) instead of waiting: the request never blocks
        ids = [monitoring.record_search(index="default", principal="anonymous",
                                        question=f"q{i}", hits=[], timings={"total": 1.0},
                                        generation=None, embedding=[0.0] * 384)
               for i in range(50)]
        assert monitoring.writer.dropped >= 1 and None in ids
        await monitoring.flush()
        stored = [i for i in ids if i is not None]
        assert all([await gw.store.get_record(i) is not None for i in stored])


async def test_background_loop_evaluates_and_opens_alerts(monitored_app: Any) -> None:
    import asyncio

    settings = {"evaluate_interval_s": 0.2, "min_samples": 2, "max_no_answer_rate": 0.5}
    async with monitored_app(monitoring=settings) as gw:
        for question in ("Who painted the Mona Lisa?", "What is the capital of Australia?"):
            assert (await gw.ask(SearchRequest(question))).abstained
        gw.monitor().start_background()
        alerts = []
        for _ in range(300):  # polls until the loop has run (no timing assertion)
            alerts = await gw.monitor().alerts(open_only=True)
            if alerts:
                break
            await asyncio.sleep(0.1)
        by_monitor = {a.monitor: a for a in alerts}
        assert "no_answer_rate" in by_monitor  # both off-topic answers abstained
        assert by_monitor["no_answer_rate"].value == 1.0
        assert by_monitor["no_answer_rate"].threshold == 0.5
        assert {a.index for a in alerts} == {"default"}
