"""The audit event value: one entry of the audit log (written by ``security/audit.py``,
stored by a store's ``insert_audit`` and read back by ``list_audit``). A domain value so
that the store port can name it without importing ``security``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audit entry. ``id`` and ``at`` are assigned by the store (``at`` defaults to the
    time the event was recorded)."""

    tenant: str
    actor: str
    action: str
    target: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "tenant": self.tenant,
                "actor": self.actor, "action": self.action, "target": self.target,
                "details": dict(self.details)}
