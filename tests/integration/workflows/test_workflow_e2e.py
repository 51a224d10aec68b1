"""Workflows end to end on loopback: a real server app (in-process, real embedding model,
embedded PostgreSQL, in-process job worker) and a real HTTP callback receiver.

* a confident event is acknowledged (202), drafted by the worker and delivered once to the
  receiver, signed (verified here) and with citations; a duplicate delivery is ignored;
* an event the corpus cannot answer lands in the review queue; a reviewer claims, edits
  and approves it, and the edited text is what the receiver gets; stats and metrics show
  the decision;
* a receiver that fails twice then succeeds gets exactly one accepted delivery, with every
  attempt recorded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from workflow_receiver import Receiver, running_receiver, served_app

from groundwire.workflows.signing import verify_callback

pytestmark = pytest.mark.integration

CB_SECRET = "cb-secret-for-tests"
GOOD = {"id": "evt-1", "subject": "Refund question",
        "body": "Can annual subscriptions be cancelled for a full refund?\n\n"
                "> On our last call you said something\n-- \nJane Doe\nExample Corp"}
OFF_TOPIC = {"id": "evt-2", "subject": "Lunch",
             "body": "What is the airspeed velocity of an unladen swallow?"}


def workflow(name: str, receiver: Receiver, **extra: Any) -> dict[str, Any]:
    return {"name": name, "threshold": 0.3, "callback_url": receiver.url(f"/{name}"),
            "callback_secret": CB_SECRET, "callback_backoff_s": 0.05,
            "callback_attempts": 3, **extra}


@pytest.fixture(scope="module")
def served(pg_admin_url: str, real_embedder: Any, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[TestClient, Receiver]]:
    with running_receiver() as receiver, served_app(
            pg_admin_url, tmp_path_factory.mktemp("workflows"), real_embedder,
            security={"dev_mode": True, "default_readers": ["*"]},
            workflows=[workflow("support", receiver), workflow("review", receiver),
                       workflow("flaky", receiver, callback_attempts=5)]) as client:
        yield client, receiver


def settled(client: TestClient, workflow: str, event_id: str, timeout_s: float = 60.0
            ) -> dict[str, Any]:
    """The event once the worker has moved it on from received/delivering."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        event = client.get(f"/v1/workflows/{workflow}/events/{event_id}").json()
        if event["state"] not in ("received", "delivering", "approved"):
            return event
        time.sleep(0.1)
    raise AssertionError(f"event {event_id} did not settle: {event}")


def test_confident_event_is_delivered_signed_once(served: tuple[TestClient, Receiver]
                                                   ) -> None:
    client, receiver = served
    posted = client.post("/v1/workflows/support/events", json=GOOD)
    assert posted.status_code == 202, posted.text
    assert posted.json()["duplicate"] is False and posted.json()["state"] == "received"
    event_id = posted.json()["event_id"]

    [call] = receiver.wait_accepted("/support")
    assert verify_callback(CB_SECRET, call.body, call.headers["groundwire-signature"])
    assert not verify_callback("wrong-secret", call.body, call.headers["groundwire-signature"])
    payload = json.loads(call.body)
    assert payload["event_id"] == event_id and payload["reviewed"] is False
    assert payload["citations"] and payload["citations"][0]["uri"].endswith("pricing.md")
    assert "[1]" in payload["reply"] and "30 days" in payload["reply"]
    assert call.headers["idempotency-key"] == f"{event_id}:reply"

    event = settled(client, "support", event_id)
    assert event["state"] == "delivered" and event["confidence"] >= 0.3
    assert "Jane" not in event["question"] and "last call" not in event["question"]
    assert [d["ok"] for d in event["deliveries"]] == [True]
    jobs = client.get("/v1/jobs", params={"kind": "workflow_event"})  # its job is listed
    assert jobs.status_code == 200, jobs.text
    assert {j["kind"] for j in jobs.json()["jobs"]} == {"workflow_event"}

    again = client.post("/v1/workflows/support/events", json=GOOD)  # a redelivery
    assert again.status_code == 202 and again.json() == {
        "event_id": event_id, "state": "delivered", "duplicate": True}
    keyed = client.post("/v1/workflows/support/events", headers={"Idempotency-Key": "k-1"},
                        json={**GOOD, "id": "evt-other"})
    assert keyed.json()["duplicate"] is False
    assert client.post("/v1/workflows/support/events", headers={"Idempotency-Key": "k-1"},
                       json={**GOOD, "id": "evt-third"}).json()["duplicate"] is True
    receiver.wait_accepted("/support", 2)
    time.sleep(1.0)  # the worker had time to (wrongly) deliver a duplicate
    assert len(receiver.accepted("/support")) == 2


