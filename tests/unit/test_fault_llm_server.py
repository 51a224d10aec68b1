"""The fault-injecting OpenAI-compatible server (tests/support/fault_llm.py) does what it claims.

Every mode is driven over real HTTP with plain httpx (short client timeouts), plus the official
``openai`` client for ``ok`` and a few errors.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from support.fault_llm import DEFAULT_REPLY, MODES, FaultLLMServer, fault_llm_factory

__all__ = ["fault_llm_factory"]  # re-exported fixture, used by test_fixture_factory

QUESTION = "What is the capital of France?"
BODY: dict[str, Any] = {"model": "gpt-test",
                        "messages": [{"role": "user", "content": QUESTION}]}
SHORT = httpx.Timeout(5.0, connect=2.0)


@pytest.fixture
def srv() -> Iterator[FaultLLMServer]:
    with FaultLLMServer() as server:
        yield server
    assert not server.running
    assert server.server_errors == []


def client(server: FaultLLMServer, timeout: httpx.Timeout = SHORT) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=timeout,
                        headers={"Authorization": "Bearer sk-test-0123456789"})


def chat(server: FaultLLMServer, timeout: httpx.Timeout = SHORT, **extra: Any) -> httpx.Response:
    with client(server, timeout) as c:
        return c.post("/chat/completions", json={**BODY, **extra})


def sse_events(response: httpx.Response, into: list[str]) -> list[str]:
    """Append each ``data:`` payload to ``into`` as it arrives (kept if the stream fails)."""
    for line in response.iter_lines():
        if line.startswith("data: "):
            into.append(line.removeprefix("data: "))
    return into


def stream(server: FaultLLMServer, timeout: httpx.Timeout = SHORT, **extra: Any
           ) -> tuple[httpx.Response, list[str]]:
    events: list[str] = []
    with client(server, timeout) as c, c.stream(
        "POST", "/chat/completions", json={**BODY, "stream": True, **extra}
    ) as response:
        sse_events(response, events)
    return response, events


def content_of(events: list[str]) -> str:
    chunks = [json.loads(e) for e in events if e != "[DONE]"]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


# -- ok ----------------------------------------------------------------------------------------


def test_ok_non_stream_answers_with_usage_and_records_the_request(srv: FaultLLMServer) -> None:
    response = chat(srv)
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion"
    assert data["model"] == "gpt-test"
    assert data["choices"][0]["message"] == {"role": "assistant", "content": DEFAULT_REPLY,
                                             "refusal": None}
    assert data["choices"][0]["finish_reason"] == "stop"
    usage = data["usage"]
    assert usage["prompt_tokens"] == len(QUESTION.split())
    assert usage["completion_tokens"] == len(DEFAULT_REPLY.split())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert srv.calls == 1
    assert srv.calls_by_mode == {"ok": 1}
    assert srv.bodies[0]["messages"][0]["content"] == QUESTION
    assert srv.authorizations == ["Bearer sk-test-0123456789"]
    assert srv.last_authorization == "Bearer sk-test-0123456789"


def test_ok_stream_deltas_rebuild_the_reply_and_the_last_chunk_has_usage(
    srv: FaultLLMServer,
) -> None:
    srv.reply = "Berlin is the capital of Germany [2]."
    response, events = stream(srv)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len(chunks) > 3  # streamed in pieces, not in one chunk
    assert content_of(events) == "Berlin is the capital of Germany [2]."
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["completion_tokens"] == 7
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])


def test_stream_include_usage_sends_openai_style_usage_chunk(srv: FaultLLMServer) -> None:
    _, events = stream(srv, stream_options={"include_usage": True})
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert all(c["usage"] is None for c in chunks[:-1])


def test_reply_may_depend_on_the_prompt(srv: FaultLLMServer) -> None:
    srv.reply = lambda body: "echo: " + body["messages"][-1]["content"]
    assert chat(srv).json()["choices"][0]["message"]["content"] == f"echo: {QUESTION}"


def test_invalid_request_body_gets_400(srv: FaultLLMServer) -> None:
    with client(srv) as c:
        response = c.post("/chat/completions", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert srv.calls == 1


def test_models_endpoint_follows_mode_and_is_counted_apart(srv: FaultLLMServer) -> None:
    srv.set_model_mode("gpt-other", "500")
    with client(srv) as c:
        listing = c.get("/models").json()
        assert [m["id"] for m in listing["data"]] == ["fault-llm", "gpt-other"]
        srv.mode = "503"
        assert c.get("/models").status_code == 503
        assert c.get("/nowhere").status_code == 404
    assert srv.models_calls == 2
    assert srv.calls == 0


# -- delays and stalls --------------------------------------------------------------------------


def test_ok_slow_answers_only_after_the_delay(srv: FaultLLMServer) -> None:
    assert srv.slow_delay == 0.8
    srv.mode = "ok_slow"
    srv.slow_delay = 0.5
    with pytest.raises(httpx.ReadTimeout):
        chat(srv, httpx.Timeout(0.05, connect=2.0))
    response = chat(srv, httpx.Timeout(10.0))
    assert response.json()["choices"][0]["message"]["content"] == DEFAULT_REPLY
    _, events = stream(srv, httpx.Timeout(10.0))
    assert content_of(events) == DEFAULT_REPLY
    assert srv.calls_by_mode == {"ok_slow": 3}


def test_slow_first_byte_sends_nothing_before_the_delay(srv: FaultLLMServer) -> None:
    assert srv.first_byte_delay == 30.0
    srv.mode = "slow_first_byte"
    with pytest.raises(httpx.ReadTimeout):
        chat(srv, httpx.Timeout(0.3, connect=2.0))
    srv.first_byte_delay = 0.1
    assert chat(srv, httpx.Timeout(10.0)).status_code == 200


def test_hang_never_sends_a_byte(srv: FaultLLMServer) -> None:
    srv.mode = "hang"
    with client(srv, httpx.Timeout(0.3, connect=2.0)) as c, pytest.raises(httpx.ReadTimeout):
        c.send(c.build_request("POST", "/chat/completions", json=BODY), stream=True)
    assert srv.calls_by_mode == {"hang": 1}


def test_stall_mid_stream_sends_two_chunks_then_stalls(srv: FaultLLMServer) -> None:
    srv.mode = "stall_mid_stream"
    events: list[str] = []
    with client(srv, httpx.Timeout(1.0, connect=2.0)) as c, c.stream(
        "POST", "/chat/completions", json={**BODY, "stream": True}
    ) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            sse_events(response, events)
    assert len(events) == 3  # role chunk + 2 content chunks
    assert "[DONE]" not in events
    assert content_of(events) == "Paris is "


def test_stall_mid_stream_non_stream_sends_headers_then_stalls_the_body(
    srv: FaultLLMServer,
) -> None:
    srv.mode = "stall_mid_stream"
    with client(srv, httpx.Timeout(1.0, connect=2.0)) as c, c.stream(
        "POST", "/chat/completions", json=BODY
    ) as response:
        assert response.status_code == 200
        assert int(response.headers["content-length"]) > 0
        with pytest.raises(httpx.ReadTimeout):
            response.read()


def test_stop_returns_promptly_and_drops_stalled_connections() -> None:
    server = FaultLLMServer(mode="hang").start()
    server.set_model_mode("stalling", "stall_mid_stream")
    outcomes: list[BaseException | None] = []

    def call(model: str) -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(60.0)) as c:
                c.post(f"{server.base_url}/chat/completions", json={**BODY, "model": model})
                outcomes.append(None)
        except httpx.HTTPError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=call, args=(m,)) for m in ("gpt-test", "stalling")]
    for thread in threads:
        thread.start()
    for _ in range(200):  # wait (bounded) until both requests reached the server
        if server.calls == 2:
            break
        threading.Event().wait(0.02)
    assert server.calls == 2
    server.stop()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert not server.running
    assert len(outcomes) == 2
    # Dropped by the server (not a client timeout, which would take 60 s).
    assert all(isinstance(o, httpx.TransportError) and not isinstance(o, httpx.TimeoutException)
               for o in outcomes), outcomes


# -- refuse ---------------------------------------------------------------------------------------


def test_refuse_mode_refuses_connections_on_the_same_url() -> None:
    with FaultLLMServer(mode="refuse") as server:
        url = server.base_url
        with pytest.raises(httpx.ConnectError):
            chat(server)
        assert server.calls == 0
        server.mode = "ok"
        with client(server) as c:
            assert c.post("/chat/completions", json=BODY).status_code == 200
            server.mode = "refuse"  # also drops the idle pooled connection
            with pytest.raises(httpx.ConnectError):
                c.post("/chat/completions", json=BODY)
            server.mode = "ok"
            assert c.post("/chat/completions", json=BODY).status_code == 200
        assert server.base_url == url
        assert server.calls_by_mode == {"ok": 2}


def test_refuse_from_script_resets_the_accepted_connection(srv: FaultLLMServer) -> None:
    srv.script = ["refuse"]
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        chat(srv)
    assert srv.calls_by_mode == {"refuse": 1}
    assert chat(srv).status_code == 200


# -- HTTP error statuses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "status", "code", "retry_after"),
    [
        ("429_short", 429, "rate_limit_exceeded", "2"),
        ("429_long", 429, "rate_limit_exceeded", "120"),
        ("500", 500, None, None),
        ("503", 503, None, None),
        ("400_context_length", 400, "context_length_exceeded", None),
        ("401", 401, "invalid_api_key", None),
    ],
)
def test_error_statuses_carry_openai_error_bodies(
    srv: FaultLLMServer, mode: str, status: int, code: str | None, retry_after: str | None
) -> None:
    srv.mode = mode
    response = chat(srv)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert response.headers.get("retry-after") == retry_after
    if mode == "401":
        assert "0123456789" not in error["message"]  # the key is masked
    assert srv.calls_by_mode == {mode: 1}


def test_502_is_an_html_gateway_page(srv: FaultLLMServer) -> None:
    srv.mode = "502"
    response = chat(srv)
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text


# -- broken bodies ------------------------------------------------------------------------------


def test_malformed_json_non_stream(srv: FaultLLMServer) -> None:
    srv.mode = "malformed_json"
    response = chat(srv)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_malformed_json_stream(srv: FaultLLMServer) -> None:
    srv.mode = "malformed_json"
    _, events = stream(srv)
    assert events[-1] == "[DONE]"
    assert len(events) >= 2
    for event in events[:-1]:
        with pytest.raises(json.JSONDecodeError):
            json.loads(event)


def test_empty_has_valid_shape_and_no_content(srv: FaultLLMServer) -> None:
    srv.mode = "empty"
    data = chat(srv).json()
    assert data["choices"][0]["message"]["content"] == ""
    assert data["choices"][0]["finish_reason"] == "stop"
    assert data["usage"]["completion_tokens"] == 0
    _, events = stream(srv)
    assert events[-1] == "[DONE]"
    assert content_of(events) == ""


def test_truncated_sse_ends_mid_answer_without_done(srv: FaultLLMServer) -> None:
    srv.mode = "truncated_sse"
    events: list[str] = []
    with client(srv) as c, c.stream(
        "POST", "/chat/completions", json={**BODY, "stream": True}
    ) as response, pytest.raises(httpx.RemoteProtocolError):
        sse_events(response, events)
    assert "[DONE]" not in events
    partial = content_of(events)
    assert partial and DEFAULT_REPLY.startswith(partial) and partial != DEFAULT_REPLY
    assert all(json.loads(e)["choices"][0]["finish_reason"] is None for e in events)
    with pytest.raises(httpx.RemoteProtocolError):
        chat(srv)  # non-stream: the body stops short of its Content-Length


def test_repeat_loop_is_runaway_repetition(srv: FaultLLMServer) -> None:
    srv.mode = "repeat_loop"
    choice = chat(srv).json()["choices"][0]
    words = choice["message"]["content"].split()
    assert len(words) == 5000 and set(words) == {"the"}
    assert choice["finish_reason"] == "length"
    srv.repeat_count = 1200
    _, events = stream(srv)
    assert content_of(events) == "the " * 1200
    assert len(events) == 1200 + 3  # role, 1200 tokens, finish, [DONE]


def test_huge_body_is_over_ten_megabytes(srv: FaultLLMServer) -> None:
    srv.mode = "huge_body"
    response = chat(srv, httpx.Timeout(30.0))
    assert len(response.content) > 10 * 1024 * 1024
    assert len(response.json()["choices"][0]["message"]["content"]) == 10 * 1024 * 1024
    srv.huge_bytes = 1024 * 1024
    _, events = stream(srv, httpx.Timeout(30.0))
    assert len(content_of(events)) == 1024 * 1024
    assert events[-1] == "[DONE]"


# -- selection, counters ------------------------------------------------------------------------


def test_script_then_model_override_then_mode(srv: FaultLLMServer) -> None:
    srv.script = ["503", "ok"]
    srv.set_model_mode("gpt-broken", "500")
    assert chat(srv, model="gpt-broken").status_code == 503  # script first
    assert chat(srv, model="gpt-broken").status_code == 200
    assert srv.script == []
    assert chat(srv, model="gpt-broken").status_code == 500  # then the model override
    assert chat(srv).status_code == 200  # then the mode
    srv.set_model_mode("gpt-broken", None)
    assert chat(srv, model="gpt-broken").status_code == 200
    assert srv.calls == 5
    assert srv.calls_by_mode == {"503": 1, "ok": 3, "500": 1}
    assert [r.mode for r in srv.requests] == ["503", "ok", "500", "ok", "ok"]


def test_reset_clears_counters_but_keeps_configuration(srv: FaultLLMServer) -> None:
    srv.mode = "500"
    chat(srv)
    srv.script = ["503"]
    srv.reset()
    assert (srv.calls, srv.calls_by_mode, srv.bodies, srv.script) == (0, {}, [], [])
    assert srv.mode == "500"
    assert chat(srv).status_code == 500


def test_unknown_modes_are_rejected(srv: FaultLLMServer) -> None:
    assert "ok" in MODES and len(MODES) == 18
    with pytest.raises(ValueError):
        srv.mode = "teapot"
    with pytest.raises(ValueError):
        srv.script = ["ok", "teapot"]
    with pytest.raises(ValueError):
        srv.set_model_mode("m", "teapot")
    assert srv.mode == "ok"


def test_counters_are_thread_safe(srv: FaultLLMServer) -> None:
    def burst() -> None:
        with client(srv) as c:
            for _ in range(10):
                c.post("/chat/completions", json=BODY)

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert srv.calls == 40
    assert len(srv.bodies) == 40


def test_fixture_factory(fault_llm_factory: Callable[..., FaultLLMServer]) -> None:
    primary = fault_llm_factory(mode="503")
    secondary = fault_llm_factory()
    assert primary.base_url != secondary.base_url
    assert chat(primary).status_code == 503
    assert chat(secondary).status_code == 200


# -- the official openai client ----------------------------------------------------------------


def test_openai_client_reads_ok_mode(srv: FaultLLMServer) -> None:
    with openai.OpenAI(base_url=srv.base_url, api_key="sk-openai-test", max_retries=0,
                       timeout=5.0) as oai:
        completion = oai.chat.completions.create(model="gpt-test", messages=BODY["messages"])
        assert completion.choices[0].message.content == DEFAULT_REPLY
        assert completion.usage is not None and completion.usage.total_tokens > 0
        chunks = list(oai.chat.completions.create(
            model="gpt-test", messages=BODY["messages"], stream=True,
            stream_options={"include_usage": True}))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == DEFAULT_REPLY
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 7
        srv.mode = "429_short"
        with pytest.raises(openai.RateLimitError) as rate_limited:
            oai.chat.completions.create(model="gpt-test", messages=BODY["messages"])
        assert rate_limited.value.response.headers["retry-after"] == "2"
        srv.mode = "400_context_length"
        with pytest.raises(openai.BadRequestError) as too_long:
            oai.chat.completions.create(model="gpt-test", messages=BODY["messages"])
        assert too_long.value.code == "context_length_exceeded"
    assert srv.authorizations[0] == "Bearer sk-openai-test"
    assert srv.calls == 4
