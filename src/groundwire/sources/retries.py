"""Failed documents of a named source: retried with exponential backoff, then parked.

After every sync the documents of the source in state ``failed`` are recorded in the
source's cursor (``failures``: uri -> ``attempts``, ``next_at``, ``code``, ``message``,
``dead``). A document failing for the first time has made 1 attempt; it is retried by the
first sync after ``next_at`` = failure time + ``base_s * 2 ** (attempts - 1)``, each retry
counting one more attempt, until ``max_attempts``: then it is **dead letter** (``dead``), shown
in the source's status with its last error and retried no more by itself (a change at the
source, or ``sync`` after fixing it, still re-reads it). A document that succeeds (or is
deleted) leaves the list. A retry is a complete listing with ``retry_failed`` (so the failed
items are read again whatever the connector's cursor says).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from groundwire.domain import DocumentState


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float = 60.0
    max_attempts: int = 5

    def due(self, failures: dict[str, dict[str, Any]], now: datetime) -> bool:
        """Whether some failed document waits for a retry that is due."""
        return any(not f.get("dead") and _at(f["next_at"]) <= now for f in failures.values())

    def next_retry(self, failures: dict[str, dict[str, Any]]) -> datetime | None:
        pending = [_at(f["next_at"]) for f in failures.values() if not f.get("dead")]
        return min(pending) if pending else None

    def update(self, previous: dict[str, dict[str, Any]], failed: dict[str, tuple[str, str]],
               *, retried: bool, now: datetime) -> dict[str, dict[str, Any]]:
        """The new failure list from the documents failing now (uri -> (code, message))."""
        result = {}
        for uri, (code, message) in sorted(failed.items()):
            before = previous.get(uri)
            attempts = 1 if before is None else int(before["attempts"]) + (1 if retried else 0)
            dead = attempts >= self.max_attempts
            wait = timedelta(seconds=self.base_s * 2 ** (attempts - 1))
            result[uri] = {"attempts": attempts, "code": code, "message": message,
                           "dead": dead, "last_attempt_at": now.isoformat(),
                           "next_at": (now + wait).isoformat() if before is None or retried
                           else before["next_at"]}
        return result


def _at(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def failed_documents(store: Any, physical: str, source_id: int | None, tenant: str
                           ) -> dict[str, tuple[str, str]]:
    """uri -> (error code, message) of the source's documents in state ``failed``."""
    if source_id is None:
        return {}
    known = await store.known_documents(physical, source_id)
    failed = [uri for uri, k in known.items() if k.state == DocumentState.FAILED]
    if not failed:
        return {}
    records = await store.documents_by_uri(physical, failed, tenant=tenant)
    ids = {known[uri].id for uri in failed}
    return {r.uri: (r.error_code or "document.failed", r.error_message or "")
            for r in records if r.id in ids}
