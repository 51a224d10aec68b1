"""FollowupRewriter (conversations/rewriter.py) with a fake chain: the LLM's query is used
when the chain answers; the rules take over when it fails or replies with nothing; a first
turn never calls the model; and ``with_text`` makes a stream carry its answer's text."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from groundwire.answering.service import AnswerDelta, AnswerDone, AnswerEvent
from groundwire.conversations.rewriter import METHOD_LLM, Exchange, FollowupRewriter
from groundwire.conversations.service import with_text
from groundwire.domain import Answer
from groundwire.llm.base import Completion
from groundwire.llm.chain import ChainOutcome

HISTORY = [Exchange("What year was the Eiffel Tower designed?", "In 1884 [1].",
                    "What year was the Eiffel Tower designed?")]


class FakeChain:
    """Yields ``reply`` as a completion (None: every provider failed)."""

    def __init__(self, reply: str | None) -> None:
        self.reply = reply
        self.calls: list[Sequence[dict[str, str]]] = []

    async def run(self, messages: Sequence[dict[str, str]], *, stream: bool,
                  max_tokens: int | None = None) -> AsyncIterator[object]:
        self.calls.append(messages)
        completion = (None if self.reply is None
                      else Completion(self.reply, "fake-model", "stop", None))
        yield ChainOutcome(completion, "fake" if completion else None)


async def test_the_llm_query_is_used_and_sees_the_conversation() -> None:
    chain = FakeChain('"When did the Eiffel Tower open?"\n')
    rewrite = await FollowupRewriter(chain).rewrite("When did it open?", HISTORY)
    assert rewrite.method == METHOD_LLM
    assert rewrite.query == "When did the Eiffel Tower open?"
    sent = chain.calls[0]
    assert any("Eiffel Tower designed" in m["content"] for m in sent if m["role"] == "user")
    assert any(m["role"] == "assistant" and "1884" in m["content"] for m in sent)
    assert "When did it open?" in sent[-1]["content"]


async def test_a_failed_or_empty_llm_reply_falls_back_to_the_rules() -> None:
    for reply in (None, "   \n"):
        rewrite = await FollowupRewriter(FakeChain(reply)).rewrite("When did it open?", HISTORY)
        assert rewrite.method == "rules"
        assert rewrite.query == "When did Eiffel Tower open?"


async def test_a_first_turn_calls_no_model() -> None:
    chain = FakeChain("something else")
    rewrite = await FollowupRewriter(chain).rewrite("  When was the  tower built? ", [])
    assert rewrite.method == "none" and rewrite.query == "When was the tower built?"
    assert chain.calls == []


async def test_history_without_standalone_queries_is_rewritten_in_order() -> None:
    history = [Exchange("Which team won Super Bowl 50?"), Exchange("Who was their coach?")]
    rewrite = await FollowupRewriter().rewrite("And the MVP?", history)
    assert "Super" in rewrite.query and "coach" in rewrite.query


def _answer(text: str, abstained: bool) -> Answer:
    return Answer(question="q", text=text, abstained=abstained, citations=(), hits=(),
                  confidence=0.0)


async def _events(*events: AnswerEvent) -> AsyncIterator[AnswerEvent]:
    for event in events:
        yield event


async def _collect(events: AsyncIterator[Any]) -> list[Any]:
    return [e async for e in events]


async def test_with_text_adds_the_text_of_an_answer_that_streamed_none() -> None:
    done = AnswerDone(_answer("I could not find this in the documents.", True))
    out = await _collect(with_text(_events(done)))
    assert out == [AnswerDelta("I could not find this in the documents."), done]


async def test_with_text_leaves_a_streamed_answer_alone() -> None:
    done = AnswerDone(_answer("Paris [1].", False))
    out = await _collect(with_text(_events(AnswerDelta("Paris [1]."), done)))
    assert out == [AnswerDelta("Paris [1]."), done]


class FakeBudget:
    def __init__(self, allows: bool) -> None:
        self._allows = allows
        self.recorded: list[tuple[str, str | None, int]] = []

    async def allows(self) -> bool:
        return self._allows

    async def record(self, completion: Completion, provider: str | None,
                     prompt_chars: int) -> None:
        self.recorded.append((completion.text, provider, prompt_chars))


async def test_a_rewrite_is_recorded_in_the_budget_and_an_exhausted_one_means_the_rules(
) -> None:
    chain, budget = FakeChain("When did the Eiffel Tower open?"), FakeBudget(allows=True)
    rewrite = await FollowupRewriter(chain, budget).rewrite("When did it open?", HISTORY)
    assert rewrite.method == METHOD_LLM
    assert budget.recorded and budget.recorded[0][:2] == ("When did the Eiffel Tower open?",
                                                          "fake")
    chain, budget = FakeChain("unused"), FakeBudget(allows=False)
    rewrite = await FollowupRewriter(chain, budget).rewrite("When did it open?", HISTORY)
    assert rewrite.method == "rules" and chain.calls == [] and budget.recorded == []
