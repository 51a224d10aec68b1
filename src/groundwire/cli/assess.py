"""``groundwire assess``: data-readiness assessment of a path (before ingestion) or of an
ingested index; ``--fail-on`` exits 5 (``FAIL_ON_EXIT``) at or below the gate. Registered in
``cli/main.py``."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from groundwire.cli.options import ConfigOpt
from groundwire.cli.output import FAIL_ON_EXIT, fail, load_cli_settings, run_with_app
from groundwire.errors import GroundwireError, InvalidRequest


def assess(
    path: Annotated[
        str | None,
        typer.Argument(help="Folder, file or JSONL/JSONL.GZ records file; with --index, the "
                       "index NAME (default: default)."),
    ] = None,
    index: Annotated[
        bool,
        typer.Option("--index", "-i", help="Assess an ingested index: `assess --index [NAME]`."),
    ] = False,
    questions: Annotated[
        Path | None,
        typer.Option(help="Questions file: one per line, or BEIR queries.jsonl."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the JSON report here ('-': stdout).")
    ] = None,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Write the self-contained HTML report here.")
    ] = None,
    stale_days: Annotated[
        int | None, typer.Option(help="Age in days after which a document is stale.")
    ] = None,
    model: Annotated[
        bool, typer.Option(help="Use the embedding model for token counts and answer support.")
    ] = True,
    fail_on: Annotated[
        str | None,
        typer.Option(help="Exit 5 when the verdict is 'not_ready' (--fail-on not_ready) or not "
                     "'ready' (--fail-on warnings). Without it the exit code is 0."),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Data-readiness assessment of PATH (before ingestion) or of an index (--index)."""
    from rich.console import Console

    from groundwire.assess import AssessmentSource, run_assessment
    from groundwire.assess.questions import read_questions
    from groundwire.assess.terminal import print_summary

    index_name = (path or "default") if index else None
    if index_name is None and path is None:
        fail(InvalidRequest("give a PATH to assess, or --index [NAME]"), False)
    if fail_on not in (None, "not_ready", "warnings"):
        fail(InvalidRequest("--fail-on must be 'not_ready' or 'warnings'"), False)
    err = Console(stderr=True)
    status = err.status("assessing…")

    def on_progress(stage: str, done: int, total: int | None) -> None:
        of = f"/{total}" if total else ""
        status.update(f"assessing: {stage} {done}{of}")

    try:
        settings = load_cli_settings(config)
        if stale_days is not None:
            settings = settings.model_copy(
                update={"assess": settings.assess.model_copy(update={"stale_days": stale_days})}
            )
        asked = read_questions(questions) if questions is not None else None
    except GroundwireError as exc:
        fail(exc, False)
        return

    if index_name is None:
        from groundwire.observability import configure_logging

        configure_logging("WARNING", stream=sys.stderr)
        try:
            embedder = None
            if model:
                from groundwire.bootstrap import build_embedder

                embedder = build_embedder(settings)
            with status:
                report = asyncio.run(run_assessment(
                    AssessmentSource.of_path(Path(path or ".")), settings, embedder=embedder,
                    questions=asked, progress=on_progress))
        except GroundwireError as exc:
            fail(exc, False)
            return
    else:
        async def work(gw: Any) -> Any:
            with status:
                return await run_assessment(
                    AssessmentSource.of_index(index_name or "default"), settings,
                    embedder=gw.retriever.embedder if model else None, store=gw.store,
                    questions=asked, progress=on_progress)

        report = run_with_app(config, False, work)

    if json_out is not None:
        text = json.dumps(report, ensure_ascii=False, indent=2)
        if str(json_out) == "-":
            typer.echo(text)
        else:
            json_out.write_text(text + "\n", encoding="utf-8")
    if html_out is not None:
        from groundwire.assess.html_report import render_html

        html_out.write_text(render_html(report), encoding="utf-8")
    print_summary(report, Console(stderr=str(json_out) == "-"))
    verdict = report["verdict"]
    if (fail_on == "not_ready" and verdict == "not_ready") or (
        fail_on == "warnings" and verdict != "ready"
    ):
        raise typer.Exit(FAIL_ON_EXIT)
