"""``groundwire tune`` (fusion weights from labelled queries, or ``--auto``: label-free
self-tuning) and ``groundwire adapt`` (on-box domain adaptation of the embedder). Registered in
``cli/main.py``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from groundwire.cli.options import ConfigOpt, IndexOpt, JsonOpt
from groundwire.cli.output import emit, fail, load_cli_settings, run_with_app
from groundwire.errors import InvalidRequest


def tune(
    dataset: Annotated[
        Path | None, typer.Option(help="BEIR-like dataset folder with labels.")] = None,
    split: Annotated[str | None, typer.Option(help="Query split to tune on, e.g. train.")] = None,
    index: Annotated[str | None, typer.Option(help="Index to tune; default: folder name "
                                                   "(--auto: 'default').")] = None,
    save: Annotated[bool, typer.Option(help="Write the result to the config file (--auto: "
                                            "to the store).")] = True,
    auto: Annotated[bool, typer.Option("--auto", help="Label-free: tune on pseudo-questions "
                                                      "generated from the index itself.")] = False,
    questions: Annotated[int | None, typer.Option(
        help="--auto: pseudo-questions (default autotune.questions).")] = None,
    seed: Annotated[int, typer.Option(help="--auto: seed of the pseudo-questions.")] = 0,
    llm_questions: Annotated[int | None, typer.Option(
        help="--auto: sentence questions the configured LLM rewrites first, one call each "
             "(default autotune.llm_questions).")] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Learn fusion weights for an index from labelled queries (--dataset) or, with --auto,
    from pseudo-questions on its own corpus; never below BM25 alone."""
    from groundwire.quality.tuning import run_tuning, save_tuning

    if auto:
        tune_auto(config, as_json, index or "default", questions, seed, save, llm_questions)
        return
    if dataset is None:
        fail(InvalidRequest("give --dataset (labelled) or --auto (label-free)"), as_json)
        return

    async def work(gw: Any) -> Any:
        return await run_tuning(gw.engine, dataset, split=split, index=index,
                                progress=sys.stderr)

    result = run_with_app(config, as_json, work)
    if save:
        settings = load_cli_settings(config)
        result["saved_to"] = str(save_tuning(settings, result["index"], result["best"]["params"]))
    if as_json:
        emit(result)
        return
    typer.echo(json.dumps(result, indent=2))


def tune_auto(config: Any, as_json: bool, index: str, questions: int | None, seed: int,
              save: bool, llm_questions: int | None = None) -> None:
    """Self-tune ``index`` from pseudo-questions; print the result and its evidence."""
    from groundwire.quality.autotune import autotune, save_autotune

    async def work(gw: Any) -> Any:
        await gw.stats(index)  # NotFound (exit 3) for an unknown index
        result = await autotune(gw.engine, index,
                                questions=questions or gw.settings.autotune.questions,
                                seed=seed, llm_questions=llm_questions)
        out = result.as_json()
        if save:
            await save_autotune(gw.engine, result)
            out["saved"] = "store (table index_tuning)"
            out["in_effect"] = gw.tunings.source(index)
        return out

    result = run_with_app(config, as_json, work)
    if as_json:
        emit(result)
        return
    typer.echo(json.dumps(result, indent=2))


def adapt(
    index: IndexOpt = "default",
    max_minutes: Annotated[float, typer.Option(
        help="Wall-clock budget for fine-tuning (generation, training and checks).")] = 10.0,
    questions: Annotated[int, typer.Option(help="Pseudo (question, passage) pairs.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the pseudo-questions and the split.")] = 0,
    hard_negatives: Annotated[bool, typer.Option(
        "--hard-negatives", help="Also train each question against the passage of another "
        "document that BM25 ranks highest (2.4x the time per step on E-Manual; opt-in: it did "
        "not pay at equal wall time there, docs/benchmarks.md).")] = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Fine-tune the embedder on pseudo-questions of an index (CPU, bounded time); keep the
    model only if held-out pseudo-questions improve (then set embedding.model/model_path and
    re-ingest to re-embed)."""
    from groundwire.quality.adaptation import adapt_embedder

    async def work(gw: Any) -> Any:
        await gw.stats(index)
        report = await adapt_embedder(gw.engine, index, max_minutes=max_minutes,
                                      questions=questions, seed=seed,
                                      progress=None if as_json else sys.stderr,
                                      hard_negatives=hard_negatives)
        return report

    result = run_with_app(config, as_json, work)
    if as_json:
        emit(result)
        return
    typer.echo(json.dumps(result, indent=2))
