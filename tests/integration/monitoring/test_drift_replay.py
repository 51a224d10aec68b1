"""Acceptance replay: a query stream whose second half shifts to a topic the corpus does not
cover raises drift alerts; streams that do not shift raise none, across 20 seeds.

Each distinct question is searched once for real (real model, real PostgreSQL, the small
``live_server.CORPUS``): its answer record supplies the query embedding and top score. The
streams are then replayed as records — one index per stream, so each is monitored on its own
— and evaluated by ``MonitoringService.evaluate`` exactly as the server does."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.query_streams import pool

from groundwire.domain import SearchRequest
from groundwire.domain.records import AnswerRecord

pytestmark = pytest.mark.integration

WINDOW = 100  # monitoring.drift_window: the latest 100 queries against the 100 before
SEEDS = 20
DRIFT = {"drift_query_embedding", "drift_top_score"}


def _stream(
    rng: random.Random, first: list[AnswerRecord], second: list[AnswerRecord], index: str
) -> list[AnswerRecord]:
    start = datetime.now(UTC) - timedelta(minutes=30)
    picks = [rng.choice(first) for _ in range(WINDOW)] + [rng.choice(second)
                                                         for _ in range(WINDOW)]
    return [replace(r, id=str(uuid.uuid4()), index=index,
                    created_at=start + timedelta(seconds=i)) for i, r in enumerate(picks)]


async def test_topic_shift_raises_drift_alerts_and_stable_streams_do_not(
    monitored_app: Any,
) -> None:
    async with monitored_app(monitoring={"drift_window": WINDOW}) as gw:
        monitoring = gw.monitor()
        ids: dict[str, list[str]] = {}
        for topic in ("quillmate", "gardening"):
            ids[topic] = []
            for question in pool(topic, 40, seed=1):
                _, _, record_id = await gw.search_recorded(SearchRequest(question, top_k=5))
                ids[topic].append(record_id)
        await monitoring.flush()
        records = {topic: [await gw.store.get_record(i) for i in found]
                   for topic, found in ids.items()}
        product, garden = records["quillmate"], records["gardening"]
        mixed = product + product + product + garden  # a stable 3:1 mixture of both topics

        streams = []
        for seed in range(SEEDS):
            rng = random.Random(seed)
            streams += _stream(rng, mixed, mixed, f"stable-{seed}")
        for seed in range(3):
            rng = random.Random(1000 + seed)
            streams += _stream(rng, product, garden, f"shifted-{seed}")
        await gw.store.insert_records(streams)

        state = await monitoring.evaluate()
        drift = [m for m in state["monitors"] if m["name"] in DRIFT]
        fired = {(m["index"], m["name"]) for m in drift if m["status"] == "firing"}
        false_alarms = sorted(f for f in fired if f[0].startswith("stable-"))
        stable = [m for m in drift if m["index"].startswith("stable-")]
        print(f"\nfalse alarms: {len(false_alarms)} of {len(stable)} drift checks "
              f"({SEEDS} stable streams); max stable MMD² "
              f"{max(m['value'] for m in stable if m['name'] == 'drift_query_embedding')}, "
              f"max stable PSI "
              f"{max(m['value'] for m in stable if m['name'] == 'drift_top_score')}")
        assert len(stable) == 2 * SEEDS and all(m["status"] == "ok" for m in stable)
        assert false_alarms == []
        for seed in range(3):
            assert (f"shifted-{seed}", "drift_query_embedding") in fired
            assert (f"shifted-{seed}", "drift_top_score") in fired
        opened = {(a["index"], a["monitor"]) for a in state["opened"]}
        assert {(f"shifted-{s}", name) for s in range(3) for name in DRIFT} <= opened
        assert not any(index.startswith("stable-") and name in DRIFT
                       for index, name in opened)
        alerts = await monitoring.alerts(open_only=True)
        assert {(a.index, a.monitor) for a in alerts} >= {("shifted-0", "drift_top_score")}

        # evaluating again opens nothing new: one open alert per monitor and index
        again = await monitoring.evaluate()
        assert again["opened"] == []
