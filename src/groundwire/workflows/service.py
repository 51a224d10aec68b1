"""``WorkflowService``: inbound events -> drafted, scored replies -> signed callback or review.

Stateless: built per request or job from its host (the application, through the
``WorkflowHost`` port; this package never imports the application).

Event states: ``received`` (stored, job queued) -> ``delivering`` (confident: the callback is
being sent) -> ``delivered`` / ``delivery_failed``; or -> ``review`` (below the threshold, an
abstention, or no callback configured) -> ``approved`` (-> ``delivering`` -> ...) /
``rejected``. Review operations are in ``review.py``.

Contract of ``receive`` (the inbound webhook; everything in an event is untrusted):

1. body over the workflow's ``max_body_bytes``: ``RequestTooLarge`` (413);
2. a signing adapter with a ``signing_secret``: the signature is verified before the body is
   parsed (401 ``workflow.bad_signature``);
3. the workflow's rate limit (a token bucket in PostgreSQL, ``security/ratelimit.py``):
   ``RateLimited`` (429, ``Retry-After``);
4. schema validation (422 ``workflow.invalid_event``), an empty question after stripping
   quotes and signatures (422 ``workflow.empty_question``);
5. stored under its idempotency key: a duplicate delivery returns the first event and queues
   nothing (unless that event is stranded: still ``received`` after ``REQUEUE_AFTER_S``,
   its job lost; then it is queued again); a new one queues a ``workflow_event`` job.
   Nothing of the event reaches the question's access: the job reads as the workflow's
   service principal.

``process`` (the job) is idempotent: it only drafts an event still ``received`` and only
delivers one ``delivering`` or ``approved``, so a re-run after a crash never double-drafts;
a delivery interrupted mid-way is sent again with the same ``Idempotency-Key``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from groundwire.domain import Answer, SearchRequest
from groundwire.domain.budgets import BudgetScopes
from groundwire.errors import (
    BudgetExceeded,
    InvalidRequest,
    NotFound,
    RateLimited,
    RequestTooLarge,
)
from groundwire.security.principal import Principal
from groundwire.settings import Settings, WorkflowSettings
from groundwire.stores.base import Store
from groundwire.telemetry import Telemetry
from groundwire.workflows.adapters import parse_event
from groundwire.workflows.confidence import score
from groundwire.workflows.delivery import deliver
from groundwire.workflows.metrics import WorkflowMetrics
from groundwire.workflows.signing import verify_zendesk
from groundwire.workflows.text import question_from

if TYPE_CHECKING:
    from groundwire.jobs.service import JobService

log = logging.getLogger(__name__)

JOB_KIND = "workflow_event"
REQUEUE_AFTER_S = 60.0  # a duplicate of an event still "received" this long re-queues it
RATE_CLASS = "ingest"  # the bucket's route-class label (keys are "workflow:<name>")


class WorkflowHost(Protocol):
    """What workflows use of the application."""

    @property
    def settings(self) -> Settings: ...
    @property
    def store(self) -> Store: ...
    @property
    def telemetry(self) -> Telemetry: ...

    async def ask(self, request: SearchRequest, *, principal: str = ...,
                  budget: BudgetScopes | None = ...) -> Answer: ...

    def job_service(self) -> JobService: ...


def service_principal(cfg: WorkflowSettings) -> Principal:
    """The principal a workflow reads as: its configured user and groups, scope ask only."""
    return Principal(tenant=cfg.tenant, user=cfg.principal_user,
                     groups=frozenset(cfg.groups), scopes=frozenset({"ask"}))


class WorkflowService:
    def __init__(self, host: WorkflowHost) -> None:
        self.host = host
        self.store = host.store

    @property
    def metrics(self) -> WorkflowMetrics | None:
        return WorkflowMetrics.for_telemetry(self.host.telemetry)

    def workflow(self, name: str) -> WorkflowSettings:
        for cfg in self.host.settings.workflows:
            if cfg.name == name:
                return cfg
        raise NotFound(f"no workflow {name!r}", code="workflow.not_found")

    async def event(self, event_id: str, *, workflow: str | None = None,
                    tenant: str | None = None) -> dict[str, Any]:
        """An event row; ``NotFound`` when absent or of another workflow / tenant."""
        row = None
        if event_id.isascii() and event_id.isalnum() and len(event_id) <= 64:
            row = await self.store.workflow_event(event_id)
        if row is None or (workflow is not None and row["workflow"] != workflow) or (
                tenant is not None and row["tenant"] != tenant):
            raise NotFound(f"no workflow event {event_id!r}", code="workflow.event_not_found")
        return row

    # ------------------------------------------------------------------ inbound
    async def receive(self, name: str, body: bytes, headers: Mapping[str, str], *,
                      idempotency_key: str | None = None) -> tuple[dict[str, Any], bool]:
        """Check, store and queue one inbound event (see the module contract); returns the
        event row and whether it is new (False: a duplicate delivery)."""
        cfg = self.workflow(name)
        if len(body) > cfg.max_body_bytes:
            raise RequestTooLarge(f"event body is larger than the workflow's limit of "
                                  f"{cfg.max_body_bytes} bytes")
        if cfg.signing_secret is not None and cfg.adapter == "zendesk":
            verify_zendesk(cfg.signing_secret.get_secret_value(), body, headers,
                           tolerance_s=cfg.signature_tolerance_s)
        await self._rate_limit(cfg)
        event = parse_event(cfg.adapter, body, idempotency_key=idempotency_key)
        if not question_from(event.subject, event.body):
            raise InvalidRequest("the event has no question left after removing quoted "
                                 "history and signatures", code="workflow.empty_question")
        row, created = await self.store.add_workflow_event(name, event.key, cfg.tenant,
                                                           event.as_json())
        self._count(name, "received" if created else "duplicate")
        if created or _stranded(row):
            await self.host.job_service().enqueue(
                JOB_KIND, tenant=cfg.tenant, owner=f"workflow:{name}",
                params={"event_id": row["id"], "workflow": name})
        return row, created

    async def _rate_limit(self, cfg: WorkflowSettings) -> None:
        from groundwire.security.ratelimit import decide

        limit = cfg.rate_limit
        if limit.requests_per_minute == 0:
            return
        per_second = limit.requests_per_minute / 60.0
        allowed, left = await self.store.take_token(
            f"workflow:{cfg.name}", RATE_CLASS, capacity=limit.capacity, per_second=per_second)
        if not allowed:
            decision = decide(allowed, left, capacity=limit.capacity, per_second=per_second,
                              policy=f"workflow:{cfg.name}")
            raise RateLimited(f"workflow {cfg.name!r} accepts at most "
                              f"{limit.requests_per_minute} events a minute",
                              retry_after=decision.retry_after_s or 1,
                              headers=decision.headers())

    # ------------------------------------------------------------------ the job
    async def process(self, event_id: str) -> dict[str, Any]:
        """Draft, score and route one event, or deliver an approved one (idempotent)."""
        row = await self.event(event_id)
        cfg = self.workflow(row["workflow"])
        if row["state"] == "received":
            row = await self._draft(cfg, row)
        if row["state"] in ("delivering", "approved"):
            row = await self._deliver(cfg, row)
        return {"event_id": event_id, "state": row["state"],
                "confidence": row["confidence"]}

    async def _draft(self, cfg: WorkflowSettings, row: dict[str, Any]) -> dict[str, Any]:
        event = row["event"]
        question = question_from(event.get("subject", ""), event.get("body", ""))
        principal = service_principal(cfg)
        try:
            answer = await self.host.ask(
                SearchRequest(query=question, index=cfg.index, top_k=cfg.top_k,
                              access=principal.access()), principal=principal.name,
                budget=principal.budget(workflow=cfg.name))
        except BudgetExceeded as exc:  # over budget with budgets.over_budget = "reject"
            self._count(cfg.name, "review")
            return await self.store.update_workflow_event(row["id"], {
                "question": question, "draft": "", "confidence": 0.0, "state": "review",
                "drafted_at": datetime.now(UTC),
                "answer": {"abstained": True, "citations": [], "error": exc.code,
                           "confidence": {"score": 0.0, "support": 0.0, "retrieval": 0.0,
                                          "reason": exc.code}},
            }, expect_states=("received",)) or await self.event(row["id"])
        confidence = score(answer)
        confident = (confidence.reason is None and confidence.score >= cfg.threshold
                     and cfg.callback_url is not None)
        state = "delivering" if confident else "review"
        updated = await self.store.update_workflow_event(row["id"], {
            "question": question, "draft": answer.text, "reply": answer.text if confident
            else None, "confidence": confidence.score, "state": state,
            "drafted_at": datetime.now(UTC),
            "answer": {"abstained": answer.abstained, "confidence": confidence.as_json(),
                       "citations": [_citation(c) for c in answer.citations],
                       "answerer": answer.answerer, "groundedness": answer.groundedness},
        }, expect_states=("received",))
        if updated is None:  # another run drafted it meanwhile
            return await self.event(row["id"])
        if confident:
            await self.store.add_workflow_decision(
                row["id"], "auto", "workflow",
                {"confidence": confidence.score, "threshold": cfg.threshold})
        else:
            self._count(cfg.name, "review")
        return updated

    async def _deliver(self, cfg: WorkflowSettings, row: dict[str, Any]) -> dict[str, Any]:
        event_id = row["id"]
        if cfg.callback_url is None or cfg.callback_secret is None:
            return row  # approvals without a callback are recorded only
        if row["state"] == "approved":
            row = await self.store.update_workflow_event(
                event_id, {"state": "delivering"}, expect_states=("approved",)) or row
        metrics = self.metrics

        async def record(attempt: int, ok: bool, status: int | None, error: str | None,
                         ms: float) -> None:
            await self.store.add_workflow_delivery(event_id, attempt, ok=ok, status=status,
                                                   error=error, ms=ms)
            if metrics is not None:
                metrics.deliveries.labels(cfg.name, "ok" if ok else "failed").inc()

        result = await deliver(
            cfg.callback_url, cfg.callback_secret.get_secret_value(),
            callback_payload(cfg, row), delivery_id=f"{event_id}:reply",
            attempts=cfg.callback_attempts, backoff_s=cfg.callback_backoff_s,
            timeout_s=cfg.callback_timeout_s, record=record)
        state = "delivered" if result.ok else "delivery_failed"
        self._count(cfg.name, state)
        if not result.ok:
            log.warning("workflow %s: event %s not delivered after %d attempts: %s",
                        cfg.name, event_id, result.attempts, result.error)
        return await self.store.update_workflow_event(
            event_id, {"state": state}, expect_states=("delivering",)) or row

    def _count(self, workflow: str, outcome: str) -> None:
        metrics = self.metrics
        if metrics is not None:
            metrics.events.labels(workflow, outcome).inc()

    async def stats(self, name: str) -> dict[str, Any]:
        """Counts, approval rate, mean edit distance and time to decision of a workflow."""
        self.workflow(name)
        return {"workflow": name, **await self.store.workflow_stats(name)}


def _stranded(row: dict[str, Any]) -> bool:
    """An event still ``received`` ``REQUEUE_AFTER_S`` after it was stored: its job was lost
    (the process died between storing it and queueing the job). A redelivery queues it again;
    ``process`` is idempotent, so a job that was merely slow does no harm."""
    age = datetime.now(UTC) - row["created_at"]
    return bool(row["state"] == "received" and age.total_seconds() > REQUEUE_AFTER_S)


def _citation(citation: Any) -> dict[str, Any]:
    hit = citation.hit
    return {"n": citation.n, "uri": hit.uri, "title": hit.title, "quote": citation.quote,
            "score": round(float(hit.score), 4)}


def callback_payload(cfg: WorkflowSettings, row: dict[str, Any]) -> dict[str, Any]:
    """The JSON a callback receives for an event about to be delivered."""
    event, answer = row["event"], row["answer"] or {}
    return {
        "type": "workflow.reply", "workflow": cfg.name, "event_id": row["id"],
        "idempotency_key": row["idempotency_key"], "reference": event.get("reference"),
        "sender": event.get("sender"), "reply": row["reply"] or row["draft"] or "",
        "citations": answer.get("citations", []), "confidence": row["confidence"],
        "reviewed": row["decided_by"] is not None, "reviewer": row["decided_by"],
    }
