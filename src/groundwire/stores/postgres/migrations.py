"""Versioned schema migrations: numbered ``migrations/NNNN_name.sql`` files applied in order.

Applied under a transaction-scoped advisory lock, so several processes starting at once apply
each migration exactly once. Each file runs in its own transaction with its version row.

The job queue's own schema (procrastinate's ``schema.sql``, see ``jobs/service.py``) is
applied in the same step, once: when its ``procrastinate_jobs`` table does not exist yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from psycopg import AsyncConnection

_LOCK_KEY = 0x6772_6E64  # "grnd": one advisory lock id for schema changes


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """All migrations shipped with the package, in version order."""
    folder = resources.files("groundwire.stores.postgres") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version_text, _, rest = entry.name.partition("_")
            found.append(Migration(int(version_text), rest.removesuffix(".sql"), entry.read_text()))
    return sorted(found, key=lambda m: m.version)


async def applied_versions(conn: AsyncConnection) -> set[int]:
    exists = await (
        await conn.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
    ).fetchone()
    if not exists or not exists[0]:
        return set()
    rows = await (await conn.execute("SELECT version FROM schema_migrations")).fetchall()
    return {r[0] for r in rows}


async def migrate(conn: AsyncConnection) -> list[int]:
    """Apply pending migrations; return the versions applied by this call."""
    applied_now: list[int] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = await applied_versions(conn)
        for migration in available_migrations():
            if migration.version in done:
                continue
            await conn.execute(migration.sql.encode())
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                [migration.version, migration.name],
            )
            applied_now.append(migration.version)
        await _ensure_queue_schema(conn)
    return applied_now


async def queue_schema_present(conn: AsyncConnection) -> bool:
    """Whether procrastinate's schema (the job queue's tables) is in the database."""
    row = await (await conn.execute(
        "SELECT to_regclass('public.procrastinate_jobs') IS NOT NULL")).fetchone()
    return bool(row and row[0])


async def _ensure_queue_schema(conn: AsyncConnection) -> None:
    """Apply procrastinate's schema when absent (idempotent; under the caller's lock)."""
    if await queue_schema_present(conn):
        return
    from procrastinate.schema import SchemaManager

    await conn.execute(SchemaManager.get_schema().encode())
