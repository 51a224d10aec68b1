"""``groundwire db``: schema status and upgrades (``stores/postgres/upgrade.py``).

``db migrate`` backs the database up with pg_dump to ``<data_dir>/backups/`` first (unless
``--no-backup``), then applies every pending migration in one transaction; ``--dry-run``
applies them in a transaction that is rolled back and changes nothing. A failed migration exits
4 with a message naming the migration, the error, the backup and the restore command.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from groundwire.cli.main import ConfigOpt, JsonOpt, _emit, _fail, _settings
from groundwire.errors import GroundwireError

T = TypeVar("T")
db_app = typer.Typer(help="Database schema: status and migrations.", no_args_is_help=True)


def _with_url(config: Path | None, as_json: bool,
              work: Callable[[str, Any], Awaitable[T]]) -> T:
    """Run ``work(url, settings)`` against the configured database (the embedded server is
    started for it and released afterwards); errors exit with ``_fail``'s codes."""
    from groundwire.stores.postgres.embedded import EmbeddedPostgres

    try:
        settings = _settings(config)
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
        _fail(exc, as_json)
        raise  # unreachable


@db_app.command("status")
def db_status(as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Applied and pending schema migrations."""
    from groundwire.stores.postgres.upgrade import schema_status

    async def work(url: str, settings: Any) -> Any:
        return (await schema_status(url)).as_json()

    result = _with_url(config, as_json, work)
    if as_json:
        _emit(result)
        return
    typer.echo(f"schema version {max(result['applied'], default=0)}; "
               f"{len(result['pending'])} pending")
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
        _emit(result)
    elif dry_run:
        for m in result["pending"]:
            typer.echo(f"pending {m['version']:04d}_{m['name']}")
        typer.echo("nothing pending" if not result["pending"] else
                   ("all pending migrations apply (rolled back: nothing changed)" if result["ok"]
                    else f"would FAIL: {result['error']} (nothing changed)"))
    elif result["applied"]:
        typer.echo(f"applied {result['applied']}; schema version {result['schema']}; "
                   f"backup {result['backup'] or '(none)'}")
    else:
        typer.echo(f"schema is up to date (version {result['schema']})")
    if dry_run and not result["ok"]:
        raise typer.Exit(4)
