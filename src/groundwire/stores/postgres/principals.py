"""Tenants, users, groups and API keys on PostgreSQL (mixed into ``PostgresStore``).

Tables from migration ``0005_security.sql``. Everything is scoped by tenant: no method reads
or changes another tenant's rows unless it is given that tenant's name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from groundwire.errors import InvalidRequest, NotFound


class PostgresPrincipals:
    """Mixin: needs ``_connection()`` (an async pooled connection context)."""

    _connection: Callable[[], Any]

    async def ensure_tenant(self, tenant: str) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO tenants (name) VALUES (%s) ON CONFLICT DO NOTHING", [tenant]
            )

    async def list_tenants(self) -> list[str]:
        async with self._connection() as conn:
            rows = await (await conn.execute("SELECT name FROM tenants ORDER BY name")).fetchall()
        return [r[0] for r in rows]

    async def ensure_user(self, tenant: str, user: str) -> None:
        async with self._connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO tenants (name) VALUES (%s) ON CONFLICT DO NOTHING", [tenant]
            )
            await conn.execute(
                "INSERT INTO users (tenant, name) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [tenant, user],
            )

    async def delete_user(self, tenant: str, user: str) -> bool:
        """Delete a user with its memberships and keys (cascade)."""
        async with self._connection() as conn:
            cur = await conn.execute(
                "DELETE FROM users WHERE tenant = %s AND name = %s", [tenant, user]
            )
        return cur.rowcount > 0

    async def list_users(self, tenant: str) -> list[dict[str, Any]]:
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT u.name, u.created_at, coalesce(array_agg(m.group_name ORDER BY"
                " m.group_name) FILTER (WHERE m.group_name IS NOT NULL), '{}') AS groups"
                " FROM users u LEFT JOIN group_members m"
                " ON m.tenant = u.tenant AND m.user_name = u.name"
                " WHERE u.tenant = %s GROUP BY u.name, u.created_at ORDER BY u.name",
                [tenant],
            )
            return list(await cur.fetchall())

    async def ensure_group(self, tenant: str, group: str) -> None:
        async with self._connection() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO tenants (name) VALUES (%s) ON CONFLICT DO NOTHING", [tenant]
            )
            await conn.execute(
                "INSERT INTO groups (tenant, name) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [tenant, group],
            )

    async def delete_group(self, tenant: str, group: str) -> bool:
        """Delete a group; its members lose what it granted at their next request."""
        async with self._connection() as conn:
            cur = await conn.execute(
                "DELETE FROM groups WHERE tenant = %s AND name = %s", [tenant, group]
            )
        return cur.rowcount > 0

    async def list_groups(self, tenant: str) -> list[dict[str, Any]]:
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT g.name, g.created_at, coalesce(array_agg(m.user_name ORDER BY"
                " m.user_name) FILTER (WHERE m.user_name IS NOT NULL), '{}') AS members"
                " FROM groups g LEFT JOIN group_members m"
                " ON m.tenant = g.tenant AND m.group_name = g.name"
                " WHERE g.tenant = %s GROUP BY g.name, g.created_at ORDER BY g.name",
                [tenant],
            )
            return list(await cur.fetchall())

    async def add_member(self, tenant: str, group: str, user: str) -> None:
        """Add ``user`` to ``group``; ``NotFound`` when either does not exist."""
        try:
            async with self._connection() as conn:
                await conn.execute(
                    "INSERT INTO group_members (tenant, group_name, user_name)"
                    " VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    [tenant, group, user],
                )
        except psycopg.errors.ForeignKeyViolation as exc:
            raise NotFound(f"no group {group!r} or user {user!r} in this tenant") from exc

    async def remove_member(self, tenant: str, group: str, user: str) -> bool:
        async with self._connection() as conn:
            cur = await conn.execute(
                "DELETE FROM group_members WHERE tenant = %s AND group_name = %s"
                " AND user_name = %s",
                [tenant, group, user],
            )
        return cur.rowcount > 0

    async def user_groups(self, tenant: str, user: str) -> list[str]:
        async with self._connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT group_name FROM group_members WHERE tenant = %s AND user_name = %s"
                    " ORDER BY 1",
                    [tenant, user],
                )
            ).fetchall()
        return [r[0] for r in rows]

    async def access_summary(
        self, *, tenant: str | None = None, index: str | None = None,
        tokens: Sequence[str] | None = None,
    ) -> dict[str, int]:
        """Indexed documents (of ``tenant`` / ``index`` when given): ``indexed`` (how many),
        ``admin_only`` (no reader entry but their tenant's admin token: nobody else reads
        them) and, with ``tokens``, ``readable`` (how many those reader tokens admit)."""
        async with self._connection() as conn:
            row = await (await conn.execute(
                "SELECT count(*), count(*) FILTER (WHERE readers <@"
                " ARRAY['t:' || tenant || ':admin']),"
                " count(*) FILTER (WHERE readers && %(tokens)s::text[])"
                " FROM documents WHERE state = 'indexed'"
                " AND (%(tenant)s::text IS NULL OR tenant = %(tenant)s)"
                " AND (%(index)s::text IS NULL OR index_name = %(index)s)",
                {"tenant": tenant, "index": index, "tokens": list(tokens or ())},
            )).fetchone()
        indexed, admin_only, readable = row if row else (0, 0, 0)
        summary = {"indexed": int(indexed), "admin_only": int(admin_only)}
        if tokens is not None:
            summary["readable"] = int(readable)
        return summary

    # ------------------------------------------------------------------ keys
    async def insert_key(
        self, *, key_id: str, tenant: str, user: str, name: str, secret_hash: str,
        scopes: Sequence[str], expires_at: datetime | None,
    ) -> None:
        try:
            async with self._connection() as conn:
                await conn.execute(
                    "INSERT INTO api_keys (id, tenant, user_name, name, secret_hash, scopes,"
                    " expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [key_id, tenant, user, name, secret_hash, list(scopes), expires_at],
                )
        except psycopg.errors.ForeignKeyViolation as exc:
            raise InvalidRequest(f"no user {user!r} in tenant {tenant!r}") from exc

    async def list_keys(self, tenant: str | None = None) -> list[dict[str, Any]]:
        """Key metadata (never the secret hash), newest first."""
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT id, tenant, user_name AS user, name, scopes, created_at, expires_at,"
                " revoked_at, last_used_at FROM api_keys"
                " WHERE (%s::text IS NULL OR tenant = %s) ORDER BY created_at DESC, id",
                [tenant, tenant],
            )
            return list(await cur.fetchall())

    async def revoke_key(self, key_id: str, tenant: str | None = None) -> bool:
        """Revoke a key (of ``tenant`` when given); False when there is no such live key."""
        async with self._connection() as conn:
            cur = await conn.execute(
                "UPDATE api_keys SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL"
                " AND (%s::text IS NULL OR tenant = %s)",
                [key_id, tenant, tenant],
            )
        return cur.rowcount > 0

    async def key_for_auth(self, key_id: str) -> dict[str, Any] | None:
        """Everything authentication needs in one round trip: the key row and the user's
        groups; ``last_used_at`` is refreshed at most once a minute."""
        async with self._connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT k.id, k.tenant, k.user_name AS user, k.secret_hash, k.scopes,"
                " k.expires_at, k.revoked_at, k.last_used_at,"
                " coalesce((SELECT array_agg(m.group_name) FROM group_members m"
                "  WHERE m.tenant = k.tenant AND m.user_name = k.user_name), '{}') AS groups"
                " FROM api_keys k WHERE k.id = %s",
                [key_id],
            )
            row = await cur.fetchone()
            if row is not None:
                await conn.execute(
                    "UPDATE api_keys SET last_used_at = now() WHERE id = %s AND"
                    " (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
                    [key_id],
                )
        return row