def test_low_confidence_event_is_reviewed_edited_and_approved(
        served: tuple[TestClient, Receiver]) -> None:
    client, receiver = served
    event_id = client.post("/v1/workflows/review/events", json=OFF_TOPIC).json()["event_id"]
    event = settled(client, "review", event_id)
    assert event["state"] == "review" and event["confidence"] == 0.0
    assert event["scores"]["reason"] in ("abstained", "no_citations")
    assert [c for c in receiver.calls if c.path == "/review"] == []

    queue = client.get("/v1/reviews", params={"workflow": "review"}).json()["events"]
    assert [e["id"] for e in queue] == [event_id]
    claimed = client.post(f"/v1/reviews/{event_id}/claim").json()
    assert claimed["claimed_by"] == "default/dev"
    edited = client.post(f"/v1/reviews/{event_id}/edit",
                         json={"text": "We only answer product questions, sorry."})
    assert edited.status_code == 200 and edited.json()["draft"] == event["draft"]
    approved = client.post(f"/v1/reviews/{event_id}/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"

    [call] = receiver.wait_accepted("/review")
    assert verify_callback(CB_SECRET, call.body, call.headers["groundwire-signature"])
    payload = json.loads(call.body)
    assert payload["reply"] == "We only answer product questions, sorry."
    assert payload["reviewed"] is True and payload["reviewer"] == "default/dev"
    assert settled(client, "review", event_id)["state"] == "delivered"

    again = client.post(f"/v1/reviews/{event_id}/approve")
    assert again.status_code == 422 and again.json()["error"]["code"] == "review.conflict"
    stats = client.get("/v1/workflows/review/stats").json()
    assert stats["approved"] == 1 and stats["rejected"] == 0
    assert stats["approval_rate"] == 1.0 and stats["mean_edit_distance"] > 0.5
    assert stats["mean_decision_s"] >= 0 and stats["events"] == {"delivered": 1}
    decisions = client.get(f"/v1/reviews/{event_id}").json()["decisions"]
    assert [d["action"] for d in decisions] == ["claim", "edit", "approve"]
    metrics = client.get("/metrics").text
    assert 'groundwire_workflow_decisions_total{decision="approve",workflow="review"} 1.0' \
        in metrics
    assert 'groundwire_workflow_edit_distance_count{workflow="review"} 1.0' in metrics


def test_failing_receiver_gets_exactly_one_accepted_delivery(
        served: tuple[TestClient, Receiver]) -> None:
    client, receiver = served
    receiver.fail["/flaky"] = 2
    event_id = client.post("/v1/workflows/flaky/events", json=GOOD).json()["event_id"]
    receiver.wait_accepted("/flaky")
    event = settled(client, "flaky", event_id)
    assert event["state"] == "delivered"
    assert [(d["attempt"], d["ok"], d["status"]) for d in event["deliveries"]] == [
        (1, False, 503), (2, False, 503), (3, True, 200)]
    calls = [c for c in receiver.calls if c.path == "/flaky"]
    assert [c.status for c in calls] == [503, 503, 200]
    assert len({c.headers["idempotency-key"] for c in calls}) == 1
    assert len({c.body for c in calls}) == 1
    assert client.get("/v1/workflows/flaky/stats").json()["deliveries"] == {"ok": 1,
                                                                            "failed": 2}
