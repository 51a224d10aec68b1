"""Budgets per API key and per workflow (``budgets.api_keys``, ``budgets.workflows``): each
scope is reserved with the principal's before the upstream call, degrades on its own once
exhausted, and shows its usage in ``/metrics`` and the answer records. In-process app (real
HTTP stack through a ``TestClient``) on the embedded PostgreSQL, with a real fault LLM server
on loopback as the provider."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from live_server import _create_database, _drop_database, write_corpus
from support.fault_llm import FaultLLMServer
from support.llm import QUESTION, grounded_reply, provider

from groundwire.domain import SearchRequest

pytestmark = pytest.mark.integration

CAPPED_KEY, FREE_KEY = "b0d9e7aa0001", "b0d9e7aa0002"  # both keys of default/carol
MCP_KEY = "b0d9e7aa0003"  # an MCP client's key (default/dan)
SECRET = "s" * 32
WORKFLOW = "capped-wf"


@pytest.fixture(scope="module")
def upstream() -> Iterator[FaultLLMServer]:
    with FaultLLMServer(mode="ok") as server:
        server.reply = grounded_reply
        yield server


@pytest.fixture(scope="module")
def client(pg_admin_url: str, real_embedder: Any, upstream: FaultLLMServer,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from groundwire.api.app import create_app
    from groundwire.settings import Settings

    root = tmp_path_factory.mktemp("scoped-budgets")
    corpus = write_corpus(root / "corpus")
    name, url = _create_database(pg_admin_url)
    settings = Settings(
        database_url=url, data_dir=root / "data", autotune={"enabled": False},
        jobs={"poll_interval_s": 0.2}, cache={"enabled": False},
        security={"dev_mode": True, "default_readers": ["*"]},
        llm={"providers": [provider("primary", upstream)],
             "prices": {"primary-model": {"input_per_1m": 1.0, "output_per_1m": 2.0}}},
        budgets={"api_keys": {CAPPED_KEY: {"cost_per_day": 1e-9},
                              MCP_KEY: {"requests_per_day": 1}},
                 "workflows": {WORKFLOW: {"requests_per_day": 1}}},
        workflows=[{"name": WORKFLOW, "user": "wf-bot"}],
    )
    try:
        with TestClient(create_app(settings, embedder=real_embedder),
                        base_url="http://127.0.0.1") as test_client:
            gw = test_client.app.state.groundwire  # type: ignore[attr-defined]
            test_client.portal.call(gw.ingest_path, str(corpus))  # type: ignore[union-attr]
            test_client.portal.call(_mint_keys, gw.store)  # type: ignore[union-attr]
            yield test_client
    finally:
        _drop_database(pg_admin_url, name)


async def _mint_keys(store: Any) -> None:
    """Two live keys with known ids (``keys create`` makes random ones)."""
    from groundwire.security.keys import hash_secret

    for key_id, user in ((CAPPED_KEY, "carol"), (FREE_KEY, "carol"), (MCP_KEY, "dan")):
        await store.ensure_user("default", user)
        await store.insert_key(key_id=key_id, tenant="default", user=user, name=key_id,
                               secret_hash=hash_secret(SECRET), scopes=("ask",),
                               expires_at=None)


def bearer(key_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer gw_{key_id}_{SECRET}"}


def metric(text: str, name: str, kind: str, scope: str) -> float | None:
    match = re.search(rf'^{name}{{kind="{kind}",scope="{re.escape(scope)}"}} (\S+)$', text,
                      re.M)
    return None if match is None else float(match.group(1))


def test_a_key_over_its_own_budget_degrades_while_the_users_other_key_does_not(
    client: TestClient, upstream: FaultLLMServer
) -> None:
    gw = client.app.state.groundwire  # type: ignore[attr-defined]
    first = client.post("/v1/ask", json={"question": QUESTION}, headers=bearer(CAPPED_KEY))
    assert first.status_code == 200 and first.json()["provider"] == "primary"
    assert first.json()["cost"] > 1e-9
    calls = upstream.calls
    for stream in (False, True):
        again = client.post("/v1/ask", json={"question": QUESTION, "stream": stream},
                            headers=bearer(CAPPED_KEY))
        assert again.status_code == 200
        if not stream:
            body = again.json()
            assert body["degraded"] and body["degraded_reason"] == "budget.exceeded"
            assert body["citations"]  # the extractive answer still answers
    chat = client.post("/v1/chat/completions", headers=bearer(CAPPED_KEY), json={
        "model": "groundwire", "messages": [{"role": "user", "content": QUESTION}]})
    assert chat.status_code == 200 and chat.json()["choices"][0]["message"]["content"]
    assert upstream.calls == calls  # no upstream call once the key's cap is used up
    other = client.post("/v1/ask", json={"question": QUESTION}, headers=bearer(FREE_KEY))
    assert other.json()["provider"] == "primary" and not other.json()["degraded"]
    assert upstream.calls == calls + 1

    capped = client.portal.call(gw.store.usage, f"key:{CAPPED_KEY}")  # type: ignore[union-attr]
    assert [u["requests"] for u in capped.values()] == [1, 1]  # day, month: refusals not counted
    assert all(u["cost"] > 0 for u in capped.values())
    # a key without limits of its own is not charged: no counter rows
    assert client.portal.call(gw.store.usage, f"key:{FREE_KEY}") == {}  # type: ignore[union-attr]
    carol = client.portal.call(gw.store.usage, "default/carol")  # type: ignore[union-attr]
    assert [u["requests"] for u in carol.values()] == [2, 2]  # the principal: both LLM answers

    text = client.get("/metrics").text
    assert metric(text, "groundwire_budget_requests_total", "key", CAPPED_KEY) == 1.0
    assert (metric(text, "groundwire_budget_cost_total", "key", CAPPED_KEY) or 0.0) > 0
    assert (metric(text, "groundwire_budget_tokens_total", "key", CAPPED_KEY) or 0.0) > 0
    assert metric(text, "groundwire_budget_exhausted_total", "key", CAPPED_KEY) == 3.0
    assert metric(text, "groundwire_budget_requests_total", "key", FREE_KEY) is None
    assert SECRET not in text

    records = _records(client, lambda r: (r.get("usage") or {}).get("budget", {})
                       .get("exhausted"), at_least=3)
    assert records[0]["usage"]["budget"]["exhausted"]["scope"] == f"key:{CAPPED_KEY}"
    assert records[0]["usage"]["budget"]["charged"] == []
    charged = _records(client, lambda r: f"key:{CAPPED_KEY}" in (r.get("usage") or {})
                       .get("budget", {}).get("charged", ()), at_least=1)
    assert charged[0]["usage"]["budget"]["charged"] == ["default/carol", f"key:{CAPPED_KEY}"]


def test_a_workflow_over_its_own_budget_degrades_but_its_principal_still_asks(
    client: TestClient, upstream: FaultLLMServer
) -> None:
    """The workflow's cap is its own, not its service principal's: once used up, its drafts
    are extractive (no upstream call), while the same principal asking directly still gets
    LLM answers."""
    gw = client.app.state.groundwire  # type: ignore[attr-defined]
    calls = upstream.calls
    assert _drafted(client, "wf-0")["draft"] and upstream.calls == calls + 1  # the LLM drafts
    later = _drafted(client, "wf-1")
    assert upstream.calls == calls + 1  # workflow exhausted: no upstream call...
    assert later["draft"] and later["citations"]  # ...and an extractive draft to review
    calls = upstream.calls
    direct = client.portal.call(  # type: ignore[union-attr]
        lambda: gw.ask(SearchRequest(query=QUESTION), principal="default/wf-bot"))
    assert direct.provider == "primary" and upstream.calls == calls + 1
    used = client.portal.call(gw.store.usage, f"workflow:{WORKFLOW}")  # type: ignore[union-attr]
    assert [u["requests"] for u in used.values()] == [1, 1]
    text = client.get("/metrics").text
    assert metric(text, "groundwire_budget_requests_total", "workflow", WORKFLOW) == 1.0
    assert metric(text, "groundwire_budget_exhausted_total", "workflow", WORKFLOW) == 1.0


def test_an_mcp_clients_key_budget_applies_to_the_ask_tool(
    client: TestClient, upstream: FaultLLMServer
) -> None:
    """The MCP ``ask`` tool, called as the principal its bearer token authenticates to,
    charges that key's own budget like ``/v1/ask`` does."""
    from groundwire.integrations.mcp_tools import Caller, Tools
    from groundwire.security.keys import authenticate

    gw = client.app.state.groundwire  # type: ignore[attr-defined]

    async def no_tenant_rule(*_: Any) -> None:
        return None

    async def ask() -> Any:
        principal = await authenticate(gw.store, f"gw_{MCP_KEY}_{SECRET}")
        return await Tools(no_tenant_rule).ask(Caller(gw, principal), question=QUESTION,
                                               index="default", filters=None)

    calls = upstream.calls
    first = client.portal.call(ask)  # type: ignore[union-attr]
    assert not first.degraded and upstream.calls == calls + 1
    second = client.portal.call(ask)  # type: ignore[union-attr]
    assert second.degraded and second.citations and upstream.calls == calls + 1
    text = client.get("/metrics").text
    assert metric(text, "groundwire_budget_requests_total", "key", MCP_KEY) == 1.0
    assert metric(text, "groundwire_budget_exhausted_total", "key", MCP_KEY) == 1.0


def _drafted(client: TestClient, event: str) -> dict[str, Any]:
    posted = client.post(f"/v1/workflows/{WORKFLOW}/events",
                         json={"id": event, "body": QUESTION})
    assert posted.status_code in (200, 202), posted.text
    event_id = posted.json()["event_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row: dict[str, Any] = client.get(f"/v1/workflows/{WORKFLOW}/events/{event_id}").json()
        if row["state"] != "received":
            return row
        time.sleep(0.1)
    raise AssertionError(f"event {event} was not drafted: {row}")


def _records(client: TestClient, keep: Any, *, at_least: int) -> list[dict[str, Any]]:
    """Ask records that ``keep`` accepts, polled (records are written in the background)."""
    deadline = time.monotonic() + 20
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        lines = client.get("/v1/records", params={"kind": "ask"}).text.splitlines()
        found = [r for r in map(json.loads, filter(None, lines)) if keep(r)]
        if len(found) >= at_least:
            return found
        time.sleep(0.2)
    raise AssertionError(f"only {len(found)} matching records")
