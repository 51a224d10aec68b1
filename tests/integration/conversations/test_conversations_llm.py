"""With ``llm.providers`` set, a follow-up is rewritten by the application's LLM chain: a real
``groundwire serve`` whose provider is a fault server on 127.0.0.1. The model's rewrite is the
query retrieval uses (``rewriter: "llm"``, shown), in a conversation and in a chat completion;
when the provider fails, the deterministic rules take over and the turn still succeeds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from live_server import LiveServer, mint_key, running_server
from support.fault_llm import FaultLLMServer
from support.llm import grounded_reply, provider

pytestmark = pytest.mark.integration
REWRITE_MARK = "standalone search query"  # in the rewriter's system prompt
LLM_QUERY = "How often does Quillmate rotate its encryption keys?"
LIMITED = "default/limited"  # one answer a day


def reply(body: dict[str, Any]) -> str:
    """A model that rewrites when asked to (the rewrite prompt) and answers otherwise."""
    system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
    if REWRITE_MARK in system:
        return LLM_QUERY
    return grounded_reply(body)


@pytest.fixture(scope="module")
def upstream() -> Iterator[FaultLLMServer]:
    with FaultLLMServer(mode="ok") as server:
        server.reply = reply
        yield server


@pytest.fixture(scope="module")
def llm_server(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory,
               upstream: FaultLLMServer) -> Iterator[LiveServer]:
    # Generous timeouts: on a loaded machine a slow reply must not look like a failure.
    patient = provider("primary", upstream, first_token_timeout_s=20.0, stall_timeout_s=20.0,
                       total_timeout_s=60.0)
    env = {"GROUNDWIRE_LLM__PROVIDERS": json.dumps([patient]),
           "GROUNDWIRE_CACHE__ENABLED": "false",
           "GROUNDWIRE_BUDGETS__OVER_BUDGET": "reject",
           "GROUNDWIRE_BUDGETS__PRINCIPALS": json.dumps({LIMITED: {"requests_per_day": 1}}),
           "GROUNDWIRE_SECURITY__DEFAULT_READERS": json.dumps(["*"])}
    with running_server(pg_admin_url, tmp_path_factory.mktemp("convllm"), env) as server:
        yield server


def _rewrite_calls(upstream: FaultLLMServer) -> list[Any]:
    return [b for b in upstream.bodies
            if REWRITE_MARK in next((m["content"] for m in b["messages"]
                                     if m["role"] == "system"), "")]


def test_the_llm_chain_rewrites_a_followup(llm_server: LiveServer,
                                            upstream: FaultLLMServer) -> None:
    with llm_server.client() as client:
        conv = client.post("/v1/conversations", json={}).json()
        url = f"/v1/conversations/{conv['id']}/messages"
        upstream.reset()
        first = client.post(url, json={"question": "What does Quillmate encrypt notes with?"})
        assert first.status_code == 200 and first.json()["rewriter"] == "none"
        assert _rewrite_calls(upstream) == []  # a first turn calls no model to rewrite
        second = client.post(url, json={"question": "How often are its keys rotated?"}).json()
        assert second["rewriter"] == "llm" and second["rewritten_query"] == LLM_QUERY
        sent = _rewrite_calls(upstream)[-1]["messages"]
        assert any("encrypt notes" in m["content"] for m in sent if m["role"] == "user")
        assert "90 days" in second["response"]["answer"]


def test_chat_completions_rewrite_with_the_llm(llm_server: LiveServer) -> None:
    import openai

    with openai.OpenAI(base_url=f"{llm_server.base_url}/v1", api_key="dev",
                       max_retries=0, timeout=120) as client:  # closed: no stray socket
        completion = client.chat.completions.create(model="groundwire", messages=[
            {"role": "user", "content": "What does Quillmate encrypt notes with?"},
            {"role": "assistant", "content": "AES-256-GCM [1]."},
            {"role": "user", "content": "How often are its keys rotated?"}])
    extension = completion.model_extra["groundwire"]
    assert extension["rewriter"] == "llm" and extension["rewritten_query"] == LLM_QUERY


def test_an_exhausted_budget_makes_no_rewrite_call(llm_server: LiveServer,
                                                   upstream: FaultLLMServer) -> None:
    """The rewrite obeys the answer budget: a key with no budget left gets no upstream call
    for it (the answer is then refused, 429, as budgets.over_budget = reject says)."""
    key = mint_key(llm_server, "default", "limited", ("ask",))
    with llm_server.client(headers={"Authorization": f"Bearer {key}"}) as client:
        conv = client.post("/v1/conversations", json={}).json()
        url = f"/v1/conversations/{conv['id']}/messages"
        first = client.post(url, json={"question": "What does Quillmate encrypt notes with?"})
        assert first.status_code == 200 and first.json()["response"]["answerer"] == "llm"
        upstream.reset()
        refused = client.post(url, json={"question": "How often are its keys rotated?"})
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "budget.exceeded"
        assert upstream.calls == 0  # neither a rewrite nor an answer reached the provider


def test_a_failing_provider_falls_back_to_the_rules(llm_server: LiveServer,
                                                    upstream: FaultLLMServer) -> None:
    """Last in the module: the failures open the provider's circuit breaker (shared with
    the answers: the rewrite goes through the same chain)."""
    with llm_server.client() as client:
        conv = client.post("/v1/conversations", json={}).json()
        url = f"/v1/conversations/{conv['id']}/messages"
        assert client.post(url, json={"question": "What does Quillmate encrypt notes with?"}
                           ).status_code == 200
        upstream.mode = "503"
        try:
            turn = client.post(url, json={"question": "And what about its backups?"})
        finally:
            upstream.mode = "ok"
        assert turn.status_code == 200, turn.text
        body = turn.json()
        assert body["rewriter"] == "rules" and "Quillmate" in body["rewritten_query"]
        assert body["response"]["degraded"]  # the answer fell back to extractive as well
