"""``groundwire worker``: run background jobs (ingest, assessment, version build) from the
queue on the configured database. Run one or more per database; ``serve`` runs one inside the
server too unless ``jobs.in_process_worker`` is false (set it false on replicas)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from groundwire.cli.options import ConfigOpt
from groundwire.cli.output import run_with_app


def worker(
    concurrency: Annotated[int | None, typer.Option(
        help="Jobs run at the same time (default jobs.concurrency).", min=1)] = None,
    queue: Annotated[list[str] | None, typer.Option(
        "--queue", help="Take jobs only from this queue (repeatable): ingest, assess, "
        "versions (default jobs.queues, or all).")] = None,
    wait: Annotated[bool, typer.Option(
        "--wait/--once", help="--once: run the jobs ready now, then exit.")] = True,
    config: ConfigOpt = None,
) -> None:
    """Run background jobs until stopped (SIGTERM/SIGINT: running jobs finish first)."""
    from groundwire.jobs.worker import run_worker
    from groundwire.observability import configure_logging

    async def work(gw: Any) -> None:
        # A long-running process: log at log_level (CLI commands default to warnings only).
        configure_logging(gw.settings.log_level, stream=sys.stderr)
        typer.echo(f"worker started (queues: {', '.join(queue or []) or 'all'})", err=True)
        await run_worker(gw, concurrency=concurrency, queues=queue, wait=wait)

    run_with_app(config, False, work)
