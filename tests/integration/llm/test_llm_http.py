"""The LLM answer layer over real HTTP: ``groundwire serve`` on 127.0.0.1 with a fault
server as its provider; the official ``openai`` client streams an answer with citations;
``/v1/ask`` streams SSE; a key over its budget gets 429 and causes no upstream call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from live_server import LiveServer, mint_key, running_server
from support.fault_llm import FaultLLMServer
from support.llm import QUESTION, grounded_reply, provider

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def upstream() -> Iterator[FaultLLMServer]:
    with FaultLLMServer(mode="ok") as server:
        server.reply = grounded_reply
        yield server


@pytest.fixture(scope="module")
def llm_server(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory, upstream: FaultLLMServer
) -> Iterator[LiveServer]:
    principal = "default/limited"  # budgets are per <tenant>/<user>
    env = {
        "GROUNDWIRE_LLM__PROVIDERS": json.dumps([provider("primary", upstream)]),
        "GROUNDWIRE_CACHE__ENABLED": "false",
        "GROUNDWIRE_BUDGETS__OVER_BUDGET": "reject",
        "GROUNDWIRE_BUDGETS__PRINCIPALS": json.dumps({principal: {"requests_per_day": 1}}),
        # the corpus is readable by every user of the default tenant, not only its admins
        "GROUNDWIRE_SECURITY__DEFAULT_READERS": json.dumps(["*"]),
    }
    with running_server(pg_admin_url, tmp_path_factory.mktemp("llm"), env) as server:
        yield server


def sse_events(response: httpx.Response) -> list[tuple[str, Any]]:
    events, name = [], "message"
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            events.append((name, json.loads(line[5:].strip())))
            name = "message"
    return events


def test_openai_client_gets_a_streamed_answer_with_citations(
    llm_server: LiveServer, upstream: FaultLLMServer
) -> None:
    import openai

    # closed at the end: an unclosed client leaves a pooled socket for the GC to warn about
    with openai.OpenAI(base_url=f"{llm_server.base_url}/v1", api_key="any-key",
                       max_retries=0, timeout=60) as client:
        models = [m.id for m in client.models.list().data]
        assert "groundwire" in models and "groundwire/default" in models

        stream = client.chat.completions.create(
            model="groundwire", messages=[{"role": "user", "content": QUESTION}], stream=True,
            stream_options={"include_usage": True},
        )
        text, extension, usage = "", None, None
        chunks = 0
        for chunk in stream:
            chunks += 1
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
                extra = chunk.model_extra or {}
                if "groundwire" in extra:
                    extension = extra["groundwire"]
            if chunk.usage is not None:
                usage = chunk.usage
        assert chunks > 5  # really streamed, token by token
        assert "12 US dollars" in text and "[1]" in text
        assert extension is not None and extension["provider"] == "primary"
        assert extension["citations"][0]["uri"] == "billing/pricing.md"
        assert extension["degraded"] is False and extension["groundedness"] == 1.0
        assert usage is not None and usage.total_tokens > 0

        completion = client.chat.completions.create(
            model="groundwire/default", messages=[{"role": "user", "content": QUESTION}],
        )
        assert "12 US dollars" in (completion.choices[0].message.content or "")
        assert (completion.model_extra or {})["groundwire"]["citations"]


def test_ask_streams_tokens_then_citations_and_verification(llm_server: LiveServer) -> None:
    with llm_server.client(timeout=60) as client, client.stream(
        "POST", "/v1/ask", json={"question": QUESTION, "stream": True}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
    names = [name for name, _ in events]
    assert names[0] == "token" and names[-3:] == ["citations", "verification", "done"]
    streamed = "".join(data["text"] for name, data in events if name == "token")
    done = events[-1][1]
    assert streamed.strip() == done["answer"]
    assert done["provider"] == "primary" and done["degraded"] is False
    assert done["citations"][0]["support"] > 0.5
    assert done["prompt_id"] == "grounded-answer@1"


def test_json_ask_reports_provider_and_groundedness(llm_server: LiveServer) -> None:
    with llm_server.client(timeout=60) as client:
        body = client.post("/v1/ask", json={"question": QUESTION}).json()
    assert body["answerer"] == "llm" and body["provider"] == "primary"
    assert body["groundedness"] == 1.0 and body["usage"]["prompt_tokens"] > 0
    assert body["attempts"] == [{"provider": "primary", "outcome": "ok",
                                 "ms": body["attempts"][0]["ms"]}]


def test_a_key_over_budget_gets_429_and_no_upstream_call(
    llm_server: LiveServer, upstream: FaultLLMServer
) -> None:
    key = mint_key(llm_server, "default", "limited", ("ask",))
    headers = {"Authorization": f"Bearer {key}"}
    with llm_server.client(timeout=60) as client:
        first = client.post("/v1/ask", json={"question": QUESTION}, headers=headers)
        assert first.status_code == 200 and first.json()["provider"] == "primary"
        calls = upstream.calls
        for stream in (False, True):
            refused = client.post("/v1/ask", json={"question": QUESTION, "stream": stream},
                                  headers=headers)
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "budget.exceeded"
            assert int(refused.headers["retry-after"]) > 0
        refused = client.post("/v1/chat/completions", headers=headers, json={
            "model": "groundwire", "messages": [{"role": "user", "content": QUESTION}]})
        assert refused.status_code == 429
        assert upstream.calls == calls


def test_chat_completions_rejects_bad_requests_with_the_error_shape(
    llm_server: LiveServer,
) -> None:
    with llm_server.client(timeout=60) as client:
        unknown = client.post("/v1/chat/completions", json={
            "model": "gpt-4o", "messages": [{"role": "user", "content": QUESTION}]})
        no_user = client.post("/v1/chat/completions", json={
            "model": "groundwire", "messages": [{"role": "system", "content": "hi"}]})
        missing_index = client.post("/v1/chat/completions", json={
            "model": "groundwire/nope", "messages": [{"role": "user", "content": QUESTION}]})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "request.invalid"
    assert no_user.status_code == 422
    assert missing_index.status_code == 404
