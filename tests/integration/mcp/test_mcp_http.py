"""MCP over streamable HTTP at ``/mcp`` of a real ``groundwire serve`` on loopback: an MCP SDK
client lists the tools and calls them with API keys; each key sees only what it may read."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from conftest import Secured
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

pytestmark = pytest.mark.integration


@asynccontextmanager
async def _client(secured: Secured, key: str) -> AsyncIterator[Client]:
    """An MCP SDK client on ``/mcp`` sending ``key`` (the SDK leaves a given httpx client
    open: it is closed here)."""
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    transport = streamable_http_client(f"{secured.url}/mcp", http_client=http)
    async with http, Client(transport) as client:
        yield client


async def _call(secured: Secured, who: str, tool: str, args: dict[str, Any]) -> Any:
    async with _client(secured, secured.keys[who]) as client:
        return await client.call_tool(tool, args)


def _code(result: Any) -> str | None:
    """The Groundwire error code of a failed tool call ("... [code] message")."""
    assert result.is_error, result
    match = re.search(r"\[([a-z_.]+)\]", result.content[0].text)
    return match.group(1) if match else None


def _structured(result: Any) -> Any:
    assert not result.is_error, result.content
    return result.structured_content


async def test_lists_the_four_tools_with_schemas(secured: Secured) -> None:
    async with _client(secured, secured.keys["bob"]) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"search", "ask", "get_document", "list_sources"}
    search = tools["search"]
    assert search.description and "passages" in search.description
    assert search.input_schema["required"] == ["query"]
    assert {"query", "index", "top_k", "filters"} <= set(search.input_schema["properties"])
    assert "abstained" in tools["ask"].output_schema["properties"]


async def test_search_sees_only_what_the_key_may_read(secured: Secured) -> None:
    query = {"query": "Project Falcon merger codename Initech", "top_k": 10}
    alice = _structured(await _call(secured, "alice", "search", query))
    bob = _structured(await _call(secured, "bob", "search", query))
    assert "secret/falcon.md" in [h["uri"] for h in alice["hits"]]
    assert "secret/falcon.md" not in [h["uri"] for h in bob["hits"]]
    assert all("Falcon" not in h["text"] for h in bob["hits"])


async def test_ask_cites_only_readable_documents(secured: Secured) -> None:
    question = {"question": "What is Project Falcon the codename of?"}
    alice = _structured(await _call(secured, "alice", "ask", question))
    bob = _structured(await _call(secured, "bob", "ask", question))
    assert not alice["abstained"]
    assert "secret/falcon.md" in [c["uri"] for c in alice["citations"]]
    assert "Initech" in alice["answer"]
    assert "secret/falcon.md" not in [c["uri"] for c in bob["citations"]]
    assert "Initech" not in json.dumps(bob)


async def test_get_document_and_list_sources_are_permission_checked(secured: Secured) -> None:
    by_uri = {"uri": "secret/falcon.md"}
    found = _structured(await _call(secured, "alice", "get_document", by_uri))
    assert found["title"] == "Project Falcon" and found["state"] == "indexed"
    denied = await _call(secured, "bob", "get_document", by_uri)
    by_id = await _call(secured, "bob", "get_document", {"document_id": found["id"]})
    assert denied.is_error and by_id.is_error
    assert _code(denied) == _code(by_id) == "not_found"

    sources = _structured(await _call(secured, "bob", "list_sources", {}))["sources"]
    assert [s["index"] for s in sources] == ["default"]
    assert sources[0]["readable_documents"] == 1  # public only; alice would count 2
    alice = _structured(await _call(secured, "alice", "list_sources", {}))["sources"]
    assert alice[0]["readable_documents"] == 2
    other = await _call(secured, "bob", "search", {"query": "hammock", "index": "globex-kb"})
    assert _code(other) == "not_found"


async def test_keys_are_required_and_scopes_enforced(secured: Secured) -> None:
    with httpx.Client(base_url=secured.url) as http:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        missing = http.post("/mcp", json=body)
        wrong = http.post("/mcp", json=body, headers={"Authorization": "Bearer gw_x_y"})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "auth.missing_key"
    assert wrong.status_code == 401 and wrong.json()["error"]["code"].startswith("auth.")
    refused = await _call(secured, "dave", "ask", {"question": "support hours?"})
    assert _code(refused) == "auth.forbidden"


async def test_the_keys_rate_limit_applies_per_call(secured: Secured) -> None:
    question = {"question": "When does the help desk answer?"}
    async with _client(secured, secured.keys["erin"]) as client:
        first = await client.call_tool("ask", question)
        second = await client.call_tool("ask", question)
    assert not first.is_error
    assert _code(second) == "rate_limited"
