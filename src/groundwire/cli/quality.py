"""CLI for evaluation: ``eval`` (a labelled dataset), its gates ``eval --contract`` and
``eval --compare A B``, and ``evalset``. ``eval`` is registered in ``cli/main.py``.

Exit codes: those of ``cli/output.py`` (2 invalid input or configuration, 3 not found, ...) and
``CONTRACT_MISS_EXIT`` (5) when a contract target is missed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from groundwire.cli.options import ConfigOpt, IndexOpt, JsonOpt
from groundwire.cli.output import CONTRACT_MISS_EXIT, emit, fail, load_cli_settings, run_with_app
from groundwire.errors import GroundwireError, InvalidRequest

evalset_app = typer.Typer(help="Eval sets from your own data.", no_args_is_help=True)


def evaluate(
    dataset: Annotated[Path | None, typer.Option(help="BEIR-like dataset folder.")] = None,
    split: Annotated[str | None, typer.Option(help="Query split (queries_<split>.jsonl).")] = None,
    index: Annotated[
        str | None, typer.Option(help="Index to (re)use; default: eval-<folder name>.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Evaluate only the first N queries.")] = None,
    contract: Annotated[bool, typer.Option(
        "--contract", help="Check the success contract (section contract of groundwire.toml): "
        "pass/fail per target, exit 5 on any miss, report kept in the eval history.")] = False,
    compare: Annotated[tuple[str, str] | None, typer.Option(
        help="Compare two eval-history reports side by side: ids, 'latest', 'previous' or "
        "version labels.")] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Evaluate: a labelled dataset (--dataset), the success contract (--contract), or two
    saved reports side by side (--compare A B)."""
    from groundwire.quality.evaluation import run_evaluation

    if contract or compare:
        if compare:
            eval_compare(config, as_json, *compare)
        else:
            eval_contract(config, as_json, index)
        return
    if dataset is None:
        fail(InvalidRequest("give --dataset, --contract or --compare A B"), as_json)
        return

    async def work(gw: Any) -> Any:
        async def after_ingest(name: str, report: Any) -> dict[str, Any] | None:
            tuned = await gw.autotune_if_material(name, report)
            return tuned.summary() if tuned is not None else None

        return await run_evaluation(gw.engine, dataset, split=split, index=index, limit=limit,
                                    progress=sys.stderr, after_ingest=after_ingest)

    result = run_with_app(config, as_json, work)
    if as_json:
        emit(result)
        return
    typer.echo(json.dumps(result, indent=2))


def eval_contract(config: Path | None, as_json: bool, index: str | None,
                  label: str | None = None) -> None:
    """``groundwire eval --contract``: check the contract against the live version of the
    contract's index (or ``index``), print the table, exit 5 on any miss."""
    from groundwire.quality.contract import format_report, run_contract
    from groundwire.versions.service import live_target

    async def work(gw: Any) -> Any:
        physical, serving, live_label = await live_target(
            gw, index or gw.settings.contract.index)
        return await run_contract(serving, index=physical, label=label or live_label,
                                  settings=serving.settings,
                                  progress=sys.stderr)

    report = run_with_app(config, as_json, work)
    if as_json:
        emit(report)
    else:
        typer.echo(format_report(report))
    if not report["passed"]:
        raise typer.Exit(CONTRACT_MISS_EXIT)


def eval_compare(config: Path | None, as_json: bool, a: str, b: str) -> None:
    """``groundwire eval --compare A B``: two saved reports side by side."""
    from groundwire.quality.contract import compare_reports, format_comparison, load_report

    try:
        settings = load_cli_settings(config)
        result = compare_reports(load_report(settings, a), load_report(settings, b))
    except GroundwireError as exc:
        fail(exc, as_json)
        return
    if as_json:
        emit(result)
    else:
        typer.echo(format_comparison(result))


@evalset_app.command("history")
def evalset_history(as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """List the saved contract reports (data_dir/eval_history), oldest first."""
    from groundwire.quality.contract import list_reports

    try:
        reports = list_reports(load_cli_settings(config))
    except GroundwireError as exc:
        fail(exc, as_json)
        return
    rows = [{k: r.get(k) for k in ("id", "created_at", "label", "index", "fingerprint", "passed")}
            for r in reports]
    if as_json:
        emit(rows)
        return
    for r in rows:
        typer.echo(f"{r['id']}  {'pass' if r['passed'] else 'FAIL'}  {r['index']}  "
                   f"{r['label'] or '-'}  {r['fingerprint']}")


@evalset_app.command("generate")
def evalset_generate(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the set to.")],
    index: IndexOpt = "default",
    questions: Annotated[int, typer.Option(help="Questions generated from the corpus.")] = 100,
    unanswerable: Annotated[int, typer.Option(help="Unanswerable questions added.")] = 20,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same set).")] = 0,
    llm: Annotated[bool, typer.Option(help="Let the configured LLM write the questions.")] = True,
    feedback: Annotated[
        bool, typer.Option(help="Add answered questions with positive feedback.")] = True,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Write an eval set (BEIR-like, no corpus: evaluated against the index) from INDEX's own
    chunks, positive feedback and unanswerable questions; use it in contract.eval_sets."""
    from groundwire.quality.evalsets import generate_evalset

    async def work(gw: Any) -> Any:
        physical = await gw.store.resolve_index(index)
        return await generate_evalset(
            gw, index, output, questions=questions, unanswerable=unanswerable, seed=seed,
            use_llm=llm, feedback=feedback, physical=physical)

    info = run_with_app(config, as_json, work)
    if as_json:
        emit(info)
    else:
        typer.echo(f"wrote {info['questions']} questions ({info['by_kind']}) and "
                   f"{info['unanswerable']} unanswerable questions to {output}")
