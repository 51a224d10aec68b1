"""The fallback chain against real fault-injecting HTTP servers (issue 4 acceptance):
with the primary in every failure mode and a healthy secondary, every request is answered by
the secondary with at most 3 upstream calls, and 400/401 are never repeated; with every
provider down, every request gets the degraded extractive answer."""

from __future__ import annotations

from typing import Any

import pytest
from support.fault_llm import FaultLLMServer
from support.llm import QUESTION, provider

from groundwire.answering.service import AnswerDone
from groundwire.app import Groundwire
from groundwire.domain import Answer, SearchRequest
from groundwire.llm.breaker import CircuitBreaker

pytestmark = pytest.mark.integration

FAILURE_MODES = [
    "refuse", "hang", "slow_first_byte", "stall_mid_stream", "429_short", "429_long",
    "500", "502", "503", "400_context_length", "401", "malformed_json", "empty",
    "truncated_sse", "repeat_loop", "huge_body",
]
NEVER_RETRIED = {"400_context_length", "401"}
REQUESTS_PER_MODE = 2


async def ask(gw: Groundwire, *, stream: bool, question: str = QUESTION,
              principal: str = "anonymous") -> Answer:
    request = SearchRequest(query=question)
    if not stream:
        return await gw.ask(request, principal=principal)
    final = None
    async for event in gw.ask_stream(request, principal=principal):
        if isinstance(event, AnswerDone):
            final = event.answer
    assert final is not None
    return final


def reset_breakers(gw: Groundwire) -> None:
    llm = gw.answers.llm
    assert llm is not None
    llm.chain.breakers = {name: CircuitBreaker(llm.settings.breaker) for name in llm.chain.breakers}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_every_primary_failure_is_answered_by_the_secondary(
    llm_app: Any, servers: tuple[FaultLLMServer, FaultLLMServer], stream: bool
) -> None:
    primary, secondary = servers
    failures: list[str] = []
    async with llm_app() as gw:
        for mode in FAILURE_MODES:
            reset_breakers(gw)
            primary.mode = mode
            primary.reset()
            secondary.reset()
            for _ in range(REQUESTS_PER_MODE):
                before = primary.calls + secondary.calls
                answer = await ask(gw, stream=stream)
                upstream = primary.calls + secondary.calls - before
                calls_made = [a for a in answer.attempts if a["outcome"] != "skipped.breaker_open"]
                if answer.degraded or answer.provider != "secondary" or not answer.citations:
                    failures.append(f"{mode}: degraded={answer.degraded} "
                                    f"provider={answer.provider} attempts={answer.attempts}")
                if upstream > 3 or len(calls_made) > 3:
                    failures.append(f"{mode}: {upstream} upstream calls")
            if mode in NEVER_RETRIED:
                # one call per request: never repeated after 400/401
                assert primary.calls_by_mode[mode] == REQUESTS_PER_MODE, mode
            assert primary.server_errors == [] and secondary.server_errors == []
    assert failures == []


@pytest.mark.parametrize(("primary_mode", "secondary_mode"), [
    ("503", "hang"), ("refuse", "refuse"), ("401", "malformed_json"),
    ("stall_mid_stream", "truncated_sse"), ("429_long", "repeat_loop"),
])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_every_provider_down_gives_the_degraded_extractive_answer(
    llm_app: Any, servers: tuple[FaultLLMServer, FaultLLMServer], primary_mode: str,
    secondary_mode: str, stream: bool,
) -> None:
    primary, secondary = servers
    async with llm_app() as gw:
        extractive = gw.answers.answerer
        primary.mode, secondary.mode = primary_mode, secondary_mode
        for _ in range(2):
            before = primary.calls + secondary.calls
            answer = await ask(gw, stream=stream)
            assert answer.degraded and answer.answerer == "extractive"
            assert answer.degraded_reason and answer.degraded_reason.startswith("llm.")
            assert not answer.abstained and answer.citations
            assert "12 US dollars" in answer.text
            assert primary.calls + secondary.calls - before <= 3
        expected = extractive.answer(QUESTION, answer.hits)
        assert answer.text == expected.text


async def test_retryable_failure_on_the_only_provider_is_retried(
    make_settings: Any, real_embedder: Any, corpus: Any,
    servers: tuple[FaultLLMServer, FaultLLMServer],
) -> None:
    from groundwire.bootstrap import build_app

    primary, _ = servers
    settings = make_settings(llm={"providers": [provider("only", primary)]},
                             cache={"enabled": False})
    async with build_app(settings, embedder=real_embedder) as gw:
        await gw.ingest_path(corpus)
        primary.reset()
        primary.script = ["503", "ok"]
        answer = await ask(gw, stream=False)
        assert not answer.degraded and primary.calls == 2

        primary.reset()
        primary.script = ["429_short", "ok"]  # Retry-After 2 fits the 30 s deadline: wait, retry
        answer = await ask(gw, stream=True)
        assert not answer.degraded and primary.calls == 2
        assert answer.attempts[0]["outcome"] == "llm.http_429"

        primary.reset()
        primary.script = ["429_long", "ok"]  # Retry-After 120 does not fit: no retry
        answer = await ask(gw, stream=False)
        assert answer.degraded and primary.calls == 1

        for mode in ("401", "400_context_length"):
            primary.reset()
            primary.script = [mode, "ok"]
            answer = await ask(gw, stream=False)
            assert answer.degraded and primary.calls == 1, mode


async def test_breaker_opens_skips_the_primary_and_probes_after_open_s(
    llm_app: Any, servers: tuple[FaultLLMServer, FaultLLMServer]
) -> None:
    primary, secondary = servers
    now = [0.0]
    async with llm_app(llm={"breaker": {"consecutive_failures": 3, "open_s": 30.0}}) as gw:
        llm = gw.answers.llm
        assert llm is not None
        llm.chain.breakers = {  # a manual clock: the test decides when open_s has passed
            name: CircuitBreaker(llm.settings.breaker, clock=lambda: now[0])
            for name in llm.chain.breakers
        }
        primary.mode = "503"
        for _ in range(6):
            answer = await ask(gw, stream=False)
            assert answer.provider == "secondary"
        assert primary.calls == 3  # open after 3 failures: requests 4-6 skip it
        assert llm.chain.breaker_states()["primary"] == "open"
        skipped = [a for a in answer.attempts if a["outcome"] == "skipped.breaker_open"]
        assert skipped and skipped[0]["provider"] == "primary"

        now[0] += 31.0
        answer = await ask(gw, stream=False)  # half-open probe fails: open again, secondary
        assert answer.provider == "secondary" and primary.calls == 4
        assert llm.chain.breaker_states()["primary"] == "open"

        now[0] += 31.0
        primary.mode = "ok"
        answer = await ask(gw, stream=False)  # the probe succeeds: closed again
        assert answer.provider == "primary" and primary.calls == 5
        assert llm.chain.breaker_states()["primary"] == "closed"
