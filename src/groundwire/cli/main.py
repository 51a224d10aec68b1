"""``groundwire`` CLI. Every command builds Settings once and calls the app facade.

Errors are mapped to exit codes in one place (``_fail``): 2 invalid input or configuration,
3 not found, 4 store unavailable, 1 anything else. With ``--json`` the error is printed to
stdout as ``{"error": {"code", "message"}}``; progress and logs go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from groundwire.errors import (
    ConfigurationError,
    GroundwireError,
    InvalidRequest,
    NotFound,
    StoreUnavailable,
)

T = TypeVar("T")

app = typer.Typer(
    name="groundwire",
    help="Groundwire: cited, verifiable answers over your documents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Inspect the effective configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML config file (default ./groundwire.toml)."),
]
IndexOpt = Annotated[str, typer.Option("--index", "-i", help="Index name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
UriPrefixOpt = Annotated[
    str | None, typer.Option("--uri-prefix", help="Only documents whose uri starts with this.")
]
MetaOpt = Annotated[
    list[str] | None,
    typer.Option("--meta", help="Only documents with this metadata KEY=VALUE (repeatable)."),
]


def _filters(uri_prefix: str | None, meta: list[str] | None) -> dict[str, Any]:
    """CLI filter options -> the SearchRequest filter vocabulary (applied before ranking)."""
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

EXIT_CODES: list[tuple[type[GroundwireError], int]] = [
    (InvalidRequest, 2),
    (ConfigurationError, 2),
    (NotFound, 3),
    (StoreUnavailable, 4),
]


def _settings(config: Path | None) -> Any:
    from groundwire.settings import load_settings

    return load_settings(config)


def _run(config: Path | None, as_json: bool, work: Callable[[Any], Awaitable[T]]) -> T:
    """Build settings and the app, run ``work(app)``, map errors to exit codes."""
    from groundwire.bootstrap import build_app
    from groundwire.observability import configure_logging

    try:
        settings = _settings(config)
        # Commands print their result; logs stay quiet unless a level is configured.
        level = settings.log_level if "log_level" in settings.model_fields_set else "WARNING"
        configure_logging(level, stream=sys.stderr)

        async def main() -> T:
            async with build_app(settings) as gw:
                return await work(gw)

        return asyncio.run(main())
    except GroundwireError as exc:
        _fail(exc, as_json)
        raise  # unreachable: _fail exits


def _fail(exc: GroundwireError, as_json: bool) -> None:
    code = next((c for kind, c in EXIT_CODES if isinstance(exc, kind)), 1)
    if as_json:
        typer.echo(json.dumps({"error": {"code": exc.code, "message": exc.message}}))
    else:
        typer.secho(f"error [{exc.code}]: {exc.message}", fg="red", err=True)
    raise typer.Exit(code)


def _emit(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, default=str))


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="Folder (recursive) or file to ingest.")],
    index: IndexOpt = "default",
    include: Annotated[list[str] | None, typer.Option(help="Glob to include (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Glob to exclude (repeatable).")] = None,
    retry_failed: Annotated[bool, typer.Option(help="Re-process failed documents.")] = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Ingest PATH: new and changed documents are indexed, vanished ones removed."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    progress = Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), transient=as_json, console=Console(stderr=True),
    )
    task = progress.add_task("ingesting", total=None)

    def on_progress(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    async def work(gw: Any) -> Any:
        with progress:
            return await gw.ingest_path(
                path, index=index, include=include, exclude=exclude,
                retry_failed=retry_failed, progress=on_progress,
            )

    report = _run(config, as_json, work)
    data = report.as_json()
    if as_json:
        _emit(data)
    else:
        docs = data["documents"]
        typer.echo(
            f"indexed {docs['indexed']}, unchanged {docs['unchanged']}, failed {docs['failed']}, "
            f"deleted {docs['deleted']}; embedded {data['chunks_embedded']} chunks "
            f"(reused {data['chunks_reused']})"
        )
        for code, count in sorted(data["errors"].items()):
            typer.echo(f"  {code}: {count}")


def _hit_json(hit: Any) -> dict[str, Any]:
    return {
        "uri": hit.uri, "title": hit.title, "text": hit.text, "score": round(hit.score, 6),
        "heading_path": list(hit.heading_path), "char_start": hit.char_start,
        "char_end": hit.char_end,
    }


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Search query.")],
    index: IndexOpt = "default",
    top_k: Annotated[int, typer.Option("--top-k", "-k", help="Number of hits.")] = 10,
    uri_prefix: UriPrefixOpt = None,
    meta: MetaOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Hybrid (BM25 + dense) search over an index."""
    from groundwire.domain import SearchRequest

    filters = _filters(uri_prefix, meta)

    async def work(gw: Any) -> Any:
        return await gw.search(
            SearchRequest(query=query, index=index, top_k=top_k, filters=filters)
        )

    hits, _ = _run(config, as_json, work)
    if as_json:
        _emit({"hits": [_hit_json(h) for h in hits]})
        return
    for n, hit in enumerate(hits, 1):
        where = " › ".join(hit.heading_path)
        suffix = f" › {where}" if where else ""
        typer.echo(f"{n:>2}. {hit.score:.4f}  {hit.uri}  {hit.title}{suffix}")
        typer.echo(f"    {hit.text[:200]}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Question in natural language.")],
    index: IndexOpt = "default",
    uri_prefix: UriPrefixOpt = None,
    meta: MetaOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Answer a question from the index with inline [n] citations (or abstain)."""
    from groundwire.domain import SearchRequest

    filters = _filters(uri_prefix, meta)

    async def work(gw: Any) -> Any:
        return await gw.ask(SearchRequest(query=question, index=index, top_k=10, filters=filters))

    answer = _run(config, as_json, work)
    citations = [
        {"n": c.n, "uri": c.hit.uri, "title": c.hit.title, "text": c.hit.text, "quote": c.quote,
         "heading_path": list(c.hit.heading_path), "char_start": c.hit.char_start,
         "char_end": c.hit.char_end}
        for c in answer.citations
    ]
    if as_json:
        _emit({"answer": answer.text, "abstained": answer.abstained,
               "confidence": answer.confidence, "citations": citations})
        return
    typer.echo(answer.text)
    for c in citations:
        typer.echo(f"  [{c['n']}] {c['uri']}  {c['title']}")


@app.command()
def status(index: IndexOpt = "default", as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Document counts by state and errors by code."""

    from groundwire.domain import DocumentState

    async def work(gw: Any) -> Any:
        stats = await gw.stats(index)
        failed = await gw.documents(index, state=DocumentState.FAILED, limit=20)
        return stats, failed

    stats, failed = _run(config, as_json, work)
    data = {
        "index": stats.name,
        "documents": dict(stats.documents_by_state),
        "errors": dict(stats.errors_by_code),
        "chunks": stats.chunks,
        "generation": stats.generation,
        "failed_examples": [
            {"uri": d.uri, "error_code": d.error_code, "error_message": d.error_message}
            for d in failed
        ],
    }
    if as_json:
        _emit(data)
        return
    typer.echo(f"index {data['index']} (generation {data['generation']}, {data['chunks']} chunks)")
    for state, n in data["documents"].items():
        typer.echo(f"  {state:<8} {n}")
    for d in data["failed_examples"]:
        typer.echo(f"  failed: {d['uri']}  [{d['error_code']}] {d['error_message']}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default server.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default server.port).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the HTTP API and the ask page."""
    import uvicorn

    from groundwire.api.app import create_app
    from groundwire.observability import configure_logging

    try:
        settings = _settings(config)
    except GroundwireError as exc:
        _fail(exc, False)
        return
    configure_logging(settings.log_level, stream=sys.stderr)
    bind_host = host or settings.server.host
    bind_port = port or settings.server.port
    typer.echo(f"Groundwire is serving on http://{bind_host}:{bind_port}/", err=True)
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="warning",
                access_log=False)


