"""Inbound adapters: schema validation with a stable code, normalization, idempotency keys."""

from __future__ import annotations

import json

import pytest

from groundwire.errors import InvalidRequest
from groundwire.workflows.adapters import parse_event


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def test_generic_event_keeps_text_and_its_own_id_as_key() -> None:
    event = parse_event("generic", body({"id": 42, "subject": "Refund", "body": "How?",
                                         "sender": "a@example.com", "index": "secret"}))
    assert (event.key, event.subject, event.body, event.sender) == \
        ("42", "Refund", "How?", "a@example.com")
    assert "index" not in event.as_json()["metadata"]  # unknown fields are dropped


def test_idempotency_header_wins_and_body_hash_is_the_fallback() -> None:
    data = body({"id": 1, "body": "x"})
    assert parse_event("generic", data, idempotency_key="abc").key == "abc"
    no_id = body({"body": "x"})
    first, again = parse_event("generic", no_id), parse_event("generic", no_id)
    assert first.key == again.key and first.key.startswith("sha256:")
    assert parse_event("generic", body({"body": "y"})).key != first.key


def test_zendesk_ticket_uses_latest_comment_and_ticket_reference() -> None:
    event = parse_event("zendesk", body({"ticket": {
        "id": 7, "subject": "Ports", "description": "old", "latest_comment": "Which port?",
        "requester": {"email": "c@example.com"}, "updated_at": "2024-01-01"}}))
    assert event.body == "Which port?" and event.reference == "7"
    assert event.key == "ticket-7-2024-01-01" and event.sender == "c@example.com"


def test_email_form() -> None:
    event = parse_event("email", body({"message_id": "<m1@x>", "subject": "Hi",
                                       "text": "Question", "from": "d@example.com"}))
    assert (event.key, event.sender, event.body) == ("<m1@x>", "d@example.com", "Question")


@pytest.mark.parametrize(("adapter", "raw"), [
    ("generic", b"not json"),
    ("generic", b"[1, 2]"),
    ("generic", body({"subject": "no body"})),
    ("generic", body({"body": ""})),
    ("generic", body({"body": 5})),
    ("zendesk", body({"ticket": {"subject": "no id"}})),
    ("zendesk", body({"ticket": {"id": 1}})),
    ("email", body({"subject": "no text"})),
])
def test_bad_events_are_refused_with_a_stable_code(adapter: str, raw: bytes) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_event(adapter, raw)
    assert info.value.code == "workflow.invalid_event"
