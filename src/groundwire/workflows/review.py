"""The review queue: drafts below their workflow's threshold wait here for a person.

Contract (``actor`` is the reviewer's principal name, ``tenant`` theirs: events of other
tenants are ``NotFound``):

* ``queue(workflow, state="review")`` lists events newest first.
* ``claim`` takes an event in ``review`` for ``actor`` (re-claiming one's own is fine);
  another reviewer's claim or a decided event is ``InvalidRequest`` code ``review.conflict``.
* ``edit`` replaces the reply text (the draft is kept); ``approve`` (with optional final
  text) and ``reject`` (with a reason) decide. Each claims first when the event is
  unclaimed, so a single reviewer needs no separate claim.
* Every action is recorded (``workflow_decisions``; a claim when the holder changes); a
  decision sets ``decided_by`` /
  ``decided_at`` and, for an approval, ``edit_distance`` (draft -> approved reply), and is
  observed in the metrics (decision, edit distance, seconds since the draft).
* ``approve`` queues a ``workflow_event`` job that sends the approved reply through the same
  signed callback (with retries); without a callback URL the approval is only recorded.
* Reply text is 1 to 100 000 characters (``InvalidRequest`` code ``review.invalid_text``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from groundwire.errors import InvalidRequest
from groundwire.workflows.service import JOB_KIND, WorkflowService
from groundwire.workflows.text import edit_distance

MAX_REPLY_CHARS = 100_000


class ReviewQueue:
    def __init__(self, service: WorkflowService) -> None:
        self.service = service
        self.store = service.store

    async def queue(self, workflow: str, *, tenant: str, state: str | None = "review",
                    limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        cfg = self.service.workflow(workflow)
        if cfg.tenant != tenant:
            return []
        return await self.store.list_workflow_events(workflow, state=state, limit=limit,
                                                     offset=offset)

    async def claim(self, event_id: str, *, actor: str, tenant: str) -> dict[str, Any]:
        before = await self.service.event(event_id, tenant=tenant)
        row = await self.store.claim_workflow_event(event_id, actor)
        if row is None:
            current = await self.service.event(event_id, tenant=tenant)
            holder = current["claimed_by"]
            raise InvalidRequest(
                f"event {event_id} is {current['state']}"
                + (f" and claimed by {holder}" if holder and holder != actor else "")
                + ": it cannot be claimed", code="review.conflict")
        if before["claimed_by"] != actor:  # recorded when the holder changes
            await self.store.add_workflow_decision(event_id, "claim", actor, {})
        return row

    async def edit(self, event_id: str, text: str, *, actor: str,
                   tenant: str) -> dict[str, Any]:
        _check_text(text)
        await self.claim(event_id, actor=actor, tenant=tenant)
        row = await self.store.update_workflow_event(event_id, {"reply": text},
                                                     expect_states=("review",))
        if row is None:
            raise InvalidRequest(f"event {event_id} left review meanwhile",
                                 code="review.conflict")
        await self.store.add_workflow_decision(event_id, "edit", actor,
                                               {"chars": len(text)})
        return row

    async def approve(self, event_id: str, text: str | None = None, *, actor: str,
                      tenant: str) -> dict[str, Any]:
        claimed = await self.claim(event_id, actor=actor, tenant=tenant)
        final = text if text is not None else (claimed["reply"] or claimed["draft"] or "")
        _check_text(final)
        distance = edit_distance(claimed["draft"] or "", final)
        row = await self._decide(event_id, "approved", actor, {
            "reply": final, "edit_distance": distance})
        await self.store.add_workflow_decision(event_id, "approve", actor,
                                               {"edit_distance": distance})
        self._observe(row, "approve")
        cfg = self.service.workflow(row["workflow"])
        if cfg.callback_url is not None:
            await self.service.host.job_service().enqueue(
                JOB_KIND, tenant=cfg.tenant, owner=actor,
                params={"event_id": event_id, "workflow": cfg.name})
        return row

    async def reject(self, event_id: str, reason: str = "", *, actor: str,
                     tenant: str) -> dict[str, Any]:
        await self.claim(event_id, actor=actor, tenant=tenant)
        row = await self._decide(event_id, "rejected", actor, {})
        await self.store.add_workflow_decision(event_id, "reject", actor,
                                               {"reason": reason[:2000]})
        self._observe(row, "reject")
        return row

    async def _decide(self, event_id: str, state: str, actor: str,
                      fields: dict[str, Any]) -> dict[str, Any]:
        row = await self.store.update_workflow_event(
            event_id, {**fields, "state": state, "decided_by": actor,
                       "decided_at": datetime.now(UTC)}, expect_states=("review",))
        if row is None:
            raise InvalidRequest(f"event {event_id} left review meanwhile",
                                 code="review.conflict")
        return row

    def _observe(self, row: dict[str, Any], decision: str) -> None:
        metrics = self.service.metrics
        if metrics is None:
            return
        workflow = row["workflow"]
        metrics.decisions.labels(workflow, decision).inc()
        if decision == "approve" and row["edit_distance"] is not None:
            metrics.edit_distance.labels(workflow).observe(row["edit_distance"])
        if row["drafted_at"] is not None and row["decided_at"] is not None:
            seconds = (row["decided_at"] - row["drafted_at"]).total_seconds()
            metrics.decision_seconds.labels(workflow).observe(max(0.0, seconds))


def _check_text(text: str) -> None:
    if not text.strip() or len(text) > MAX_REPLY_CHARS:
        raise InvalidRequest(f"the reply must have 1 to {MAX_REPLY_CHARS} characters",
                             code="review.invalid_text")
