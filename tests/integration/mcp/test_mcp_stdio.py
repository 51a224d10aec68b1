"""``groundwire mcp`` over stdio: an MCP SDK client spawns it as a subprocess (its own
environment: the secured server's database, the fake embedder) and calls the tools as the
principal of ``GROUNDWIRE_API_KEY``; without a key (and no dev mode) it refuses to start."""

from __future__ import annotations

import re
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from conftest import Secured
from live_server import groundwire_script
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

pytestmark = pytest.mark.integration


def _env(secured: Secured, key: str | None) -> dict[str, str]:
    env = dict(secured.env)
    if key is not None:
        env["GROUNDWIRE_API_KEY"] = key
    return env


@asynccontextmanager
async def _stdio(secured: Secured, who: str) -> AsyncIterator[Client]:
    params = StdioServerParameters(command=str(groundwire_script()), args=["mcp"],
                                   env=_env(secured, secured.keys[who]),
                                   cwd=str(secured.server.workdir))
    async with Client(params, read_timeout_seconds=120) as client:
        yield client


def _structured(result: Any) -> Any:
    assert not result.is_error, result.content
    return result.structured_content


async def test_stdio_tools_act_as_the_keys_principal(secured: Secured) -> None:
    query = {"query": "Project Falcon merger codename Initech"}
    async with _stdio(secured, "bob") as client:
        names = {t.name for t in (await client.list_tools()).tools}
        bob = _structured(await client.call_tool("search", query))
        bob_answer = _structured(await client.call_tool(
            "ask", {"question": "What is Project Falcon the codename of?"}))
        hours = _structured(await client.call_tool("search", {"query": "support hours"}))
    assert names == {"search", "ask", "get_document", "list_sources"}
    assert "secret/falcon.md" not in [h["uri"] for h in bob["hits"]]
    assert "Initech" not in str(bob_answer)
    assert "public/hours.md" in [h["uri"] for h in hours["hits"]]

    async with _stdio(secured, "alice") as client:
        alice = _structured(await client.call_tool("search", query))
        other = await client.call_tool("search", {"query": "hammock", "index": "globex-kb"})
    assert "secret/falcon.md" in [h["uri"] for h in alice["hits"]]
    assert other.is_error
    assert re.search(r"\[not_found\]", other.content[0].text)


def test_stdio_refuses_to_start_without_a_key(secured: Secured) -> None:
    done = subprocess.run([str(groundwire_script()), "mcp"], env=_env(secured, None),
                          cwd=secured.server.workdir, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=120)
    assert done.returncode == 1
    assert done.stdout == b""  # stdout is the MCP channel: nothing but messages
    assert b"auth.missing_key" in done.stderr
