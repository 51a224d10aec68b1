"""The page templates rendered for real (Jinja2, autoescaped) with data the browser test does
not reach: a review queue with an event, named sources, a failed build job; and hostile text
everywhere it can come from users or documents is shown as text, never as markup."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from groundwire.api.routes.session import templates

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def _page(name: str, **context: Any) -> str:
    principal = SimpleNamespace(tenant="default", user="ops", is_admin=True,
                                allows=lambda scope: True)
    return str(templates().get_template(name).render(
        csrf_token="tok", principal=principal, dev_mode=False, path="/admin", signed_in=True,
        **context))


def test_review_queue_shows_the_draft_editable_with_both_decisions() -> None:
    event = {"id": "ev1234567890", "subject": "Refund? " + HOSTILE, "question": "q",
             "sender": "a@b.example", "created_at": "2026-03-01T10:00:00+00:00",
             "confidence": 0.42, "claimed_by": None, "body": "Body " + HOSTILE,
             "reply": None, "draft": "Draft reply " + HOSTILE}
    html = _page("admin/reviews.html", queues=[{"name": "support", "events": [event]}],
                 decided={"id": "ev0000000000", "state": "approved"})
    assert 'action="/admin/reviews/ev1234567890/approve"' in html
    assert 'action="/admin/reviews/ev1234567890/reject"' in html
    assert html.count('name="csrf_token" value="tok"') == 3  # sign-out + the two forms
    assert "Draft reply &lt;script&gt;" in html and "confidence 0.42" in html
    assert "approved" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    empty = _page("admin/reviews.html", queues=[], decided=None)
    assert "No workflows for this tenant" in empty


def test_sources_and_a_failed_build_job() -> None:
    html = _page("admin/sources.html", sources=[
        {"name": "wiki", "type": "web", "index": "default", "schedule": "every 15m",
         "last_sync": {"state": "succeeded"}}], result=None)
    assert 'action="/admin/sources/wiki/sync"' in html and "every 15m" in html
    job = SimpleNamespace(state="failed", stage="", done=0, total=0,
                          error={"code": "request.invalid", "message": HOSTILE})
    html = _page("admin/versions.html", listing={"live": "kb", "previous": None,
                                                 "versions": []},
                 index="kb", result=None, job=job)
    assert "request.invalid" in html and "&lt;script&gt;" in html
    assert "<script>alert" not in html
    assert 'http-equiv="refresh"' not in html  # a finished job stops refreshing


def test_conversation_and_citation_escape_document_text() -> None:
    current = SimpleNamespace(id="c1", title=HOSTILE, index="default")
    turn = {"seq": 1, "question": HOSTILE, "rewritten_query": HOSTILE, "rewriter": "rules",
            "answer": HOSTILE, "abstained": False, "record_id": "r1",
            "citations": [{"n": 1, "uri": "a.md", "title": HOSTILE}]}
    html = _page("conversations.html", conversations=[current], current=current, turns=[turn])
    assert 'href="/app/c/c1/t/1/cite/1"' in html
    assert "<script>alert" not in html and "<img src=x" not in html
    chunk = SimpleNamespace(title=HOSTILE, uri="a.md", heading_path=("A", HOSTILE))
    html = _page("citation.html", conversation=current,
                 turn=SimpleNamespace(seq=1, question=HOSTILE), cite={"n": 1}, chunk=chunk,
                 document=None, segments=[{"text": HOSTILE, "mark": True, "gap": False}])
    assert '<mark id="cited" tabindex="-1">&lt;script&gt;' in html
    assert "<script>alert" not in html
