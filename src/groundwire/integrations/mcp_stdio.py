"""``groundwire mcp``: the MCP server over stdin/stdout, for desktop assistants and IDEs.

The process opens the application from the CLI's configuration (``build_app``: the embedded
PostgreSQL or ``database.url``), authenticates its one principal — the API key given
(``--api-key`` / ``GROUNDWIRE_API_KEY``), or, without one, dev mode's admin of the default
tenant — and serves every tool call as that principal, with the same scope, rate limit,
tenant and permission checks as the REST API. Without a key and without dev mode it refuses
to start (``auth.missing_key``). Stdout carries only MCP messages; logs go to stderr.
"""

from __future__ import annotations

from groundwire.errors import Unauthenticated
from groundwire.integrations.mcp_server import build_server
from groundwire.integrations.mcp_tools import Caller, IndexCheck
from groundwire.integrations.principals import principal_for
from groundwire.settings import Settings


async def serve_stdio(settings: Settings, api_key: str | None, *,
                      check_index: IndexCheck) -> None:
    """Serve until stdin closes. Raises ``Unauthenticated`` for a missing or invalid key
    before reading any message."""
    from groundwire.bootstrap import build_app

    if not api_key and not settings.security.dev_mode:  # before opening anything
        raise Unauthenticated(
            "an API key is required: set GROUNDWIRE_API_KEY or pass --api-key (or use --dev "
            "for local development)", code="auth.missing_key")
    async with build_app(settings) as gw:
        principal = await principal_for(gw, api_key)
        caller = Caller(gw=gw, principal=principal)
        server = build_server(lambda _ctx: caller, check_index)
        await server.run_stdio_async()
