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
records_app = typer.Typer(help="Answer records: export and purge.", no_args_is_help=True)
app.add_typer(records_app, name="records")


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


SHUTDOWN_GRACE_S = 30


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
    tenant: Annotated[str | None, typer.Option(
        "--tenant", "-t", help="Tenant the documents belong to (default "
        "security.default_tenant). Who may read each one comes from sidecars "
        "(<file>.permissions.json, .permissions.json per folder), front matter or record "
        "fields, else security.default_readers.")] = None,
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

    from groundwire.security.visibility import access_json, admin_only_note

    async def work(gw: Any) -> Any:
        with progress:
            report = await gw.ingest_path(
                path, index=index, include=include, exclude=exclude,
                retry_failed=retry_failed, progress=on_progress, tenant=tenant,
            )
        physical, _ = await gw.versions.resolve(gw, index)
        owner = tenant or gw.settings.security.default_tenant
        return report, owner, await gw.store.access_summary(tenant=owner, index=physical)

    report, owner, access = _run(config, as_json, work)
    data = report.as_json()
    if as_json:
        _emit({**data, "access": access_json(access)})
    else:
        docs = data["documents"]
        typer.echo(
            f"indexed {docs['indexed']}, unchanged {docs['unchanged']}, failed {docs['failed']}, "
            f"deleted {docs['deleted']}; embedded {data['chunks_embedded']} chunks "
            f"(reused {data['chunks_reused']})"
        )
        for code, count in sorted(data["errors"].items()):
            typer.echo(f"  {code}: {count}")
        note = admin_only_note(access, tenant=owner)
        if note:
            typer.secho(f"note: {note}", fg="yellow", err=True)


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
         "char_end": c.hit.char_end, "support": c.support}
        for c in answer.citations
    ]
    if as_json:
        _emit({"answer": answer.text, "abstained": answer.abstained,
               "confidence": answer.confidence, "citations": citations,
               "answerer": answer.answerer, "degraded": answer.degraded,
               "degraded_reason": answer.degraded_reason, "provider": answer.provider,
               "model": answer.model, "groundedness": answer.groundedness,
               "usage": dict(answer.usage) if answer.usage else None, "cost": answer.cost,
               "prompt_id": answer.prompt_id,
               "attempts": [dict(a) for a in answer.attempts]})
        return
    typer.echo(answer.text)
    for c in citations:
        typer.echo(f"  [{c['n']}] {c['uri']}  {c['title']}")
    if answer.degraded:
        typer.echo(f"(degraded: extractive answer, {answer.degraded_reason})", err=True)
    elif answer.provider:
        typer.echo(f"(answered by {answer.provider}, groundedness {answer.groundedness})",
                   err=True)


