"""Ports of access control and accounting: tenants, users, groups and API keys, usage
counters (budgets), rate-limit buckets and the audit log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from groundwire.domain.audit import AuditEvent
from groundwire.stores.values import PeriodLimit


# ---------------------------------------------------------------------- budgets, rate limits
@runtime_checkable
class UsageStore(Protocol):
    """Usage counters per principal and period (``llm/budgets.py``).

    * ``reserve_usage``: atomically (across processes), when every period's counters are
      below its limits, count one request in each and return None; otherwise change nothing
      and return what is exhausted, e.g. ``"day:2026-11-26 tokens"``.
    * ``reserve_usage_scopes``: the same for several scopes (principal, ``key:<id>``,
      ``workflow:<name>``) in one transaction, all-or-nothing: when any period of any scope is
      exhausted nothing is counted anywhere and ``(scope, "<period> <measure>")`` is returned.
    * ``add_usage`` adds tokens and cost to each period's counters (creating them);
      ``add_usage_scopes`` to those of every scope, in one statement.
    * ``usage``: ``{period: {requests, tokens, cost}}`` of one principal (or scope).
    """

    async def reserve_usage(
        self, principal: str, limits: Sequence[PeriodLimit]
    ) -> str | None: ...

    async def reserve_usage_scopes(
        self, limits: Mapping[str, Sequence[PeriodLimit]]
    ) -> tuple[str, str] | None: ...

    async def add_usage(
        self, principal: str, periods: Sequence[str], *, tokens: int, cost: float
    ) -> None: ...

    async def add_usage_scopes(
        self, scopes: Sequence[str], periods: Sequence[str], *, tokens: int, cost: float
    ) -> None: ...

    async def usage(self, principal: str) -> dict[str, dict[str, float]]: ...


@runtime_checkable
class RateLimitStore(Protocol):
    """Token buckets (``security/ratelimit.py``).

    * ``take_token``: atomically (across processes) refill the bucket ``(key, route_class)``
      for the time elapsed since its last use (at ``per_second``, capped at ``capacity``; a
      new bucket starts full) and take one token if there is one. Returns (taken, tokens
      left); a bucket never hands out more than ``capacity + elapsed * per_second`` tokens.
    """

    async def take_token(
        self, key: str, route_class: str, *, capacity: int, per_second: float
    ) -> tuple[bool, float]: ...


# ---------------------------------------------------------------------- audit
@runtime_checkable
class AuditSink(Protocol):
    """Where the audit log writer (``security/audit.py``) appends events.

    * ``insert_audit`` appends the events; ids are assigned in insertion order, so events
      read back by ``list_audit`` come in the order they were inserted.
    """

    async def insert_audit(self, events: Sequence[AuditEvent]) -> None: ...


@runtime_checkable
class AuditReader(Protocol):
    """Reading the audit log back (exports, ``groundwire audit``).

    * ``list_audit``: events by id (insertion order) with ``since <= at < until``, of one
      tenant when given; ``action`` matches exactly, or ``X.*`` matches ``X`` and every
      ``X.<...>``; page with ``after_id`` (the last event's id).
    """

    async def list_audit(
        self, *, tenant: str | None = None, since: datetime | None = None,
        until: datetime | None = None, action: str | None = None, after_id: int | None = None,
        limit: int = 1000,
    ) -> list[AuditEvent]: ...


# ---------------------------------------------------------------------- principals, keys
@runtime_checkable
class PrincipalStore(Protocol):
    """Tenants, users and groups. Everything is scoped by tenant: no method reads or changes
    another tenant's rows.

    * ``ensure_*`` are idempotent (a user's or group's tenant is created with it).
    * ``delete_user`` / ``delete_group`` / ``remove_member`` are True when something was
      deleted; deleting a user deletes its memberships and keys.
    * ``add_member`` raises ``NotFound`` when the group or the user does not exist.
    * ``list_users`` rows: ``name``, ``created_at``, ``groups`` (sorted);
      ``list_groups`` rows: ``name``, ``created_at``, ``members`` (sorted). ``user_groups``
      and ``list_tenants`` are sorted.
    """

    async def ensure_tenant(self, tenant: str) -> None: ...

    async def list_tenants(self) -> list[str]: ...

    async def ensure_user(self, tenant: str, user: str) -> None: ...

    async def delete_user(self, tenant: str, user: str) -> bool: ...

    async def list_users(self, tenant: str) -> list[dict[str, Any]]: ...

    async def ensure_group(self, tenant: str, group: str) -> None: ...

    async def delete_group(self, tenant: str, group: str) -> bool: ...

    async def list_groups(self, tenant: str) -> list[dict[str, Any]]: ...

    async def add_member(self, tenant: str, group: str, user: str) -> None: ...

    async def remove_member(self, tenant: str, group: str, user: str) -> bool: ...

    async def user_groups(self, tenant: str, user: str) -> list[str]: ...


@runtime_checkable
class ApiKeyStore(Protocol):
    """API keys (``security/keys.py`` mints and verifies them; only hashes are stored).

    * ``insert_key`` raises ``InvalidRequest`` when the user does not exist in the tenant.
    * ``list_keys`` rows (never the secret hash), newest first: ``id``, ``tenant``, ``user``,
      ``name``, ``scopes``, ``created_at``, ``expires_at``, ``revoked_at``, ``last_used_at``.
    * ``revoke_key`` (of ``tenant`` when given) is False when there is no such live key.
    * ``key_for_auth``: the key row with ``secret_hash`` and the user's ``groups``, or None.
    """

    async def insert_key(
        self, *, key_id: str, tenant: str, user: str, name: str, secret_hash: str,
        scopes: Sequence[str], expires_at: datetime | None,
    ) -> None: ...

    async def list_keys(self, tenant: str | None = None) -> list[dict[str, Any]]: ...

    async def revoke_key(self, key_id: str, tenant: str | None = None) -> bool: ...

    async def key_for_auth(self, key_id: str) -> dict[str, Any] | None: ...
