"""Schema upgrades on real PostgreSQL: a store made by the previous schema (migrations up to
N-1, with data) is upgraded with a pg_dump backup first; a dry run changes nothing; a failing
migration leaves the schema unchanged and says how to restore; the backup restores."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from processes import clean_env, groundwire_exe

from groundwire.bootstrap import build_app
from groundwire.stores.postgres.migrations import Migration, available_migrations
from groundwire.stores.postgres.upgrade import (
    MigrationFailed,
    dry_run,
    pg_dump_path,
    schema_status,
    upgrade,
)

pytestmark = pytest.mark.integration


def _schema(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY 1, 2").fetchall() + conn.execute(
            "SELECT version::text, name, '' FROM schema_migrations ORDER BY 1").fetchall()


async def test_upgrade_from_previous_schema_with_backup_and_dry_run(
    database_url: str, pg_admin_url: str, tmp_path: Path, make_settings: Any
) -> None:
    everything = available_migrations()
    previous, latest = everything[:-1], everything[-1]
    assert (await upgrade(database_url, None, previous))["applied"] == [
        m.version for m in previous]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO indexes (name) VALUES ('kept')")

    before = _schema(database_url)
    checked = await dry_run(database_url)
    assert checked["ok"] is True
    assert [m["version"] for m in checked["pending"]] == [latest.version]
    assert _schema(database_url) == before  # the dry run changed nothing

    broken = Migration(9999, "broken", "CREATE TABLE half_done (x int); SELECT 1/0;")
    with pytest.raises(MigrationFailed) as failure:
        await upgrade(database_url, tmp_path / "backups", [*everything, broken])
    message = failure.value.message
    assert "9999_broken" in message and "division by zero" in message
    assert "pg_restore" in message and str(tmp_path / "backups") in message
    assert "unchanged" in message
    assert _schema(database_url) == before  # latest was rolled back with the broken one

    done = await upgrade(database_url, tmp_path / "backups")
    assert done["applied"] == [latest.version]
    dump = Path(done["backup"])
    assert dump.exists() and dump.stat().st_size > 0
    assert (await schema_status(database_url)).pending == []
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT 1 FROM indexes WHERE name = 'kept'").fetchone()
    async with build_app(make_settings(embedding={"provider": "fake"})) as gw:
        assert "kept" in await gw.store.list_indexes()

    # The backup restores: a new database gets the pre-upgrade schema and data back.
    name = f"r_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        target = pg_admin_url.replace("/postgres?", f"/{name}?")
        restore = str(Path(pg_dump_path()).with_name("pg_restore"))
        subprocess.run([restore, "--no-owner", f"--dbname={target}", str(dump)], check=True,
                       capture_output=True, timeout=120)
        assert _schema(target) == before
        with psycopg.connect(target) as conn:
            assert conn.execute("SELECT 1 FROM indexes WHERE name = 'kept'").fetchone()
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_cli_db_migrate(database_url: str, tmp_path: Path) -> None:
    env = clean_env(GROUNDWIRE_DATABASE_URL=database_url,
                    GROUNDWIRE_DATA_DIR=str(tmp_path / "data"))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([groundwire_exe(), "db", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)

    pending = json.loads(cli("migrate", "--dry-run", "--json").stdout)
    assert len(pending["pending"]) == len(available_migrations()) and pending["ok"]
    assert pending["queue_schema"] == "pending"
    assert "pending job queue schema (procrastinate)" in cli("migrate", "--dry-run").stdout
    status = json.loads(cli("status", "--json").stdout)
    assert status["applied"] == [] and status["queue_schema"] == "pending"  # unchanged
    applied = json.loads(cli("migrate", "--json").stdout)
    assert applied["applied"] == [m.version for m in available_migrations()]
    assert applied["queue_schema_applied"] is True
    assert Path(applied["backup"]).exists()
    assert json.loads(cli("status", "--json").stdout)["queue_schema"] == "present"
    with psycopg.connect(database_url) as conn:  # a worker can start on this database
        assert conn.execute("SELECT to_regclass('public.procrastinate_jobs')").fetchone()[0]
    again = cli("migrate")
    assert again.returncode == 0 and "up to date" in again.stdout
