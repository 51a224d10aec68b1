"""``/mcp`` inside the application's lifespan: the SDK's session manager runs only while the
app runs, and an application started twice (a test client entered again) serves MCP both
times — a session manager can run once, so each start makes its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
HEADERS = {"Accept": "application/json, text/event-stream",
           "MCP-Protocol-Version": "2025-06-18"}


async def _mint(store: Any) -> str:
    from groundwire.security.keys import create_key

    return (await create_key(store, tenant="default", user="u", scopes=("search",))).token


@pytest.mark.timeout(120)  # a manager run twice used to hang the second start
def test_mcp_served_on_every_start(make_settings: Callable[..., Any]) -> None:
    from groundwire.api.app import create_app

    app = create_app(make_settings(security={"dev_mode": False},
                                   embedding={"provider": "fake"}))
    for _ in range(2):
        with TestClient(app) as client:
            key = client.portal.call(_mint, app.state.groundwire.store)  # type: ignore[union-attr]
            anonymous = client.post("/mcp", json=LIST, headers=HEADERS)
            listed = client.post("/mcp", json=LIST,
                                 headers={**HEADERS, "Authorization": f"Bearer {key}"})
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "auth.missing_key"
        assert listed.status_code == 200, listed.text
        names = {t["name"] for t in listed.json()["result"]["tools"]}
        assert names == {"search", "ask", "get_document", "list_sources"}
