"""``groundwire audit export``: the audit log as JSON lines (every tenant unless --tenant)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from groundwire.cli.options import ConfigOpt, parse_when
from groundwire.cli.output import fail, run_with_app
from groundwire.errors import InvalidRequest

audit_app = typer.Typer(help="Audit log: export.", no_args_is_help=True)


@audit_app.command("export")
def audit_export(
    since: Annotated[
        str | None, typer.Option(help="Only events at or after (ISO 8601, or e.g. 7d / 12h).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Only events before (ISO 8601).")] = None,
    action: Annotated[
        str | None, typer.Option(help="One action (ask, key.create) or a prefix (key.*).")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Export audit events (questions PII-redacted) as JSON lines, oldest first."""
    from groundwire.security.audit import export_lines

    try:
        since_at, until_at = parse_when(since), parse_when(until)
    except InvalidRequest as exc:
        fail(exc, False)
        return

    async def work(gw: Any) -> int:
        sink = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
        written = 0
        try:
            async for chunk in export_lines(gw.store.list_audit, tenant=tenant, since=since_at,
                                            until=until_at, action=action):
                sink.write(chunk)
                written += chunk.count("\n")
        finally:
            if out:
                sink.close()
        return written

    lines = run_with_app(config, False, work)
    if out:
        typer.echo(f"wrote {lines} events to {out}", err=True)