@app.command("eval")
def evaluate(
    dataset: Annotated[Path, typer.Option(help="BEIR-like dataset folder.")],
    split: Annotated[str | None, typer.Option(help="Query split (queries_<split>.jsonl).")] = None,
    index: Annotated[
        str | None, typer.Option(help="Index to (re)use; default: eval-<folder name>.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Evaluate only the first N queries.")] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Ingest a labelled dataset into a named index (reused) and report retrieval metrics."""
    from groundwire.quality.evaluation import run_evaluation

    async def work(gw: Any) -> Any:
        return await run_evaluation(gw, dataset, split=split, index=index, limit=limit,
                                    progress=sys.stderr)

    result = _run(config, as_json, work)
    if as_json:
        _emit(result)
        return
    typer.echo(json.dumps(result, indent=2))


@app.command()
def tune(
    dataset: Annotated[Path, typer.Option(help="BEIR-like dataset folder with labels.")],
    split: Annotated[str | None, typer.Option(help="Query split to tune on, e.g. train.")] = None,
    index: Annotated[str | None, typer.Option(help="Index to tune; default: folder name.")] = None,
    save: Annotated[bool, typer.Option(help="Write the result to the config file.")] = True,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Learn fusion weights for an index from labelled queries; never below BM25 alone."""
    from groundwire.quality.tuning import run_tuning, save_tuning

    async def work(gw: Any) -> Any:
        return await run_tuning(gw, dataset, split=split, index=index, progress=sys.stderr)

    result = _run(config, as_json, work)
    if save:
        settings = _settings(config)
        result["saved_to"] = str(save_tuning(settings, result["index"], result["best"]["params"]))
    if as_json:
        _emit(result)
        return
    typer.echo(json.dumps(result, indent=2))


@config_app.command("show")
def config_show(config: ConfigOpt = None) -> None:
    """Print the effective configuration (secrets masked) as JSON."""
    from groundwire.settings import masked

    try:
        settings = _settings(config)
    except GroundwireError as exc:
        _fail(exc, False)
        return
    typer.echo(json.dumps(masked(settings), indent=2))


@config_app.command("docs")
def config_docs() -> None:
    """Print the configuration reference (Markdown) generated from the settings model."""
    from groundwire.settings import reference_markdown

    typer.echo(reference_markdown(), nl=False)


def run() -> None:
    """Console-script entry point."""
    app()
