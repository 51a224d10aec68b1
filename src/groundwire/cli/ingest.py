"""``groundwire ingest`` (index a folder or file, then self-tune after a material change as a
served ingest job does) and ``groundwire status`` (an index's document counts, errors,
retrieval parameters and who may read it). Registered in ``cli/main.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from groundwire.cli.options import ConfigOpt, IndexOpt, JsonOpt
from groundwire.cli.output import emit, run_with_app


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
    autotune: Annotated[bool, typer.Option(
        "--autotune/--no-autotune", help="Self-tune the index's fusion weights after a "
        "material change (autotune settings), as a served ingest job does; at a million chunks "
        "this takes minutes.")] = True,
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
        # What an ingest job of the server does next: self-tune after a material change.
        tuned = await gw.autotune_if_material(index, report) if autotune else None
        physical, _ = await gw.versions.resolve(index)
        owner = tenant or gw.settings.security.default_tenant
        access = await gw.store.access_summary(tenant=owner, index=physical)
        return report, owner, access, tuned.summary() if tuned is not None else None

    report, owner, access, tuned = run_with_app(config, as_json, work)
    data = report.as_json()
    if as_json:
        emit({**data, "access": access_json(access), "autotune": tuned})
    else:
        docs = data["documents"]
        typer.echo(
            f"indexed {docs['indexed']}, unchanged {docs['unchanged']}, failed {docs['failed']}, "
            f"deleted {docs['deleted']}; embedded {data['chunks_embedded']} chunks "
            f"(reused {data['chunks_reused']})"
        )
        for code, count in sorted(data["errors"].items()):
            typer.echo(f"  {code}: {count}")
        if tuned is not None:
            params = tuned["params"]
            typer.echo(f"auto-tuned retrieval: {params['fusion']} fusion, dense weight "
                       f"{params['dense_weight']:g} ({tuned['reason']})")
        note = admin_only_note(access, tenant=owner)
        if note:
            typer.secho(f"note: {note}", fg="yellow", err=True)



def status(index: IndexOpt = "default", as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Document counts by state and errors by code."""

    from groundwire.domain import DocumentState
    from groundwire.quality.autotune import tuning_status
    from groundwire.security.visibility import access_json, admin_only_note

    async def work(gw: Any) -> Any:
        stats = await gw.stats(index)
        failed = await gw.documents(index, state=DocumentState.FAILED, limit=20)
        access = await gw.store.access_summary(index=stats.name)  # every tenant
        dups = (await gw.store.count_duplicates(stats.name),
                await gw.store.duplicate_pairs(stats.name, limit=10))
        return stats, failed, tuning_status(gw.engine, index), access, dups

    stats, failed, retrieval, access, (dup_count, dup_pairs) = run_with_app(config, as_json,
                                                                            work)
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
        # ingest.near_duplicates: kept but left out of search (the first 10 pairs)
        "near_duplicates": {"documents": dup_count, "pairs": [
            {"duplicate": p.duplicate_uri, "of": p.kept_uri} for p in dup_pairs]},
    }
    if as_json:
        emit(data)
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
    if dup_count:
        typer.echo(f"  near-duplicates {dup_count} (left out of search)")
        for p in dup_pairs:
            typer.echo(f"    {p.duplicate_uri} -> newer {p.kept_uri}")
    note = admin_only_note(access)
    if note:
        typer.echo(f"  note: {note}")
