"""The audit log on real PostgreSQL: ``AuditLog`` buffering, flush on close, PII redaction and
filters; then through the API (dev mode): search/ask/chat completions are recorded with the
cited documents, ``GET /v1/audit`` exports them as JSON lines, responses carry RateLimit
headers and a spent bucket answers 429; ``groundwire audit export`` reads the same log."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from live_server import write_corpus

from groundwire.security.audit import AuditLog, export_lines
from groundwire.stores.postgres.store import PostgresStore

pytestmark = pytest.mark.integration
EMAIL = "jane.roe@example.com"


async def test_buffered_events_are_stored_redacted_on_close(database_url: str) -> None:
    store = PostgresStore(database_url)
    await store.open()
    try:
        audit = AuditLog(store.insert_audit)
        audit.start()
        before = datetime.now(UTC)
        for i in range(300):
            await audit.record(tenant="acme" if i % 2 else "globex", actor=f"acme/u{i}",
                               action="ask" if i % 3 else "key.create", target="default",
                               details={"question": f"mail {EMAIL} about #{i}", "n": i})
        await audit.close()  # flushes everything buffered
        assert audit.written == 300 and audit.failed == 0
        events = await store.list_audit(limit=1000)
        assert len(events) == 300
        assert [e.details["n"] for e in events] == list(range(300))  # insertion order
        assert all(EMAIL not in json.dumps(e.details) for e in events)
        assert "<EMAIL>" in events[0].details["question"]
        acme_asks = await store.list_audit(tenant="acme", action="ask")
        assert acme_asks and all(e.tenant == "acme" and e.action == "ask" for e in acme_asks)
        assert len(await store.list_audit(action="key.*")) == 100
        assert await store.list_audit(since=datetime.now(UTC) + timedelta(minutes=1)) == []
        assert len(await store.list_audit(since=before - timedelta(seconds=1),
                                          until=datetime.now(UTC) + timedelta(seconds=1),
                                          limit=1000)) == 300
        lines = "".join([c async for c in export_lines(store.list_audit, tenant="globex",
                                                         page=7)]).splitlines()
        assert len(lines) == 150 and all(json.loads(x)["tenant"] == "globex" for x in lines)
        # a closed log still records, synchronously
        await audit.record(tenant="acme", actor="acme/x", action="user.create", target="x")
        assert len(await store.list_audit(action="user.create")) == 1
    finally:
        await store.close()


@contextlib.contextmanager
def _logging_restored() -> Iterator[None]:
    """Undo what an in-process CLI run does to logging (``configure_logging``: a JSON handler
    on the ``groundwire`` logger, its level, propagation off) and to the root logger."""
    loggers = [logging.getLogger(), logging.getLogger("groundwire")]
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in loggers]
    try:
        yield
    finally:
        for lg, handlers, level, propagate in saved:
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate


@pytest.fixture
def client(make_settings: Callable[..., Any], real_embedder: Any, tmp_path: Path) -> Any:
    from groundwire.api.app import create_app

    settings = make_settings(security={
        "dev_mode": True,
        # search refills one token a minute, so a slow box cannot refill the bucket between
        # the six allowed requests and the seventh (at 60/min it did: CI stop 14)
        "rate_limit": {"search": {"requests_per_minute": 1, "burst": 6},
                       "ask": {"requests_per_minute": 60}},
    })
    corpus = write_corpus(tmp_path / "corpus")
    with TestClient(create_app(settings, embedder=real_embedder), base_url="http://127.0.0.1") as c:
        response = c.post("/v1/ingest", json={"path": str(corpus), "wait": True})
        assert response.status_code == 200, response.text
        yield c


def test_queries_are_audited_and_exported(client: Any) -> None:
    question = f"How much does the Team plan cost? Reply to {EMAIL}"
    search = client.post("/v1/search", json={"query": question, "top_k": 3})
    assert search.status_code == 200
    assert search.headers["RateLimit-Policy"] == '"search";q=6;w=360'
    assert search.headers["RateLimit"].startswith('"search";r=5;')
    ask = client.post("/v1/ask", json={"question": "How much does the Team plan cost?"})
    assert ask.status_code == 200 and ask.headers["RateLimit"].startswith('"ask";r=59;')
    unlimited = client.get("/v1/admin/keys")  # admin class: off by default, no headers
    assert unlimited.status_code == 200 and "RateLimit" not in unlimited.headers
    chat = client.post("/v1/chat/completions", json={
        "model": "groundwire", "messages": [{"role": "user", "content": "What is the refund "
                                             "policy?"}]})
    assert chat.status_code == 200

    export = client.get("/v1/audit")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/x-ndjson")
    events = [json.loads(line) for line in export.text.splitlines()]
    by_action = {e["action"]: e for e in events}
    assert {"search", "ask", "chat.completion", "audit.export"} <= set(by_action)
    searched = by_action["search"]
    assert searched["actor"] == "default/dev" and searched["tenant"] == "default"
    assert EMAIL not in json.dumps(searched) and "<EMAIL>" in searched["details"]["question"]
    returned = [h["document_id"] for h in search.json()["hits"]]
    assert [c["document_id"] for c in searched["details"]["cited"]] == returned
    assert all(c["admitted_by"] == "t:default:admin" for c in searched["details"]["cited"])
    asked = by_action["ask"]
    cited = [c["uri"] for c in asked["details"]["cited"]]
    assert cited and cited == [c["uri"] for c in ask.json()["citations"]]
    assert asked["details"]["record_id"] == ask.json()["record_id"]
    only_asks = client.get("/v1/audit", params={"action": "ask"}).text.splitlines()
    assert [json.loads(x)["action"] for x in only_asks] == ["ask"]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.get("/v1/audit", params={"since": later}).text == ""


def test_a_spent_bucket_answers_429_with_retry_after(client: Any) -> None:
    statuses = [client.post("/v1/search", json={"query": "refund"}) for _ in range(8)]
    assert [r.status_code for r in statuses[:6]] == [200] * 6
    denied = statuses[6]
    assert denied.status_code == 429
    assert denied.json()["error"]["code"] == "rate_limited"
    assert int(denied.headers["Retry-After"]) >= 1
    assert denied.headers["RateLimit"].startswith('"search";r=0;')
    assert denied.headers["X-Request-ID"]


def test_cli_export(client: Any, make_settings: Callable[..., Any], tmp_path: Path) -> None:
    import os

    from typer.testing import CliRunner

    from groundwire.cli.main import app

    assert client.post("/v1/search", json={"query": "install"}).status_code == 200
    settings = make_settings()
    out = tmp_path / "audit.jsonl"
    env = {"GROUNDWIRE_DATABASE_URL": settings.database_url.get_secret_value(),
           "GROUNDWIRE_DATA_DIR": str(tmp_path / "cli-data")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with _logging_restored():  # the CLI configures logging for its (closed) stderr
            result = CliRunner().invoke(app, ["audit", "export", "--since", "1h", "--action",
                                              "search", "--out", str(out)])
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert result.exit_code == 0, result.output
    # Global state is back: later tests' log capture still sees the app's records.
    app_logger = logging.getLogger("groundwire")
    assert app_logger.propagate
    assert not any(getattr(h, "_groundwire", False) for h in app_logger.handlers)
    events = [json.loads(x) for x in out.read_text().splitlines()]
    assert [e["action"] for e in events] == ["search"]
    assert events[0]["details"]["question"] == "install"
