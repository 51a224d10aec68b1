"""Inbound webhooks are untrusted: signatures (Zendesk-style), size limits, schema validation
with coded errors, per-workflow rate limits, tenancy, and nothing an event says changes what
the workflow reads. In-process app on the embedded PostgreSQL with the real model."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from workflow_receiver import served_app

from groundwire.workflows.signing import sign_zendesk

pytestmark = pytest.mark.integration

ZD_SECRET = "zendesk-shared-secret"
TICKET = {"id": "zd-1", "ticket": {"id": 11, "subject": "Refunds",
                                   "description": "Can annual subscriptions be refunded?"}}


@pytest.fixture(scope="module")
def client(pg_admin_url: str, real_embedder: Any, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[TestClient]:
    with served_app(
            pg_admin_url, tmp_path_factory.mktemp("inbound"), real_embedder,
            security={"dev_mode": True, "default_readers": ["group:support"]},
            workflows=[
                {"name": "zd", "adapter": "zendesk", "signing_secret": ZD_SECRET,
                 "max_body_bytes": 2048, "rate_limit": {"requests_per_minute": 3},
                 "groups": ["support"]},
                {"name": "outsider", "groups": ["sales"], "threshold": 0.0},
                {"name": "acme-only", "tenant": "acme"},
                {"name": "capped", "user": "capped-bot", "groups": ["support"]}],
            # an upstream that is never reached: the budget refuses before any call
            llm={"providers": [{"name": "p", "base_url": "http://127.0.0.1:9/v1",
                                "model": "m"}]},
            budgets={"principals": {"default/capped-bot": {"requests_per_day": 0}},
                     "over_budget": "reject"}) as test_client:
        yield test_client


def signed(body: bytes, secret: str = ZD_SECRET, ts: str | None = None) -> dict[str, str]:
    ts = ts or str(int(time.time()))
    return {"Content-Type": "application/json",
            "X-Zendesk-Webhook-Signature": sign_zendesk(secret, body, ts),
            "X-Zendesk-Webhook-Signature-Timestamp": ts}


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_signature_size_schema_and_rate_limit(client: TestClient) -> None:
    body = json.dumps(TICKET).encode()
    url = "/v1/workflows/zd/events"
    assert error(client.post(url, content=body, headers={
        "Content-Type": "application/json"})) == (401, "workflow.bad_signature")
    assert error(client.post(url, content=body, headers=signed(body, "guess"))) == \
        (401, "workflow.bad_signature")
    assert error(client.post(url, content=body, headers=signed(body, ts="1000"))) == \
        (401, "workflow.bad_signature")
    big = json.dumps({**TICKET, "pad": "x" * 3000}).encode()
    assert error(client.post(url, content=big, headers=signed(big))) == \
        (413, "request.too_large")

    # The bucket holds 3: refused requests above took no token (they failed earlier).
    accepted = client.post(url, content=body, headers=signed(body))
    assert accepted.status_code == 202, accepted.text
    bad = json.dumps({"ticket": {"subject": "no id"}}).encode()
    assert error(client.post(url, content=bad, headers=signed(bad))) == \
        (422, "workflow.invalid_event")
    assert client.post(url, content=body, headers=signed(body)).json()["duplicate"] is True
    limited = client.post(url, content=body, headers=signed(body))
    assert error(limited) == (429, "rate_limited") and int(limited.headers["Retry-After"]) >= 1


def test_unknown_other_tenant_and_empty_events(client: TestClient) -> None:
    assert error(client.post("/v1/workflows/nope/events", json={"body": "x"})) == \
        (404, "workflow.not_found")
    assert error(client.post("/v1/workflows/acme-only/events", json={"body": "x"})) == \
        (404, "workflow.not_found")  # dev mode acts in tenant "default"
    assert error(client.post("/v1/workflows/outsider/events",
                             json={"body": "> only a quote\n-- \nsig"})) == \
        (422, "workflow.empty_question")
    assert error(client.get("/v1/workflows/outsider/events/0123abc")) == \
        (404, "workflow.event_not_found")


def test_the_service_principal_decides_what_is_read(client: TestClient) -> None:
    """Documents are readable by group support only; the outsider workflow reads as a
    member of sales, so it finds nothing, whatever the event claims about itself."""
    event = {"id": "o-1", "subject": "Refunds", "body": "Can annual subscriptions be "
             "refunded?", "sender": "admin", "metadata": {"groups": "support", "index": "x"}}
    event_id = client.post("/v1/workflows/outsider/events", json=event).json()["event_id"]
    deadline = time.monotonic() + 60
    row: dict[str, Any] = {}
    while time.monotonic() < deadline:
        row = client.get(f"/v1/workflows/outsider/events/{event_id}").json()
        if row["state"] != "received":
            break
        time.sleep(0.1)
    assert row["state"] == "review" and row["citations"] == []
    assert row["scores"]["reason"] == "abstained"


def test_a_redelivery_requeues_an_event_whose_job_was_lost(client: TestClient) -> None:
    """The process died between storing an event and queueing its job: the sender's
    redelivery (a duplicate) queues it again once it is older than REQUEUE_AFTER_S."""
    gw = client.app.state.groundwire  # type: ignore[attr-defined]

    async def strand() -> str:
        row, _ = await gw.store.add_workflow_event(
            "outsider", "lost-1", "default", {"subject": "", "body": "Refunds?"})
        async with gw.store._connection() as conn:
            await conn.execute("UPDATE workflow_events SET created_at = now() - interval "
                               "'10 minutes' WHERE id = %s", [row["id"]])
        return str(row["id"])

    event_id = client.portal.call(strand)  # type: ignore[union-attr]
    again = client.post("/v1/workflows/outsider/events", json={"id": "lost-1", "body": "x"})
    assert again.json() == {"event_id": event_id, "state": "received", "duplicate": True}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = client.get(f"/v1/workflows/outsider/events/{event_id}").json()["state"]
        if state != "received":
            break
        time.sleep(0.1)
    assert state == "review"


def test_an_event_over_its_workflows_budget_goes_to_review(client: TestClient) -> None:
    """The workflow's LLM budget is its service principal's; refused, the event is not lost
    (the job does not fail and retry): it waits in review without a draft."""
    posted = client.post("/v1/workflows/capped/events",
                         json={"id": "c-1", "body": "Can annual subscriptions be refunded?"})
    event_id = posted.json()["event_id"]
    deadline = time.monotonic() + 60
    row: dict[str, Any] = {}
    while time.monotonic() < deadline:
        row = client.get(f"/v1/workflows/capped/events/{event_id}").json()
        if row["state"] != "received":
            break
        time.sleep(0.1)
    assert row["state"] == "review" and row["draft"] == ""
    assert row["scores"]["reason"] == "budget.exceeded"
