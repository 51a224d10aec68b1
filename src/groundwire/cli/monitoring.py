"""``groundwire monitor`` (monitors, alerts, content gaps) and ``groundwire records`` (export
and purge the answer records). Registered in ``cli/main.py``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from groundwire.cli.options import ConfigOpt, JsonOpt, parse_when
from groundwire.cli.output import emit, fail, run_with_app
from groundwire.errors import InvalidRequest

records_app = typer.Typer(help="Answer records: export and purge.", no_args_is_help=True)


def monitor(
    evaluate: Annotated[
        bool, typer.Option(help="Also open/resolve alerts (and call the webhook), as the "
                           "server does every monitoring.evaluate_interval_s.")
    ] = False,
    gaps: Annotated[bool, typer.Option(help="Include content-gap clusters.")] = True,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Monitors per index, open alerts and content gaps, from the answer records."""

    async def work(gw: Any) -> Any:
        service = gw.monitor()
        state = await (service.evaluate() if evaluate else service.state())
        state["gaps"] = await gw.content_gaps() if gaps else []
        return state

    state = run_with_app(config, as_json, work)
    if as_json:
        emit(state)
        return
    from rich.console import Console

    from groundwire.monitoring.terminal import print_state

    print_state(state, Console())


@records_app.command("export")
def records_export(
    format: Annotated[str, typer.Option("--format", "-f", help="jsonl or csv.")] = "jsonl",
    since: Annotated[
        str | None, typer.Option(help="Only records at or after (ISO 8601, or e.g. 7d / 12h).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Only records before (ISO 8601).")] = None,
    index: Annotated[str | None, typer.Option("--index", "-i", help="Only this index.")] = None,
    kind: Annotated[str | None, typer.Option(help="search or ask.")] = None,
    embeddings: Annotated[bool, typer.Option(help="Include the query embeddings.")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Export answer records (PII-redacted) as JSONL or CSV, oldest first."""
    try:
        since_at, until_at = parse_when(since), parse_when(until)
    except InvalidRequest as exc:
        fail(exc, False)
        return

    async def work(gw: Any) -> int:
        chunks = await gw.monitor().export(format, since=since_at, until=until_at,
                                           index=index, kind=kind, embedding=embeddings)
        sink = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        written = 0
        try:
            async for chunk in chunks:
                sink.write(chunk)
                written += chunk.count("\n")
        finally:
            if output:
                sink.close()
        return written

    lines = run_with_app(config, False, work)
    if output:
        typer.echo(f"wrote {lines} lines to {output}", err=True)


@records_app.command("purge")
def records_purge(config: ConfigOpt = None) -> None:
    """Delete records older than monitoring.retention_days now (the server does it hourly)."""

    async def work(gw: Any) -> int:
        count: int = await gw.monitor().purge()
        return count

    typer.echo(f"purged {run_with_app(config, False, work)} records")
