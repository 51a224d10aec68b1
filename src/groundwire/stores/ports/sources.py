"""The port of named sources (``groundwire.sources``): a connector type, its options, the
index and tenant it feeds, a schedule, and what its last sync did."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class SourceStore(Protocol):
    """Named sources, one row per ``(tenant, name)``.

    Rows (``dict``) have the keys ``tenant``, ``name``, ``type``, ``options``, ``index_name``,
    ``schedule``, ``next_run_at``, ``cursor``, ``last_sync_at``, ``last_status``,
    ``last_error``, ``last_report``, ``created_at``, ``updated_at``.

    * ``insert_source`` adds a row; ``InvalidRequest`` (code ``source.exists``) when the
      tenant already has a source of that name.
    * ``get_source`` the row, ``NotFound`` when absent; ``list_sources`` a tenant's rows (every
      tenant's when ``tenant`` is None) by name; ``delete_source`` True when there was one.
    * ``record_sync`` stores the outcome of a sync: ``status``, ``error`` (None clears it),
      ``report`` (None keeps the previous one), ``cursor`` (None keeps the previous one),
      ``next_run_at``; ``last_sync_at`` becomes now.
    * ``claim_due_sources(now)`` atomically takes every source whose ``next_run_at`` is at or
      before ``now``, sets its ``next_run_at`` to the value ``next_run`` gives for it and
      returns the rows taken: two concurrent callers never take the same row twice.
    """

    async def insert_source(
        self, *, tenant: str, name: str, type: str, options: dict[str, Any], index: str,
        schedule: str | None, next_run_at: datetime | None,
    ) -> dict[str, Any]: ...

    async def get_source(self, tenant: str, name: str) -> dict[str, Any]: ...

    async def list_sources(self, tenant: str | None) -> list[dict[str, Any]]: ...

    async def delete_source(self, tenant: str, name: str) -> bool: ...

    async def record_sync(
        self, tenant: str, name: str, *, status: str, error: dict[str, Any] | None,
        report: dict[str, Any] | None, cursor: dict[str, Any] | None,
        next_run_at: datetime | None,
    ) -> None: ...

    async def claim_due_sources(
        self, now: datetime, next_run: Callable[[dict[str, Any]], datetime | None],
    ) -> list[dict[str, Any]]: ...
