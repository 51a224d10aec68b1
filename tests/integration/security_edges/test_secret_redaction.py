"""Issue 18 item 7: a Groundwire key and an ``sk-`` token pasted into questions reach
neither the answer records, nor the audit log, nor the logs (real PostgreSQL, API in dev
mode: search, ask and chat completions)."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from live_server import write_corpus

pytestmark = pytest.mark.integration

GW_KEY = f"gw_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
SK = "sk-proj-" + secrets.token_urlsafe(30)
EMAIL = "jane.doe@corp.internal"
QUESTION = f"How much does the Team plan cost? My key {GW_KEY} and {SK}, reply to {EMAIL}"
LEAKS = {"groundwire key": GW_KEY, "gw secret part": GW_KEY.split("_", 2)[2],
         "sk token": SK, "e-mail": EMAIL}


@pytest.fixture
def client(make_settings: Callable[..., Any], real_embedder: Any, tmp_path: Path) -> Any:
    from groundwire.api.app import create_app

    settings = make_settings(security={"dev_mode": True})
    corpus = write_corpus(tmp_path / "corpus")
    with TestClient(create_app(settings, embedder=real_embedder), base_url="http://127.0.0.1") as c:
        response = c.post("/v1/ingest", json={"path": str(corpus), "wait": True})
        assert response.status_code == 200, response.text
        yield c


def test_pasted_credentials_are_not_stored_or_logged(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert client.post("/v1/search", json={"query": QUESTION, "top_k": 3}).status_code == 200
    asked = client.post("/v1/ask", json={"question": QUESTION})
    assert asked.status_code == 200
    chat = client.post("/v1/chat/completions", json={
        "model": "groundwire", "messages": [{"role": "user", "content": QUESTION}]})
    assert chat.status_code == 200

    records = client.get("/v1/records")
    assert records.status_code == 200
    rows = [json.loads(line) for line in records.text.splitlines()]
    assert len(rows) == 3 and {r["kind"] for r in rows} == {"search", "ask"}
    audit = client.get("/v1/audit")
    assert audit.status_code == 200
    events = [json.loads(line) for line in audit.text.splitlines()]
    queried = [e for e in events if e["action"] in {"search", "ask", "chat.completion"}]
    assert len(queried) == 3

    stored = {"answer records": records.text, "audit log": audit.text, "logs": caplog.text}
    for where, text in stored.items():
        for name, value in LEAKS.items():
            assert value not in text, f"{name} found in the {where}"
    # the question is still recognisable, with its credentials replaced
    for row in rows:
        assert row["question"].startswith("How much does the Team plan cost? My key <SECRET>")
        assert "<EMAIL>" in row["question"]
    for event in queried:
        assert "<SECRET>" in event["details"]["question"]
