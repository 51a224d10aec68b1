"""Job states and their transitions (standard library only).

    queued ──► running ──► succeeded
      │  ▲        │ │
      │  └────────┘ └────► failed ──(retry)──► queued
      │  (attempt failed, retries left; or its worker died and the job was re-queued)
      └──► cancelled ◄── running (abort)        cancelled ──(retry)──► queued

``failed`` is final: the job failed its last attempt (``jobs.max_attempts``) and is in the
dead-letter list until someone retries it. A job never leaves ``succeeded``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "queued", "running", "succeeded", "failed", "cancelled")
STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
FINAL = frozenset({SUCCEEDED, FAILED, CANCELLED})
KINDS = ("ingest", "assessment", "version_build")

TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({RUNNING, CANCELLED}),
    RUNNING: frozenset({SUCCEEDED, FAILED, CANCELLED, QUEUED}),
    FAILED: frozenset({QUEUED}),
    CANCELLED: frozenset({QUEUED}),
    SUCCEEDED: frozenset(),
}


def can_transition(old: str, new: str) -> bool:
    """Whether a job in state ``old`` may move to ``new``."""
    return new in TRANSITIONS.get(old, frozenset())


def state_after_failure(attempt: int, max_attempts: int) -> str:
    """The state after attempt number ``attempt`` (1-based) failed: queued for another
    attempt while attempts are left, else failed for good (dead letter)."""
    return QUEUED if attempt < max_attempts else FAILED


def backoff_s(retry: int, base: int) -> int:
    """Seconds before retry number ``retry`` (1-based): ``base ** retry`` (exponential)."""
    return int(base ** max(retry, 1))


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One row of the ``jobs`` table, as the API shows it."""

    id: str
    kind: str
    tenant: str
    owner: str
    state: str
    done: int = 0
    total: int = 0
    stage: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    error: dict[str, Any] | None = None
    attempts: int = 0
    worker: str | None = None
    queue_job_id: int | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINAL

    @property
    def dead_letter(self) -> bool:
        return self.state == FAILED
