"""Integrations with agent tooling: the MCP server (Model Context Protocol).

``mcp_server`` builds the tool set once, over any transport; ``mcp_http`` mounts it in the
API at ``/mcp`` (streamable HTTP, the REST API's keys and scopes); ``mcp_stdio`` runs it over
stdin/stdout for ``groundwire mcp``. This package sits below ``api`` and ``cli`` (both use it)
and above ``bootstrap``; nothing here imports FastAPI or Typer, and nothing runs at import.
"""
