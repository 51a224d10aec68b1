"""``groundwire mcp``: the MCP server over stdio, for desktop assistants and IDEs (see
docs/integrations.md). Same configuration as every command; the principal is the API key
given (``--api-key`` / ``GROUNDWIRE_API_KEY``) or, with ``--dev`` / ``security.dev_mode``
and no key, an admin of the default tenant. Registered in ``cli/main.py``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from groundwire.cli.options import ConfigOpt
from groundwire.cli.output import fail, load_cli_settings
from groundwire.errors import GroundwireError


def mcp(
    api_key: Annotated[str | None, typer.Option(
        "--api-key", envvar="GROUNDWIRE_API_KEY", show_default=False,
        help="API key whose principal the tools act as (scopes, tenant, permissions).")] = None,
    dev: Annotated[bool, typer.Option(
        "--dev", help="Without a key, act as an admin of the default tenant "
        "(security.dev_mode); local use only.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Serve the MCP tools (search, ask, get_document, list_sources) over stdin/stdout."""
    import asyncio

    from groundwire.api.authz import tenant_index
    from groundwire.integrations.mcp_stdio import serve_stdio
    from groundwire.observability import configure_logging

    try:
        settings = load_cli_settings(config)
        if dev:
            settings = settings.model_copy(update={
                "security": settings.security.model_copy(update={"dev_mode": True})})
        level = settings.log_level if "log_level" in settings.model_fields_set else "WARNING"
        configure_logging(level, stream=sys.stderr)  # stdout is the MCP channel
        asyncio.run(serve_stdio(settings, api_key, check_index=tenant_index))
    except GroundwireError as exc:
        fail(exc, False)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
