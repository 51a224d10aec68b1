"""Inbound event adapters: untrusted JSON -> a ``WorkflowEvent``.

Each adapter validates its shape with a strict pydantic model (``InvalidRequest`` with code
``workflow.invalid_event`` and the first problems in the message, HTTP 422, on anything
else) and yields the same normalized event:

* ``generic``: ``{"id"?, "subject"?, "body", "sender"?, "metadata"?}``
* ``zendesk``: a ticket webhook ``{"id"?, "ticket": {"id", "subject"?, "description"?,
  "latest_comment"?, "requester"?: {"email"?, "name"?}, "updated_at"?}}``; the question is
  the latest comment when there is one, else the description.
* ``email``: ``{"message_id"?, "subject"?, "text", "from"?}`` (a mail-to-JSON bridge or a
  web form).

The event's own id (``id`` / ``ticket.id`` + ``updated_at`` / ``message_id``) is its
idempotency key unless the request sends ``Idempotency-Key``; without either, the key is
the SHA-256 of the body, so a byte-identical redelivery is still a duplicate. Nothing in an
event chooses what the workflow may read: the fields kept are text and labels only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from groundwire.errors import InvalidRequest

INVALID_EVENT = "workflow.invalid_event"
_TEXT = 100_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class GenericEvent(_Strict):
    id: str | int | None = None
    subject: str = Field("", max_length=1000)
    body: str = Field(min_length=1, max_length=_TEXT)
    sender: str | None = Field(None, max_length=320)
    metadata: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class _Requester(_Strict):
    email: str | None = Field(None, max_length=320)
    name: str | None = Field(None, max_length=320)


class _Ticket(_Strict):
    id: str | int
    subject: str = Field("", max_length=1000)
    description: str = Field("", max_length=_TEXT)
    latest_comment: str | None = Field(None, max_length=_TEXT)
    requester: _Requester | None = None
    updated_at: str | None = Field(None, max_length=64)


class ZendeskEvent(_Strict):
    id: str | int | None = None
    ticket: _Ticket


class EmailEvent(_Strict):
    message_id: str | None = Field(None, max_length=998)
    subject: str = Field("", max_length=1000)
    text: str = Field(min_length=1, max_length=_TEXT)
    from_: str | None = Field(None, alias="from", max_length=320)


@dataclass(frozen=True, slots=True)
class WorkflowEvent:
    """A normalized event: what the job turns into a question, and its labels."""

    key: str
    subject: str
    body: str
    sender: str | None = None
    reference: str | None = None  # the source system's id (ticket, message), echoed back
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "subject": self.subject, "body": self.body,
                "sender": self.sender, "reference": self.reference,
                "metadata": self.metadata}


def parse_event(adapter: str, body: bytes, *, idempotency_key: str | None = None
                ) -> WorkflowEvent:
    """Validate ``body`` for ``adapter`` and normalize it (see the module docstring)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"the event is not valid JSON: {exc}", code=INVALID_EVENT) from exc
    if not isinstance(data, dict):
        raise InvalidRequest("the event must be a JSON object", code=INVALID_EVENT)
    fallback = "sha256:" + hashlib.sha256(body).hexdigest()
    try:
        event = _normalize(adapter, data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']}"
            for e in exc.errors()[:5])
        raise InvalidRequest(f"invalid {adapter} event: {problems}",
                             code=INVALID_EVENT) from exc
    key = (idempotency_key or "").strip()[:200] or event.key or fallback
    return WorkflowEvent(key=key, subject=event.subject, body=event.body,
                         sender=event.sender, reference=event.reference,
                         metadata=event.metadata)


def _normalize(adapter: str, data: dict[str, Any]) -> WorkflowEvent:
    if adapter == "zendesk":
        z = ZendeskEvent.model_validate(data)
        t = z.ticket
        text = t.latest_comment or t.description
        if not text:
            raise InvalidRequest("invalid zendesk event: ticket has neither latest_comment "
                                 "nor description", code=INVALID_EVENT)
        own = str(z.id) if z.id is not None else f"ticket-{t.id}-{t.updated_at or ''}"
        return WorkflowEvent(key=own, subject=t.subject, body=text,
                             sender=t.requester.email if t.requester else None,
                             reference=str(t.id))
    if adapter == "email":
        m = EmailEvent.model_validate(data)
        return WorkflowEvent(key=m.message_id or "", subject=m.subject, body=m.text,
                             sender=m.from_, reference=m.message_id)
    g = GenericEvent.model_validate(data)
    own = "" if g.id is None else str(g.id)
    return WorkflowEvent(key=own, subject=g.subject, body=g.body, sender=g.sender,
                         reference=own or None, metadata=dict(g.metadata))
