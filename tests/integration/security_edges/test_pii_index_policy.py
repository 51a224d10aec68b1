"""PII policy per index on real PostgreSQL with the real model: ``redact_index`` keeps personal
data out of every stored row (chunks, headers, titles, metadata) and so out of search;
``redact_answers`` stores it but redacts answers and citations; ``allow`` leaves it (the
control that shows the checks can fail). Answer records are redacted whatever the policy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from groundwire.domain import SearchRequest

pytestmark = pytest.mark.integration

EMAIL = "maria.garcia@example.com"
PHONE = "+1 415-555-2671"
CARD = "4111 1111 1111 1111"
DOC = f"""---
owner: {EMAIL}
---
# Payroll contact for {EMAIL}

Questions about payroll go to Maria Garcia at {EMAIL} or by phone on {PHONE}. Salaries are
paid on the last working day of every month by bank transfer.

## Expenses

Company card {CARD} covers travel expenses up to 500 euros per trip. Receipts are due within
14 days of travel.
"""
RAW = (EMAIL, PHONE, CARD, "415-555-2671", "4111 1111")


def _stored_text(database_url: str, index: str) -> str:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT c.text || ' ' || c.header || ' ' || d.title || ' ' || d.metadata::text"
            " FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.index_name = %s",
            [index]).fetchall()
    assert rows, f"nothing stored in {index}"
    return "\n".join(r[0] for r in rows)


async def test_pii_policies(
    make_settings: Callable[..., Any], real_embedder: Any, tmp_path: Path, database_url: str,
) -> None:
    from groundwire.bootstrap import build_app

    folder = tmp_path / "hr"
    folder.mkdir()
    (folder / "payroll.md").write_text(DOC, encoding="utf-8")
    settings = make_settings(security={"pii": {
        "default": "allow", "per_index": {"hr": "redact_index", "hr-answers": "redact_answers"},
    }})
    async with build_app(settings, embedder=real_embedder) as gw:
        for index in ("hr", "hr-answers", "open"):
            report = await gw.ingest_path(folder, index=index)
            assert report.indexed == 1, report.as_json()
        await gw.warm()

        hr = _stored_text(database_url, "hr")
        assert not any(value in hr for value in RAW)
        assert "<EMAIL>" in hr and "<PHONE>" in hr and "<PAYMENT_CARD>" in hr
        assert "bank transfer" in hr and "500 euros" in hr  # the rest of the text is kept
        for index in ("hr-answers", "open"):  # stored as is
            assert EMAIL in _stored_text(database_url, index)

        question = f"Who do I contact about payroll? I am {EMAIL}"
        hits, _ = await gw.search(SearchRequest(question, index="hr", top_k=5))
        assert hits and not any(v in h.text or v in h.title for h in hits for v in RAW)

        answer = await gw.ask(SearchRequest("Who handles payroll questions?",
                                            index="hr-answers"))
        assert not answer.abstained
        shown = [answer.text, *(c.quote for c in answer.citations),
                 *(c.hit.text for c in answer.citations), *(h.text for h in answer.hits)]
        assert not any(v in text for text in shown for v in RAW)
        control = await gw.ask(SearchRequest("Who handles payroll questions?", index="open"))
        assert any(EMAIL in text for text in [control.text, *(h.text for h in control.hits)])

        assert gw.monitoring is not None
        await gw.monitoring.writer.flush()

    with psycopg.connect(database_url) as conn:
        records = conn.execute(
            "SELECT question, coalesce(answer, '') FROM answer_records").fetchall()
    assert len(records) == 3
    for stored_question, stored_answer in records:
        assert not any(v in stored_question or v in stored_answer for v in RAW)
