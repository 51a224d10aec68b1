"""Typer options shared by several commands, and the parsing of their values.

An option used by more than one command is declared once here, so its flags and help text stay
the same everywhere. Options particular to one command stay in that command's module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from groundwire.errors import InvalidRequest

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML config file (default ./groundwire.toml)."),
]
IndexOpt = Annotated[str, typer.Option("--index", "-i", help="Index name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
TenantOpt = Annotated[str | None, typer.Option(
    "--tenant", "-t", help="Tenant (default security.default_tenant).")]
UriPrefixOpt = Annotated[
    str | None, typer.Option("--uri-prefix", help="Only documents whose uri starts with this.")
]
MetaOpt = Annotated[
    list[str] | None,
    typer.Option("--meta", help="Only documents with this metadata KEY=VALUE (repeatable)."),
]


def search_filters(uri_prefix: str | None, meta: list[str] | None) -> dict[str, Any]:
    """``--uri-prefix`` / ``--meta`` -> the SearchRequest filter vocabulary (applied before
    ranking). A ``--meta`` without ``KEY=`` raises ``typer.BadParameter`` (usage error, exit 2)."""
    filters: dict[str, Any] = {}
    if uri_prefix:
        filters["uri_prefix"] = uri_prefix
    pairs = {}
    for item in meta or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--meta expects KEY=VALUE, got {item!r}")
        pairs[key] = value
    if pairs:
        filters["metadata"] = pairs
    return filters


def parse_when(value: str | None) -> Any:
    """``--since`` / ``--until``: ISO 8601 (naive = UTC) or a relative age like 30m, 12h, 7d ->
    aware datetime (None stays None). Anything else raises :class:`InvalidRequest`."""
    from datetime import UTC, datetime, timedelta

    if value is None:
        return None
    units = {"m": 60, "h": 3600, "d": 86400}
    if value[:-1].isdigit() and value[-1:] in units:
        return datetime.now(UTC) - timedelta(seconds=int(value[:-1]) * units[value[-1]])
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidRequest(f"not a date/time or age (7d, 12h, 30m): {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
