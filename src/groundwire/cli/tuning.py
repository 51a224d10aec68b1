"""``groundwire tune --auto`` (label-free self-tuning) and ``groundwire adapt`` (on-box domain
adaptation of the embedder). Registered in ``cli/main.py``."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from groundwire.cli.main import ConfigOpt, IndexOpt, JsonOpt, _emit, _run


def tune_auto(config: Any, as_json: bool, index: str, questions: int | None, seed: int,
              save: bool, llm_questions: int | None = None) -> None:
    """Self-tune ``index`` from pseudo-questions; print the result and its evidence."""
    from groundwire.quality.autotune import autotune, save_autotune

    async def work(gw: Any) -> Any:
        await gw.stats(index)  # NotFound (exit 3) for an unknown index
        result = await autotune(gw, index, questions=questions or gw.settings.autotune.questions,
                                seed=seed, llm_questions=llm_questions)
        out = result.as_json()
        if save:
            await save_autotune(gw, result)
            out["saved"] = "store (table index_tuning)"
            out["in_effect"] = gw.tunings.source(index)
        return out

    result = _run(config, as_json, work)
    if as_json:
        _emit(result)
        return
    typer.echo(json.dumps(result, indent=2))


def adapt(
    index: IndexOpt = "default",
    max_minutes: Annotated[float, typer.Option(
        help="Wall-clock budget for fine-tuning (generation, training and checks).")] = 10.0,
    questions: Annotated[int, typer.Option(help="Pseudo (question, passage) pairs.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the pseudo-questions and the split.")] = 0,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Fine-tune the embedder on pseudo-questions of an index (CPU, bounded time); keep the
    model only if held-out pseudo-questions improve (then set embedding.model/model_path and
    re-ingest to re-embed)."""
    from groundwire.quality.adaptation import adapt_embedder

    async def work(gw: Any) -> Any:
        await gw.stats(index)
        report = await adapt_embedder(gw, index, max_minutes=max_minutes, questions=questions,
                                      seed=seed, progress=None if as_json else sys.stderr)
        return report

    result = _run(config, as_json, work)
    if as_json:
        _emit(result)
        return
    typer.echo(json.dumps(result, indent=2))
