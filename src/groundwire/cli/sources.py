"""``groundwire source add|list|remove`` and ``groundwire sync``: named sources (connectors
with options, an index, a tenant and a schedule), synced now or by the workers on schedule.
See ``groundwire/sources/service.py`` and docs/connectors.md.

``sync NAME`` exits like any command (``source.unreachable`` exits 1: nothing was deleted);
``sync`` without a name syncs every source of the tenant and exits 1 when any failed, after
printing every result."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from groundwire.cli.options import ConfigOpt, IndexOpt, JsonOpt, TenantOpt
from groundwire.cli.output import emit, run_with_app

source_app = typer.Typer(help="Named sources: add, list, remove (sync with `groundwire sync`).",
                         no_args_is_help=True)


def parse_options(pairs: list[str] | None, options_json: str | None) -> dict[str, Any]:
    """``--option k=v`` (repeatable; a value that parses as JSON is taken as JSON, so lists
    and numbers work) merged over ``--options-json``. Bad input: ``typer.BadParameter``."""
    options: dict[str, Any] = {}
    if options_json:
        try:
            loaded = json.loads(options_json)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"--options-json is not JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise typer.BadParameter("--options-json must be a JSON object")
        options.update(loaded)
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--option expects KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def _service(gw: Any) -> Any:
    from groundwire.sources.service import SourceService

    return SourceService(gw)


@source_app.command("add")
def source_add(
    name: Annotated[str, typer.Argument(help="Source name (a-z, 0-9, '.', '_', '-').")],
    type_: Annotated[str, typer.Argument(metavar="TYPE", help="Connector: folder, git, web, "
                                         "sql, s3, confluence, zendesk or a plug-in's.")],
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="Connector option KEY=VALUE (repeatable; JSON values allowed; "
        "credentials as env:VAR or file:/path).")] = None,
    options_json: Annotated[str | None, typer.Option(
        "--options-json", help="Connector options as one JSON object.")] = None,
    schedule: Annotated[str | None, typer.Option(
        help="Sync schedule: 'every 15m' (s, m, h, d) or a cron expression.")] = None,
    index: IndexOpt = "default",
    tenant: TenantOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Add a named source (nothing is synced until `groundwire sync` or its schedule)."""
    options = parse_options(option, options_json)
    view = run_with_app(config, as_json, lambda gw: _service(gw).add(
        name, type_, options, index=index, tenant=tenant, schedule=schedule))
    if as_json:
        emit(view)
    else:
        typer.echo(f"added source {view['name']} ({view['type']} -> index {view['index']})"
                   + (f", next run {view['next_run_at']}" if view["next_run_at"] else ""))


@source_app.command("list")
def source_list(tenant: TenantOpt = None, as_json: JsonOpt = False,
                config: ConfigOpt = None) -> None:
    """Sources with masked options, last sync, documents by state, errors and next run."""
    views = run_with_app(config, as_json, lambda gw: _service(gw).list_sources(tenant))
    if as_json:
        emit({"sources": views})
        return
    if not views:
        typer.echo("no sources")
    for v in views:
        docs = ", ".join(f"{k} {n}" for k, n in sorted(v["documents"].items())) or "no documents"
        typer.echo(f"{v['name']}  {v['type']} -> {v['index']}  last sync "
                   f"{v['last_sync_at'] or 'never'} ({v['last_status'] or '-'}); {docs}; "
                   f"next run {v['next_run_at'] or '-'}")
        typer.echo(f"  options: {json.dumps(v['options'], sort_keys=True)}")
        if v["last_error"]:
            typer.echo(f"  last error [{v['last_error']['code']}]: "
                       f"{v['last_error']['message']}")
        for code, count in sorted(v["errors"].items()):
            typer.echo(f"  {code}: {count}")


@source_app.command("remove")
def source_remove(
    name: str,
    keep_documents: Annotated[bool, typer.Option(
        help="Keep the source's documents in the index.")] = False,
    tenant: TenantOpt = None, as_json: JsonOpt = False, config: ConfigOpt = None,
) -> None:
    """Remove a named source and (unless --keep-documents) its documents."""
    result = run_with_app(config, as_json, lambda gw: _service(gw).remove(
        name, tenant, delete_documents=not keep_documents))
    if as_json:
        emit(result)
    else:
        typer.echo(f"removed source {name}; {result['documents_deleted']} documents deleted")


def sync(
    name: Annotated[str | None, typer.Argument(help="Source to sync (default: all).")] = None,
    tenant: TenantOpt = None, as_json: JsonOpt = False, config: ConfigOpt = None,
) -> None:
    """Sync a named source now (or every source): new and changed documents are indexed,
    documents gone at the source removed; an unreachable source deletes nothing."""

    async def work(gw: Any) -> Any:
        service = _service(gw)
        if name is not None:
            return [await service.sync(name, tenant)]
        return await service.sync_all(tenant)

    results = run_with_app(config, as_json, work)
    if as_json:
        emit(results[0] if name is not None else {"sources": results})
    else:
        for r in results:
            if r["status"] != "ok":
                typer.secho(f"{r['name']}: {r['status']} [{r['error']['code']}] "
                            f"{r['error']['message']}", fg="red", err=True)
                continue
            d = r["documents"]
            typer.echo(f"{r['name']}: indexed {d['indexed']}, unchanged {d['unchanged']}, "
                       f"failed {d['failed']}, deleted {d['deleted']}; embedded "
                       f"{r['chunks_embedded']} chunks")
    if any(r["status"] != "ok" for r in results):
        raise typer.Exit(1)
