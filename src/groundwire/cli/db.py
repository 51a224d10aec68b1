"""``groundwire db``: schema status, upgrades, backup and restore (``stores/postgres/upgrade.py``).

``db backup [--out FILE]`` writes a ``pg_dump --format=custom`` snapshot of the configured
database (embedded or ``database_url``; default ``<data_dir>/backups/groundwire-<UTC
time>-schema<N>.dump``) while it stays online. ``db restore FILE --yes`` replaces the configured
database's Groundwire objects with the dump's (``pg_restore --clean`` in one transaction);
without ``--yes`` it refuses (exit 2, ``db.restore_unconfirmed``) and changes nothing.

``db migrate`` backs the database up with pg_dump to ``<data_dir>/backups/`` first (unless
``--no-backup``), then applies every pending migration in one transaction; ``--dry-run``
applies them in a transaction that is rolled back and changes nothing. A failed migration exits
4 with a message naming the migration, the error, the backup and the restore command.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from groundwire.cli.options import ConfigOpt, JsonOpt
from groundwire.cli.output import emit, fail, load_cli_settings
from groundwire.errors import GroundwireError

T = TypeVar("T")
db_app: typer.Typer = typer.Typer(help="Database: schema status, migrations, backup and restore.",
                     no_args_is_help=True)


def _with_url(config: Path | None, as_json: bool,
              work: Callable[[str, Any], Coroutine[Any, Any, T]]) -> T:
    """Run ``work(url, settings)`` against the configured database (the embedded server is
    started for it and released afterwards); errors exit with ``fail``'s codes."""
    from groundwire.stores.postgres.embedded import EmbeddedPostgres

    try:
        settings = load_cli_settings(config)
        provider = None
        if settings.database_url is not None:
            url = settings.database_url.get_secret_value()
        else:
            provider = EmbeddedPostgres(settings.data_dir)
            url = provider.url()
        try:
            return asyncio.run(work(url, settings))
        finally:
            if provider is not None:
                provider.release()
    except GroundwireError as exc:
        fail(exc, as_json)


@db_app.command("status")
def db_status(as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Applied and pending schema migrations."""
    from groundwire.stores.postgres.upgrade import schema_status

    async def work(url: str, settings: Any) -> Any:
        return (await schema_status(url)).as_json()

    result = _with_url(config, as_json, work)
    if as_json:
        emit(result)
        return
    typer.echo(f"schema version {max(result['applied'], default=0)}; "
               f"{len(result['pending'])} pending; job queue schema {result['queue_schema']}")
    for m in result["pending"]:
        typer.echo(f"  pending {m['version']:04d}_{m['name']}")


@db_app.command("migrate")
def db_migrate(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="List pending migrations and check they apply (in a transaction "
        "that is rolled back); change nothing.")] = False,
    no_backup: Annotated[bool, typer.Option(
        "--no-backup", help="Skip the pg_dump backup taken before migrating.")] = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Back up the database, then apply pending schema migrations in one transaction."""
    from groundwire.stores.postgres.upgrade import dry_run as check
    from groundwire.stores.postgres.upgrade import upgrade

    async def work(url: str, settings: Any) -> Any:
        if dry_run:
            return await check(url)
        return await upgrade(url, None if no_backup else Path(settings.data_dir) / "backups")

    result = _with_url(config, as_json, work)
    if as_json:
        emit(result)
    elif dry_run:
        for m in result["pending"]:
            typer.echo(f"pending {m['version']:04d}_{m['name']}")
        queue_pending = result["queue_schema"] == "pending"
        if queue_pending:
            typer.echo("pending job queue schema (procrastinate)")
        typer.echo("nothing pending" if not result["pending"] and not queue_pending else
                   ("all pending migrations apply (rolled back: nothing changed)" if result["ok"]
                    else f"would FAIL: {result['error']} (nothing changed)"))
    elif result["applied"] or result["queue_schema_applied"]:
        queue = "; job queue schema created" if result["queue_schema_applied"] else ""
        typer.echo(f"applied {result['applied']}; schema version {result['schema']}{queue}; "
                   f"backup {result['backup'] or '(none)'}")
    else:
        typer.echo(f"schema is up to date (version {result['schema']})")
    if dry_run and not result["ok"]:
        raise typer.Exit(4)


@db_app.command("backup")
def db_backup(
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Dump file to write (default <data_dir>/backups/"
        "groundwire-<UTC time>-schema<N>.dump).")] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Back up the database with pg_dump (custom format; the database stays online)."""
    from groundwire.stores.postgres.upgrade import backup, dump_to, schema_status

    async def work(url: str, settings: Any) -> Any:
        if out is not None:
            target = await asyncio.to_thread(dump_to, url, out)
        else:
            schema = max((await schema_status(url)).applied, default=0)
            target = await asyncio.to_thread(
                backup, url, Path(settings.data_dir) / "backups", schema)
        return {"backup": str(target), "bytes": target.stat().st_size}

    result = _with_url(config, as_json, work)
    if as_json:
        emit(result)
    else:
        typer.echo(f"backup {result['backup']} ({result['bytes']} bytes); restore it with "
                   f"`groundwire db restore {result['backup']} --yes`")


@db_app.command("restore")
def db_restore(
    dump: Annotated[Path, typer.Argument(help="A dump written by `groundwire db backup`.")],
    yes: Annotated[bool, typer.Option(
        "--yes", help="Confirm: replace the configured database's contents with the dump's.")
    ] = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Restore a backup into the configured database (pg_restore --clean, one transaction).
    Stop API servers and workers first."""
    from groundwire.errors import InvalidRequest
    from groundwire.stores.postgres.upgrade import restore

    if not yes:
        fail(InvalidRequest(
            f"restoring {dump} replaces every document, key and setting in the configured "
            f"database with the backup's; run again with --yes to confirm",
            code="db.restore_unconfirmed"), as_json)
    if not dump.is_file():
        fail(InvalidRequest(f"no backup file {dump}", code="db.backup_missing"), as_json)

    async def work(url: str, settings: Any) -> Any:
        await asyncio.to_thread(restore, url, dump)
        return {"restored": str(dump)}

    result = _with_url(config, as_json, work)
    if as_json:
        emit(result)
    else:
        typer.echo(f"restored {result['restored']}")
