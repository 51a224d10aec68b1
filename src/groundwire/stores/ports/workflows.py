"""Port of human-in-the-loop workflows (``groundwire/workflows/``): events, deliveries,
review decisions. Tables from migration ``0014_workflows.sql``."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

WORKFLOW_EVENT_FIELDS = frozenset({
    "state", "question", "draft", "answer", "confidence", "reply", "drafted_at",
    "claimed_by", "claimed_at", "decided_by", "decided_at", "edit_distance",
})
"""Columns ``update_workflow_event`` may set."""


@runtime_checkable
class WorkflowStore(Protocol):
    """Events of workflows, their callback deliveries and their review decisions.

    Event rows (``dict``) have the keys ``id``, ``workflow``, ``idempotency_key``,
    ``tenant``, ``state``, ``event``, ``question``, ``draft``, ``answer``, ``confidence``,
    ``reply``, ``claimed_by``, ``claimed_at``, ``decided_by``, ``decided_at``,
    ``edit_distance``, ``created_at``, ``drafted_at``, ``updated_at``.

    * ``add_workflow_event`` inserts a ``received`` event unless ``(workflow, key)`` exists
      already; returns ``(row, created)`` — the existing row and False for a duplicate
      delivery (concurrent duplicates: exactly one is created).
    * ``workflow_event`` the row or None; ``list_workflow_events`` newest first, optionally
      of one ``state``.
    * ``update_workflow_event`` sets the given columns (``WORKFLOW_EVENT_FIELDS`` only,
      ``InvalidRequest`` otherwise); when ``expect_states`` is given only an event in one of
      them changes. Returns the new row, None when nothing matched.
    * ``claim_workflow_event`` sets ``claimed_by`` on an event in ``review`` that nobody
      else holds (re-claiming one's own is allowed); None when it is not claimable.
    * ``add_workflow_delivery`` / ``workflow_deliveries`` (rows ``attempt``, ``ok``,
      ``status``, ``error``, ``ms``, ``at``, in order); ``add_workflow_decision`` /
      ``workflow_decisions`` (rows ``action``, ``actor``, ``detail``, ``at``, in order).
    * ``workflow_stats``: ``events`` (count per state), ``approved``, ``rejected``,
      ``auto_delivered``, ``approval_rate`` (approved / decided, None before any decision),
      ``mean_edit_distance`` and ``mean_decision_s`` (drafted -> decided) of reviewed
      events (None when none), ``deliveries`` (attempts ``ok`` / ``failed``).
    """

    async def add_workflow_event(self, workflow: str, key: str, tenant: str,
                                 event: dict[str, Any]) -> tuple[dict[str, Any], bool]: ...

    async def workflow_event(self, event_id: str) -> dict[str, Any] | None: ...

    async def list_workflow_events(self, workflow: str, *, state: str | None = None,
                                   limit: int = 100, offset: int = 0
                                   ) -> list[dict[str, Any]]: ...

    async def update_workflow_event(self, event_id: str, fields: dict[str, Any], *,
                                    expect_states: tuple[str, ...] | None = None
                                    ) -> dict[str, Any] | None: ...

    async def claim_workflow_event(self, event_id: str, actor: str
                                   ) -> dict[str, Any] | None: ...

    async def add_workflow_delivery(self, event_id: str, attempt: int, *, ok: bool,
                                    status: int | None, error: str | None,
                                    ms: float) -> None: ...

    async def workflow_deliveries(self, event_id: str) -> list[dict[str, Any]]: ...

    async def add_workflow_decision(self, event_id: str, action: str, actor: str,
                                    detail: dict[str, Any]) -> None: ...

    async def workflow_decisions(self, event_id: str) -> list[dict[str, Any]]: ...

    async def workflow_stats(self, workflow: str) -> dict[str, Any]: ...