@app.command()
def status(index: IndexOpt = "default", as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Document counts by state and errors by code."""

    from groundwire.domain import DocumentState
    from groundwire.quality.autotune import tuning_status
    from groundwire.security.visibility import access_json, admin_only_note

    async def work(gw: Any) -> Any:
        stats = await gw.stats(index)
        failed = await gw.documents(index, state=DocumentState.FAILED, limit=20)
        access = await gw.store.access_summary(index=stats.name)  # every tenant
        return stats, failed, tuning_status(gw, index), access

    stats, failed, retrieval, access = _run(config, as_json, work)
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
        "retrieval": retrieval,
        "access": access_json(access),
    }
    if as_json:
        _emit(data)
        return
    typer.echo(f"index {data['index']} (generation {data['generation']}, {data['chunks']} chunks)")
    typer.echo(f"  retrieval ({retrieval['source']}): {retrieval['params']}")
    if retrieval.get("auto"):
        auto = retrieval["auto"]
        typer.echo(f"  auto-tuned {auto.get('tuned_at')} on generation {auto.get('generation')}: "
                   f"{auto.get('questions')} pseudo-questions, held-out nDCG@10 "
                   f"{auto.get('held_out_ndcg@10')}; {auto.get('reason')}")
    for state, n in data["documents"].items():
        typer.echo(f"  {state:<8} {n}")
    for d in data["failed_examples"]:
        typer.echo(f"  failed: {d['uri']}  [{d['error_code']}] {d['error_message']}")
    note = admin_only_note(access)
    if note:
        typer.echo(f"  note: {note}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default server.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default server.port).")] = None,
    dev: Annotated[bool, typer.Option(
        "--dev", help="Local development: requests without an API key act as an admin of the "
        "default tenant (security.dev_mode). Refused on non-loopback addresses.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Serve the HTTP API and the ask page."""
    import uvicorn
    from pydantic import ValidationError

    from groundwire.api.app import create_app
    from groundwire.observability import configure_logging

    try:
        settings = _settings(config)
        overrides: dict[str, Any] = {}
        if host:
            overrides["server"] = settings.server.model_copy(update={"host": host})
        if dev:
            overrides["security"] = settings.security.model_copy(update={"dev_mode": True})
        _check_dev_bind(settings, host, dev)
        if overrides:
            try:
                settings = type(settings).model_validate({**settings.model_dump(), **{
                    k: v.model_dump() for k, v in overrides.items()}})
            except ValidationError as exc:  # one coded line, not a pydantic traceback
                raise ConfigurationError("invalid configuration: " + "; ".join(
                    f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                    for err in exc.errors())) from exc
        api = create_app(settings)  # e.g. telemetry.otlp_endpoint without the exporter
    except GroundwireError as exc:
        _fail(exc, False)
        return
    configure_logging(settings.log_level, stream=sys.stderr)
    bind_host = settings.server.host
    if settings.security.dev_mode:
        typer.echo("dev mode: requests without an API key act as an admin of tenant "
                   f"{settings.security.default_tenant!r} (loopback only)", err=True)
    bind_port = port or settings.server.port
    typer.echo(f"Groundwire is serving on http://{bind_host}:{bind_port}/", err=True)
    # SIGTERM: requests in flight get SHUTDOWN_GRACE_S to finish (a `wait=true` ingest may
    # wait on a job no worker runs), then they are cancelled and the app closes.
    uvicorn.run(api, host=bind_host, port=bind_port, log_level="warning", access_log=False,
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S)


def _check_dev_bind(settings: Any, host: str | None, dev: bool) -> None:
    """Dev mode admits requests without a key as an admin: refused on a non-loopback bind,
    as one coded line (exit code of a configuration error)."""
    from groundwire.security.hosts import is_loopback_address

    bind = host or settings.server.host
    if (dev or settings.security.dev_mode) and not is_loopback_address(bind):
        raise ConfigurationError(
            f"dev mode lets requests without an API key in as an admin, so it binds only a "
            f"loopback address, not {bind!r}: use --host 127.0.0.1, or serve without --dev "
            "and create keys with `groundwire keys create`", code="security.dev_mode_not_loopback")


@app.command("eval")
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
    from groundwire.cli.quality import eval_compare, eval_contract
    from groundwire.quality.evaluation import run_evaluation

    if contract or compare:
        if compare:
            eval_compare(config, as_json, *compare)
        else:
            eval_contract(config, as_json, index)
        return
    if dataset is None:
        _fail(InvalidRequest("give --dataset, --contract or --compare A B"), as_json)
        return

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
        from groundwire.cli.tuning import tune_auto

        tune_auto(config, as_json, index or "default", questions, seed, save, llm_questions)
        return
    if dataset is None:
        _fail(InvalidRequest("give --dataset (labelled) or --auto (label-free)"), as_json)
        return

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


FAIL_ON_EXIT = 5  # `assess --fail-on`: the verdict is at or below the gate


@app.command()
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
        _fail(InvalidRequest("give a PATH to assess, or --index [NAME]"), False)
    if fail_on not in (None, "not_ready", "warnings"):
        _fail(InvalidRequest("--fail-on must be 'not_ready' or 'warnings'"), False)
    err = Console(stderr=True)
    status = err.status("assessing…")

    def on_progress(stage: str, done: int, total: int | None) -> None:
        of = f"/{total}" if total else ""
        status.update(f"assessing: {stage} {done}{of}")

    try:
        settings = _settings(config)
        if stale_days is not None:
            settings = settings.model_copy(
                update={"assess": settings.assess.model_copy(update={"stale_days": stale_days})}
            )
        asked = read_questions(questions) if questions is not None else None
    except GroundwireError as exc:
        _fail(exc, False)
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
            _fail(exc, False)
            return
    else:
        async def work(gw: Any) -> Any:
            with status:
                return await run_assessment(
                    AssessmentSource.of_index(index_name or "default"), settings,
                    embedder=gw.retriever.embedder if model else None, store=gw.store,
                    questions=asked, progress=on_progress)

        report = _run(config, False, work)

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


@app.command()
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

    state = _run(config, as_json, work)
    if as_json:
        _emit(state)
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
        since_at, until_at = _when(since), _when(until)
    except InvalidRequest as exc:
        _fail(exc, False)
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

    lines = _run(config, False, work)
    if output:
        typer.echo(f"wrote {lines} lines to {output}", err=True)


@records_app.command("purge")
def records_purge(config: ConfigOpt = None) -> None:
    """Delete records older than monitoring.retention_days now (the server does it hourly)."""

    async def work(gw: Any) -> int:
        count: int = await gw.monitor().purge()
        return count

    typer.echo(f"purged {_run(config, False, work)} records")


def _when(value: str | None) -> Any:
    """ISO 8601 (naive = UTC) or a relative age like 30m, 12h, 7d -> aware datetime."""
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


# Command groups in their own modules (cli/<topic>.py); they import helpers from this module.
from groundwire.cli.db import db_app  # noqa: E402
from groundwire.cli.quality import evalset_app  # noqa: E402
from groundwire.cli.versions import versions_app  # noqa: E402

app.add_typer(evalset_app, name="evalset")
app.add_typer(versions_app, name="versions")
app.add_typer(db_app, name="db")
from groundwire.cli.keys import keys_app, users_app  # noqa: E402

app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
from groundwire.cli.audit import audit_app  # noqa: E402

app.add_typer(audit_app, name="audit")
from groundwire.cli.tuning import adapt  # noqa: E402

app.command("adapt")(adapt)
from groundwire.cli.worker import worker  # noqa: E402

app.command("worker")(worker)


def run() -> None:
    """Console-script entry point."""
    app()
